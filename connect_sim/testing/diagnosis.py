"""Why a listener fails a test: what it refused, and what its refusals have in common.

Theory of operation
-------------------
A listener under test must answer 2xx to every genuine Connect message: any
other answer makes Connect send the message again a day later, and under SIM
holds back every later message of the configuration.  So an attempt that
*reached* the listener's code (see :attr:`Attempt.reached_listener
<connect_sim.Attempt.reached_listener>`: not one a behaviour in front of it
failed) and got an answer other than 2xx is a refusal, and a refusal is a
bug of the listener, whatever its view of the envelopes says.  The failures
of connect-sim's own listener models (``AlwaysOk(status=503)``, ``Outage``,
``Flaky``, ``Scripted``, used as the listener) are the scenario's, not a
listener's: their sessions say ``simulated``, and they are never refusals.  A late answer
(past the timeout) is not counted here: it is the listener's latency, and
:func:`~connect_sim.testing.assert_nothing_lost` reports what it cost.

Refusals usually share one cause, and the statuses tell which: 401 or 403
when the listener checks signatures or credentials the configuration does not
send, 400 when it cannot read the format, 404 when it listens on another
path, 500 when its code raised.  :func:`refusal_report` turns them into one
paragraph with the likely cause, for every assertion to lead with.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from ..delivery.records import Attempt
from ..time import format_duration

if TYPE_CHECKING:
    from ..configuration import Configuration
    from ..result import Result

__all__ = ["reached_code", "refusal_report", "refusals"]


def reached_code(result: Result, since: int = 0) -> list[Attempt]:
    """Attempts that reached the listener's code: not failed on the way, not a model's.

    ``since`` skips the run's first attempts (those an earlier check has seen).
    """
    code = {name: not getattr(result.channel(name).session, "simulated", False)
            for name in result.configurations}  # fmt: skip
    attempts = result.simulation.attempts
    return [attempts[i] for i in range(since, len(attempts))
            if attempts[i].reached_listener and code[attempts[i].configuration]]  # fmt: skip


def refusals(result: Result, since: int = 0) -> list[Attempt]:
    """Attempts that reached the listener's code and that it answered with anything but 2xx.

    ``since`` skips the run's first attempts (those an earlier check has seen).
    """
    return [a for a in reached_code(result, since) if a.status is not None and not a.ok]


def refusal_report(result: Result) -> str | None:
    """One paragraph on the listener's refusals, with their likely cause; ``None`` if none."""
    reached_attempts = reached_code(result)
    refused = [a for a in reached_attempts if a.status is not None and not a.ok]
    if not refused:
        return None
    reached = len(reached_attempts)
    counts = Counter(attempt.status for attempt in refused)
    if len(counts) == 1 and len(refused) == reached:
        answers = f"every one got {refused[0].status}"
    else:
        answers = f"{len(refused)} got " + ", ".join(
            f"{status} ({count} times)" if count > 1 else str(status)
            for status, count in counts.items()
        )
    first = refused[0]
    lines = [
        f"{reached - len(refused)} of the {reached} deliveries that reached your listener "
        f"were accepted: {answers} (the first: #{first.sequence} {first.event} of envelope "
        f"{first.envelope.id!r} at {format_duration(first.time)}, configuration "
        f"{first.configuration!r}).",
        "A listener must answer 2xx to every genuine Connect message: Connect sends anything "
        "else again a day later, and under SIM holds back every later message behind it.",
    ]
    hints: list[str] = []
    for attempt in refused:  # one hint per cause, in the order they first occur
        hint = _hint(attempt, result.channel(attempt.configuration).configuration)
        if hint not in hints:
            hints.append(hint)
    lines.extend(hints)
    return "\n".join(lines)


def _hint(attempt: Attempt, configuration: Configuration) -> str:
    status = attempt.status
    assert status is not None
    name = configuration.name
    if status in (401, 403):
        if not configuration.hmac_keys:
            sends = "no credentials" if configuration.username is None else "Basic auth"
            return (
                f"Configuration {name!r} sends no HMAC signature ({sends}): does your "
                "listener check HMAC keys the configuration does not send?  Give the "
                "configuration the listener's test key (hmac_keys=[...]; ScenarioPlan.build "
                "signs with connect_sim.testing.TEST_HMAC_KEY unless told otherwise)."
            )
        return (
            f"Configuration {name!r} signs with {len(configuration.hmac_keys)} HMAC key(s): does "
            "your listener verify the signature over the exact body bytes, with the same key "
            "(and, if it asks for them, the same Basic-auth credentials)?"
        )
    if status in (400, 415, 422):
        media = "legacy XML" if configuration.format == "xml" else "Connect 2.0 JSON"
        return (
            f"Configuration {name!r} sends {media} ({attempt.content_type}): can your listener "
            "read it?  connect_sim.parse_message reads both formats."
        )
    if status in (404, 405):
        return (
            "Does your listener take a POST on the path it is given?  Wsgi and Asgi post to "
            "/connect unless told otherwise (Wsgi(app, path=...))."
        )
    if 300 <= status < 400:
        return f"Your listener answered {status}: Connect never follows a redirect."
    if attempt.error is not None:
        last = attempt.error.strip().splitlines()[-1] if attempt.error.strip() else "?"
        return f"Your listener's code failed: {last} (the whole traceback is in attempt.error)."
    return f"Your listener answered {status} to a genuine message."
