"""Delivering at once is what the general path does, row for row.

A SIM queue whose listener session has ``answer()`` (connect-sim's own models,
which answer without reading the attempt) writes a message that is answered
2xx at once, and its attempt, in one go, without an ``Attempt``.  Hiding
``answer`` makes every attempt go the general way (``respond(attempt)`` with
a view, then the settlement); both must give the same trace, bodies, messages
and failure log.
"""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

import connect_sim as cs
from connect_sim import report

from scenarios import Plan, plans


def everything(sim: cs.Simulation) -> list[object]:
    """All a user can read of a finished run, as plain data."""
    result = sim.run()
    out: list[object] = [json.dumps(record, sort_keys=True) + body.decode()
                         for record, body in report.iter_trace(result)]  # fmt: skip
    out.append(report.summary(result))
    for name in result.configurations:
        out.append([(m.sequence, m.state, m.attempts, m.generated, m.merged_events,
                     m.last_end) for m in result.messages(name)])  # fmt: skip
        out.append([(f.time, f.message.sequence, f.reason) for f in result.failures(name)])
        out.append([a.sequence for a in result.received(name)])
    return out


def general(sim: cs.Simulation) -> cs.Simulation:
    """The same simulation, its queues made to ask ``respond(attempt)`` every time."""
    for channel in sim._channels:
        channel.answer = None
    return sim


@given(st.booleans(), st.data())
def test_delivering_at_once_matches_the_general_path(at_once: bool, data: st.DataObject) -> None:
    plan: Plan = data.draw(plans(answers_at_once=at_once))
    for mode in ("sim", "aggregate"):
        fast = plan.build(mode)
        assert any(channel.answer is not None for channel in fast._channels) or not any(
            isinstance(
                listener, cs.listeners.AlwaysOk | cs.listeners.Flaky | cs.listeners.Scripted
            )
            for _, listener, _ in plan.configurations
        ), "a built-in model's session lost its answer(): the fast path would never run"
        assert everything(fast) == everything(general(plan.build(mode)))


