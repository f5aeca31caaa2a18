"""Assertions about a run, with failure messages that say what is wrong and why.

Each raises ``AssertionError`` (so pytest reports it as a test failure) whose
message starts with one line saying what is wrong and then shows the
messages concerned in a short table: sequence, configuration, event,
envelope, when, and what became of it.

Theory of operation
-------------------
A listener can only know what reached it.  So :func:`assert_converged` does
not compare the listener's view with each envelope's true status, which a
lost message can hide, but with what a correct listener makes of the
attempts that reached it: per envelope, the status of the attempt with the
newest generated time, the further status breaking a tie (what
:class:`~connect_sim.testing.ReferenceListener` keeps).  When every message
was delivered, that is the truth.  It checks every envelope any
configuration made a message about, so a listener that never records
anything fails as surely as one that records the wrong thing.

A listener that refuses a genuine message (401, 500, ...) is broken however
its view ends up; every assertion here fails for that first, with the likely
cause (:mod:`connect_sim.testing.diagnosis`).  :func:`assert_sim_order` and
:func:`assert_nothing_lost` check what Connect did, not what the listener
recorded: only :func:`assert_converged` reads the listener's view, so a test
of a listener needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from ..delivery.channel import Channel
from ..delivery.ledger import REPUBLISHED
from ..delivery.records import SENT_OK, Attempt, Message
from ..lifecycle import ENVELOPE_RULES
from ..report import text_table
from ..time import format_duration
from .diagnosis import refusal_report
from .reference import STATUS_RANK

if TYPE_CHECKING:
    from ..result import Result

__all__ = ["assert_converged", "assert_nothing_lost", "assert_sim_order", "message_table"]

#: At most this many rows in a failure message; the rest are counted.
MAX_ROWS = 12

View = Mapping[str, str | None] | Callable[[str], str | None]

# What an envelope event's name says the status is (a naive listener's reading), from the
# lifecycle's rules: each event that moves the envelope to a new status names it.
_NAMED_STATUS = {event: after for rule in ENVELOPE_RULES.values()
                 for before, (after, event) in rule.items() if before != after}  # fmt: skip


def message_table(rows: list[list[str]], headers: list[str]) -> str:
    """The rows as a small table, indented, at most ``MAX_ROWS`` of them (the rest counted)."""
    table = text_table(headers, rows[:MAX_ROWS])
    lines = ["  " + line for line in table.splitlines()]
    if len(rows) > MAX_ROWS:
        lines.append(f"  ... and {len(rows) - MAX_ROWS} more")
    return "\n".join(lines)


def _fate(message: Message) -> str:
    if message.state == SENT_OK:
        return f"delivered after {message.attempts} attempts"
    return message.state


def _row(message: Message, extra: str) -> list[str]:
    event = message.events[-1]
    who = "" if event.recipient is None else f" ({event.recipient.recipient_id})"
    return [str(message.sequence), message.configuration, event.name + who,
            message.envelope.id, format_duration(event.time), extra]  # fmt: skip


_HEADERS = ["#", "configuration", "event", "envelope", "at", "what happened"]


def _refused(result: Result, prefix: str = "") -> None:
    """Fail, before anything else, if the listener refused genuine messages."""
    report = refusal_report(result)
    if report is not None:
        raise AssertionError(prefix + report)


def assert_sim_order(result: Result) -> None:
    """Every SIM configuration delivered its messages once each, in the order they were made.

    This is SIM's guarantee: one queue per configuration, strictly in order,
    whatever failed and was retried (after a switch of the account's mode,
    each SIM queue in its own order).  (Aggregate makes no such promise, and
    two configurations make none between them.)  It also fails when the
    listener refused messages: an order of messages it refused says nothing.
    It checks Connect's side only: what the listener recorded is
    :func:`assert_converged`'s business.
    """
    _refused(result, "cannot check SIM's order: ")
    rows = []
    for name in result.configurations:
        for queue in result.queues(name):  # after a mode switch, each SIM queue on its own
            if queue.mode == "sim":
                rows.extend(_out_of_order(queue))
    if rows:
        raise AssertionError(
            f"{len(rows)} SIM message(s) arrived out of order or twice:\n"
            f"{message_table(rows, _HEADERS)}"
        )


def _out_of_order(queue: Channel) -> list[list[str]]:
    """The rows of a SIM queue's deliveries that came twice or after a later message."""
    rows = []
    last = 0
    for attempt in queue.delivered:
        sequence = attempt.message.sequence
        if sequence - 1 in queue.outside:
            continue  # a synchronous republish: delivered outside the queue
        if sequence == last:
            rows.append(_row(attempt.message, "delivered twice"))
        elif sequence < last:
            rows.append(_row(attempt.message, f"arrived after #{last}"))
        last = max(last, sequence)
    return rows


