"""Building while running: ``Simulation.feed`` makes envelopes when the clock comes to them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

import connect_sim as cs

from scenarios import Plan, plans
from test_fast_path import everything


def fed(plan: Plan, mode: str) -> cs.Simulation:
    """The plan built by a feed: each envelope and action made when the clock reaches it.

    Only an envelope that an envelope-level configuration needs is made before
    the run.  The feed goes through the plan's instants in order, making at
    each the envelopes created then and the actions due then, in the order the
    plan gives them: what ``Plan.build`` gives the timeline all at once.
    """
    sim = cs.Simulation(mode=mode)
    made: dict[str, cs.Envelope] = {}

    def create(envelope_id: str, recipients: list[cs.Recipient], created: int) -> None:
        made[envelope_id] = plan.create(sim, envelope_id, recipients, created)

    scoped = {scope for _, _, scope in plan.configurations if scope is not None}
    for envelope in plan.envelopes:
        if envelope[0] in scoped:
            create(*envelope)
    for configuration, listener, scope in plan.configurations:
        sim.add_configuration(
            configuration.for_mode(mode), listener=listener,  # type: ignore[arg-type]
            envelope=None if scope is None else made[scope],
        )  # fmt: skip

    def source() -> Iterator[timedelta]:
        instants = sorted({e[2] for e in plan.envelopes} | {a[0] for a in plan.actions})
        for instant in instants:
            yield timedelta(milliseconds=instant)
            for envelope in plan.envelopes:
                if envelope[2] == instant and envelope[0] not in scoped:
                    create(*envelope)
            for time, kind, envelope_id, recipient, reason in plan.actions:
                if time == instant:
                    sim.act(kind, made[envelope_id], recipient, at=timedelta(milliseconds=time),
                            reason=reason)  # fmt: skip

    sim.feed(source())
    return sim


@given(st.data())
def test_a_fed_scenario_runs_as_the_same_scenario_built_beforehand(data: st.DataObject) -> None:
    plan: Plan = data.draw(plans())
    for mode in ("sim", "aggregate"):
        assert everything(fed(plan, mode)) == everything(plan.build(mode))


def arrivals(sim: cs.Simulation, count: int, seen: list[tuple[int, int]]) -> Iterator[str]:
    """One envelope a minute, each signed five minutes after it is sent; notes the clock."""
    for number in range(count):
        yield f"{number}m"
        seen.append((sim.now, number))
        env = sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com", recipient_id="sue")],
                                  at=f"{number}m")  # fmt: skip
        sim.send(env, at=f"{number}m")
        sim.sign(env, "sue", at=timedelta(minutes=number + 5))


def test_nothing_is_made_before_the_run_and_each_envelope_when_the_clock_comes_to_it() -> None:
    sim = cs.Simulation(seed=1)
    sim.add_configuration(cs.Configuration(name="listener"))
    seen: list[tuple[int, int]] = []
    sim.feed(arrivals(sim, 100, seen))
    assert seen == []
    with pytest.raises(cs.ConfigurationError):
        sim.envelope("envelope-1")
    result = sim.run()
    assert seen == [(number * 60_000, number) for number in range(100)]
    # Each envelope: sent, delivered and completed, for its recipient and for itself.
    assert len(result.received("listener")) == 100 * 6
    assert sim.state("envelope-100").status == "completed"


def test_a_stepped_run_advances_the_feed_as_one_more_action() -> None:
    sim = cs.Simulation(seed=1)
    sim.add_configuration(cs.Configuration(name="listener"))
    seen: list[tuple[int, int]] = []
    sim.feed(arrivals(sim, 3, seen))
    steps = 0
    while sim.step():
        sim.check()
        steps += 1
    eager = cs.Simulation(seed=1)
    eager.add_configuration(cs.Configuration(name="listener"))
    for number in range(3):
        env = eager.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com", recipient_id="sue")],
                                    at=f"{number}m")  # fmt: skip
        eager.send(env, at=f"{number}m")
        eager.sign(env, "sue", at=timedelta(minutes=number + 5))
    assert everything(sim) == everything(eager)
    assert steps == 4 + 3 * 3  # the feed's four turns (the last finds it used up), 3 actions each


def test_feeding_a_stopped_run_goes_on_from_the_clock() -> None:
    sim = cs.Simulation(seed=1)
    sim.add_configuration(cs.Configuration(name="listener"))
    seen: list[tuple[int, int]] = []
    sim.run(until="1h")
    sim.feed(arrivals(sim, 0, seen))  # used up at once: nothing happens
    sim.feed(f"{61 + n}m" for n in range(2))  # a feed that only waits
    result = sim.run()
    assert sim.now == 62 * 60_000 and len(result.attempts) == 0


def test_an_instant_before_the_clock_names_the_feed_and_ends_it() -> None:
    sim = cs.Simulation(seed=1)
    sim.add_configuration(cs.Configuration(name="listener"))
    sim.feed(iter(["10m", "5m", "20m"]))
    with pytest.raises(cs.ConfigurationError, match=r"feed 1 yielded '5m': at: 5m is in the past"):
        sim.run()
    sim.run()  # the feed has ended: nothing left
    assert sim.now == 10 * 60_000


def test_nonsense_given_or_yielded_is_a_configuration_error() -> None:
    sim = cs.Simulation(seed=1)
    sim.add_configuration(cs.Configuration(name="listener"))
    with pytest.raises(cs.ConfigurationError, match=r"feed: expected an iterator .* got \[1, 2\]"):
        sim.feed([1, 2])  # type: ignore[arg-type]
    with pytest.raises(cs.ConfigurationError, match=r"at: "):
        sim.feed(iter([]), at="soon")
    sim.feed(iter([3.5]))  # type: ignore[list-item]
    with pytest.raises(cs.ConfigurationError, match=r"feed 1 yielded 3.5: at: .*got 3.5 \(a bare"):
        sim.run()


def test_an_error_inside_the_feed_comes_out_of_run_and_ends_the_feed() -> None:
    sim = cs.Simulation(seed=1)
    sim.add_configuration(cs.Configuration(name="listener"))

    def broken() -> Iterator[str]:
        yield "1m"
        env = sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com")], at="1m")
        sim.send(env, at="1m")
        sim.sign(env, "nobody", at="2m")  # no such recipient

    sim.feed(broken())
    with pytest.raises(cs.ConfigurationError, match="has no recipient 'nobody'"):
        sim.run()
    result = sim.run()  # what the feed made before the error still runs; the feed is gone
    assert [a.event for a in result.received("listener")] == ["recipient-sent", "envelope-sent"]
    assert sim._feeds == [None]


def test_checking_the_simulation_from_inside_a_feed_loses_no_action() -> None:
    sim = cs.Simulation(seed=1)
    sim.add_configuration(cs.Configuration(name="listener"))

    def source() -> Iterator[str]:
        yield "0m"
        env = sim.create_envelope("Hi", [cs.Signer("Sue", "s@example.com", recipient_id="s")])
        sim.send(env, at="0m")
        sim.sign(env, "s", at="5m")
        yield "1m"
        sim.check()  # reads the scheduler while late actions wait

    sim.feed(source())
    sim.run()
    assert sim.state("envelope-1").status == "completed" and len(sim.scheduler) == 0


def test_an_invalid_action_raised_inside_a_feed_ends_it_cleanly() -> None:
    sim = cs.Simulation(seed=1)
    sim.add_configuration(cs.Configuration(name="listener"))

    def source() -> Iterator[str]:
        yield "1m"
        raise cs.InvalidAction("refused", envelope="e", action="sign", status="created")

    sim.feed(source())
    with pytest.raises(cs.InvalidAction):
        sim.run()
    sim.run()  # the turn put back finds the feed ended: nothing happens
    assert sim._feeds == [None] and len(sim.scheduler) == 0
