"""The assertions of connect_sim.testing fail with a table of the messages concerned, and why."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import pytest

import connect_sim as cs
from connect_sim.listeners import AlwaysOk, Callable, Degraded, Outage, Wsgi
from connect_sim.testing import (
    ReferenceListener,
    assert_converged,
    assert_nothing_lost,
    assert_sim_order,
)
from connect_sim.testing.diagnosis import refusal_report, refusals

from builders import seed_example


def test_sim_order_names_the_message_that_arrived_late() -> None:
    sim, _ = seed_example("sim")
    result = sim.run()
    assert_sim_order(result)
    result.channel("listener").delivered_rows.reverse()  # as if the queue had broken its promise
    with pytest.raises(AssertionError) as error:
        assert_sim_order(result)
    lines = str(error.value).splitlines()
    assert lines[0] == "5 SIM message(s) arrived out of order or twice:"
    assert lines[1].split() == [
        "#",
        "configuration",
        "event",
        "envelope",
        "at",
        "what",
        "happened",
    ]
    assert lines[3].split() == ["5", "listener", "recipient-completed", "(charlie)", "e1", "2m20s",
                                "arrived", "after", "#6"]  # fmt: skip


def test_sim_order_rejects_a_message_delivered_twice() -> None:
    sim, _ = seed_example("sim")
    result = sim.run()
    delivered = result.channel("listener").delivered_rows
    delivered.insert(3, delivered[2])  # #3 twice, in order otherwise
    with pytest.raises(AssertionError) as error:
        assert_sim_order(result)
    lines = str(error.value).splitlines()
    assert lines[0] == "1 SIM message(s) arrived out of order or twice:"
    assert lines[3].split()[0] == "3" and lines[3].split()[-2:] == ["delivered", "twice"]


def test_nothing_lost_shows_what_became_of_each_lost_message() -> None:
    down = Outage(windows=[(timedelta(0), timedelta(days=30))], status=503)
    sim, _ = seed_example("aggregate", listener=Degraded(AlwaysOk(), down), max_retries=2)
    result = sim.run()
    with pytest.raises(AssertionError) as error:
        assert_nothing_lost(result)
    text = str(error.value)
    assert text.startswith("2 message(s) never delivered:")
    assert "envelope-sent" in text and "envelope-completed" in text
    assert "retry" in text  # failed, waiting for a later success that never comes
    assert "reached your listener" not in text  # the outage failed them, not the listener


def test_converged_compares_with_the_newest_status_that_reached_the_listener() -> None:
    sim, env = seed_example("sim")
    result = sim.run()
    assert_converged(result, {env.envelope_id: "completed"})
    with pytest.raises(AssertionError) as error:
        assert_converged(result, lambda guid: "sent")
    lines = str(error.value).splitlines()
    assert lines[0] == "the listener is wrong about 1 envelope(s):"
    assert lines[1].split() == ["envelope", "guid", "should", "say", "listener", "says", "true",
                                "status", "why"]  # fmt: skip
    row = lines[3].split()
    assert row[0] == "e1" and row[2:5] == ["completed", "sent", "completed"]
    assert "#6 envelope-completed" in lines[3]


def test_converged_checks_every_envelope_even_those_the_listener_never_recorded() -> None:
    sim, _ = seed_example("sim", listener=Callable(lambda body, headers: 200))
    with pytest.raises(AssertionError) as error:
        assert_converged(sim.run(), {})  # accepted everything, recorded nothing
    text = str(error.value)
    assert "never recorded; newest that reached it: #6 envelope-completed" in text
    assert "knows none of these envelopes: does it store what it receives" in text


def test_converged_expects_nothing_of_what_never_reached_the_listener() -> None:
    # The endpoint is down for good: a listener cannot know what it was never sent.
    down = Outage(windows=[(timedelta(0), timedelta(days=400))])
    sim, env = seed_example("sim", listener=Degraded(AlwaysOk(), down))
    result = sim.run()
    assert refusals(result) == []
    assert_converged(result, {})
    with pytest.raises(AssertionError, match="nothing about it reached the listener"):
        assert_converged(result, {env.envelope_id: "completed"})  # it cannot know that


def two_queues(handler: object) -> cs.Result:
    """SIM, two queues to one listener: the envelope's own is down for an hour and flushes
    'sent' after the account-level one delivered 'completed'."""
    sim = cs.Simulation()
    env = sim.create_envelope("Lease", [cs.Signer("Sue", "sue@example.com")], id="e1")
    sim.add_configuration(cs.Configuration("account"), listener=Callable(handler))  # type: ignore[arg-type]
    down = Outage(windows=[(timedelta(0), timedelta(hours=1))])
    sim.add_configuration(cs.Configuration("own", events=["envelope-sent"]), envelope=env,
                          listener=Degraded(Callable(handler), down))  # type: ignore[arg-type]  # fmt: skip
    sim.send(env)
    sim.sign(env, "1", at=timedelta(minutes=30))
    return sim.run()


def test_converged_says_when_the_last_arrival_won() -> None:
    last: dict[str, str] = {}

    def last_arrival(body: bytes, headers: Mapping[str, str]) -> int:
        message = cs.parse_message(body, headers["Content-Type"])
        last[message.envelope_id] = message.status or "?"
        return 200

    with pytest.raises(AssertionError) as error:
        assert_converged(two_queues(last_arrival), last)
    assert "the last arrival won: #" in str(error.value)
    reference = ReferenceListener()
    assert_converged(two_queues(reference), reference.statuses)


def test_a_late_answer_is_not_a_refusal() -> None:
    slow = Callable(lambda body, headers: 200, latency=timedelta(seconds=150))
    sim, _ = seed_example("sim", listener=slow, max_retries=0)
    result = sim.run()
    assert result.attempts[0].status is None and result.attempts[0].reached_listener
    assert refusal_report(result) is None
    with pytest.raises(AssertionError, match="never delivered"):
        assert_nothing_lost(result)


def wsgi_app(status: str) -> object:
    def app(environ: dict[str, object], start_response: object) -> list[bytes]:
        start_response(status, [])  # type: ignore[operator]
        return [b""]

    return app


@pytest.mark.parametrize(
    ("listener", "configuration", "hint"),
    [
        (Callable(lambda body, headers: 401), {},
         "Configuration 'listener' sends no HMAC signature (no credentials): does your listener "
         "check HMAC keys the configuration does not send?"),
        (Callable(ReferenceListener(hmac_keys="production key")), {"hmac_keys": ["test key"]},
         "Configuration 'listener' signs with 1 HMAC key(s): does your listener verify the "
         "signature over the exact body bytes, with the same key"),
        (Callable(lambda body, headers: 400), {"format": "xml"},
         "Configuration 'listener' sends legacy XML (text/xml; charset=utf-8): can your listener "
         "read it?"),
        (Wsgi(wsgi_app("404 Not Found"), path="/hooks"), {},
         "Does your listener take a POST on the path it is given?"),
        (Callable(lambda body, headers: 307), {}, "Connect never follows a redirect"),
        (Callable(lambda body, headers: 1 / 0), {},
         "Your listener's code failed: ZeroDivisionError: division by zero"),
        (Callable(lambda body, headers: "OK"), {},
         "Your listener's code failed: the listener function returned 'OK', not an HTTP status"),
    ],
)  # fmt: skip
def test_every_assertion_leads_with_the_refusals_and_their_likely_cause(
    listener: object, configuration: dict[str, object], hint: str
) -> None:
    sim, _ = seed_example("sim", listener=listener, **configuration)  # type: ignore[arg-type]
    result = sim.run()
    for check in (assert_sim_order, assert_nothing_lost, lambda r: assert_converged(r, {})):
        with pytest.raises(AssertionError) as error:
            check(result)
        text = str(error.value)
        assert "0 of the 66 deliveries that reached your listener were accepted" in text
        assert "A listener must answer 2xx to every genuine Connect message" in text
        assert hint in text


def test_refusals_of_several_kinds_are_counted_each() -> None:
    answers = iter([401, 500, 500] + [200] * 100)
    sim, _ = seed_example("sim", listener=Callable(lambda body, headers: next(answers)))
    report = refusal_report(sim.run())
    assert report is not None
    assert report.splitlines()[0].startswith(
        "6 of the 9 deliveries that reached your listener were accepted: 3 got 401, 500 (2 times)"
    )
