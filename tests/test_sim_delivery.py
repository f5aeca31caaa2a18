"""Send Individual Messages: the rules of DESIGN.md section 5, one at a time."""

from __future__ import annotations

from datetime import timedelta

import pytest

import connect_sim as cs
from connect_sim.listeners import AlwaysOk, Flaky, Outage, Scripted

from builders import DAY, HOUR, MIN, one_signer, seed_example

D = 86_400_000


def test_a_failure_blocks_every_later_message_until_the_retry_succeeds() -> None:
    # Down from 1m to 30h: Sue's view at 2m fails, the rest wait, the retry 24h later
    # fails too (inside the outage), the one at 48h succeeds and the queue flushes.
    sim, _ = seed_example("sim", Outage(windows=[(MIN, 30 * HOUR)], status=503))
    result = sim.run()
    attempts = [(a.time, a.sequence, a.status, a.outcome) for a in result.attempts]
    view = 120_000
    assert attempts == [
        (0, 1, 200, "delivered"),
        (0, 2, 200, "delivered"),
        (view, 3, 503, "retry"),
        (view + D, 3, 503, "retry"),
        (view + 2 * D, 3, 200, "delivered"),
        (view + 2 * D, 4, 200, "delivered"),
        (view + 2 * D, 5, 200, "delivered"),
        (view + 2 * D, 6, 200, "delivered"),
    ]
    assert [a.sequence for a in result.received("listener")] == [1, 2, 3, 4, 5, 6]
    assert result.pending("listener") == [] and result.failures("listener") == []


def test_waiting_messages_are_pending_while_the_configuration_is_down() -> None:
    sim, _ = seed_example("sim", Outage(windows=[(MIN, 30 * HOUR)]))
    result = sim.run(until=timedelta(hours=1))
    pending = result.pending("listener")
    assert [m.sequence for m in pending] == [3, 4, 5, 6]
    assert [m.state for m in pending] == ["retry", "queued", "queued", "queued"]


def test_a_message_keeps_its_event_snapshot_and_generated_time_on_retries() -> None:
    sim, _ = seed_example("sim", Scripted([200, 200, 500, 500]))
    result = sim.run()
    tries = [a for a in result.attempts if a.sequence == 3]
    assert [a.retry_count for a in tries] == [0, 1, 2]
    assert {a.generated for a in tries} == {120_000}
    assert all(a.snapshot is tries[0].message.events[0].snapshot for a in tries)


def test_retries_are_a_day_after_the_end_of_the_failed_attempt() -> None:
    # The listener never answers: each attempt ends 100 s after it started.
    sim, (env,) = one_signer("sim", Scripted([None, None, 200]))
    sim.send(env, at=timedelta(0))
    starts = [a.time for a in sim.run().attempts]
    assert starts == [0, 100_000 + D, 2 * (100_000 + D), 2 * (100_000 + D)]


def test_after_ten_failed_retries_the_message_goes_to_the_failure_log_and_the_queue_moves_on() -> (
    None
):
    sim, (env,) = one_signer("sim", Scripted([500] * 11))
    sim.send(env, at=timedelta(0))
    result = sim.run()
    first = [a for a in result.attempts if a.sequence == 1]
    assert len(first) == 11 and first[-1].outcome == "failed"
    assert [a.outcome for a in first[:-1]] == ["retry"] * 10
    (failure,) = result.failures("c")
    assert failure.message.sequence == 1 and "retries exhausted" in failure.reason
    # The next waiting message is attempted at once, when the last retry ended.
    second = [a for a in result.attempts if a.sequence == 2]
    assert second[0].time == first[-1].end == 10 * D
    assert second[0].outcome == "delivered"


def test_without_acknowledgement_a_failure_goes_straight_to_the_failure_log() -> None:
    sim, (env,) = one_signer("sim", Scripted([503]), require_acknowledgement=False)
    sim.send(env, at=timedelta(0))
    result = sim.run()
    assert [(a.sequence, a.outcome) for a in result.attempts] == [(1, "failed"), (2, "delivered")]
    assert "acknowledgement is off" in result.failures("c")[0].reason