def assert_nothing_lost(result: Result) -> None:
    """Every message of every configuration was delivered: none failed for good, none pending.

    A failure-log entry (retries exhausted, acknowledgement off, an Aggregate
    drop) or a message still queued when the run stopped is a loss; a message
    a republish withdrew is not (the new message stands for it, and is checked).  It also
    fails when the listener refused a message that reached it, even one a
    retry then delivered, with the likely cause.  It checks Connect's side
    only: what the listener recorded is :func:`assert_converged`'s business.
    """
    rows = []
    for name in result.configurations:
        reasons = {f.message.sequence: f.reason for f in result.failures(name)}
        for message in result.messages(name):
            if message.state not in (SENT_OK, REPUBLISHED):
                rows.append(_row(message, reasons.get(message.sequence, _fate(message))))
    lost = (
        f"{len(rows)} message(s) never delivered:\n{message_table(rows, _HEADERS)}" if rows else ""
    )
    _refused(result, lost + "\n" if rows else "")
    if rows:
        raise AssertionError(lost)


def assert_converged(result: Result, view: View) -> None:
    """The listener's view gives every envelope the newest status that reached the listener.

    ``view`` maps an envelope's GUID (``Envelope.envelope_id``, what messages
    carry) to the status the listener believes, or is a function doing that;
    ``None`` means it knows nothing of the envelope.  Every envelope that any
    configuration made a message about is checked, against the status of the
    newest attempt that reached the listener (by generated time, the further
    status breaking a tie), or ``None`` if none did.  Attempts a behaviour in
    front of the listener failed did not reach it, and a JSON message without
    its envelope summary (``include_envelope_summary=False``) says no status
    (an envelope only such messages told the listener about is not checked:
    the listener has to look its status up).
    When every message was delivered this is each envelope's true status;
    where it is not, the failure shows the truth too.  Fails first if the listener refused any
    genuine message (see :mod:`connect_sim.testing.diagnosis`).
    """
    _refused(result)
    lookup = view if callable(view) else view.get
    # A JSON message without its envelope summary says no status: it tells nothing to know.
    telling = {name: result.channel(name).configuration.include_envelope_summary
               for name in result.configurations}  # fmt: skip
    newest: dict[str, Attempt] = {}  # envelope GUID -> the newest attempt that reached it
    last: dict[str, Attempt] = {}  # envelope GUID -> the last attempt that reached it
    for attempt in result.attempts:  # in the order they started: arrival order
        if not (attempt.reached_listener and telling[attempt.configuration]):
            continue
        guid = attempt.envelope.envelope_id
        last[guid] = attempt
        best = newest.get(guid)
        if best is None or _moment(attempt) > _moment(best):
            newest[guid] = attempt
    about: dict[str, Message] = {}  # envelope GUID -> a message about it, first seen first
    for name in result.configurations:
        for message in result.messages(name):
            about.setdefault(message.envelope.envelope_id, message)
    # An envelope only summary-less messages reached is the listener's to look up: unchecked.
    untold = {a.envelope.envelope_id for a in result.attempts
              if a.reached_listener and not telling[a.configuration]} - set(newest)  # fmt: skip
    rows = []
    simulation = result.simulation
    for guid, message in about.items():
        if guid in untold:
            continue
        best = newest.get(guid)
        expected = None if best is None else best.snapshot.status
        believed = lookup(guid)
        if believed == expected:
            continue
        truth = simulation.state(message.envelope).status
        rows.append([message.envelope.id, guid[:8] + "…", str(expected), str(believed), truth,
                     _why(believed, best, last.get(guid))])  # fmt: skip
    if rows:
        headers = ["envelope", "guid", "should say", "listener says", "true status", "why"]
        hint = ""
        if all(row[3] == "None" for row in rows) and newest:
            hint = (
                "\nYour listener accepted what reached it but knows none of these envelopes: "
                "does it store what it receives, and does the view look envelopes up by the GUID "
                "messages carry (data.envelopeId in JSON, EnvelopeID in XML: Envelope.envelope_id "
                "here), not by the scenario's name for them?"
            )
        raise AssertionError(
            f"the listener is wrong about {len(rows)} envelope(s):\n"
            f"{message_table(rows, headers)}{hint}"
        )


def _moment(attempt: Attempt) -> tuple[int, int]:
    return attempt.generated, STATUS_RANK.get(attempt.snapshot.status, 0)


def _why(believed: object, newest: Attempt | None, last: Attempt | None) -> str:
    """A guess at how the listener came to believe ``believed``, for one row."""
    if newest is None:
        return "nothing about it reached the listener"
    where = f"#{newest.sequence} {newest.event} generated {format_duration(newest.generated)}"
    if believed is None:
        return f"never recorded; newest that reached it: {where}"
    assert last is not None
    if last is not newest and believed == last.snapshot.status:
        return (
            f"the last arrival won: #{last.sequence} (generated "
            f"{format_duration(last.generated)}) came after {where}"
        )
    if believed == _NAMED_STATUS.get(last.event):
        return f"read from the event name of #{last.sequence} {last.event}; newest: {where}"
    return f"newest that reached it: {where}"
