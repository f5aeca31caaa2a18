"""Configurations, listeners, times and the Simulation API: every bad value is refused clearly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import connect_sim as cs
from connect_sim.events import DEFAULT_EVENTS
from connect_sim.listeners import AlwaysOk, Flaky, Outage, Scripted
from connect_sim.time import format_duration, format_instant, parse_duration


def test_default_events_are_every_status_without_created() -> None:
    assert cs.Configuration("c").subscribed == DEFAULT_EVENTS
    assert "envelope-created" not in DEFAULT_EVENTS and len(DEFAULT_EVENTS) == 11


def test_legacy_trigger_names_are_aliases() -> None:
    config = cs.Configuration("c", envelope_events=["Sent", "Voided"],
                              recipient_events=["AutoResponded", "AuthenticationFailed"])  # fmt: skip
    assert config.subscribed == (
        "envelope-sent", "envelope-voided", "recipient-authenticationfailed",
        "recipient-autoresponded",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": ""}, "configuration name: expected non-empty text"),
        ({"events": "envelope-sent"}, "expected a list of event names"),
        ({"envelope_events": ["sent"]}, "unknown envelope_events trigger 'sent'"),
        ({"recipient_events": ["Voided"]}, "unknown recipient_events trigger 'Voided'"),
        ({"format": "yaml"}, "format must be one of"),
        ({"mode": "SIM"}, "mode must be one of"),
        ({"require_acknowledgement": "yes"}, "require_acknowledgement must be true or false"),
        ({"max_retries": -1}, "max_retries must be a whole number"),
        ({"timeout": timedelta(0)}, "timeout must be positive"),
        ({"timeout": 100}, r"timeout: expected a timedelta .* \(a bare number has no unit\)"),
        ({"retry_interval": "soon"}, "retry_interval: bad duration 'soon'"),
        ({"timeout": timedelta(microseconds=499)}, "timeout must be positive"),  # rounds to 0
        ({"retry_interval": timedelta(days=36_501)}, "longer than the longest duration allowed"),
        ({"retry_interval": "3000000d"}, r"duration '3000000d' is longer than .*36500d"),
        ({"duplicate_rate": 1.5}, "duplicate_rate: expected a probability"),
        ({"drop_rate": True}, "drop_rate: expected a probability"),
        ({"mode": "sim", "duplicate_rate": 0.5}, "anomalies of Aggregate, and it runs under SIM"),
        ({"configuration_id": 10**40}, r"from 1 to 2147483647 \(DocuSign's ids are 32-bit\)"),
        ({"configuration_id": 2**31}, "DocuSign's ids are 32-bit"),
        ({"name": "listener\ud800"}, "configuration name: .* lone surrogate"),
        ({"username": "u", "password": "pw\ud800"}, "password is not valid Unicode text"),
    ],
)
def test_bad_configurations_are_refused(options: dict[str, object], message: str) -> None:
    options = {"name": "c", **options}
    with pytest.raises(cs.ConfigurationError, match=message):
        cs.Configuration(**options)  # type: ignore[arg-type]


def test_durations_parse_and_render_both_ways() -> None:
    assert parse_duration("1d2h3m4s5ms") == 93_784_005
    assert format_duration(93_784_005) == "1d2h3m4s5ms"
    for bad in ("", "5", "1s1m", "1m1m", "-1s", "1.5s", "1 s"):
        with pytest.raises(cs.ConfigurationError):
            parse_duration(bad)
    assert format_instant(datetime(2026, 1, 1, tzinfo=UTC), 1) == "2026-01-01T00:00:00.001Z"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: AlwaysOk(status=700), "HTTP status from 100 to 599"),
        (lambda: AlwaysOk(latency=timedelta(seconds=-1)), "cannot be negative"),
        (
            lambda: Outage(windows=[(timedelta(hours=2), timedelta(hours=1))]),
            "end must come after",
        ),
        (lambda: Outage(windows="1h"), "expected a list of"),
        (lambda: Flaky(failure_rate=-0.1), "probability"),
        (lambda: Scripted(responses=[200, "ok"]), "HTTP status"),
    ],
)
def test_bad_listeners_are_refused(make: object, message: str) -> None:
    with pytest.raises(cs.ConfigurationError, match=message):
        make()  # type: ignore[operator]


def test_listener_reprs_are_valid_python() -> None:
    for listener in (AlwaysOk(), Outage(windows=[(timedelta(0), timedelta(hours=1))], status=None),
                     Flaky(failure_rate=0.25, seed=3), Scripted([503, None])):  # fmt: skip
        assert eval(
            repr(listener), {"datetime": __import__("datetime"), **vars(cs.listeners)}
        ) == (listener)


def test_the_simulation_refuses_bad_calls_with_its_own_error() -> None:
    with pytest.raises(cs.ConfigurationError, match="mode must be one of"):
        cs.Simulation(mode="fast")
    with pytest.raises(cs.ConfigurationError, match="seed must be a whole number"):
        cs.Simulation(seed="1")  # type: ignore[arg-type]
    with pytest.raises(cs.ConfigurationError, match="start: expected a datetime with a time zone"):
        cs.Simulation(start=datetime(2026, 1, 1))
    sim = cs.Simulation()
    other = cs.Simulation().create_envelope("S", [cs.Signer("A", "a@x")])
    with pytest.raises(cs.ConfigurationError, match="not an envelope of this simulation"):
        sim.send(other)
    env = sim.create_envelope("S", [cs.Signer("A", "a@x")])
    with pytest.raises(cs.ConfigurationError, match="has no recipient 'Zed'"):
        sim.view(env, cs.Signer("Zed", "z@x"), at=timedelta(0))
    with pytest.raises(cs.ConfigurationError, match="cannot be negative"):
        sim.send(env, at=timedelta(seconds=-1))
    with pytest.raises(cs.ConfigurationError, match="a bare number has no unit"):
        sim.send(env, at=5)  # type: ignore[arg-type]
    with pytest.raises(cs.ConfigurationError, match="before the simulation start"):
        sim.send(env, at=datetime(2020, 1, 1, tzinfo=UTC))
    with pytest.raises(cs.ConfigurationError, match="expected a Configuration"):
        sim.add_configuration("listener")  # type: ignore[arg-type]
    with pytest.raises(cs.ConfigurationError, match="expected a listener"):
        sim.add_configuration(cs.Configuration("c"), listener=200)  # type: ignore[arg-type]
    with pytest.raises(cs.ConfigurationError, match="not a recipient"):
        sim.create_envelope("S", ["sue@example.com"])  # type: ignore[list-item]
    with pytest.raises(cs.ConfigurationError, match="has no configuration"):
        sim.run()
    sim.add_configuration(cs.Configuration("c"))
    sim.run()
    with pytest.raises(cs.ConfigurationError, match="before the simulation runs"):
        sim.add_configuration(cs.Configuration("late"))


def test_recipients_are_found_by_object_or_id_and_numbered_by_position() -> None:
    sim = cs.Simulation()
    sue, bob = cs.Signer("Sue", "s@x"), cs.Signer("Bob", "b@x")
    env = sim.create_envelope("S", [sue, bob])
    assert [r.recipient_id for r in env.recipients] == ["1", "2"]
    assert env.recipient(bob) == 1 and env.recipient("1") == 0
    assert sue.recipient_id is None  # the caller's object is left as it was


def test_actions_at_a_datetime_and_added_between_runs() -> None:
    start = datetime(2026, 5, 1, 9, tzinfo=UTC)
    sim = cs.Simulation(start=start)
    sim.add_configuration(cs.Configuration("c", events=["envelope-completed"]))
    env = sim.create_envelope("S", [cs.Signer("A", "a@x", recipient_id="a")])
    sim.send(env, at=start + timedelta(minutes=1))
    sim.run(until=timedelta(minutes=5))
    with pytest.raises(cs.ConfigurationError, match="in the past"):
        sim.sign(env, "a", at=timedelta(minutes=4))
    sim.sign(env, "a", at=timedelta(minutes=6))
    (done,) = sim.run().received("c")
    assert done.time == 6 * 60_000


def test_an_envelope_refused_for_its_time_is_not_kept() -> None:
    sim = cs.Simulation()
    sim.add_configuration(cs.Configuration("c"))
    sim.run(until=timedelta(minutes=5))
    for at in (timedelta(minutes=1), "soon"):
        with pytest.raises(cs.ConfigurationError, match="at"):
            sim.create_envelope("S", [cs.Signer("A", "a@x")], id="e1", at=at)
    env = sim.create_envelope("S", [cs.Signer("A", "a@x")], id="e1", at=timedelta(minutes=6))
    sim.send(env, at=timedelta(minutes=7))
    assert [a.event for a in sim.run().received("c")] == ["recipient-sent", "envelope-sent"]


def test_nonsense_arguments_get_the_library_s_own_error() -> None:
    sim = cs.Simulation()
    sim.add_configuration(cs.Configuration("c"))
    env = sim.create_envelope("S", [cs.Signer("A", "a@x", recipient_id="a")])
    calls = [
        lambda: sim.create_envelope("S", 5),  # type: ignore[arg-type]
        lambda: sim.create_envelope("S", [], id=5),  # type: ignore[arg-type]
        lambda: sim.view(env, 5, at=timedelta(0)),  # type: ignore[arg-type]
        lambda: sim.act(["send"], env),  # type: ignore[arg-type]
        lambda: sim.envelope(["e"]),  # type: ignore[arg-type]
        lambda: sim.state(7),  # type: ignore[arg-type]
        lambda: sim.run(until=[1]),  # type: ignore[arg-type]
        lambda: sim.run().received(["c"]),  # type: ignore[arg-type]
        lambda: cs.Configuration("c", events=5),  # type: ignore[arg-type]
        lambda: cs.Configuration("c", format=["json"]),
        lambda: Flaky(failure_rate=0.1, seed=[1]),  # type: ignore[arg-type]
        lambda: Outage(windows=[(1, 2)]),  # type: ignore[list-item]
        lambda: AlwaysOk(latency=None),  # type: ignore[arg-type]
    ]
    for call in calls:
        with pytest.raises(cs.ConnectSimError):
            call()


def test_a_listener_class_given_for_an_instance_is_named_as_such() -> None:
    sim = cs.Simulation()
    with pytest.raises(cs.ConfigurationError, match=r"got the class AlwaysOk, not a listener"):
        sim.add_configuration(cs.Configuration("c"), listener=AlwaysOk)  # type: ignore[arg-type]
    with pytest.raises(cs.ConfigurationError, match=r"Degraded behaviour: got the class Outage"):
        cs.listeners.Degraded(AlwaysOk(), Outage)


def test_sub_millisecond_durations_round_to_the_nearest_millisecond() -> None:
    assert AlwaysOk(latency=timedelta(microseconds=1499)).latency == timedelta(milliseconds=1)
    assert AlwaysOk(latency=timedelta(microseconds=1500)).latency == timedelta(milliseconds=2)
    sim = cs.Simulation()
    sim.add_configuration(cs.Configuration("c", events=["envelope-sent"]))
    env = sim.create_envelope("S", [cs.Signer("A", "a@x")])
    sim.send(env, at=timedelta(seconds=1, microseconds=600))  # a drawn time, not rounded
    (sent,) = sim.run().received("c")
    assert sent.time == 1_001


def test_huge_durations_and_instants_are_the_librarys_error_not_an_overflow() -> None:
    sim = cs.Simulation()
    sim.add_configuration(cs.Configuration("c"))
    env = sim.create_envelope("S", [cs.Signer("A", "a@x")])
    for at in (timedelta(days=999_999_999), timedelta.max, "99999999999999999999d",
               "9" * 5000 + "d", datetime.max.replace(tzinfo=UTC)):  # fmt: skip
        with pytest.raises(cs.ConfigurationError, match="longer than the longest duration"):
            sim.send(env, at=at)
    for start in (datetime.max.replace(tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC),
                  datetime.min.replace(tzinfo=UTC)):  # fmt: skip
        with pytest.raises(cs.ConfigurationError, match="outside the years a simulation may"):
            cs.Simulation(start=start)
    with pytest.raises(cs.ConfigurationError, match=r"retry_interval: .* longer than"):
        cs.Configuration("c", retry_interval=timedelta.max)
    with pytest.raises(cs.ConfigurationError, match=r"latency: .* longer than"):
        AlwaysOk(latency=timedelta(days=40_000))


def test_the_latest_start_and_the_longest_durations_still_write_every_time_stamp() -> None:
    from connect_sim.report import trace_records

    start = datetime(8999, 12, 31, 23, 59, 59, tzinfo=UTC)  # the last second allowed
    longest = timedelta(days=36_500)
    sim = cs.Simulation(mode="aggregate", start=start,
                        account=cs.Account(utc_offset="+14:00"))  # fmt: skip
    for fmt in ("json", "xml"):
        sim.add_configuration(
            cs.Configuration(fmt, format=fmt, aggregation_window=longest, timeout=longest),
            listener=AlwaysOk(latency=longest),
        )
    env = sim.create_envelope("S", [cs.Signer("A", "a@x")], at=longest)
    sim.send(env, at=longest)
    result = sim.run()
    assert [a.time for a in result.attempts] == [2 * 36_500 * 86_400_000] * 2
    for attempt in result.attempts:
        assert cs.parse_message(attempt.body, attempt.content_type).envelope_id == env.envelope_id
    assert [record["end"][:4] for record in trace_records(result)] == ["9299", "9299"]


def test_a_run_stops_at_its_horizon_and_leaves_later_work_pending() -> None:
    from connect_sim.time import HORIZON_MS

    sim = cs.Simulation()
    configuration = cs.Configuration("c", events=["envelope-sent"], max_retries=1000,
                                     retry_interval=timedelta(days=36_500))  # fmt: skip
    sim.add_configuration(configuration, listener=AlwaysOk(status=503))
    sim.send(sim.create_envelope("S", [cs.Signer("A", "a@x")]))
    result = sim.run()
    assert result.end <= HORIZON_MS
    assert len(result.attempts) == 9  # one a century: the tenth would be past the horizon
    assert len(result.pending("c")) == 1
    assert not sim.step()  # nothing past the horizon ever runs


def test_until_before_the_clock_is_refused() -> None:
    sim = cs.Simulation()
    sim.add_configuration(cs.Configuration("c"))
    sim.run(until=timedelta(hours=2))
    with pytest.raises(cs.ConfigurationError, match=r"until: 1h is before the clock \(2h\)"):
        sim.run(until=timedelta(hours=1))
    assert sim.now == 2 * 3_600_000
    sim.run(until=timedelta(hours=2))  # the clock itself is fine: nothing to do


def test_running_again_after_an_invalid_action_meets_it_again() -> None:
    sim = cs.Simulation()
    sim.add_configuration(cs.Configuration("c"))
    env = sim.create_envelope("S", [cs.Signer("A", "a@x", recipient_id="a")])
    sim.sign(env, "a", at=timedelta(minutes=1))  # before the send: not allowed
    sim.send(env, at=timedelta(minutes=2))
    for _ in range(2):
        with pytest.raises(cs.InvalidAction, match="sign by 'a' on 'envelope-1' at 1m"):
            sim.run()
        assert sim.state(env).status == "created" and sim.now == 60_000
    with pytest.raises(cs.InvalidAction, match="sign by 'a'"):
        sim.step()


def test_anomalies_are_refused_under_sim_and_dropped_when_sim_is_forced() -> None:
    anomalous = cs.Configuration("c", duplicate_rate=0.5, drop_rate=0.1)
    with pytest.raises(cs.ConfigurationError, match=r"runs under SIM \(the simulation's mode\)"):
        cs.Simulation(mode="sim").add_configuration(anomalous)
    cs.Simulation(mode="aggregate").add_configuration(anomalous)
    forced = anomalous.for_mode("sim")
    assert (forced.mode, forced.duplicate_rate, forced.drop_rate) == (None, 0.0, 0.0)
    assert anomalous.for_mode("aggregate") == anomalous
    with pytest.raises(cs.ConfigurationError, match=r"runs under SIM \(its own mode\)"):
        cs.Configuration("c", mode="sim", drop_rate=0.1)


def test_an_outage_must_answer_outside_its_windows() -> None:
    with pytest.raises(
        cs.ConfigurationError,
        match=r"ok_status: expected an HTTP status from 100 to 599, got None",
    ):
        Outage(windows=[(timedelta(0), timedelta(hours=1))], ok_status=None)  # type: ignore[arg-type]
    with pytest.raises(
        cs.ConfigurationError, match="scripted response 2: expected an HTTP status"
    ):
        Scripted([503, "ok"])
