"""The pytest plugin: registered by the install, cheap to load, both modes, traces on failure."""

from __future__ import annotations

import subprocess
import sys

import pytest

TESTS = """
from datetime import timedelta

import pytest

import connect_sim as cs


def sue_signs(sim):
    sim.add_configuration(cs.Configuration(name="listener"))
    env = sim.create_envelope("Please sign", [cs.Signer("Sue", "sue@example.com")], id="e1")
    sim.send(env)
    sim.sign(env, "1", at=timedelta(minutes=2))
    return sim.run()


def test_default_is_sim(connect_sim, delivery_mode):
    assert delivery_mode == "sim" and connect_sim.mode == "sim"


@pytest.mark.both_delivery_modes
def test_runs_twice(connect_sim, delivery_mode):
    assert connect_sim.mode == delivery_mode
    assert len(sue_signs(connect_sim).received("listener")) == {"sim": 6, "aggregate": 2}[delivery_mode]


def test_fails_and_shows_the_trace(connect_sim):
    result = sue_signs(connect_sim)
    assert len(result.received("listener")) == 99
"""


def test_the_fixture_the_marker_and_the_trace_on_failure(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_listener=TESTS)
    outcome = pytester.runpytest("-rA")
    outcome.assert_outcomes(passed=3, failed=1)
    out = outcome.stdout.str()
    assert "PASSED test_listener.py::test_runs_twice[sim]" in out
    assert "PASSED test_listener.py::test_runs_twice[aggregate]" in out
    assert "connect-sim delivery trace" in out
    assert "time  configuration  #  event" in out
    assert "envelope-completed   e1" in out


def test_the_marker_without_the_fixture_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_wrong="import pytest\n\n@pytest.mark.both_delivery_modes\ndef test_x():\n    pass\n"
    )
    outcome = pytester.runpytest()
    assert outcome.ret != 0
    assert "both_delivery_modes needs the connect_sim or the delivery_mode fixture" in (
        outcome.stdout.str() + outcome.stderr.str()
    )


def test_loading_the_plugin_imports_nothing_of_the_library() -> None:
    code = "import sys, connect_sim_pytest; print(sorted(m for m in sys.modules if m.startswith('connect_sim.') or m == 'connect_sim'))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    assert done.stdout.strip() == "[]"


def test_the_plugin_is_registered_by_the_install() -> None:
    from importlib.metadata import entry_points

    plugins = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert plugins.get("connect_sim") == "connect_sim_pytest"


def test_the_trace_marks_attempts_that_never_reached_the_listener() -> None:
    from datetime import timedelta

    import connect_sim as cs
    from connect_sim.listeners import AlwaysOk, Degraded, Outage
    from connect_sim_pytest import trace_table

    sim = cs.Simulation()
    down = Outage(windows=[(timedelta(0), timedelta(hours=1))])
    sim.add_configuration(cs.Configuration("c", events=["envelope-sent"]),
                          listener=Degraded(AlwaysOk(), down))  # fmt: skip
    sim.send(sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com")]))
    sim.run()
    first, second = trace_table(sim).splitlines()[2:4]
    assert "503 (never reached the listener)" in first and "retry" in first
    assert "200" in second and "never reached" not in second
