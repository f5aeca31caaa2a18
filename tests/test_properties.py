"""Property tests over generated scenarios: the guarantees of each algorithm.

Each test draws whole scenarios (envelopes, a timeline the lifecycle allows,
configurations, listeners that fail in many ways) and checks what a listener
developer relies on.  The model's invariant check runs after every step.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

from hypothesis import given

import connect_sim as cs
from connect_sim.envelope import initial_state
from connect_sim.lifecycle import apply

from scenarios import DAY, Plan, plans


def run_checked(sim: cs.Simulation) -> cs.Result:
    while sim.step():
        sim.check()
    sim.check()
    return sim.run()


def replayed_events(plan: Plan, sim: cs.Simulation) -> list[tuple[int, str, cs.EnvelopeState]]:
    """The events of every envelope, replayed on the lifecycle alone, in the simulator's order."""
    by_envelope: dict[str, list[tuple[int, str, cs.EnvelopeState]]] = {}
    for envelope_id, _, created in plan.envelopes:
        envelope = sim.envelope(envelope_id)
        state = initial_state(envelope, created)
        out = [(created, "envelope-created", state)]
        for time, kind, _, who, reason in sorted(
            (a for a in plan.actions if a[2] == envelope_id), key=lambda a: a[0]
        ):
            index = None if who is None else envelope.recipient(who)
            for name, _, snapshot in apply(state, kind, time, index, reason):
                out.append((time, name, snapshot))
                state = snapshot
        by_envelope[envelope_id] = out
    return [item for items in by_envelope.values() for item in items]


@given(plans())
def test_sim_delivers_in_creation_order_with_event_snapshots(plan: Plan) -> None:
    sim = plan.build("sim")
    result = run_checked(sim)
    # Snapshots equal an independent replay of the lifecycle, event by event.
    expected = sorted(replayed_events(plan, sim), key=lambda e: (e[1], e[0]))
    actual = sorted(
        ((e.time, e.name, e.snapshot) for e in result.events), key=lambda e: (e[1], e[0])
    )
    assert [(t, n) for t, n, _ in actual] == [(t, n) for t, n, _ in expected]
    per_envelope = defaultdict(list)
    for event in result.events:
        per_envelope[event.envelope.id].append((event.time, event.name, event.snapshot))
    for envelope_id, _, _ in plan.envelopes:
        mine = [e for e in replayed_events(plan, sim) if e[2].envelope.id == envelope_id]
        assert per_envelope[envelope_id] == mine
    for name in result.configurations:
        received = result.received(name)
        sequences = [a.sequence for a in received]
        assert sequences == sorted(set(sequences)), "out of order or twice"
        for attempt in received:
            (event,) = attempt.message.events
            assert attempt.snapshot is event.snapshot
            assert attempt.generated == event.time


@given(plans())
def test_sim_failure_blocks_the_configuration_until_the_retry_a_day_later(plan: Plan) -> None:
    sim = plan.build("sim")
    result = run_checked(sim)
    for name in result.configurations:
        interval = result.channel(name).retry_interval
        attempts = [a for a in result.attempts if a.configuration == name]
        for attempt, following in itertools.pairwise(attempts):
            if attempt.outcome == "retry":
                assert following.message is attempt.message, "a later message went first"
                assert following.time == attempt.end + interval
                assert following.number == attempt.number + 1
            else:
                assert following.sequence > attempt.sequence
                assert following.time >= attempt.end


@given(plans(recovering=True))
def test_sim_loses_nothing_once_the_listener_recovers(plan: Plan) -> None:
    result = run_checked(plan.build("sim"))
    for name in result.configurations:
        messages = result.messages(name)
        assert result.pending(name) == []
        delivered = [m for m in messages if m.state == "delivered"]
        assert len(delivered) == len(messages), [m for m in messages if m.state != "delivered"]
        assert len(result.received(name)) == len(messages)


@given(plans(anomalies=True))
def test_aggregate_carries_the_state_at_send_time(plan: Plan) -> None:
    result = run_checked(plan.build("aggregate"))
    history = defaultdict(list)
    for event in result.events:
        history[event.envelope.id].append(event)
    for attempt in result.attempts:
        if attempt.duplicate:
            continue
        events = [e for e in history[attempt.envelope.id] if e.time <= attempt.time]
        assert attempt.snapshot == events[-1].snapshot
        assert attempt.generated == attempt.time


@given(plans(answers_at_once=True))
def test_aggregate_failures_never_block(plan: Plan) -> None:
    result = run_checked(plan.build("aggregate"))
    for name in result.configurations:
        window = result.channel(name).configuration.aggregation_window_ms
        for message in result.messages(name):
            first = next(a for a in result.attempts if a.message is message)
            assert first.time == message.events[0].time + window


@given(plans(recovering=True))
def test_aggregate_ends_every_message_delivered_failed_or_awaiting_a_later_success(
    plan: Plan,
) -> None:
    result = run_checked(plan.build("aggregate"))
    for name in result.configurations:
        for message in result.pending(name):
            assert message.state == "retry"
            later = [a for a in result.received(name) if a.time >= message.last_end]
            assert all(a.time < message.last_end + DAY for a in later)


@given(plans(anomalies=True))
def test_aggregate_never_makes_more_messages_than_sim(plan: Plan) -> None:
    sim = plan.build("sim").run()
    aggregate = plan.build("aggregate").run()
    for name in sim.configurations:
        assert len(aggregate.messages(name)) <= len(sim.messages(name))
        merged = [e.sequence for m in aggregate.messages(name) for e in m.events]
        assert sorted(merged) == [m.events[0].sequence for m in sim.messages(name)]
