"""Assertions about a run, with failure messages that show the offending messages.

Each raises ``AssertionError`` (so pytest reports it as a test failure) whose
message starts with one line saying what is wrong and then shows the
messages concerned in a short table: sequence, configuration, event,
envelope, when, and what became of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from ..delivery.records import SENT_OK, Message
from ..report import text_table
from ..time import format_duration

if TYPE_CHECKING:
    from ..result import Result

__all__ = ["assert_converged", "assert_nothing_lost", "assert_sim_order", "message_table"]

#: At most this many rows in a failure message; the rest are counted.
MAX_ROWS = 12

View = Mapping[str, str | None] | Callable[[str], str | None]


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


def assert_sim_order(result: Result) -> None:
    """Every SIM configuration delivered its messages in the order they were created.

    This is SIM's guarantee: one queue per configuration, strictly in order,
    whatever failed and was retried.  (Aggregate makes no such promise, and
    two configurations make none between them.)
    """
    rows = []
    for name in result.configurations:
        if result.mode(name) != "sim":
            continue
        last = 0
        for attempt in result.received(name):
            sequence = attempt.message.sequence
            if sequence < last:
                rows.append(_row(attempt.message, f"arrived after #{last}"))
            last = max(last, sequence)
    if rows:
        raise AssertionError(
            f"{len(rows)} SIM message(s) arrived out of order:\n{message_table(rows, _HEADERS)}"
        )


def assert_nothing_lost(result: Result) -> None:
    """Every message of every configuration was delivered: none failed for good, none pending.

    A failure-log entry (retries exhausted, acknowledgement off, an Aggregate
    drop) or a message still queued when the run stopped is a loss.
    """
    rows = []
    for name in result.configurations:
        reasons = {f.message.sequence: f.reason for f in result.failures(name)}
        for message in result.messages(name):
            if message.state != SENT_OK:
                rows.append(_row(message, reasons.get(message.sequence, _fate(message))))
    if rows:
        raise AssertionError(
            f"{len(rows)} message(s) never delivered:\n{message_table(rows, _HEADERS)}"
        )


def assert_converged(result: Result, view: View) -> None:
    """The listener's view gives every envelope its true final status.

    ``view`` maps an envelope's GUID (``Envelope.envelope_id``, what messages
    carry) to the status the listener believes, or is a function doing that;
    ``None`` means it knows nothing of the envelope.  Only envelopes that some
    configuration delivered a message about are checked: a listener cannot
    know of the others.  The truth is the envelope's status when the run
    stopped; it can be reached only when the message that carries it was
    delivered (see :func:`assert_nothing_lost`).
    """
    lookup = view if callable(view) else view.get
    heard: dict[str, Message] = {}  # envelope GUID -> the last message delivered about it
    for name in result.configurations:
        for attempt in result.received(name):
            heard[attempt.message.envelope.envelope_id] = attempt.message
    rows = []
    simulation = result.simulation
    for guid, message in heard.items():
        envelope = message.envelope
        truth = simulation.state(envelope).status
        believed = lookup(guid)
        if believed != truth:
            rows.append([envelope.id, guid[:8] + "…", truth, str(believed),
                         f"#{message.sequence} {message.events[-1].name}"])  # fmt: skip
    if rows:
        headers = ["envelope", "guid", "true status", "listener says", "last delivered"]
        raise AssertionError(
            f"the listener is wrong about {len(rows)} envelope(s):\n{message_table(rows, headers)}"
        )
