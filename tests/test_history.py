"""Snapshots made when read (connect_sim.history) are the snapshots an eager run makes.

The run decides each action's events from a table per envelope shape and makes
no snapshot; a snapshot is made when read, by replaying the envelope's actions
through the lifecycle.  These tests hold that fast path to the general one: the
lifecycle applied to the real state at every action, snapshots made as the run
goes.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import connect_sim as cs
from connect_sim.envelope import initial_state
from connect_sim.events import ENVELOPE_EVENTS, RECIPIENT_EVENTS
from connect_sim.lifecycle import apply

from scenarios import Plan, plans


def eager_events(sim: cs.Simulation) -> dict[str, list[tuple[int, str, int | None, object]]]:
    """Per envelope: the events the lifecycle emits when its actions are applied eagerly.

    Every action the run performed on the envelope is applied, with the real
    ``apply``, to the real state the previous one left: no table, no laziness.
    """
    out: dict[str, list[tuple[int, str, int | None, object]]] = {}
    for key, history in sim._histories.items():
        state = initial_state(history.envelope, history._created)
        events: list[tuple[int, str, int | None, object]] = [
            (history._created, "envelope-created", None, state)
        ]
        for time, kind, index, reason in map(history.action, range(len(history.steps))):
            emitted = apply(state, kind, time, index, reason)
            events.extend((time, name, who, after) for name, who, after in emitted)
            state = emitted[-1][2]
        out[key] = events
    return out


def index_of(event: cs.Event) -> int | None:
    if event.recipient is None:
        return None
    return event.envelope.recipients.index(event.recipient)


@pytest.mark.parametrize("mode", ["sim", "aggregate"])
@given(plan=plans())
def test_the_shape_tables_emit_what_the_lifecycle_emits_on_the_real_states(
    mode: str, plan: Plan
) -> None:
    sim = plan.build(mode)
    result = sim.run()
    expected = eager_events(sim)
    seen: dict[str, list[tuple[int, str, int | None, object]]] = defaultdict(list)
    for event in result.events:
        seen[event.envelope.id].append((event.time, event.name, index_of(event), event.snapshot))
    assert dict(seen) == expected


def everything_read(sim: cs.Simulation, result: cs.Result) -> list[object]:
    """Every event's and attempt's snapshot, every body and header, in run order."""
    out: list[object] = [(e.sequence, e.name, e.snapshot) for e in result.events]
    for attempt in result.attempts:
        out.append((attempt.sequence, attempt.number, attempt.snapshot, attempt.body,
                    attempt.headers))  # fmt: skip
    return out


@pytest.mark.parametrize("mode", ["sim", "aggregate"])
@given(plan=plans())
def test_snapshots_made_as_the_run_goes_equal_those_made_after_it(mode: str, plan: Plan) -> None:
    # The general path: after every step, read the state of every envelope and the
    # snapshot and body of every new attempt, so each is made as soon as it exists.
    stepped = plan.build(mode)
    read = 0
    while stepped.step():
        for key in stepped._histories:
            stepped.state(key)
        for attempt in stepped.attempts[read:]:
            assert attempt.body
        read = len(stepped.attempts)
    # The fast path: run to the end, then read.
    run = plan.build(mode)
    result = run.run()
    assert everything_read(run, result) == everything_read(stepped, cs.Result(stepped))


def three_leases() -> cs.Simulation:
    """Three envelopes, each a signer and a carbon copy, sent and signed: not run yet."""
    sim = cs.Simulation(seed=1)
    sim.add_configuration(cs.Configuration(name="c"))
    for number in range(3):
        envelope = sim.create_envelope("Lease", [cs.Signer("Sue", "sue@example.com"),
                                                 cs.CarbonCopy("Cc", "cc@example.com")])  # fmt: skip
        sim.send(envelope, at=timedelta(minutes=number))
        sim.sign(envelope, "1", at=timedelta(minutes=number + 5))
    return sim


def test_a_run_that_reads_nothing_makes_no_snapshot() -> None:
    sim = three_leases()
    result = sim.run()
    assert len(result.attempts) == 3 * 7
    assert all(history._states is None for history in sim._histories.values())
    # Read one: that envelope's snapshots up to it are made, and only those.
    attempt = result.attempts[-1]
    assert attempt.snapshot.status == "completed"
    made = {key: len(history._states or ()) for key, history in sim._histories.items()}
    assert made == {"envelope-1": 0, "envelope-2": 0, "envelope-3": 8}  # created, ..., completed
    assert attempt.snapshot is attempt.message.events[0].snapshot  # made once


def test_a_listener_called_mid_action_sees_the_state_up_to_its_event() -> None:
    sim = cs.Simulation(seed=1)
    statuses: list[tuple[str, str]] = []

    def listener(body: bytes, headers: dict[str, str]) -> int:
        statuses.append((json.loads(body)["event"], sim.state("envelope-1").status))
        return 200

    every = ENVELOPE_EVENTS + RECIPIENT_EVENTS
    sim.add_configuration(
        cs.Configuration(name="c", events=every), cs.listeners.Callable(listener)
    )
    envelope = sim.create_envelope("Lease", [cs.Signer("Sue", "sue@example.com")])
    sim.send(envelope)
    sim.run()
    # "send" makes two events in one action; the first is offered before the second exists.
    assert statuses == [("envelope-created", "created"), ("recipient-sent", "created"),
                        ("envelope-sent", "sent")]  # fmt: skip


def test_events_of_two_runs_of_the_same_inputs_are_equal() -> None:
    def run() -> cs.Result:
        sim = cs.Simulation(seed=4)
        sim.add_configuration(cs.Configuration(name="c"))
        envelope = sim.create_envelope("Lease", [cs.Signer("Sue", "sue@example.com")])
        sim.send(envelope)
        sim.sign(envelope, "1", at=timedelta(minutes=1))
        return sim.run()

    first, second = run().events, run().events
    assert first == second and [hash(e) for e in first] == [hash(e) for e in second]
    assert first[0] != first[1]


def test_envelopes_whose_orders_route_alike_share_one_shape() -> None:
    sim = cs.Simulation(seed=1)
    sim.add_configuration(cs.Configuration(name="c"))
    for orders in ((1, 2), (10, 20), (3, 700), (2, 2)):
        people = [cs.Signer(f"S{o}", f"s{o}@example.com", routing_order=o) for o in orders]
        sim.send(sim.create_envelope("Lease", people))
    sim.run()
    assert len(sim._shapes) == 2  # in sequence, and side by side


def test_a_history_gives_back_every_action_it_keeps_packed_or_whole() -> None:
    from connect_sim.history import TIME_SHIFT, UNPACKED, History, pack
    from connect_sim.time import HORIZON_MS

    sim = cs.Simulation()
    envelope = sim.create_envelope("S", [cs.Signer("A", "a@example.com")])
    history = History(envelope, None, 0)  # type: ignore[arg-type]  # its shape is not read here
    kept = [
        (0, "send", None, None),
        (HORIZON_MS, "sign", 0, None),  # the latest time there is
        (5, "decline", 0, "Wrong amount"),  # a reason: kept whole
        (7, "view", 16_382, None),  # the last index that packs
        (9, "view", 16_383, None),  # past it: kept whole
        (11, "resend_recipient", 3, None),
    ]
    for time, kind, index, reason in kept:
        history.add(time, kind, index, reason, pack(kind, index))
    assert [history.action(k) for k in range(len(kept))] == kept
    assert pack("view", 16_383) == UNPACKED and pack("view", 16_382) != UNPACKED
    assert list(history.steps).count(UNPACKED) == 2
    assert history.steps[1] >> TIME_SHIFT == HORIZON_MS


@given(plan=plans(), data=st.data())
def test_a_snapshot_read_in_passing_equals_the_kept_one_and_is_not_kept(
    plan: Plan, data: st.DataObject
) -> None:
    from connect_sim import history as history_module

    sim = plan.build("sim")
    sim.run()
    histories = list(sim._histories.values())
    reads = [(number, k) for number, history in enumerate(histories)
             for k in range(1, history.count + 1)]  # fmt: skip
    order = data.draw(st.permutations(reads))  # in any order, some kept before
    kept_first = data.draw(st.sets(st.sampled_from(reads)) if reads else st.just(set()))
    for number, k in sorted(kept_first):
        histories[number].snapshot(k)
    before = [len(history._states or ()) for history in histories]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(history_module, "PASSING", data.draw(st.integers(1, 3)))
        passing: history_module.Passing = {}
        peeked = {(n, k): histories[n].peek(k, passing) for n, k in order}
        assert len(passing) <= history_module.PASSING
    assert [len(history._states or ()) for history in histories] == before, "peek kept one"
    for (number, k), state in peeked.items():
        assert state == histories[number].snapshot(k)
        if (number, k) in kept_first:
            assert state is histories[number].snapshot(k), "a kept snapshot is the kept object"


def test_writing_a_run_keeps_no_snapshot_but_those_read_before(tmp_path: Path) -> None:
    from connect_sim.output import write_run

    sim = three_leases()
    result = sim.run()
    read = result.attempts[2].snapshot  # envelope-1's snapshots up to its send are kept

    def made() -> dict[str, int]:
        return {key: len(history._states or ()) for key, history in sim._histories.items()}

    before = made()
    assert before["envelope-1"] >= 3 and before["envelope-2"] == before["envelope-3"] == 0
    write_run(result, tmp_path / "out")
    assert made() == before
    assert result.attempts[2].snapshot is read
    assert len(sim._ledger.passing) == 3  # bounded: see History.peek