def test_an_answer_after_the_timeout_fails_at_the_timeout() -> None:
    sim, (env,) = one_signer("sim", AlwaysOk(latency=timedelta(seconds=101)))
    sim.send(env, at=timedelta(0))
    first = sim.run(until=timedelta(hours=1)).attempts[0]
    assert (first.status, first.end, first.outcome) == (None, 100_000, "retry")


def test_an_answer_within_the_timeout_succeeds_and_attempts_go_one_at_a_time() -> None:
    sim, (env,) = one_signer("sim", AlwaysOk(latency=timedelta(seconds=100)))
    sim.send(env, at=timedelta(0))
    attempts = sim.run().attempts
    assert [(a.time, a.end, a.outcome) for a in attempts] == [
        (0, 100_000, "delivered"), (100_000, 200_000, "delivered"),
    ]  # fmt: skip


def test_an_outage_fails_attempts_that_start_inside_it_only() -> None:
    listener = Outage(windows=[(timedelta(0), MIN)], status=None)
    sim, (env,) = one_signer("sim", listener, retry_interval=timedelta(seconds=30))
    sim.send(env, at=timedelta(0))
    attempts = sim.run().attempts
    # 0: no answer, ends at 100 s; retry at 130 s is outside [0, 60 s).
    assert [(a.time, a.status) for a in attempts[:2]] == [(0, None), (130_000, 200)]


def test_an_outage_window_fails_an_attempt_at_its_start_but_not_one_at_its_end() -> None:
    listener = Outage(windows=[(MIN, 2 * MIN)])  # [1m, 2m)
    sim, (env,) = one_signer("sim", listener, retry_interval=MIN)
    sim.send(env, at=MIN)  # the first attempt starts at 1m exactly, the retry at 2m exactly
    attempts = sim.run().attempts
    assert [(a.time, a.status, a.outcome) for a in attempts[:2]] == [
        (60_000, 503, "retry"), (120_000, 200, "delivered"),
    ]  # fmt: skip


@pytest.mark.parametrize("mode", ["sim", "aggregate"])
@pytest.mark.parametrize(
    ("status", "delivered"),
    [(101, False), (199, False), (200, True), (204, True), (299, True), (300, False),
     (302, False), (304, False), (399, False), (400, False)],
)  # fmt: skip
def test_only_a_2xx_answer_is_a_success_a_1xx_or_3xx_is_retried(
    mode: str, status: int, delivered: bool
) -> None:
    sim, (env,) = one_signer(mode, Scripted([status]), events=["envelope-sent"])
    sim.send(env, at=timedelta(0))
    result = sim.run()
    log = [(a.time, a.status, a.outcome) for a in result.attempts]
    if delivered:
        assert log == [(60_000 if mode == "aggregate" else 0, status, "delivered")]
    elif mode == "sim":  # retried a day later, when the listener answers 200
        assert log == [(0, status, "retry"), (D, 200, "delivered")]
    else:  # waits for a later success that never comes
        assert log == [(60_000, status, "retry")]
        assert [m.state for m in result.pending("c")] == ["retry"]


def test_every_timing_is_a_parameter() -> None:
    sim, (env,) = one_signer(
        "sim", Scripted([500, 500, 500]), retry_interval="1h", max_retries=2,
        timeout=timedelta(seconds=5),
    )  # fmt: skip
    sim.send(env, at=timedelta(0))
    result = sim.run()
    assert [a.time for a in result.attempts] == [0, 3_600_000, 7_200_000, 7_200_000]
    assert result.failures("c")[0].message.attempts == 3


def test_one_event_makes_one_message_per_configuration_in_the_order_added() -> None:
    sim = cs.Simulation(seed=1)
    sim.add_configuration(cs.Configuration("first", events=["envelope-sent"]))
    sim.add_configuration(cs.Configuration("second", envelope_events=["Sent"],
                                           recipient_events=["Sent"]))  # fmt: skip
    env = sim.create_envelope("S", [cs.Signer("A", "a@x")])
    sim.send(env, at=timedelta(0))
    result = sim.run()
    assert [(a.configuration, a.event, a.sequence) for a in result.attempts] == [
        ("second", "recipient-sent", 1),
        ("first", "envelope-sent", 2),
        ("second", "envelope-sent", 3),
    ]


