"""What administrators do while Connect runs (DESIGN.md section 8): the failure log,
deleting failures, pausing and resuming; one rule at a time, in both modes where it applies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import attrs
import pytest

import connect_sim as cs
from connect_sim.errors import InvalidOperation
from connect_sim.listeners import AlwaysOk, Outage, Scripted
from connect_sim.operations import LogEntry
from connect_sim.report import trace_records

from builders import DAY, HOUR, MIN, seed_example

D = 86_400_000
VIEW = 120_000  # Sue's view in the seed example
SIGN = 140_000


def outcomes(result: cs.Result) -> list[tuple[int, int, str]]:
    """(time, sequence, outcome) of every attempt and skip, in the trace's order."""
    return [
        (_ms(r["time"]), r["sequence"], r["outcome"])
        for r in trace_records(result)
        if "outcome" in r
    ]


def _ms(instant: str) -> int:
    """Milliseconds since the seed example's start (2026-01-01T00:00:00Z) of a trace instant."""
    from datetime import datetime

    moment = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    start = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
    return int((moment - start).total_seconds() * 1000)


# -- the failure log -------------------------------------------------------------------


def test_the_failure_log_holds_a_message_from_its_first_failure_until_it_is_delivered() -> None:
    # Down from 1m to 30h: Sue's view (message 3) fails at 2m and twice more; 4 to 6 wait.
    sim, env = seed_example("sim", Outage(windows=[(MIN, 30 * HOUR)], status=503))
    assert sim.failure_log("listener") == []
    sim.run(until=timedelta(hours=1))
    (entry,) = sim.failure_log("listener")  # the messages waiting behind it are not in it
    assert (entry.sequence, entry.envelope_id, entry.envelope_guid) == (3, "e1", env.envelope_id)
    assert (entry.created, entry.last_try, entry.retry_count) == (VIEW, VIEW, 0)
    assert entry.status == "Sent" and entry.retry_due
    assert entry.error == "HTTP 503 on attempt 1; a retry is due"
    assert (entry.subject, entry.user_name, entry.email) == (
        "Please sign", "Sam Sender", "sam.sender@example.com",
    )  # fmt: skip
    assert entry.configuration == "listener" and entry.configuration_id > 0
    sim.run(until=timedelta(hours=25))
    (entry,) = sim.failure_log("listener")
    assert (entry.created, entry.last_try, entry.retry_count) == (VIEW, VIEW + D, 1)
    result = sim.run()
    assert result.failure_log("listener") == []  # delivered at 48h: out of the log


def test_a_given_up_message_stays_in_the_failure_log_with_no_retry_due() -> None:
    for mode in ("sim", "aggregate"):
        sim, _ = seed_example(mode, Scripted([500]), require_acknowledgement=False)
        result = sim.run()
        (entry,) = result.failure_log("listener")
        assert entry.sequence == 1 and not entry.retry_due, mode
        assert "acknowledgement is off" in entry.error
        assert [f.message.sequence for f in result.failures("listener")] == [1]


def test_failure_ids_are_guids_stable_across_runs_and_distinct() -> None:
    def ids() -> list[str]:
        sim, _ = seed_example("aggregate", Scripted([500, 500]), aggregation_window="0s")
        return [entry.failure_id for entry in sim.run(until=HOUR).failure_log("listener")]

    first = ids()
    assert first == ids() and len(set(first)) == len(first) == 2
    assert all(len(failure) == 36 and failure[14] == "4" for failure in first)


def test_aggregate_logs_each_failed_message_and_a_success_takes_it_out() -> None:
    # Aggregate: the first message (sent) fails; the next one, a day later, succeeds and
    # releases it; its retry succeeds.
    sim = cs.Simulation(mode="aggregate", seed=1)
    sim.add_configuration(cs.Configuration(name="c"), listener=Scripted([503]))
    env = sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com", recipient_id="sue")])
    sim.send(env, at=timedelta(0))
    sim.view(env, "sue", at=2 * DAY)
    sim.run(until=DAY)
    assert [e.sequence for e in sim.failure_log("c")] == [1]
    assert sim.run().failure_log("c") == []


# -- delete_failure --------------------------------------------------------------------


