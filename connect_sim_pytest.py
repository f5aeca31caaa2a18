"""connect-sim's pytest plugin: a ``connect_sim`` fixture, both delivery modes, traces.

Registered through the ``pytest11`` entry point, so any suite with connect-sim
installed has it.  It imports nothing of connect-sim until a test asks for the
fixture: loading it costs a suite that does not use it nothing.

- ``connect_sim``: a fresh :class:`connect_sim.Simulation` (seed 0), in the
  mode of ``delivery_mode``.
- ``delivery_mode``: ``"sim"``, unless the test is marked
  ``@pytest.mark.both_delivery_modes``, which runs it once under ``"sim"``
  and once under ``"aggregate"``.
- When a test that used the fixture fails, the report gains a section with
  the simulation's delivery trace: per attempt the time, configuration,
  event, envelope, HTTP status (marked when a behaviour in front of the
  listener failed the attempt, so it never reached the listener) and outcome.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Generator

    from connect_sim import Simulation

__all__ = ["connect_sim", "delivery_mode"]

MODES = ("sim", "aggregate")
MAX_TRACE_ROWS = 200
_SIMULATIONS = pytest.StashKey[list["Simulation"]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "both_delivery_modes: run the test under SIM and under Aggregate "
        "(the connect_sim fixture and delivery_mode follow)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("both_delivery_modes") is None:
        return
    if "delivery_mode" not in metafunc.fixturenames:
        raise pytest.UsageError(
            f"{metafunc.definition.nodeid}: both_delivery_modes needs the connect_sim "
            "or the delivery_mode fixture"
        )
    metafunc.parametrize("delivery_mode", MODES, indirect=True)


@pytest.fixture
def delivery_mode(request: pytest.FixtureRequest) -> str:
    """The delivery algorithm of this test: ``"sim"``, or each in turn with the marker."""
    return str(getattr(request, "param", "sim"))


@pytest.fixture
def connect_sim(request: pytest.FixtureRequest, delivery_mode: str) -> Simulation:
    """A fresh simulation (seed 0) in ``delivery_mode``; its trace is shown if the test fails."""
    from connect_sim import Simulation

    simulation = Simulation(mode=delivery_mode, seed=0)
    request.node.stash.setdefault(_SIMULATIONS, []).append(simulation)
    return simulation


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, Any]:
    report = yield
    if report.when == "call" and report.failed:
        for simulation in item.stash.get(_SIMULATIONS, []):
            report.sections.append(("connect-sim delivery trace", trace_table(simulation)))
    return report


def trace_table(simulation: Simulation) -> str:
    """The delivery trace of a simulation as a table, one attempt a row."""
    from connect_sim.report import text_table
    from connect_sim.time import format_duration

    attempts = simulation.attempts
    if not attempts:
        return f"no delivery attempts (the clock is at {format_duration(simulation.now)})"
    headers = ["time", "configuration", "#", "event", "envelope", "try", "status", "outcome"]
    rows = []
    for attempt in attempts[:MAX_TRACE_ROWS]:
        status = "no answer" if attempt.status is None else str(attempt.status)
        if not attempt.reached_listener:  # a Degraded behaviour failed it on the way
            status += " (never reached the listener)"
        rows.append([format_duration(attempt.time), attempt.configuration,
                     str(attempt.sequence), attempt.event, attempt.envelope.id,
                     str(attempt.number), status, attempt.outcome or "in flight"])  # fmt: skip
    lines = [text_table(headers, rows)]
    if len(attempts) > MAX_TRACE_ROWS:
        lines.append(f"... and {len(attempts) - MAX_TRACE_ROWS} more attempts")
    failed = next((a for a in attempts if a.error), None)
    if failed is not None:
        lines.append("")
        lines.append(
            f"The listener's code failed on attempt {failed.number} of #{failed.sequence}:"
        )
        lines.append(failed.error or "")
    return "\n".join(lines)
