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
        ({"aggregation_window": timedelta(microseconds=5)}, "not a whole number of milliseconds"),
        ({"duplicate_rate": 1.5}, "duplicate_rate: expected a probability"),
        ({"drop_rate": True}, "drop_rate: expected a probability"),
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
    with pytest.raises(cs.ConfigurationError, match="start must be a datetime with a time zone"):
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