def test_deleting_a_sim_head_waiting_for_its_retry_lets_the_queue_move_on_at_once() -> None:
    sim, env = seed_example("sim", Outage(windows=[(MIN, 30 * HOUR)], status=503))
    sim.delete_failure("listener", env, at=HOUR)
    result = sim.run()
    assert outcomes(result) == [
        (0, 1, "delivered"), (0, 2, "delivered"), (VIEW, 3, "retry"),
        # Deleted at 1h: 4, 5 and 6 are attempted at once, inside the outage.
        (HOUR // timedelta(milliseconds=1), 4, "retry"),
        (HOUR // timedelta(milliseconds=1) + D, 4, "retry"),
        (HOUR // timedelta(milliseconds=1) + 2 * D, 4, "delivered"),
        (HOUR // timedelta(milliseconds=1) + 2 * D, 5, "delivered"),
        (HOUR // timedelta(milliseconds=1) + 2 * D, 6, "delivered"),
    ]  # fmt: skip
    (failure,) = result.failures("listener")
    assert failure.message.sequence == 3 and failure.reason == "deleted by the administrator"
    assert result.summary()["listener"]["failed"] == 1
    assert result.summary()["listener"]["delivered"] == 5
    sim.check()  # the deleted head's stale retry timer changed nothing


def test_a_deleted_message_is_never_retried_under_aggregate() -> None:
    sim = cs.Simulation(mode="aggregate", seed=1)
    sim.add_configuration(cs.Configuration(name="c"), listener=Scripted([503]))
    env = sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com", recipient_id="sue")])
    sim.send(env, at=timedelta(0))
    sim.delete_failure("c", env, at=HOUR)
    sim.view(env, "sue", at=2 * DAY)  # a success that would have released it
    result = sim.run()
    assert [(a.sequence, a.outcome) for a in result.attempts] == [(1, "retry"), (2, "delivered")]
    assert [f.reason for f in result.failures("c")] == ["deleted by the administrator"]
    assert result.failure_log("c") == []


def test_delete_failure_by_id_and_all_and_the_trace_line() -> None:
    sim, _ = seed_example("aggregate", Scripted([500, 500]), aggregation_window="0s")
    sim.run(until=HOUR)
    first, second = sim.failure_log("listener")
    sim.delete_failure(failure_id=second.failure_id, at=2 * HOUR)
    sim.run(until=3 * HOUR)
    assert [e.sequence for e in sim.failure_log("listener")] == [first.sequence]
    sim.delete_failure(all=True, at=4 * HOUR)
    sim.delete_failure(all=True, at=5 * HOUR)  # nothing left: never an error with all
    result = sim.run()
    assert result.failure_log("listener") == []
    lines = [r for r in trace_records(result) if "action" in r]
    assert lines == [
        {"time": "2026-01-01T02:00:00.000Z", "action": "delete_failure", "configuration": None,
         "envelope_id": None, "failure_id": second.failure_id, "all": False,
         "deleted": [second.sequence]},
        {"time": "2026-01-01T04:00:00.000Z", "action": "delete_failure", "configuration": None,
         "envelope_id": None, "failure_id": None, "all": True, "deleted": [first.sequence]},
        {"time": "2026-01-01T05:00:00.000Z", "action": "delete_failure", "configuration": None,
         "envelope_id": None, "failure_id": None, "all": True, "deleted": []},
    ]  # fmt: skip


def test_deleting_nothing_is_an_error_naming_the_action_the_instant_and_the_problem() -> None:
    sim, env = seed_example("sim")
    sim.delete_failure("listener", env, at=HOUR, source="shop.toml: action 4")
    with pytest.raises(InvalidOperation) as caught:
        sim.run()
    assert str(caught.value) == (
        "shop.toml: action 4: delete_failure of 'listener' at 1h: the failure log of "
        "'listener' holds no failure of envelope 'e1'"
    )
    with pytest.raises(InvalidOperation):  # unrun: running again meets it again
        sim.run()
    sim, _ = seed_example("sim")
    sim.delete_failure(failure_id="not-an-id", at=HOUR)
    with pytest.raises(InvalidOperation, match="no failure-log entry has the id 'not-an-id'"):
        sim.run()


def test_a_failure_whose_retry_is_in_flight_is_not_deleted() -> None:
    # Every answer takes 30 seconds: message 3 is attempted at 2m and fails at 2m30s, its
    # retry starts at 24h2m30s; a delete at 24h2m45s finds it in flight.
    sim, env = seed_example("sim", Scripted([200, 200, 503, 200], latency="30s"))
    sim.delete_failure("listener", env, at=timedelta(hours=24, minutes=2, seconds=45))
    sim.run(until=timedelta(hours=24, minutes=2, seconds=40))
    (entry,) = sim.failure_log("listener")
    assert entry.in_flight and entry.retry_due  # what a script checks before it acts
    with pytest.raises(InvalidOperation, match="being retried right now"):
        sim.run()


def test_the_shipped_administrator_leaves_a_failure_in_flight_alone() -> None:
    # The strategies' administrator republishes what the failure logs hold at its instant;
    # at 24h2m45s message 3's retry is in flight, so there is nothing it may take.
    from connect_sim.testing.plans import AdminStep, _administrator

    sim, _ = seed_example("sim", Scripted([200, 200, 503, 200], latency="30s"))
    at = timedelta(hours=24, minutes=2, seconds=45)
    sim.feed(_administrator(sim, ["listener"], [AdminStep(at, "republish")]))
    result = sim.run()  # no InvalidOperation
    assert result.republishes() == [] and result.summary()["listener"]["delivered"] == 6


def test_delete_failure_checks_its_arguments_when_given() -> None:
    sim, env = seed_example("sim")
    for call, problem in [
        (lambda: sim.delete_failure("nope", env, at=HOUR), "no configuration named 'nope'"),
        (lambda: sim.delete_failure("listener", "e9", at=HOUR), "no envelope with id 'e9'"),
        (lambda: sim.delete_failure("listener", at=HOUR), "name a configuration and an envelope"),
        (lambda: sim.delete_failure(env, at=HOUR), "no configuration named"),  # type: ignore[arg-type]
        (lambda: sim.delete_failure(all=True, failure_id="x", at=HOUR), "name no envelope"),
        (lambda: sim.delete_failure("listener", failure_id="x", at=HOUR), "names one entry"),
        (lambda: sim.delete_failure(failure_id="", at=HOUR), "failure_id must be text"),
        (lambda: sim.delete_failure(all="yes", at=HOUR), "all must be true or false"),  # type: ignore[arg-type]
    ]:
        with pytest.raises(cs.ConfigurationError, match=problem):
            call()
    assert len(sim.scheduler) == 4  # nothing was put on the timeline: only the example's


# -- pause and resume ------------------------------------------------------------------


def test_sim_a_paused_configuration_skips_and_waits_as_after_a_failure() -> None:
    sim, _ = seed_example("sim")
    sim.pause("listener", at=MIN)
    sim.resume("listener", at=HOUR)
    result = sim.run()
    assert outcomes(result) == [
        (0, 1, "delivered"), (0, 2, "delivered"),
        (VIEW, 3, "skipped"),  # due again a day after the skip; 4 to 6 wait behind it
        (VIEW + D, 3, "delivered"), (VIEW + D, 4, "delivered"),
        (VIEW + D, 5, "delivered"), (VIEW + D, 6, "delivered"),
    ]  # fmt: skip
    (skip,) = result.skips("listener")
    assert (skip.time, skip.number, skip.retry_count, skip.message.sequence) == (VIEW, 1, 0, 3)
    assert skip.snapshot is skip.message.events[0].snapshot  # what the attempt would carry
    assert result.summary()["listener"]["skipped"] == 1
    assert result.summary()["listener"]["attempts"] == 6
    assert result.failure_log("listener") == []  # a message only skipped is not in it


def test_a_skip_never_counts_towards_the_retry_limit() -> None:
    # Paused for 20 days: the head is skipped 20 times, then delivered by its first attempt.
    sim, _ = seed_example("sim", max_retries=2)
    sim.pause("listener", at=MIN)
    sim.resume("listener", at=20 * DAY)
    result = sim.run()
    tries = [a for a in result.attempts if a.sequence == 3]
    assert [(a.number, a.outcome) for a in tries] == [(1, "delivered")]
    assert len(result.skips("listener")) == 20 and result.failures("listener") == []


def test_a_configuration_paused_for_good_ends_the_run_with_its_messages_pending() -> None:
    # Skips would come round daily until the horizon: nothing but them is left, so the run
    # stops; run(until=...) plays them out, and resuming later picks the retry clock up.
    sim, _ = seed_example("sim")
    sim.pause("listener", at=MIN)
    result = sim.run()
    assert sim.now == VIEW + 20_000  # Sue's signing, the last action: skips after it idle
    assert [m.sequence for m in result.pending("listener")] == [3, 4, 5, 6]
    assert len(result.skips("listener")) == 1
    assert not sim.step()
    sim.run(until=3 * DAY)
    assert [s.time for s in result.skips("listener")] == [VIEW, VIEW + D, VIEW + 2 * D]
    sim.resume("listener", at=3 * DAY)
    result = sim.run()
    assert outcomes(result)[-4:] == [(VIEW + 3 * D, n, "delivered") for n in (3, 4, 5, 6)]


def test_a_retry_due_while_paused_is_skipped_and_due_again_a_retry_interval_later() -> None:
    # Message 3 fails at 2m (retry due at 1d2m); paused from 1h to 1d1h.
    sim, _ = seed_example("sim", Scripted([200, 200, 503]))
    sim.pause("listener", at=HOUR)
    sim.resume("listener", at=DAY + HOUR)
    assert outcomes(sim.run())[2:5] == [
        (VIEW, 3, "retry"), (VIEW + D, 3, "skipped"), (VIEW + 2 * D, 3, "delivered"),
    ]  # fmt: skip


def test_resuming_sends_nothing_by_itself() -> None:
    sim, _ = seed_example("sim")
    sim.pause("listener", at=MIN)
    sim.resume("listener", at=HOUR)
    result = sim.run(until=2 * HOUR)
    assert [a.sequence for a in result.attempts] == [1, 2]  # 3 waits for its day


def test_a_pause_later_at_the_same_instant_turns_that_instants_deliveries_into_skips() -> None:
    # The send at 0 and a pause at 0 given after it: the deliveries come after the actions.
    sim, _ = seed_example("sim")
    sim.pause("listener", at=timedelta(0))
    result = sim.run(until=HOUR)
    assert outcomes(result) == [(0, 1, "skipped")]
    lines = trace_records(result)
    assert lines[0] == {"time": "2026-01-01T00:00:00.000Z", "action": "pause",
                        "configuration": "listener"}  # fmt: skip
    assert lines[1]["outcome"] == "skipped" and lines[1]["status"] is None
    assert lines[1]["body"] is None and lines[1]["headers"] is None
    assert lines[1]["attempt"] == 1 and lines[1]["retry_count"] == 0


def test_an_administrative_action_defers_only_its_own_instant() -> None:
    # Held messages are attempted once the instant's actions are done, in creation order,
    # and give the same attempts as attempting at once does.
    plain, _ = seed_example("sim")
    held, _ = seed_example("sim")
    held.delete_failure(all=True, at=timedelta(0))
    held.delete_failure(all=True, at=VIEW * timedelta(milliseconds=1))
    want = [(a.time, a.sequence, a.status) for a in plain.run().attempts]
    assert [(a.time, a.sequence, a.status) for a in held.run().attempts] == want


def test_aggregate_a_skipped_message_waits_for_a_success_a_day_after_the_skip() -> None:
    sim = cs.Simulation(mode="aggregate", seed=1)
    sim.add_configuration(cs.Configuration(name="c"))
    env = sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com", recipient_id="sue")])
    sim.send(env, at=timedelta(0))
    sim.pause("c", at=timedelta(0))
    sim.resume("c", at=HOUR)
    sim.view(env, "sue", at=2 * HOUR)  # succeeds, but only 2h after the skip: no release
    sim.sign(env, "sue", at=DAY + HOUR)  # 25h after the skip: releases message 1
    result = sim.run()
    window = 60_000  # messages fall due a minute after their first event
    assert outcomes(result) == [
        (window, 1, "skipped"), (2 * 3_600_000 + window, 2, "delivered"),
        (D + 3_600_000 + window, 3, "delivered"), (D + 3_600_000 + window, 1, "delivered"),
    ]  # fmt: skip
    first, second, _ = result.messages("c")
    assert first.merged_events == ("recipient-sent", "envelope-sent")
    assert second.merged_events == ("recipient-delivered", "envelope-delivered")  # 1 was closed
    assert result.summary()["c"] == {
        "mode": "aggregate", "generated": 3, "delivered": 3, "failed": 0, "republished": 0,
        "pending": 0, "attempts": 3, "skipped": 1, "disabled": 0,
    }  # fmt: skip


def test_pausing_twice_or_resuming_an_unpaused_configuration_is_an_error() -> None:
    for mode in ("sim", "aggregate"):
        sim, _ = seed_example(mode)
        sim.pause("listener", at=MIN)
        sim.pause("listener", at=HOUR)
        with pytest.raises(
            InvalidOperation, match=r"pause of 'listener' at 1h: .* paused already"
        ):
            sim.run()
        assert sim.now == HOUR // timedelta(milliseconds=1)
        sim, _ = seed_example(mode)
        sim.resume("listener", at=HOUR)
        with pytest.raises(InvalidOperation, match=r"resume of 'listener' at 1h: .* not paused"):
            sim.run()
    with pytest.raises(cs.ConfigurationError, match="no configuration named 'other'"):
        sim.pause("other", at=HOUR)


def test_the_invariants_hold_after_every_step_through_pauses_and_deletes() -> None:
    for mode in ("sim", "aggregate"):
        sim, _ = seed_example(mode, Scripted([503, 503, 200, 503]))
        sim.pause("listener", at=MIN)
        sim.resume("listener", at=2 * DAY)
        sim.delete_failure(all=True, at=3 * DAY)
        while sim.step():
            sim.check()
        summary = sim.run().summary()["listener"]
        assert (
            summary["delivered"] + summary["failed"] + summary["pending"] == summary["generated"]
        )


# -- scenario files and the command line -------------------------------------------------

SCENARIO = """
[simulation]
seed = 3

[[configuration]]
name = "listener"
listener = { kind = "scripted", responses = [200, 200, 503] }

[[envelope]]
id = "e1"
subject = "Hello"
recipients = [{ id = "sue", type = "signer", name = "Sue", email = "sue@example.com" }]

[[action]]
at = "0s"
envelope = "e1"
do = "send"

[[action]]
at = "1m"
envelope = "e1"
recipient = "sue"
do = "view"
"""


def test_a_scenario_file_pauses_resumes_and_deletes_failures() -> None:
    from connect_sim.scenario import parse_scenario

    text = (
        SCENARIO
        + """
[[action]]
at = "1h"
do = "delete_failure"
configuration = "listener"
envelope = "e1"

[[action]]
at = "2h"
do = "pause"
configuration = "listener"

[[action]]
at = "3h"
do = "resume"
configuration = "listener"

[[action]]
at = "4h"
do = "delete_failure"
all = true
"""
    )
    result = parse_scenario(text, "ops.toml").build().run()
    actions = [
        (r["action"], r.get("configuration")) for r in trace_records(result) if "action" in r
    ]
    assert actions == [("delete_failure", "listener"), ("pause", "listener"),
                       ("resume", "listener"), ("delete_failure", None)]  # fmt: skip
    assert [f.reason for f in result.failures("listener")] == ["deleted by the administrator"]


@pytest.mark.parametrize(
    ("action", "problem"),
    [
        ('do = "pause"\nconfiguration = "nope"',
         "ops.toml: action 3: no configuration named 'nope' (configurations: 'listener')"),
        ('do = "pause"', "ops.toml: action 3: missing key 'configuration'"),
        ('do = "pause"\nconfiguration = "listener"\nenvelope = "e1"',
         "ops.toml: action 3: pause takes 'configuration', not 'envelope'"),
        ('do = "delete_failure"\nall = "yes"', "ops.toml: action 3: all must be true or false"),
        ('do = "delete_failure"\nconfiguration = "listener"',
         "ops.toml: action 3: delete_failure: name a configuration and an envelope"),
        ('do = "send"\nenvelope = "e1"\nconfiguration = "listener"',
         "ops.toml: action 3: 'configuration' is for administrative actions, not 'send'"),
    ],
)  # fmt: skip
def test_a_scenario_files_administrative_actions_are_checked(action: str, problem: str) -> None:
    from connect_sim.scenario import parse_scenario

    text = SCENARIO + f'\n[[action]]\nat = "1h"\n{action}\n'
    with pytest.raises(cs.ScenarioError) as caught:
        parse_scenario(text, "ops.toml").build()
    assert str(caught.value).startswith(problem)


def test_the_cli_reports_a_refused_operation_in_one_line(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from connect_sim.cli import main

    path = tmp_path / "ops.toml"
    path.write_text(
        SCENARIO + '\n[[action]]\nat = "1h"\ndo = "resume"\nconfiguration = "listener"\n'
    )
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"error: {path}: action 3: resume of 'listener' at 1h: the configuration is not paused\n"
    )


# -- properties over generated scenarios ------------------------------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from scenarios import DAY as DAY_MS  # noqa: E402
from scenarios import Plan, plans  # noqa: E402

INSTANTS = st.lists(st.integers(0, 14 * DAY_MS), max_size=4, unique=True).map(sorted)


def _operate(
    sim: cs.Simulation, data: st.DataObject
) -> tuple[dict[str, list[tuple[int, int]]], str]:
    """Pauses, resumes, deletes, switches and republishes at drawn instants.

    Returns each configuration's paused spans and what the republishes carry.
    """
    spans: dict[str, list[tuple[int, int]]] = {}
    for channel in sim._channels:
        toggles = data.draw(INSTANTS, label=f"pauses and resumes of {channel.name}")
        spans[channel.name] = []
        for n, time in enumerate(toggles):
            at = timedelta(milliseconds=time)
            if n % 2 == 0:
                sim.pause(channel.name, at=at)
            else:
                sim.resume(channel.name, at=at)
                spans[channel.name].append((toggles[n - 1], time))
        if len(toggles) % 2:
            spans[channel.name].append((toggles[-1], 2**62))
        for time in data.draw(INSTANTS, label=f"deletes of {channel.name}")[:2]:
            sim.delete_failure(channel.name, all=True, at=timedelta(milliseconds=time))
    switches = data.draw(INSTANTS, label="mode switches")[:2]
    for n, time in enumerate(switches):
        other = "aggregate" if (sim.mode == "sim") == (n % 2 == 0) else "sim"
        sim.set_mode(other, at=timedelta(milliseconds=time))
    # An administrator who looks at the failure logs now and then and republishes what is there.
    looks = data.draw(INSTANTS, label="republishes")
    synchronous = data.draw(st.booleans(), label="synchronous")
    content = data.draw(st.sampled_from(["current", "original"]), label="content")

    def administrator() -> Iterator[timedelta]:
        for time in looks:
            at = timedelta(milliseconds=time)
            yield at
            entries = [e for c in sim._channels for e in sim.failure_log(c.name)]
            # Not an envelope whose every entry is in flight: that is refused.
            free = {e.envelope_id for e in entries if not e.in_flight}
            held = [e.envelope_id for e in entries
                    if (e.retry_due or not synchronous) and e.envelope_id in free]  # fmt: skip
            if held:
                sim.republish(sorted(set(held)), at=at, synchronous=synchronous, content=content)

    sim.feed(administrator())
    return spans, content


@given(st.data())
def test_nothing_is_lost_and_nothing_is_attempted_while_paused(data: st.DataObject) -> None:
    plan: Plan = data.draw(plans())
    disable = data.draw(st.sampled_from([None, None, "12h", "1d", "3d", "20d"]), label="disable")
    plan.configurations = [(attrs.evolve(c, disable_after=disable), listener, scope)
                           for c, listener, scope in plan.configurations]  # fmt: skip
    for mode in ("sim", "aggregate"):
        sim = plan.build(mode)
        spans, content = _operate(sim, data)
        while sim.step():
            sim.check()  # every invariant, after every step
        result = sim.run()
        for name in result.configurations:
            counts = result.summary()[name]
            ended = counts["delivered"] + counts["failed"] + counts["republished"]
            assert ended + counts["pending"] == counts["generated"], (mode, name, counts)
            for attempt in result.attempts:
                if attempt.configuration == name:
                    assert not any(a <= attempt.time < b for a, b in spans[name]), (
                        f"{attempt!r} made while {name!r} was paused"
                    )
            channel = result.channel(name)
            # No attempt once it is disabled (nothing enables it here), in the trace's order:
            # an attempt at the same instant, before the disable, was made while it was not.
            disabled = False
            for record in trace_records(result):
                if record.get("action") == "disable" and record["configuration"] == name:
                    disabled = True
                elif disabled and "outcome" in record and record["configuration"] == name:
                    raise AssertionError(f"{name!r} attempted while disabled: {record}")
            for failure in result.failures(name):
                if "retries exhausted" in failure.reason:  # skips never count towards it
                    assert failure.message.attempts == channel.max_retries + 1, failure
            for queue in result.queues(name):  # each SIM queue in order, through a switch
                if queue.mode == "sim":
                    delivered = [a.sequence for a in queue.delivered
                                 if a.sequence - 1 not in queue.outside]  # fmt: skip
                    assert delivered == sorted(delivered), "SIM delivered out of creation order"
            for message in result.messages(name):
                if message.republished:  # the same content on every attempt, in either mode
                    tries = {(a.position, a.generated) for a in result.attempts
                             if a.message == message and not a.duplicate}  # fmt: skip
                    assert len(tries) <= 1, f"{message!r} carried {tries}"
                    if content == "current":
                        assert_carries_the_state_at_the_republish(result, message)


def assert_carries_the_state_at_the_republish(result: cs.Result, message: cs.Message) -> None:
    """A republished message (content current) carries its envelope's state at the republish:
    every event of the envelope before it happened no later, every one after it no earlier,
    its event is ``envelope-<that status>``, and its body says so."""
    when, position = message.generated, message.position
    for event in result.events:
        if event.history is message.history:
            if event.position <= position:
                assert event.time <= when, f"{message!r} misses {event!r}, before it"
            else:
                assert event.time >= when, f"{message!r} carries {event!r}, after it"
    status = message.snapshot.status
    assert message.event == f"envelope-{status}", message
    tried = [a for a in result.attempts if a.message == message]
    if tried:
        parsed = cs.parse_message(tried[0].body, tried[0].content_type)
        assert parsed.event == (message.event if parsed.format == "json" else None), parsed
        assert parsed.status in (status, None), parsed  # None: a JSON body without a summary
        assert parsed.recipient_id is None, parsed


@given(st.data())
def test_holding_an_instants_deliveries_changes_no_attempt(data: st.DataObject) -> None:
    # A pause and a resume at the same instant change nothing but the instant's phases:
    # the deliveries held for after its actions are the ones made at once without them.
    plan: Plan = data.draw(plans())
    instants = data.draw(st.lists(st.sampled_from([t for t, *_ in plan.actions]), max_size=3))
    for mode in ("sim", "aggregate"):
        plain, held = plan.build(mode), plan.build(mode)
        for time in sorted(set(instants)):
            for channel in held._channels:
                held.pause(channel.name, at=timedelta(milliseconds=time))
                held.resume(channel.name, at=timedelta(milliseconds=time))

        def seen(sim: cs.Simulation) -> list[object]:
            result = sim.run()
            return [(a.time, a.end, a.sequence, a.number, a.status, a.outcome, a.position,
                     a.generated) for a in result.attempts]  # fmt: skip

        assert seen(held) == seen(plain)


def test_the_failures_command_lists_the_log_at_an_instant(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from connect_sim.cli import main

    path = tmp_path / "ops.toml"
    path.write_text(SCENARIO)  # message 3 (Sue's view at 1m) is answered 503: a retry a day on
    assert main(["failures", str(path), "--at", "1h"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Failure log of 'listener' at 2026-01-01T01:00:00.000Z: 1 entry"
    assert lines[1].split() == ["failure", "id", "#", "envelope", "status", "created", "last",
                                "try", "retries", "retry", "due", "error"]  # fmt: skip
    cells = lines[3].split()
    entry = parse_scenario_log(SCENARIO, until=HOUR)
    assert cells[:9] == [entry.failure_id, "3", "e1", "Sent", "2026-01-01T00:01:00.000Z",
                         "2026-01-01T00:01:00.000Z", "0", "yes", "HTTP"]  # fmt: skip
    assert main(["failures", str(path), "--at", "2026-01-03T00:00:00Z"]) == 0
    assert capsys.readouterr().out == (
        "Failure log of 'listener' at 2026-01-03T00:00:00.000Z: 0 entries\n"
    )
    for bad, problem in [
        ("soon", "--at: expected an offset like '1d2h' or an ISO time"),
        ("2025-12-31T00:00:00Z", "--at: 2025-12-31T00:00:00Z is before the scenario's start"),
    ]:
        assert main(["failures", str(path), "--at", bad]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {problem}") and err.count("\n") == 1


def parse_scenario_log(text: str, until: timedelta) -> LogEntry:
    from connect_sim.scenario import parse_scenario

    sim = parse_scenario(text).build()
    (entry,) = sim.run(until=until).failure_log("listener")
    return entry


# -- republish ----------------------------------------------------------------------------


def two_envelopes(
    mode: str, listener: object, **config: object
) -> tuple[cs.Simulation, cs.Envelope, cs.Envelope]:
    """e1 sent at 0 and signed at 1m; e2 sent at 2m; one configuration ``c``."""
    sim = cs.Simulation(mode=mode, seed=5)
    sim.add_configuration(cs.Configuration(name="c", **config), listener=listener)  # type: ignore[arg-type]
    made = []
    for n, sent in ((1, 0), (2, 2 * 60_000)):
        env = sim.create_envelope(
            f"Envelope {n}", [cs.Signer("Sue", "sue@example.com", recipient_id="sue")], id=f"e{n}"
        )
        sim.send(env, at=timedelta(milliseconds=sent))
        made.append(env)
    sim.sign(made[0], "sue", at=MIN)
    return sim, made[0], made[1]


def test_sim_a_republish_withdraws_the_blocked_head_and_queues_the_current_state() -> None:
    # Down from 30s to 30h: e1's signing at 1m fails (message 3) and blocks the rest; a
    # republish of e1 at 2h withdraws 3 and queues one envelope-completed message for e1.
    sim, e1, _ = two_envelopes("sim", Outage(windows=[(timedelta(seconds=30), 30 * HOUR)]))
    sim.republish(e1, at=2 * HOUR)
    result = sim.run(until=3 * HOUR)
    h2 = 2 * 3_600_000
    # The queue moves on at once, inside the outage: 4 (e1's envelope-completed) fails first.
    assert outcomes(result)[2:4] == [
        (MIN // timedelta(milliseconds=1), 3, "retry"),
        (h2, 4, "retry"),
    ]
    messages = result.messages("c")
    assert messages[2].state == "republished"
    new = messages[-1]
    assert new.republished and new.event == "envelope-completed" and new.recipient is None
    assert new.merged_events == ("envelope-completed",)
    assert (new.snapshot.status, new.generated) == ("completed", h2)
    (done,) = result.republishes()
    assert (done.time, done.envelope_id, done.configuration, done.status, done.withdrawn) == (
        h2, "e1", "c", "Queued", (3,),
    )  # fmt: skip
    result = sim.run()
    tries = [a for a in result.attempts if a.message == new]
    assert tries[-1].outcome == "delivered" and tries[-1].retry_count == len(tries) - 1
    assert all(a.snapshot.status == "completed" and a.generated == h2 for a in tries)
    assert result.summary()["c"]["republished"] == 1
    line = next(r for r in trace_records(result) if r.get("action") == "republish")
    assert line == {"time": "2026-01-01T02:00:00.000Z", "action": "republish",
                    "envelope_id": "e1", "synchronous": False, "content": "current",
                    "results": {"c": "Queued"}, "withdrawn": [3]}  # fmt: skip
    sim.check()


def test_content_original_re_sends_the_failed_messages_own_event_and_snapshot() -> None:
    sim, e1, _ = two_envelopes("sim", Scripted([200, 200, 503]))
    sim.republish(e1, at=HOUR, content="original")
    result = sim.run()
    failed, new = result.messages("c")[2], result.messages("c")[-1]
    assert failed.state == "republished" and new.event == failed.event == "recipient-delivered"
    assert new.recipient is None and new.generated == failed.generated == 60_000
    assert new.snapshot is failed.snapshot
    assert [a.status for a in result.attempts if a.message == new] == [200]


def test_a_synchronous_republish_attempts_once_outside_the_queue() -> None:
    # e1's signing fails at 1m and the queue stays down; a synchronous republish of e1 at
    # 1h succeeds at once, while e2's messages still wait behind the blocked head... which
    # the republish withdrew: the queue moves on too.
    sim, e1, _ = two_envelopes("sim", Scripted([200, 200, 503]))
    sim.republish(e1, at=HOUR, synchronous=True)
    result = sim.run()
    (done,) = result.republishes()
    assert done.status == "Success"
    h1 = 3_600_000
    new = result.messages("c")[-1]
    assert [(a.time, a.status) for a in result.attempts if a.message == new] == [(h1, 200)]
    sim.check()  # delivered outside the queue: not held to the queue's order


def test_a_failed_synchronous_republish_is_given_up_and_never_retried() -> None:
    # e1's message fails (SIM: its signing, after two successes; Aggregate: its first), and
    # so does the synchronous republish's one attempt.
    for mode, answers in (("sim", [200, 200] + [503] * 6), ("aggregate", [503] * 8)):
        sim, e1, _ = two_envelopes(mode, Scripted(answers), aggregation_window="0s")
        sim.republish(e1, at=HOUR, synchronous=True)
        result = sim.run(until=2 * HOUR)
        (done,) = result.republishes()
        assert done.status == "Fail", mode
        new = result.messages("c")[-1]
        assert new.republished and new.state == "failed" and new.attempts == 1
        assert any(e.sequence == new.sequence and not e.retry_due
                   for e in result.failure_log("c"))  # fmt: skip
        sim.run()
        assert new.attempts == 1, "a failed synchronous republish was retried"


def test_a_synchronous_republish_to_a_paused_configuration_fails_without_an_attempt() -> None:
    sim, e1, _ = two_envelopes("sim", Scripted([200, 200, 503]))
    sim.pause("c", at=30 * MIN)
    sim.republish(e1, at=HOUR, synchronous=True)
    result = sim.run(until=2 * HOUR)
    assert [r.status for r in result.republishes()] == ["Fail"]
    assert result.messages("c")[-1].attempts == 0


def test_aggregate_a_republished_message_is_due_at_once_and_merges_with_nothing() -> None:
    sim, e1, _ = two_envelopes("aggregate", Scripted([503]), aggregation_window="1m")
    # Message 1 (e1 sent) fails; message 2 (e1 signed, due at 2m) succeeds too soon to
    # release it; the republish at 1h withdraws 1 and sends e1 as it is now, at once.
    sim.republish(e1, at=HOUR)
    result = sim.run()
    new = next(m for m in result.messages("c") if m.republished)
    first = next(a for a in result.attempts if a.message == new)
    assert first.time == 3_600_000 and first.ok  # due at once: no aggregation window
    assert new.merged_events == ("envelope-completed",) and new.snapshot.status == "completed"
    assert all(a.generated == 3_600_000 for a in result.attempts if a.message == new)


def test_a_republish_goes_to_every_configuration_whose_log_holds_the_envelope_only() -> None:
    sim = cs.Simulation(seed=2)
    sim.add_configuration(cs.Configuration(name="down", events=["envelope-sent"]),
                          listener=Scripted([503]))  # fmt: skip
    sim.add_configuration(cs.Configuration(name="up"))
    env = sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com", recipient_id="sue")])
    sim.send(env, at=timedelta(0))
    sim.sign(env, "sue", at=MIN)
    sim.republish(env, at=HOUR)
    result = sim.run()
    assert [(r.configuration, r.status) for r in result.republishes()] == [("down", "Queued")]
    new = result.messages("down")[-1]
    # envelope-completed, though "down" subscribes to envelope-sent only: the admin asked.
    assert new.event == "envelope-completed" and new.state == "delivered"
    assert not any(m.republished for m in result.messages("up"))


def test_republishing_an_envelope_no_failure_log_holds_is_an_error() -> None:
    sim, e1, e2 = two_envelopes("sim", Scripted([200, 200, 503]))
    sim.republish([e1, e2], at=HOUR, source="ops.toml: action 7")
    with pytest.raises(InvalidOperation) as caught:
        sim.run()
    assert str(caught.value) == (
        "ops.toml: action 7: republish at 1h: no failure log holds envelope 'e2'"
    )
    assert sim.failure_log("c")[0].sequence == 3  # nothing withdrawn: e1's failure is there
    for call, problem in [
        (lambda: sim.republish([], at=HOUR), "name at least one envelope"),
        (lambda: sim.republish("e9", at=HOUR), "no envelope with id 'e9'"),
        (lambda: sim.republish(e1, at=HOUR, content="newest"), "content must be one of"),
        (lambda: sim.republish(e1, at=HOUR, synchronous="yes"), "synchronous must be"),  # type: ignore[arg-type]
    ]:
        with pytest.raises(cs.ConfigurationError, match=problem):
            call()


def test_a_scenario_file_republishes() -> None:
    from connect_sim.scenario import parse_scenario

    text = (
        SCENARIO
        + """
[[action]]
at = "2h"
do = "republish"
envelope = "e1"
synchronous = true
content = "original"
"""
    )
    result = parse_scenario(text, "ops.toml").build().run()
    (done,) = result.republishes()
    assert (done.envelope_id, done.status, done.withdrawn) == ("e1", "Success", (3,))
    bad = (
        SCENARIO + '\n[[action]]\nat = "2h"\ndo = "republish"\nenvelope = "e1"\nsynchronous = 1\n'
    )
    with pytest.raises(cs.ScenarioError, match="action 3: synchronous must be true or false"):
        parse_scenario(bad, "ops.toml").build()
    several = SCENARIO + '\n[[action]]\nat = "2h"\ndo = "republish"\nenvelope = ["e1"]\n'
    (done,) = parse_scenario(several, "ops.toml").build().run().republishes()
    assert (done.envelope_id, done.status) == ("e1", "Queued")  # a list of envelopes works
    for bad_list in ("[]", "[1]", '[""]'):
        wrong = several.replace('envelope = ["e1"]', f"envelope = {bad_list}")
        with pytest.raises(cs.ScenarioError, match="action 3: envelope must be"):
            parse_scenario(wrong, "ops.toml").build()


@pytest.mark.parametrize(
    "table",
    ['do = "Pause"\nconfiguration = "listener"', 'do = "frobnicate"'],
)
def test_an_unknown_do_names_every_action_whatever_the_other_keys(table: str) -> None:
    from connect_sim.scenario import parse_scenario

    text = SCENARIO + f'\n[[action]]\nat = "2h"\n{table}\n'
    with pytest.raises(cs.ScenarioError) as caught:
        parse_scenario(text, "ops.toml").build()
    message = str(caught.value)
    assert message.startswith("ops.toml: action 3: unknown action ")
    assert "send, view," in message and "pause, resume, enable, delete_failure" in message


def test_the_maintenance_window_example_gives_what_its_walk_through_says() -> None:
    from pathlib import Path

    from connect_sim.scenario import load_scenario

    path = Path(__file__).resolve().parent.parent / "examples" / "maintenance_window.toml"
    result = load_scenario(path).build().run()
    h = 3_600_000
    rows = [(r["time"][8:16], r["sequence"], r["event"], r["outcome"])
            for r in trace_records(result) if "outcome" in r]  # fmt: skip
    assert rows == [
        ("02T17:00", 1, "recipient-sent", "delivered"),
        ("02T17:00", 2, "envelope-sent", "delivered"),
        ("02T18:30", 3, "recipient-delivered", "retry"),
        ("03T09:00", 4, "envelope-delivered", "delivered"),
        ("03T09:00", 5, "recipient-completed", "delivered"),
        ("03T09:00", 6, "envelope-completed", "delivered"),
        ("03T09:00", 7, "recipient-sent", "delivered"),
        ("03T09:00", 8, "envelope-sent", "delivered"),
        ("03T09:00", 9, "envelope-completed", "delivered"),
        ("03T12:10", 10, "recipient-sent", "skipped"),
        ("04T12:10", 10, "recipient-sent", "delivered"),
        ("04T12:10", 11, "envelope-sent", "delivered"),
    ]
    assert result.messages("orders")[8].republished
    assert result.summary()["orders"] == {
        "mode": "sim", "generated": 11, "delivered": 10, "failed": 0, "republished": 1,
        "pending": 0, "attempts": 11, "skipped": 1, "disabled": 0,
    }  # fmt: skip
    sim = load_scenario(path).build()
    (entry,) = sim.run(until=timedelta(hours=32, minutes=30)).failure_log("orders")
    assert (entry.sequence, entry.created, entry.retry_due) == (3, 18 * h + 30 * 60_000, True)


# -- auto-disable and enable --------------------------------------------------------------


def test_sim_a_configuration_failing_for_disable_after_is_disabled_and_gives_up_everything() -> (
    None
):
    # Down from 1m for good: message 3 fails at 2m; three days later, still failing, the
    # configuration is disabled: 3 to 6 are given up, and nothing is attempted again.
    sim, _ = seed_example("sim", Outage(windows=[(MIN, 400 * DAY)]), disable_after="3d")
    later = sim.create_envelope("Later", [cs.Signer("Ann", "ann@example.com")], id="e2",
                                at=5 * DAY)  # fmt: skip
    sim.send(later, at=5 * DAY)
    result = sim.run()
    disabled_at = VIEW + 3 * D
    assert max(a.time for a in result.attempts) == VIEW + 3 * D - D  # the last retry, at 2d2m
    line = next(r for r in trace_records(result) if r.get("action") == "disable")
    assert line == {"time": "2026-01-04T00:02:00.000Z", "action": "disable",
                    "configuration": "listener", "given_up": [3, 4, 5, 6]}  # fmt: skip
    assert [(f.message.sequence, f.time, f.reason) for f in result.failures("listener")] == [
        (n, disabled_at, "configuration disabled") for n in (3, 4, 5, 6)
    ] + [(n, 5 * D, "configuration disabled") for n in (7, 8)]  # e2's: given up at once
    assert result.summary()["listener"]["disabled"] == 1
    assert all(not e.retry_due for e in result.failure_log("listener"))
    assert [r["sequence"] for r in trace_records(result) if "outcome" in r][-1] == 3
    sim.check()


def test_a_success_before_disable_after_ends_the_failing_period() -> None:
    sim, _ = seed_example("sim", Outage(windows=[(MIN, HOUR)]), disable_after="1d1h")
    sim.create_envelope("Later", [cs.Signer("Ann", "ann@example.com")], id="e2", at=9 * DAY)
    result = sim.run()
    assert result.summary()["listener"]["disabled"] == 0
    assert result.failures("listener") == [] and result.pending("listener") == []


def test_aggregate_is_disabled_too_and_enable_turns_it_back_on() -> None:
    sim = cs.Simulation(mode="aggregate", seed=1)
    sim.add_configuration(cs.Configuration(name="c", disable_after="1d"),
                          listener=Outage(windows=[(timedelta(0), 2 * DAY)]))  # fmt: skip
    env = sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com", recipient_id="sue")])
    sim.send(env, at=timedelta(0))
    # Message 1 fails at 1m; the view at 1d opens message 2, due at 1d1m, when the failing
    # period has lasted a day: the disable comes first and gives up both (2 still open).
    sim.view(env, "sue", at=DAY)
    sim.enable("c", at=3 * DAY)
    sim.sign(env, "sue", at=4 * DAY)
    result = sim.run()
    assert [(m.sequence, m.state) for m in result.messages("c")] == [
        (1, "failed"), (2, "failed"), (3, "delivered"),
    ]  # fmt: skip
    assert [f.reason for f in result.failures("c")] == ["configuration disabled"] * 2
    assert [a.sequence for a in result.attempts] == [1, 3]
    sim.enable("c", at=5 * DAY)
    with pytest.raises(InvalidOperation, match="enable of 'c' at 5d: the configuration is not"):
        sim.run()


def test_the_clock_runs_towards_disable_after_while_paused() -> None:
    sim, _ = seed_example("sim", Scripted([200, 200, 503]), disable_after="2d")
    sim.pause("listener", at=HOUR)  # the retry at 1d2m is skipped: no success comes
    result = sim.run()
    assert result.summary()["listener"]["disabled"] == 1
    line = next(r for r in trace_records(result) if r.get("action") == "disable")
    assert line["time"] == "2026-01-03T00:02:00.000Z"


def test_disable_after_in_a_file_and_enable() -> None:
    from connect_sim.scenario import parse_scenario

    text = SCENARIO.replace(
        'name = "listener"\n', 'name = "listener"\ndisable_after = "1d"\n', 1
    ).replace("responses = [200, 200, 503]", "responses = [200, 200, 503, 503]")
    text += '\n[[action]]\nat = "3d"\ndo = "enable"\nconfiguration = "listener"\n'
    result = parse_scenario(text, "ops.toml").build().run()
    assert result.summary()["listener"]["disabled"] == 1
    assert [r["action"] for r in trace_records(result) if "action" in r] == ["disable", "enable"]
    with pytest.raises(cs.ConfigurationError, match="disable_after must be positive"):
        cs.Configuration(name="c", disable_after="0s")


# -- switching the account's mode ---------------------------------------------------------


def test_set_mode_gives_new_events_a_new_queue_and_the_old_one_finishes_what_it_holds() -> None:
    # Aggregate until 1h, SIM after. Message 1 (e1 sent) fails under Aggregate and waits for a
    # later success at least a day on; e2, sent after the switch, goes to the SIM queue, and
    # its success two days on releases the old queue's failure (any queue's success does).
    sim = cs.Simulation(mode="aggregate", seed=1)
    sim.add_configuration(cs.Configuration(name="c"), listener=Scripted([503]))
    sue = [cs.Signer("Sue", "sue@example.com", recipient_id="sue")]
    e1 = sim.create_envelope("One", sue)
    sim.send(e1, at=timedelta(0))
    sim.set_mode("sim", at=HOUR)
    e2 = sim.create_envelope("Two", sue, at=2 * DAY)
    sim.send(e2, at=2 * DAY)
    result = sim.run()
    assert [(a.sequence, a.time, a.status, a.message.mode) for a in result.attempts] == [
        (1, 60_000, 503, "aggregate"),
        (2, 2 * D, 200, "sim"), (3, 2 * D, 200, "sim"),
        (1, 2 * D, 200, "aggregate"),  # released by the SIM queue's success
    ]  # fmt: skip
    assert [q.mode for q in result.queues("c")] == ["aggregate", "sim"]
    assert result.mode("c") == "sim"
    assert [r["mode"] for r in trace_records(result) if "outcome" in r] == [
        "aggregate", "sim", "sim", "aggregate",
    ]  # fmt: skip
    assert [r for r in trace_records(result) if "action" in r] == [
        {"time": "2026-01-01T01:00:00.000Z", "action": "set_mode", "mode": "sim"}
    ]
    assert result.summary()["c"]["generated"] == 3 and result.summary()["c"]["delivered"] == 3
    assert [m.sequence for m in result.messages("c")] == [1, 2, 3]
    sim.check()


def test_a_blocked_sim_queue_stays_blocked_after_a_switch_while_new_events_flow() -> None:
    # SIM until 1h: message 3 (Sue's view at 2m) fails and blocks 4 to 6; after the switch to
    # Aggregate at 1h, a new envelope's message is delivered at once, before the old retry.
    sim, _ = seed_example("sim", Scripted([200, 200, 503]))
    sim.set_mode("aggregate", at=HOUR)
    later = sim.create_envelope("Later", [cs.Signer("Ann", "ann@example.com")], id="e2",
                                at=2 * HOUR)  # fmt: skip
    sim.send(later, at=2 * HOUR)
    result = sim.run()
    order = [(a.sequence, a.message.mode) for a in result.attempts]
    assert order[:4] == [(1, "sim"), (2, "sim"), (3, "sim"), (7, "aggregate")]
    assert order[4:] == [(3, "sim"), (4, "sim"), (5, "sim"), (6, "sim")]  # the day's retry
    assert_sim_order_of(result)


def assert_sim_order_of(result: cs.Result) -> None:
    from connect_sim.testing import assert_sim_order

    assert_sim_order(result)


def test_a_configuration_with_its_own_mode_or_already_in_it_gets_no_new_queue() -> None:
    sim = cs.Simulation(mode="sim", seed=1)
    sim.add_configuration(cs.Configuration(name="own", mode="sim"))
    sim.add_configuration(cs.Configuration(name="follows"))
    env = sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com")])
    sim.send(env, at=timedelta(0))
    sim.set_mode("sim", at=MIN)
    sim.set_mode("aggregate", at=HOUR)
    result = sim.run()
    assert [q.mode for q in result.queues("own")] == ["sim"]
    assert [q.mode for q in result.queues("follows")] == ["sim", "aggregate"]
    with pytest.raises(cs.ConfigurationError, match="set_mode: mode must be one of"):
        sim.set_mode("fast", at=HOUR)


def test_a_pause_and_the_failure_log_cover_every_queue_of_a_configuration() -> None:
    sim, env = seed_example("sim", Scripted([200, 200, 503]))
    sim.set_mode("aggregate", at=HOUR)
    sim.pause("listener", at=2 * HOUR)
    later = sim.create_envelope("Later", [cs.Signer("Ann", "ann@example.com")], id="e2",
                                at=3 * HOUR)  # fmt: skip
    sim.send(later, at=3 * HOUR)
    result = sim.run(until=4 * HOUR)
    assert [e.sequence for e in result.failure_log("listener")] == [3]  # the old SIM queue's
    assert [s.message.sequence for s in result.skips("listener")] == [7]  # the new queue paused
    sim.republish(env, at=5 * HOUR)
    sim.resume("listener", at=5 * HOUR)
    result = sim.run()
    (done,) = result.republishes()
    assert done.configuration == "listener" and done.withdrawn == (3,)
    assert result.messages("listener")[-1].mode == "aggregate"  # into the current queue


def test_set_mode_in_a_file() -> None:
    from connect_sim.scenario import parse_scenario

    text = SCENARIO + '\n[[action]]\nat = "1h"\ndo = "set_mode"\nmode = "aggregate"\n'
    result = parse_scenario(text, "ops.toml").build().run()
    assert [q.mode for q in result.queues("listener")] == ["sim", "aggregate"]
    bad = SCENARIO + '\n[[action]]\nat = "1h"\ndo = "set_mode"\nmode = "fast"\n'
    with pytest.raises(cs.ScenarioError, match="action 3: set_mode: mode must be one of"):
        parse_scenario(bad, "ops.toml").build()


def test_a_simulation_with_a_mode_switch_is_freed_without_the_cyclic_collector() -> None:
    import gc
    import weakref

    sim, _ = seed_example("sim", Scripted([200, 200, 503]))
    sim.set_mode("aggregate", at=HOUR)
    sim.pause("listener", at=2 * HOUR)
    sim.run(until=3 * HOUR)
    queues = [weakref.ref(queue) for queue in sim._channels]
    assert len(queues) == 2
    gc.disable()
    try:
        del sim
        assert all(ref() is None for ref in queues), "a queue outlived its simulation"
    finally:
        gc.enable()


def test_the_switch_to_sim_example_gives_what_its_walk_through_says() -> None:
    from pathlib import Path

    from connect_sim.scenario import load_scenario

    path = Path(__file__).resolve().parent.parent / "examples" / "switch_to_sim.toml"
    result = load_scenario(path).build().run()
    rows = [(r["time"][8:16], r["sequence"], r["event"], r["mode"], r["envelope_status"],
             r["outcome"]) for r in trace_records(result) if "outcome" in r]  # fmt: skip
    assert rows == [
        ("02T11:01", 1, "envelope-sent", "aggregate", "sent", "retry"),
        ("02T11:31", 2, "recipient-delivered", "aggregate", "sent", "delivered"),
        ("02T14:00", 3, "recipient-completed", "sim", "sent", "delivered"),
        ("02T14:00", 4, "recipient-completed", "sim", "sent", "delivered"),
        ("02T14:00", 5, "envelope-completed", "sim", "completed", "delivered"),
        ("03T13:00", 6, "recipient-sent", "sim", "created", "delivered"),
        ("03T13:00", 7, "envelope-sent", "sim", "sent", "delivered"),
        ("03T13:00", 1, "envelope-sent", "aggregate", "completed", "delivered"),
    ]
    assert [q.mode for q in result.queues("orders")] == ["aggregate", "sim"]


# -- the rest of section 8, one rule each --------------------------------------------------


def test_content_original_under_aggregate_re_sends_the_failed_messages_own_state() -> None:
    # Message 1 (e1 sent, merging recipient-sent) fails; the republish at 1h re-sends it as it
    # was, though e1 has been completed since.
    sim, e1, _ = two_envelopes("aggregate", Scripted([503]), aggregation_window="0s")
    sim.republish(e1, at=HOUR, content="original")
    result = sim.run()
    failed = next(m for m in result.messages("c") if m.state == "republished")
    new = result.messages("c")[-1]
    assert failed.sequence == 1 and new.republished
    assert new.event == failed.event == "envelope-sent"
    assert new.merged_events == ("envelope-sent",)  # its one event
    assert new.snapshot is failed.snapshot and new.snapshot.status == "sent"
    assert new.generated == failed.generated == 0
    assert [(a.time, a.status) for a in result.attempts if a.message == new] == [(3_600_000, 200)]


def test_sim_an_asynchronous_republish_waits_behind_another_envelopes_blocked_head() -> None:
    # e1's view (message 3) fails twice and is given up at 1d1m (max_retries 1); e1's other
    # messages go, then e2's first (7) fails and blocks the queue. Republishing e1 at 1d2h
    # queues its new message behind 7: it goes with 7's retry at 2d1m, not at once.
    answers = [200, 200, 503, 503, 200, 200, 200, 503]
    sim, e1, _ = two_envelopes("sim", Scripted(answers), max_retries=1)
    sim.republish(e1, at=DAY + 2 * HOUR)
    result = sim.run()
    (done,) = result.republishes()
    assert (done.status, done.withdrawn) == ("Queued", (3,))
    new = result.messages("c")[-1]
    assert new.republished and new.sequence == 9
    assert [(a.sequence, a.time) for a in result.attempts][-3:] == [
        (7, 2 * D + 60_000), (8, 2 * D + 60_000), (9, 2 * D + 60_000),
    ]  # fmt: skip
    sim.check()


@pytest.mark.parametrize("mode", ["sim", "aggregate"])
def test_a_republished_message_of_a_paused_configuration_is_skipped_like_any_other(
    mode: str,
) -> None:
    # SIM: e1's last message (envelope-completed, 6) fails, with nothing behind it; Aggregate:
    # message 1 (e1 sent) fails. Paused at 30m, the republish at 1h withdraws it, and its new
    # message, due at once, is skipped; it goes on the retry clock (SIM: a day after the skip;
    # Aggregate: released by the success of a later envelope's message, two days on).
    answers = [200] * 5 + [503] if mode == "sim" else [503]
    sim, env = seed_example(mode, Scripted(answers), aggregation_window="0s")
    sim.pause("listener", at=30 * MIN)
    sim.republish(env, at=HOUR)
    sim.resume("listener", at=2 * HOUR)
    later = sim.create_envelope("Later", [cs.Signer("Ann", "ann@example.com")], id="e2",
                                at=2 * DAY)  # fmt: skip
    sim.send(later, at=2 * DAY)
    result = sim.run(until=3 * HOUR)
    new = result.messages("listener")[-1]
    assert new.republished and new.attempts == 0
    (skip,) = result.skips("listener")
    assert (skip.message, skip.time, skip.number, skip.retry_count) == (new, 3_600_000, 1, 0)
    final = sim.run()
    assert new.state == "delivered"
    first = next(a for a in final.attempts if a.message == new)
    assert first.number == 1 and first.retry_count == 0  # the skip did not count
    assert first.time == (3_600_000 + D if mode == "sim" else 2 * D)
    sim.check()


def test_aggregate_a_synchronous_republishs_success_releases_old_failures_at_once() -> None:
    # All three of the first messages fail (e1 sent, e1 completed, e2 sent: window 0s); the
    # synchronous republish of e1 two days on succeeds, and that success releases e2's failed
    # message, which is sent in the same instant, after the action.
    sim, e1, _ = two_envelopes("aggregate", Scripted([503, 503, 503]), aggregation_window="0s")
    sim.republish(e1, at=2 * DAY, synchronous=True)
    result = sim.run()
    (done,) = result.republishes()
    assert (done.status, done.withdrawn) == ("Success", (1, 2))
    assert [(a.sequence, a.time, a.status) for a in result.attempts][3:] == [
        (4, 2 * D, 200), (3, 2 * D, 200),  # the republish, then e2's released failure
    ]  # fmt: skip
    records = [r for r in trace_records(result) if r["time"] == "2026-01-03T00:00:00.000Z"]
    assert [r.get("action") or r["sequence"] for r in records] == ["republish", 4, 3]
    sim.check()


def test_a_synchronous_republish_that_times_out_fails_at_once() -> None:
    # The listener does not answer the republish's attempt: the result is Fail in the
    # action's own instant, the message is given up, and the queue moves on at once.
    sim, e1, _ = two_envelopes("sim", Scripted([200, 200, 503, None]))
    sim.republish(e1, at=HOUR, synchronous=True)
    result = sim.run()
    (done,) = result.republishes()
    assert (done.time, done.status) == (3_600_000, "Fail")
    new = result.messages("c")[-1]
    (attempt,) = [a for a in result.attempts if a.message == new]
    assert attempt.status is None and attempt.outcome == "failed"
    assert attempt.end == attempt.time + 100_000  # the timeout, though the result came at once
    assert new.state == "failed"
    assert [a.time for a in result.attempts if a.sequence == 4] == [3_600_000]
    records = trace_records(result)
    action = next(n for n, r in enumerate(records) if r.get("action") == "republish")
    assert records[action + 1]["sequence"] == new.sequence  # the action's line comes first


@pytest.mark.parametrize("mode", ["sim", "aggregate"])
def test_a_republished_message_carries_the_same_body_on_every_attempt(mode: str) -> None:
    # The republish at 2h fails and is retried (SIM: a day later; Aggregate: released by a
    # success after the outage); every attempt carries one body.
    # SIM: e1's view fails at 1m and the republish at 2h lets 4 to 8 go; its own message (9)
    # fails once and is retried a day later. Aggregate: down from 30s to 3d.
    listener = (Scripted([200, 200, 503] + [200] * 5 + [503]) if mode == "sim"
                else Outage(windows=[(timedelta(seconds=30), 3 * DAY)]))  # fmt: skip
    sim, e1, _ = two_envelopes(mode, listener, aggregation_window="0s")
    sim.republish(e1, at=2 * HOUR)
    later = sim.create_envelope("Later", [cs.Signer("Ann", "ann@example.com")], id="e3",
                                at=5 * DAY)  # fmt: skip
    sim.send(later, at=5 * DAY)
    result = sim.run()
    new = next(m for m in result.messages("c") if m.republished)
    tries = [a for a in result.attempts if a.message == new]
    assert len(tries) >= 2 and tries[-1].outcome == "delivered", mode
    bodies = [json.loads(a.body) for a in tries]
    # retryCount counts the retries, as on any message; the rest is the same on each.
    assert [body.pop("retryCount") for body in bodies] == [a.retry_count for a in tries]
    assert all(body == bodies[0] for body in bodies), mode
    assert all(a.generated == 2 * 3_600_000 for a in tries)
    parsed = cs.parse_message(tries[0].body, "application/json")
    assert (parsed.event, parsed.status, parsed.recipient_id) == (
        "envelope-completed",
        "completed",
        None,
    )


def test_deleting_a_sim_head_while_paused_moves_the_queue_on_to_a_skip() -> None:
    sim, env = seed_example("sim", Outage(windows=[(MIN, 2 * HOUR)], status=503))
    sim.pause("listener", at=30 * MIN)
    sim.delete_failure("listener", env, at=HOUR)
    result = sim.run(until=2 * HOUR)
    h1 = 3_600_000
    assert outcomes(result)[2:] == [(VIEW, 3, "retry"), (h1, 4, "skipped")]
    sim.resume("listener", at=3 * HOUR)
    result = sim.run()
    assert [(a.sequence, a.time) for a in result.attempts][3:] == [
        (4, h1 + D), (5, h1 + D), (6, h1 + D),  # on the skip's retry clock
    ]  # fmt: skip
    sim.check()


@pytest.mark.parametrize("mode", ["sim", "aggregate"])
def test_a_pause_lets_an_attempt_in_flight_end_and_skips_what_comes_after(mode: str) -> None:
    # Every answer takes 30 s. SIM: message 1 starts at 0 and 2 would follow at 30 s;
    # Aggregate: message 1 (e1 sent) starts at 1m, and the view at 2m opens message 2, due at
    # 3m. A pause at 10 s after the first attempt began lets it end delivered.
    sim, _ = seed_example(mode, AlwaysOk(latency="30s"))
    first = 0 if mode == "sim" else 60_000
    sim.pause("listener", at=timedelta(milliseconds=first + 10_000))
    result = sim.run(until=HOUR)
    (attempt,) = result.attempts
    assert (attempt.time, attempt.end, attempt.outcome) == (first, first + 30_000, "delivered")
    skipped = result.skips("listener")[0]
    assert skipped.message.sequence == 2
    assert skipped.time == (30_000 if mode == "sim" else 180_000)


def test_an_accidental_duplicate_due_while_paused_is_not_sent() -> None:
    # Aggregate, every delivery duplicated at once: message 1's attempt ends at 1m30s, when
    # its duplicate would go; a pause at 1m10s keeps it back for good.
    def run(pause: bool) -> cs.Result:
        sim, _ = seed_example("aggregate", AlwaysOk(latency="30s"), duplicate_rate=1.0)
        if pause:
            sim.pause("listener", at=timedelta(seconds=70))
            sim.resume("listener", at=HOUR)
        return sim.run()

    assert [(a.sequence, a.duplicate) for a in run(False).attempts][:2] == [(1, False), (1, True)]
    attempts = run(True).attempts
    assert [a.sequence for a in attempts if a.duplicate and a.time < 3_600_000] == []
    assert not any(a.duplicate and a.sequence == 1 for a in attempts)


def test_a_success_in_a_new_queue_ends_the_failing_period_of_the_configuration() -> None:
    # SIM: message 3 fails at 2m and blocks; disable_after 12h. Switched to Aggregate at 1h,
    # a new envelope's message is delivered at 2h1m: the configuration is not disabled.
    # Without the switch (control) the same run is disabled at 12h2m.
    def run(switch: bool) -> cs.Result:
        sim, _ = seed_example("sim", Scripted([200, 200, 503]), disable_after="12h")
        if switch:
            sim.set_mode("aggregate", at=HOUR)
        later = sim.create_envelope("Later", [cs.Signer("Ann", "ann@example.com")], id="e2",
                                    at=2 * HOUR)  # fmt: skip
        sim.send(later, at=2 * HOUR)
        return sim.run()

    assert run(False).summary()["listener"]["disabled"] == 1
    switched = run(True)
    assert switched.summary()["listener"]["disabled"] == 0
    assert (
        switched.summary()["listener"]["delivered"] == switched.summary()["listener"]["generated"]
    )


def test_a_disable_gives_up_what_every_queue_of_the_configuration_holds() -> None:
    # Down from 1m for good, disable_after 12h: the old SIM queue holds 3 to 6, the new
    # Aggregate queue (from 1h) e2's message, which failed at 2h1m. All go at 12h2m.
    sim, _ = seed_example("sim", Outage(windows=[(MIN, 400 * DAY)]), disable_after="12h")
    sim.set_mode("aggregate", at=HOUR)
    later = sim.create_envelope("Later", [cs.Signer("Ann", "ann@example.com")], id="e2",
                                at=2 * HOUR)  # fmt: skip
    sim.send(later, at=2 * HOUR)
    result = sim.run()
    line = next(r for r in trace_records(result) if r.get("action") == "disable")
    assert line["time"] == "2026-01-01T12:02:00.000Z" and line["given_up"] == [3, 4, 5, 6, 7]
    assert [m.state for m in result.messages("listener")][2:] == ["failed"] * 5
    assert {q.mode for q in result.queues("listener")} == {"sim", "aggregate"}
    assert max(a.time for a in result.attempts) < 12 * 3_600_000 + 120_000
    sim.check()


def test_a_republish_answers_for_every_configuration_in_configuration_order() -> None:
    sim = cs.Simulation(seed=3)
    for name in ("b-first", "a-second"):  # configuration order is the order they were added
        sim.add_configuration(cs.Configuration(name=name), listener=Scripted([200, 200, 503]))
    env = sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com", recipient_id="sue")])
    sim.send(env, at=timedelta(0))
    sim.sign(env, "sue", at=MIN)
    sim.republish(env, at=HOUR)
    result = sim.run()
    assert [r.configuration for r in result.republishes()] == ["b-first", "a-second"]
    news = [m for name in result.configurations for m in result.messages(name) if m.republished]
    assert [m.configuration for m in news] == ["b-first", "a-second"]
    assert news[0].sequence < news[1].sequence  # a sequence number each, in that order
    line = next(r for r in trace_records(result) if r.get("action") == "republish")
    assert list(line["results"]) == ["b-first", "a-second"]