def test_an_envelope_level_configuration_sees_only_its_envelope() -> None:
    sim = cs.Simulation()
    a = sim.create_envelope("A", [cs.Signer("A", "a@x")], id="a")
    b = sim.create_envelope("B", [cs.Signer("B", "b@x")], id="b")
    sim.add_configuration(cs.Configuration("account"))
    sim.add_configuration(cs.Configuration("only-b"), envelope=b)
    sim.send(a, at=timedelta(0))
    sim.send(b, at=timedelta(0))
    result = sim.run()
    assert {m.envelope.id for m in result.messages("only-b")} == {"b"}
    assert len(result.messages("account")) == 4


def test_a_configuration_can_override_the_account_mode() -> None:
    sim = cs.Simulation(mode="sim")
    sim.add_configuration(cs.Configuration("old", mode="aggregate"))
    sim.add_configuration(cs.Configuration("new"))
    env = sim.create_envelope("S", [cs.Signer("A", "a@x")])
    sim.send(env, at=timedelta(0))
    result = sim.run()
    assert (result.mode("old"), result.mode("new")) == ("aggregate", "sim")
    assert (len(result.received("old")), len(result.received("new"))) == (1, 2)


def test_a_flaky_listener_is_seeded() -> None:
    def run(seed: int) -> list[int | None]:
        sim, envs = one_signer("sim", Flaky(failure_rate=0.5, seed=seed), envelopes=20)
        for i, env in enumerate(envs):
            sim.send(env, at=timedelta(minutes=i))
        return [a.status for a in sim.run().attempts]

    assert run(7) == run(7)
    assert run(7) != run(8)
    assert 500 in run(7)


def test_run_can_stop_and_go_on() -> None:
    sim, _ = seed_example("sim", Outage(windows=[(MIN, 30 * HOUR)]))
    first = sim.run(until=DAY)
    assert len(first.received("listener")) == 2
    assert sim.now == D
    final = sim.run()
    assert len(final.received("listener")) == 6


def test_results_refuse_an_unknown_configuration_by_name() -> None:
    sim, _ = seed_example()
    with pytest.raises(cs.ConfigurationError, match="no configuration named 'nope'"):
        sim.run().received("nope")


def test_the_invariant_check_holds_after_every_step() -> None:
    sim, _ = seed_example("sim", Outage(windows=[(MIN, 30 * HOUR)]))
    while sim.step():
        sim.check()


@pytest.mark.parametrize("mode", ["sim", "aggregate"])
def test_actions_at_the_same_instant_run_in_the_order_given(mode: str) -> None:
    sim = cs.Simulation(mode=mode)
    sim.add_configuration(cs.Configuration("c", events=["envelope-sent", "envelope-voided"]))
    first = sim.create_envelope("A", [cs.Signer("A", "a@x")], id="b-first")
    second = sim.create_envelope("B", [cs.Signer("B", "b@x")], id="a-second")
    sim.send(first, at=timedelta(minutes=1))
    sim.send(second, at=timedelta(minutes=1))
    sim.void(first, at=timedelta(minutes=1))
    result = sim.run()
    assert [(e.envelope.id, e.name) for e in result.events if e.time == 60_000] == [
        ("b-first", "recipient-sent"), ("b-first", "envelope-sent"),
        ("a-second", "recipient-sent"), ("a-second", "envelope-sent"),
        ("b-first", "envelope-voided"),
    ]  # fmt: skip
    if mode == "aggregate":  # one merged message per envelope, opened in the order given
        assert [a.envelope.id for a in result.received("c")] == ["b-first", "a-second"]
        assert result.received("c")[0].snapshot.status == "voided"
    else:
        assert [a.envelope.id for a in result.received("c")] == ["b-first", "a-second", "b-first"]
