"""Memory a user relies on: a finished simulation is freed as soon as nobody holds it."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

import connect_sim as cs
from connect_sim.output import RunWriter


@pytest.fixture
def no_collector() -> Iterator[None]:
    """Only reference counting frees anything while the test runs."""
    collecting = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


@pytest.mark.parametrize("mode", ["sim", "aggregate"])
@pytest.mark.parametrize("failure_rate", [0.0, 0.3])
@pytest.mark.usefixtures("no_collector")
def test_a_finished_simulation_is_freed_without_the_cyclic_collector(
    mode: str, failure_rate: float
) -> None:
    # Without cycles among simulation, scheduler and channels, its millions of objects
    # are freed when the last reference goes, not in whatever runs next.
    sim = cs.Simulation(mode=mode, seed=3)
    listener = cs.listeners.Flaky(failure_rate=failure_rate)
    sim.add_configuration(cs.Configuration(name="json"), listener)
    sim.add_configuration(cs.Configuration(name="xml", format="xml"))
    for number in range(20):
        at = timedelta(minutes=number)
        envelope = sim.create_envelope("Lease", [cs.Signer("sue@example.com", "Sue"),
                                                 cs.CarbonCopy("cc@example.com", "Cc")], at=at)  # fmt: skip
        sim.send(envelope, at=at)
        sim.sign(envelope, "1", at=at + timedelta(minutes=5))
    result = sim.run()
    assert result.attempts and all(attempt.body for attempt in result.attempts)
    alive = weakref.ref(sim)
    del sim, result, envelope
    assert alive() is None, "the simulation outlived its last reference: a reference cycle"


@pytest.mark.usefixtures("no_collector")
def test_a_stepped_simulation_is_freed_too() -> None:
    sim = cs.Simulation(seed=1)
    sim.add_configuration(cs.Configuration(name="c"))
    envelope = sim.create_envelope("Lease", [cs.Signer("sue@example.com", "Sue")])
    sim.send(envelope)
    while sim.step():
        pass
    alive = weakref.ref(sim)
    del sim, envelope
    assert alive() is None, "the simulation outlived its last reference: a reference cycle"


@pytest.mark.parametrize("mode", ["sim", "aggregate"])
@pytest.mark.usefixtures("no_collector")
def test_a_simulation_stopped_with_work_pending_is_freed_too(mode: str) -> None:
    # Timers still waiting hold the channels' methods: nothing may point back at them.
    sim = cs.Simulation(mode=mode, seed=1)
    sim.add_configuration(cs.Configuration(name="c"), cs.listeners.AlwaysOk(status=503))
    envelope = sim.create_envelope("Lease", [cs.Signer("sue@example.com", "Sue")])
    sim.send(envelope)
    result = sim.run(until=timedelta(hours=1))  # the retries wait a day
    assert result.pending("c")
    channel = weakref.ref(result.channel("c"))
    del sim, result, envelope
    assert channel() is None, "a channel outlived its simulation: a reference cycle"


@pytest.mark.usefixtures("no_collector")
def test_a_simulation_written_as_it_went_is_freed_too(tmp_path: Path) -> None:
    sim = cs.Simulation(seed=1)
    sim.add_configuration(cs.Configuration(name="c"))
    envelope = sim.create_envelope("Lease", [cs.Signer("sue@example.com", "Sue")])
    sim.send(envelope)
    with RunWriter(sim, tmp_path / "out") as writer:  # a sink while it runs
        sim.run()
    assert len(writer.paths) == 2
    alive = weakref.ref(sim)
    del sim, envelope, writer
    assert alive() is None, "the simulation outlived its last reference: a reference cycle"


def test_a_sim_run_with_retries_keeps_no_end_or_snapshot_per_attempt() -> None:
    # A SIM attempt answered at once ends when it starts and carries its message's own
    # event: its ledger keeps neither (about 20 bytes an attempt of a six-million-attempt
    # run); a listener that takes time makes the ledger keep the ends, and no more.
    def run(latency: str) -> cs.Simulation:
        sim = cs.Simulation(seed=5)
        sim.add_configuration(
            cs.Configuration(name="c", retry_interval="1h"),
            cs.listeners.Flaky(failure_rate=0.3, latency=latency, seed=5),
        )
        for number in range(30):
            env = sim.create_envelope("S", [cs.Signer("A", "a@example.com")])
            sim.send(env, at=f"{number}m")
            sim.sign(env, "1", at=f"{number}m30s")
        sim.run()
        return sim

    at_once = run("0s")
    ledger = at_once._ledger
    assert ledger.attempts > 60 and len(ledger.a_time) > 60  # retries: written as columns
    assert (len(ledger.a_end), len(ledger.a_position), len(ledger.a_generated)) == (0, 0, 0)
    slow = run("2s")._ledger
    assert len(slow.a_end) == slow.attempts and len(slow.a_position) == 0