class Counted:
    """A listener whose session answers 500 to the second attempt, 200 to the others."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def session(self, rng: object) -> Counted:
        return self

    def respond(self, attempt: cs.Attempt) -> tuple[int, int]:
        self.asked.append("respond")
        return self._next()

    def answer(self) -> tuple[int, int]:
        self.asked.append("answer")
        return self._next()

    def _next(self) -> tuple[int, int]:
        return (500 if len(self.asked) == 2 else 200, 0)


def test_a_session_with_answer_is_never_handed_an_attempt() -> None:
    def run(hide: bool) -> tuple[list[str], list[object]]:
        listener = Counted()
        sim = cs.Simulation(seed=1)
        sim.add_configuration(cs.Configuration(name="c", retry_interval="1h"), listener=listener)
        for number in range(3):
            env = sim.create_envelope("S", [cs.Signer("A", "a@example.com")])
            sim.send(env, at=f"{number}m")
            sim.sign(env, "1", at=f"{number}m30s")
        return listener.asked, everything(general(sim) if hide else sim)

    asked, fast = run(hide=False)
    assert set(asked) == {"answer"} and len(asked) == 19  # 18 messages, one retried
    asked, slow = run(hide=True)
    assert set(asked) == {"respond"} and fast == slow


def readings(sim: cs.Simulation) -> list[object]:
    """What a reader sees of a run in progress: counts first, then every attempt."""
    counts = [len(sim.attempts), [len(c.message_rows) for c in sim._channels]]
    messages = [(m.sequence, m.state, m.attempts, m.generated, m.position, m.last_end,
                 m.configuration, m.mode, m.pending, m.event)
                for channel in sim._channels for m in channel.messages]  # fmt: skip
    attempts = [(a.sequence, a.time, a.end, a.number, a.status, a.outcome, a.generated,
                 a.position, a.event) for a in sim.attempts]  # fmt: skip
    return [*counts, messages, attempts]


@given(st.booleans(), st.data())
def test_reading_between_steps_sees_what_the_general_path_wrote(
    at_once: bool, data: st.DataObject
) -> None:
    # Messages delivered at once are kept short until something reads them: counting
    # must not need them written out, and a read in the middle of a run (a listener's,
    # a feed's, a test stepping) must see them exactly as the general path wrote them.
    plan: Plan = data.draw(plans(answers_at_once=at_once))
    fast, slow = plan.build("sim"), general(plan.build("sim"))
    every = data.draw(st.integers(1, 4), label="read every")
    steps = 0
    while True:
        going = fast.step()
        assert slow.step() == going
        steps += 1
        if steps % every == 0 or not going:
            assert readings(fast) == readings(slow)
        if not going:
            break
    assert everything(fast) == everything(slow)


def test_a_run_delivered_at_once_is_counted_without_writing_its_rows_out() -> None:
    sim = cs.Simulation(seed=1)
    sim.add_configuration(cs.Configuration(name="c"))
    for number in range(50):
        env = sim.create_envelope("S", [cs.Signer("A", "a@example.com")])
        sim.send(env, at=f"{number}s")
    result = sim.run()
    ledger = sim._ledger
    assert len(result.attempts) == len(result.received("c")) == 100
    assert len(ledger.quick) == 100 and len(ledger.a_time) == 0  # kept short: 8 bytes each
    last = result.attempts[-1]
    assert (last.event, last.time, last.outcome, last.number) == ("envelope-sent", 49_000,
                                                                  "delivered", 1)  # fmt: skip


def test_reading_a_run_leaves_the_rows_kept_short_where_they_are() -> None:
    # A writer reads every attempt of a long run once: it must not make the ledger
    # write out, at 60 bytes a row, what it keeps in 8.  What the views read of a row
    # kept short is what they read of it written out.
    sim = cs.Simulation(seed=1)
    sim.add_configuration(cs.Configuration(name="c"))
    for number in range(20):
        env = sim.create_envelope("S", [cs.Signer("A", "a@example.com"),
                                        cs.CarbonCopy("B", "b@example.com", 2)])  # fmt: skip
        sim.send(env, at=f"{number}s")
        sim.sign(env, "1", at=f"{number}m30s")
    ledger = sim._ledger

    def read() -> list[object]:
        out = everything(sim)  # the trace with its bodies, the summary, the messages
        result = sim.run()  # nothing left to run: the same result
        out.append(readings(sim))
        out.append([(m.sequence, m.configuration, m.mode, m.position, m.snapshot, m.event,
                     m.pending, m.recipient, m.envelope.id)
                    for m in result.messages("c")])  # fmt: skip
        out.append([m.sequence for m in result.pending("c")])
        out.append([(a.configuration, a.snapshot, a.ok, a.envelope.id, a.body, a.headers)
                    for a in sim.attempts])  # fmt: skip
        return out

    kept_short = read()
    assert len(ledger.quick) == 120 and len(ledger.a_time) == 0
    ledger.flush()
    assert len(ledger.quick) == 0 and len(ledger.a_time) == 120
    assert read() == kept_short


def test_columns_that_end_early_read_the_same_among_other_configurations() -> None:
    # A SIM queue's attempts leave the ledger's end and snapshot columns unwritten, until
    # an attempt of another configuration (Aggregate carrying a later snapshot, a slow
    # listener) needs them and writes their defaults: each configuration's attempts must
    # read the same run alone as among the others, whose rows come between its own.
    configurations = {
        "sim": (cs.Configuration(name="sim", retry_interval="10m"),
                cs.listeners.Flaky(failure_rate=0.3, seed=2)),
        "slow": (cs.Configuration(name="slow", retry_interval="10m"),
                 cs.listeners.Flaky(failure_rate=0.2, latency="3s", seed=3)),
        "agg": (cs.Configuration(name="agg", mode="aggregate", retry_interval="10m"),
                cs.listeners.Flaky(failure_rate=0.3, seed=4)),
    }  # fmt: skip

    columns: list[int] = []

    def run(names: list[str]) -> dict[str, list[object]]:
        sim = cs.Simulation(seed=9)
        for name in names:
            sim.add_configuration(*configurations[name])
        for number in range(12):
            env = sim.create_envelope("S", [cs.Signer("A", "a@example.com"),
                                            cs.CarbonCopy("B", "b@example.com", 2)])  # fmt: skip
            sim.send(env, at=f"{number * 7}m")
            sim.sign(env, "1", at=f"{number * 7 + 1}m")
        result = sim.run()
        columns[:] = [len(sim._ledger.a_end), len(sim._ledger.a_position), sim._ledger.attempts]
        return {name: [(a.time, a.end, a.number, a.status, a.outcome, a.generated,
                        a.position, a.event, a.message.last_end, a.message.generated)
                       for a in result.attempts if a.configuration == name]
                for name in names}  # fmt: skip

    together = run(["sim", "slow", "agg"])
    ends, snapshots, attempts = columns
    assert 0 < ends < attempts and 0 < snapshots < attempts  # written part of the way
    for name in configurations:
        alone = run([name])[name]
        assert together[name] == alone, name
    assert any(end != time for time, end, *_ in together["slow"])
