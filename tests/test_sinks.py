"""Sinks: the trace handed over while the run goes is the trace of the finished run.

A sink gets each attempt once it has ended, each skip and action, once, in
the order of the trace; :class:`~connect_sim.output.RunWriter` writes a run's
folder that way.  Both are held to what is read (or written) after the run,
on generated scenarios with an administrator, in both modes, handing over
after every attempt (``BATCH`` made 1) as well as in batches.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_output import SEED, tree

import connect_sim as cs
from connect_sim import report, simulation, sinks
from connect_sim.output import RunWriter, write_run
from connect_sim.testing.plans import ScenarioPlan
from connect_sim.testing.strategies import scenarios

ADMINISTERED = scenarios(administered=True, anomalies=True)


class Recorder:
    """A sink that keeps every item as the trace record it stands for, and when it came."""

    def __init__(self, sim: cs.Simulation) -> None:
        self.sim = sim
        self.tracer = report.Tracer(cs.Result(sim))
        self.records: list[str] = []
        self.clocks: list[int] = []  # the clock when each item was handed over

    def _keep(self, record: dict[str, Any]) -> None:
        self.records.append(json.dumps(record, sort_keys=True))
        self.clocks.append(self.sim.now)

    def attempt(self, number: int, attempt: cs.Attempt) -> None:
        assert attempt.outcome or self.sim._sinks == [], f"{attempt!r} handed over in flight"
        self._keep(self.tracer.record(number, attempt, attempt.headers))

    def skip(self, skip: Any) -> None:
        self._keep(self.tracer.skip(skip))

    def action(self, record: dict[str, Any]) -> None:
        self._keep(self.tracer.action(record))


def after_the_run(result: cs.Result) -> list[str]:
    return [json.dumps(record, sort_keys=True) for record in report.trace_records(result)]


@contextmanager
def batch(size: int) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(simulation, "BATCH", size)
        yield


@given(ADMINISTERED, st.sampled_from([1, 3, sinks.BATCH]), st.booleans())
def test_a_sink_is_handed_the_trace_of_the_finished_run(
    plan: ScenarioPlan, size: int, stepped: bool
) -> None:
    for mode in ("sim", "aggregate"):
        sim = plan.build(mode)
        recorder = Recorder(sim)
        sim.add_sink(recorder)
        with batch(size):
            if stepped:  # a run in pieces: each hands over what is final when it stops
                while sim.scheduler.next_time() is not None:
                    sim.run(until=timedelta(milliseconds=sim.now + 3_600_000))
            else:
                sim.run()
        handed_during_the_run = len(recorder.records)
        sim.remove_sink(recorder)
        result = cs.Result(sim)
        assert recorder.records == after_the_run(result)
        if all(attempt.outcome for attempt in result.attempts):
            # Everything had ended: the run itself handed over all of it.
            assert handed_during_the_run == len(recorder.records)


def test_items_are_handed_over_while_the_run_goes_on() -> None:
    sim = cs.Simulation(seed=1)
    seen: list[int] = []
    recorder = Recorder(sim)

    def listener(body: bytes, headers: dict[str, str]) -> int:
        seen.append(len(recorder.records))
        return 200

    sim.add_configuration(cs.Configuration(name="c"), listener=cs.listeners.Callable(listener))
    for number in range(3_000):
        at = timedelta(seconds=number)
        env = sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com")], at=at)
        sim.send(env, at=at)
    sim.add_sink(recorder)
    sim.run()
    assert len(seen) == 6_000
    # By the 2,500th attempt the sink had been handed the first BATCH or more.
    assert seen[2_500] >= sinks.BATCH
    assert recorder.clocks[0] < recorder.clocks[-1]  # not all at the end
    assert recorder.records == after_the_run(cs.Result(sim))


def test_an_attempt_in_flight_waits_and_the_rest_is_handed_over_at_removal() -> None:
    sim = cs.Simulation(seed=1)
    slow = cs.listeners.AlwaysOk(latency=timedelta(seconds=30))
    sim.add_configuration(cs.Configuration(name="c"), listener=slow)
    env = sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com")])
    sim.send(env)
    recorder = Recorder(sim)
    sim.add_sink(recorder)
    sim.run(until="10s")  # the first attempt is in flight
    assert recorder.records == []
    in_flight = after_the_run(cs.Result(sim))
    assert len(in_flight) == 1 and json.loads(in_flight[0])["outcome"] == ""
    sim.remove_sink(recorder)  # the rest, as it stands
    assert recorder.records == in_flight
    sim.run()
    assert len(recorder.records) == 1  # removed: handed nothing more


def test_a_sink_added_after_the_run_is_handed_all_of_it() -> None:
    sim = cs.Simulation(seed=1)
    sim.add_configuration(cs.Configuration(name="c"))
    env = sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com")])
    sim.send(env)
    result = sim.run()
    recorder = Recorder(sim)
    sim.add_sink(recorder)
    sim.remove_sink(recorder)
    assert recorder.records == after_the_run(result) and len(recorder.records) == 2


def test_a_sink_that_raises_ends_the_run_with_its_error() -> None:
    class Full(Recorder):
        def attempt(self, number: int, attempt: cs.Attempt) -> None:
            raise OSError(28, "No space left on device")

    sim = cs.Simulation(seed=1)
    sim.add_configuration(cs.Configuration(name="c"))
    env = sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com")])
    sim.send(env)
    sim.add_sink(Full(sim))
    with pytest.raises(OSError, match="No space"):
        sim.run()


def test_what_is_not_a_sink_is_refused_with_what_it_lacks() -> None:
    sim = cs.Simulation(seed=1)
    sim.add_configuration(cs.Configuration(name="c"))

    class Half:
        def attempt(self, number: int, attempt: cs.Attempt) -> None:
            pass

    with pytest.raises(cs.ConfigurationError, match="lacks skip and action; a sink has"):
        sim.add_sink(Half())  # type: ignore[arg-type]
    with pytest.raises(cs.ConfigurationError, match="lacks attempt and skip and action"):
        sim.add_sink(print)  # type: ignore[arg-type]
    recorder = Recorder(sim)
    sim.add_sink(recorder)
    with pytest.raises(cs.ConfigurationError, match="was added already"):
        sim.add_sink(recorder)
    sim.remove_sink(recorder)
    with pytest.raises(cs.ConfigurationError, match="is not a sink of this simulation"):
        sim.remove_sink(recorder)


@settings(max_examples=60)  # each example writes four folders
@given(ADMINISTERED, st.sampled_from([1, sinks.BATCH]))
def test_a_run_written_as_it_goes_is_the_run_written_after(
    tmp_path_factory: pytest.TempPathFactory, plan: ScenarioPlan, size: int
) -> None:
    folder = tmp_path_factory.mktemp("runs")
    for mode in ("sim", "aggregate"):
        sim = plan.build(mode)
        with batch(size), RunWriter(sim, folder / f"{mode}-during") as writer:
            sim.run()
        assert writer.paths == [folder / f"{mode}-during" / name
                                for name in ("trace.jsonl", "summary.json")]  # fmt: skip
        write_run(plan.build(mode).run(), folder / f"{mode}-after")
        assert tree(folder / f"{mode}-during") == tree(folder / f"{mode}-after")
        assert sim._ledger.bodies == {}, "the attempts keep no body the writer rendered"
        control = plan.build(mode)  # what the run itself keeps (an administrator reads)
        control.run()
        assert [len(h._states or ()) for h in sim._histories.values()] == [
            len(h._states or ()) for h in control._histories.values()
        ], "the writer kept snapshots"
        # Rendered in passing, the bodies are those the attempts render and keep.
        for number, attempt in enumerate(sim.attempts, start=1):
            written = (folder / f"{mode}-during" / report.body_path(number, attempt)).read_bytes()
            assert written == attempt.body


def test_a_payload_error_during_the_run_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    from connect_sim.scenario import parse_scenario

    text = SEED.read_text(encoding="utf-8").replace(
        'name = "listener"', 'name = "listener"\nformat = "xml"'
    )
    bad = text.replace('subject = "Please sign"', 'subject = "Please \\u0007 sign"')
    out = tmp_path / "out"
    write_run(parse_scenario(text, "seed.toml").build().run(), out)
    before = tree(out)
    sim = parse_scenario(bad, "bad.toml").build()
    with pytest.raises(cs.PayloadError), RunWriter(sim, out):
        sim.run()
    assert tree(out) == before
    assert sim._sinks == []
    writer = RunWriter(parse_scenario(text, "seed.toml").build(), tmp_path / "other")
    with writer:
        pass
    with (
        pytest.raises(
            cs.ConnectSimError, match="was used already: a RunWriter writes one run once"
        ),
        writer,
    ):
        pass


def test_an_error_inside_the_block_leaves_no_folder(tmp_path: Path) -> None:
    sim = cs.Simulation(seed=1)
    sim.add_configuration(cs.Configuration(name="c"))
    env = sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com")])
    sim.send(env)

    def interrupted_run() -> None:
        with RunWriter(sim, tmp_path / "new" / "out"):
            sim.run()
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted_run()
    assert not (tmp_path / "new").exists()


def seed_sim(mode: str = "sim") -> cs.Simulation:
    sim = cs.Simulation(mode=mode, seed=1)
    sim.add_configuration(cs.Configuration(name="c"))
    env = sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com")])
    sim.send(env)
    return sim


def test_an_item_whose_method_raised_is_handed_over_again() -> None:
    class Once(Recorder):
        failed = False

        def attempt(self, number: int, attempt: cs.Attempt) -> None:
            if number == 2 and not self.failed:
                self.failed = True
                raise OSError("a hiccup")
            super().attempt(number, attempt)

    sim = seed_sim()
    sink = Once(sim)
    sim.add_sink(sink)
    with pytest.raises(OSError, match="a hiccup"):
        sim.run()
    sim.remove_sink(sink)
    assert sink.records == after_the_run(cs.Result(sim))  # attempt 2 came again, once


def test_a_sinks_invalid_action_leaves_the_action_done() -> None:
    class Refusing(Recorder):
        def attempt(self, number: int, attempt: cs.Attempt) -> None:
            raise cs.InvalidAction("the sink refuses", envelope="e", action="send", status="sent")

    sim = cs.Simulation(seed=1)
    sim.add_configuration(cs.Configuration(name="c"))
    for number in range(600):  # enough attempts for a handing during the run
        at = timedelta(seconds=number)
        sim.send(sim.create_envelope("Hi", [cs.Signer("Sue", "s@example.com")], at=at), at=at)
    refusing = Refusing(sim)
    sim.add_sink(refusing)
    with batch(1), pytest.raises(cs.InvalidAction, match="the sink refuses"):
        sim.run()
    sim.remove_sink(refusing, rest=False)
    result = sim.run()  # goes on: no action is met twice
    assert len(result.received("c")) == 1_200


def test_a_sink_removed_by_another_gets_nothing_more() -> None:
    sim = seed_sim()
    second = Recorder(sim)

    class First(Recorder):
        def attempt(self, number: int, attempt: cs.Attempt) -> None:
            super().attempt(number, attempt)
            if number == 1:
                sim.remove_sink(second, rest=False)

    first = First(sim)
    sim.add_sink(first)
    sim.add_sink(second)
    sim.run()
    assert len(first.records) == 2 and second.records == []


@pytest.mark.parametrize("rest", [True, False])
def test_a_sink_that_removes_itself_gets_the_rest_once_or_nothing(rest: bool) -> None:
    sim = seed_sim()

    class Leaving(Recorder):
        def attempt(self, number: int, attempt: cs.Attempt) -> None:
            super().attempt(number, attempt)
            if number == 1:
                sim.remove_sink(self, rest=rest)

    leaving = Leaving(sim)
    sim.add_sink(leaving)
    sim.run()
    expected = after_the_run(cs.Result(sim))
    assert leaving.records == (expected if rest else expected[:1])


def test_an_action_record_is_the_sinks_own_copy() -> None:
    sim = seed_sim()
    sim.pause("c", at="1s")

    class Spoiling(Recorder):
        def action(self, record: dict[str, Any]) -> None:
            super().action(record)
            record["time"] = "spoilt"

    sim.add_sink(Spoiling(sim))
    result = sim.run()
    assert [r["action"] for r in report.trace_records(result) if "action" in r] == ["pause"]
    assert all(r["time"] != "spoilt" for r in report.trace_records(result))


def test_attempts_made_by_timers_are_handed_over_during_the_run() -> None:
    # Under Aggregate every attempt comes from a timer (the aggregation window).
    sim = cs.Simulation(mode="aggregate", seed=1)
    sim.add_configuration(cs.Configuration(name="c"))
    for _ in range(3_000):
        sim.send(sim.create_envelope("Hi", [cs.Signer("Sue", "s@example.com")]))
    recorder = Recorder(sim)
    sim.add_sink(recorder)
    sim.run(until="1h")
    assert len(recorder.records) == len(sim.attempts) >= 3_000
    assert recorder.clocks[0] < sim.now


def test_a_writer_whose_error_was_caught_does_not_put_the_run_in_place(tmp_path: Path) -> None:
    from connect_sim.scenario import parse_scenario

    text = SEED.read_text(encoding="utf-8").replace(
        'name = "listener"', 'name = "listener"\nformat = "xml"'
    )
    bad = text.replace('subject = "Please sign"', 'subject = "Please \\u0007 sign"')
    sim = parse_scenario(bad, "bad.toml").build()
    out = tmp_path / "out"

    def caught_and_went_on() -> None:
        with RunWriter(sim, out), contextlib.suppress(cs.PayloadError):
            sim.run()  # and go on: the writer must not keep what it could not write

    with pytest.raises(cs.PayloadError, match="U\\+0007"):
        caught_and_went_on()
    assert not out.exists()


def test_what_add_sink_refuses_says_why() -> None:
    sim = seed_sim()

    class Sink:
        def attempt(self, number: int, attempt: cs.Attempt) -> None: ...
        def skip(self, skip: Any) -> None: ...
        def action(self, record: dict[str, Any]) -> None: ...

    class Short(Sink):
        def attempt(self, attempt: cs.Attempt) -> None:  # type: ignore[override]
            pass

    with pytest.raises(cs.ConfigurationError, match=r"got the class Sink; give an object"):
        sim.add_sink(Sink)  # type: ignore[arg-type]
    with pytest.raises(
        cs.ConfigurationError, match=r"attempt\(number, attempt\) cannot be called"
    ):
        sim.add_sink(Short())
    sim.add_sink(Sink())


TEXTS = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=12).filter(
    str.strip
)


@given(ADMINISTERED)
def test_a_trace_line_is_the_records_json_text(plan: ScenarioPlan) -> None:
    for mode in ("sim", "aggregate"):
        result = plan.build(mode).run()
        tracer = report.Tracer(result)
        for number, attempt in enumerate(result.attempts, start=1):
            record = tracer.record(number, attempt, attempt.headers)
            line = tracer.line(number, attempt, attempt.headers)
            assert line == json.dumps(record, ensure_ascii=False)


@given(TEXTS, TEXTS, TEXTS, st.sampled_from(["sim", "aggregate"]))
def test_a_trace_line_writes_any_name_as_json_does(
    configuration: str, envelope: str, recipient: str, mode: str
) -> None:
    sim = cs.Simulation(mode=mode, seed=1)
    try:
        sim.add_configuration(cs.Configuration(name=configuration))
        env = sim.create_envelope(
            "s", [cs.Signer("Sue", "sue@example.com", 1, recipient)], id=envelope
        )
    except cs.ConfigurationError:
        assume(False)  # a name the library refuses has no trace to write
    sim.send(env)
    sim.sign(env, recipient, at=timedelta(minutes=1))
    result = sim.run()
    tracer = report.Tracer(result)
    lines = [tracer.line(n, a, a.headers) for n, a in enumerate(result.attempts, start=1)]
    records = [tracer.record(n, a, a.headers) for n, a in enumerate(result.attempts, start=1)]
    assert lines == [json.dumps(record, ensure_ascii=False) for record in records]
    assert records and all(recipient in record["recipient_statuses"] for record in records)


def test_an_envelope_a_sink_sends_at_the_clock_happens_then() -> None:
    # A sink is handed each attempt between the run's callbacks; what it schedules at the
    # clock must happen at that instant, after what was given before it: the clock never
    # goes back, and a listener's envelope sent a little later keeps its own instant.
    sim = cs.Simulation(seed=1)
    ms = timedelta(milliseconds=1)
    added: dict[str, int] = {}

    def signer() -> list[cs.Recipient]:
        return [cs.Signer("Sue", "s@example.com", recipient_id="s")]

    def send_now(id: str) -> None:
        added[id] = sim.now
        sim.send(sim.create_envelope("S", signer(), id=id, at=sim.now * ms), at=sim.now * ms)

    def answer(body: bytes, headers: dict[str, str]) -> int:
        if "sink" in added and "listener" not in added:
            send_now("listener")
        return 200

    class SendsOnce:
        def attempt(self, number: int, attempt: cs.Attempt) -> None:
            if "sink" not in added:
                send_now("sink")

        def skip(self, skip: cs.Skip) -> None:
            pass

        def action(self, record: dict[str, Any]) -> None:
            pass

    sim.add_configuration(
        cs.Configuration(name="c"), cs.listeners.Callable(answer, latency=100 * ms)
    )
    sim.add_sink(SendsOnce())
    for _ in range(520):
        sim.send(sim.create_envelope("Hi", signer()))
    sim.run()
    times = [event.time for event in sim.events]
    assert times == sorted(times), "the clock went back"
    for id, instant in added.items():
        assert {e.time for e in sim.events if e.envelope.id == id} == {instant}, id
