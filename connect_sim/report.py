"""Reports: the delivery trace, the summary, and the SIM-versus-Aggregate table.

Everything here reads a finished :class:`~connect_sim.Result` and makes records
or text; nothing here changes a simulation or touches a file (writing a run to
a folder is :mod:`connect_sim.output`).  Output is deterministic: records have
a fixed key order and every list is in run order.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from json.encoder import encode_basestring
from typing import Any

from .delivery.ledger import REPUBLISHED, SKIPPED
from .delivery.records import GAVE_UP, SENT_OK, Attempt, Message, Skip, in_passing
from .envelope import EnvelopeState
from .formats import JSON_CONTENT_TYPE
from .render.memo import remember
from .result import Result
from .sinks import TraceCursor, TraceItem
from .time import format_duration, format_instant

__all__ = [
    "BODIES_PER_FOLDER",
    "Tracer",
    "body_extension",
    "body_name",
    "body_path",
    "comparison",
    "counts_table",
    "iter_trace",
    "shown_headers",
    "summary",
    "text_table",
    "trace_records",
]


BODIES_PER_FOLDER = 1000
"""How many bodies share a folder of ``bodies/``: a run of 1.2 million attempts
makes 1,200 folders of 1,000 files, not one folder of 1.2 million (at most
10,000 files in any folder up to ten million attempts)."""


def body_name(number: int, extension: str) -> str:
    """The file name of the ``number``-th attempt's body (from 1): ``000001.json``.

    Six digits at least, more past 999,999; ``extension`` is ``json`` or ``xml``.
    """
    return f"{number:06d}.{extension}"


def body_extension(attempt: Attempt) -> str:
    """``json`` or ``xml``: the extension of the attempt's body file (nothing is rendered)."""
    return "json" if attempt.content_type == JSON_CONTENT_TYPE else "xml"


def body_path(number: int, attempt: Attempt | str) -> str:
    """Where :func:`connect_sim.output.write_run` puts the body of the ``number``-th attempt
    (from 1), relative to the output folder: ``bodies/000/000001.json``.

    The one rule for the layout: the bodies are shared out among folders of
    :data:`BODIES_PER_FOLDER`, named by ``number // BODIES_PER_FOLDER`` in
    three digits at least, so a folder's name is its bodies' names without
    their last three digits (``bodies/001/001000.json`` to ``001999.json``;
    ``bodies/1234/1234567.xml``).  ``attempt`` is the attempt, or the
    extension of its body (``json`` or ``xml``).

    >>> body_path(1, "json"), body_path(1000, "xml"), body_path(1_234_567, "json")
    ('bodies/000/000001.json', 'bodies/001/001000.xml', 'bodies/1234/1234567.json')
    """
    extension = attempt if isinstance(attempt, str) else body_extension(attempt)
    return f"bodies/{number // BODIES_PER_FOLDER:03d}/{body_name(number, extension)}"


def shown_headers(attempt: Attempt) -> dict[str, str]:
    """The attempt's headers as reports show them: the Basic-auth credentials hidden.

    HMAC signatures stay (they are digests, and a listener's developer needs
    them to check their own verification); the ``Authorization`` value, which
    carries the password, never leaves the process.
    """
    return _hidden(attempt.headers)


def _hidden(headers: dict[str, str]) -> dict[str, str]:
    if "Authorization" in headers:
        headers["Authorization"] = "Basic <hidden>"
    return headers


_ENCODER = json.JSONEncoder(ensure_ascii=False)  # json.dumps would make one per call
_NULL = "null"


def _json_text(value: str | None) -> str:
    """A text as JSON writes it (``ensure_ascii=False``), or ``null``."""
    return _NULL if value is None else encode_basestring(value)


class Tracer:
    """Makes the trace record of each attempt of one run, in turn."""

    __slots__ = ("_instants", "_start")

    def __init__(self, result: Result) -> None:
        self._start = result.simulation.start
        self._instants: dict[int, str] = {}

    def _instant(self, ms: int) -> str:
        # Attempts come in time order and share their times (an attempt's end is often
        # the next one's start), so a memo saves most of the formatting; a bounded one,
        # like the renderers', so that a long run does not keep every instant's text.
        text = self._instants.get(ms)
        if text is None:
            text = remember(self._instants, ms, format_instant(self._start, ms))
        return text

    def skip(self, skip: Skip) -> dict[str, Any]:
        """A skip's record: the fields of the attempt it stands for, with no status or body."""
        message = skip.message
        recipient = message.recipient
        snapshot = skip.snapshot
        instant = self._instant
        return {
            "time": instant(skip.time),
            "end": instant(skip.time),
            "configuration": skip.configuration,
            "mode": message.mode,
            "sequence": message.sequence,
            "event": message.event,
            "envelope_id": message.envelope.id,
            "envelope_guid": message.envelope.envelope_id,
            "recipient_id": None if recipient is None else recipient.recipient_id,
            "generated": instant(skip.generated),
            "attempt": skip.number,
            "retry_count": skip.retry_count,
            "duplicate": False,
            "status": None,
            "outcome": SKIPPED,
            "envelope_status": snapshot.status,
            "recipient_statuses": snapshot.recipient_statuses,
            "merged_events": list(message.merged_events),
            "body": None,
            "headers": None,
            "error_kind": None,
        }

    def action(self, record: dict[str, Any]) -> dict[str, Any]:
        """An administrative action's record, its time written as the attempts' are."""
        return {**record, "time": self._instant(record["time"])}

    def note(self, kind: str, details: Any) -> dict[str, Any]:
        """A skip's or an action's record, as the trace order hands them out."""
        return self.skip(details) if kind == "skip" else self.action(details)

    def rendered(self, number: int, attempt: Attempt) -> tuple[dict[str, Any], bytes]:
        """The ``number``-th attempt's record and body, rendered in passing (nothing kept).

        Neither the body, the headers nor the snapshot they are made from is kept by
        the attempt or its envelope (see :func:`~connect_sim.delivery.records.in_passing`).
        """
        attempt = in_passing(attempt)  # its snapshot is read twice here
        body, headers = attempt.render()
        return self.record(number, attempt, headers), body

    @staticmethod
    def text(record: dict[str, Any]) -> str:
        """Any trace record as its line's JSON text: ``json.dumps(record, ensure_ascii=False)``."""
        return _ENCODER.encode(record)

    def written(self, number: int, attempt: Attempt) -> tuple[str, str, bytes]:
        """The ``number``-th attempt's trace line, body path and body, rendered in passing.

        The line is the attempt's record as JSON text (without the newline),
        :meth:`line`; nothing is kept, as with :meth:`rendered`.
        """
        attempt = in_passing(attempt)
        body, headers = attempt.render()
        path = body_path(number, attempt)
        return self.line(number, attempt, headers, path), path, body

    def line(
        self, number: int, attempt: Attempt, headers: dict[str, str], path: str | None = None
    ) -> str:
        """:meth:`record` as JSON text: ``json.dumps(record, ensure_ascii=False)``, byte for byte.

        Written out field by field, because a run's trace is a line per attempt
        and building the record's dict and encoding it cost about three times
        as much.  The library's own words (event names, statuses, outcomes,
        modes, time stamps, body paths) are ASCII with nothing to escape and are
        written as they are; every text a user gave (a configuration's name, an
        envelope id, a recipient id) goes through the standard library's
        string encoder.  ``path`` is the attempt's :func:`body_path`, if known.
        """
        message = attempt.message
        recipient = message.recipient
        recipient_id = None if recipient is None else recipient.recipient_id
        envelope = message.envelope
        snapshot = attempt.snapshot
        instant = self._instant
        statuses = ", ".join(
            f'{encode_basestring(id)}: "{status}"'
            for id, status in snapshot.recipient_statuses.items()
        )
        events = ", ".join(f'"{event}"' for event in message.merged_events)
        status, error = attempt.status, attempt.error_kind
        return (
            f'{{"time": "{instant(attempt.time)}", "end": "{instant(attempt.end)}", '
            f'"configuration": {encode_basestring(attempt.configuration)}, '
            f'"mode": "{message.mode}", "sequence": {message.sequence}, '
            f'"event": "{message.event}", "envelope_id": {encode_basestring(envelope.id)}, '
            f'"envelope_guid": {encode_basestring(envelope.envelope_id)}, '
            f'"recipient_id": {_json_text(recipient_id)}, '
            f'"generated": "{instant(attempt.generated)}", "attempt": {attempt.number}, '
            f'"retry_count": {attempt.retry_count}, '
            f'"duplicate": {"true" if attempt.duplicate else "false"}, '
            f'"status": {_NULL if status is None else status}, '
            f'"outcome": "{attempt.outcome}", "envelope_status": "{snapshot.status}", '
            f'"recipient_statuses": {{{statuses}}}, "merged_events": [{events}], '
            f'"body": "{path or body_path(number, attempt)}", '
            f'"headers": {_ENCODER.encode(_hidden(headers))}, '
            f'"error_kind": {_json_text(error)}}}'
        )

    def record(self, number: int, attempt: Attempt, headers: dict[str, str]) -> dict[str, Any]:
        """The ``number``-th attempt's record, with its (rendered) ``headers``."""
        message = attempt.message
        recipient = message.recipient
        snapshot = attempt.snapshot
        instant = self._instant
        return {
            "time": instant(attempt.time),
            "end": instant(attempt.end),
            "configuration": attempt.configuration,
            "mode": message.mode,
            "sequence": message.sequence,
            "event": message.event,
            "envelope_id": message.envelope.id,
            "envelope_guid": message.envelope.envelope_id,
            "recipient_id": None if recipient is None else recipient.recipient_id,
            "generated": instant(attempt.generated),
            "attempt": attempt.number,
            "retry_count": attempt.retry_count,
            "duplicate": attempt.duplicate,
            "status": attempt.status,
            "outcome": attempt.outcome,
            "envelope_status": snapshot.status,
            "recipient_statuses": snapshot.recipient_statuses,
            "merged_events": list(message.merged_events),
            "body": body_path(number, attempt),
            "headers": _hidden(headers),
            "error_kind": attempt.error_kind,
        }


def _in_order(result: Result) -> Iterator[TraceItem]:
    """The attempts, numbered from 1, with the skips and actions between them, in run order.

    A note (``(kind, details)``: see the ledger's "Between the attempts") goes
    before the attempt that was next when it happened; the order is the one
    sinks are handed (:class:`~connect_sim.sinks.TraceCursor`).
    """
    return TraceCursor(result.simulation._ledger).take(final=True)


def trace_records(result: Result) -> list[dict[str, Any]]:
    """One record per delivery attempt, skip and administrative action, in the order of the run.

    Each attempt's record names its body file (see :func:`body_path`) and
    carries its headers (see :func:`shown_headers`); rendering them is the
    costly part of a trace, and each attempt keeps what it rendered.  A skip's
    record has the attempt's fields with ``outcome`` ``skipped``, no status and
    no body; an action's is ``{"time", "action", ...}``.  For a long run,
    :func:`iter_trace` makes the same records one at a time and keeps nothing.
    """
    tracer = Tracer(result)
    return [
        tracer.record(kind, item, item.headers)
        if isinstance(kind, int)
        else tracer.note(kind, item)
        for kind, item in _in_order(result)
    ]


def iter_trace(result: Result) -> Iterator[tuple[dict[str, Any], bytes | None]]:
    """Each trace record (as :func:`trace_records` makes it) and its body, in turn.

    Skips and administrative actions have no body (``None``).  Bodies and
    headers are rendered afresh and not kept by the attempts (see
    :meth:`Attempt.render <connect_sim.Attempt.render>`), so a caller that
    writes each pair and lets it go holds one body at a time, however long
    the run.  Raises :class:`~connect_sim.errors.PayloadError` at the first
    body the format cannot carry.
    """
    tracer = Tracer(result)
    for kind, item in _in_order(result):
        if isinstance(kind, int):
            yield tracer.rendered(kind, item)
        else:
            yield tracer.note(kind, in_passing(item) if kind == "skip" else item), None


def summary(result: Result) -> dict[str, Any]:
    """Per configuration: mode and counts of messages generated, delivered, failed, pending."""
    return {
        "end": format_instant(result.simulation.start, result.end),
        "configurations": result.summary(),
    }


# -- the comparison table --------------------------------------------------------


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain fixed-width table: a header line, a rule, a line per row."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def _fate(message: Message, delivered: str) -> str:
    if message.state == SENT_OK:
        return delivered if message.attempts == 1 else f"{delivered} on try {message.attempts}"
    if message.state == GAVE_UP:
        return "failed"
    if message.state == REPUBLISHED:
        return "republished"
    return "pending"


def _key(message: Message) -> tuple[int | str, ...]:
    """What pairs a message of one run with its counterpart in the other mode's run.

    An ordinary message stands for its events, and the table pairs a SIM message
    with the Aggregate message that holds its (one) event; a republished message
    stands for its republish (the same envelope at the same instant in both
    runs), not for the event it was made from, so its key is the envelope and
    the generated time instead.
    """
    if message.republished:
        return (-1, message.envelope.id, message.generated)
    return (message.events[-1].sequence,)


def _label(message: Message) -> str:
    recipient = message.recipient
    if message.republished:
        return f"{message.event} (republished)"
    return message.event if recipient is None else f"{message.event} ({recipient.name})"


def _status_columns(
    messages: Sequence[Message],
) -> tuple[list[str], Callable[[EnvelopeState], list[str]]]:
    """Recipient columns by name for one envelope; an envelope and a recipients column for many."""
    if len({message.envelope.id for message in messages}) == 1:  # a count, not an order
        people = messages[0].envelope.recipients
        headers = ["envelope", *(person.name for person in people)]

        def one(snapshot: EnvelopeState) -> list[str]:
            return [snapshot.status, *(r.status for r in snapshot.recipients)]

        return headers, one

    def many(snapshot: EnvelopeState) -> list[str]:
        statuses = " ".join(f"{k}={v}" for k, v in snapshot.recipient_statuses.items())
        return [f"{snapshot.envelope.id} {snapshot.status}", statuses]

    return ["envelope", "recipients"], many


def _made_and_delivered(result: Result, name: str) -> tuple[int, str]:
    """How many messages the run made, and ``"6"`` delivered (``"6 (plus 1 duplicate)"``).

    The first table lists every message, delivered, failed or pending, so the
    title gives both counts; accidental duplicates (Aggregate) are counted
    apart, because the second table shows each of them as a row of its own.
    """
    messages = result.messages(name)
    delivered = str(sum(1 for message in messages if message.state == SENT_OK))
    duplicates = sum(1 for attempt in result.received(name) if attempt.duplicate)
    if duplicates:
        delivered += f" (plus {duplicates} duplicate{'s' if duplicates > 1 else ''})"
    return len(messages), delivered


_ADMINISTERED = ("republished", "skipped", "disabled")
"""The counts that only an administrator's action (or Connect's own disable) makes."""

_COUNTS = ("generated", "delivered", "failed", "republished", "pending", "attempts",
           "skipped", "disabled")  # fmt: skip


def counts_table(counts: dict[str, dict[str, int | str]], label: str = "") -> str:
    """A table of :meth:`Result.summary <connect_sim.Result.summary>` counts, a row per label.

    ``counts`` maps a row's label (a configuration's name, or ``SIM`` and
    ``Aggregate``) to its summary: the columns are ``label`` (the labels'
    heading; ``configuration`` adds a ``mode`` column) and the summary's
    counts, in the order ``summary.json`` has them.
    """
    keys = ("mode", *_COUNTS) if label == "configuration" else _COUNTS
    rows = [[name, *(str(summary[key]) for key in keys)] for name, summary in counts.items()]
    return text_table([label, *keys], rows)


def comparison(sim: Result, aggregate: Result) -> str:
    """The side-by-side table: what one listener gets under SIM and under Aggregate.

    ``sim`` and ``aggregate`` are runs of the same scenario under each mode.  For
    every configuration, the first table lists the SIM messages with the
    snapshot each carries, and says what became of the same event under
    Aggregate (sent, or merged into the message of a later event); the second
    lists what Aggregate delivered, with the status each message carried.
    """
    blocks = []
    for name in sim.configurations:
        sim_messages = sim.messages(name)
        agg_messages = aggregate.messages(name)
        row_of = {_key(m): row for row, m in enumerate(sim_messages, start=1)}
        agg_of: dict[tuple[int | str, ...], Message]
        agg_of = {(event.sequence,): m for m in agg_messages if not m.republished
                  for event in m.events}  # fmt: skip
        agg_of.update((_key(m), m) for m in agg_messages if m.republished)
        headers, cells = _status_columns(sim_messages or agg_messages)
        rows = []
        for row, message in enumerate(sim_messages, start=1):
            key = _key(message)
            merged = agg_of.get(key)
            if merged is None:
                fate = "-"
            elif _key(merged) == key:
                fate = _fate(merged, "sent")
            else:
                fate = f"merged into {row_of[_key(merged)]}"
            if message.republished:  # made at the republish, with the state then
                when, snapshot = message.generated, message.snapshot
            else:
                when, snapshot = message.events[0].time, message.events[0].snapshot
            rows.append([str(row), format_duration(when), _label(message),
                         *cells(snapshot), _fate(message, "delivered"), fate])  # fmt: skip
        sim_made, sim_delivered = _made_and_delivered(sim, name)
        agg_made, agg_delivered = _made_and_delivered(aggregate, name)
        blocks.append(
            f"Configuration {name!r}: SIM made {sim_made} messages and delivered {sim_delivered}; "
            f"Aggregate made {agg_made} and delivered {agg_delivered}"
        )
        counts = {"SIM": sim.summary()[name], "Aggregate": aggregate.summary()[name]}
        if any(c[k] for c in counts.values() for k in _ADMINISTERED):
            blocks.append(counts_table(counts))
        blocks.append(text_table(["#", "time", "event", *headers, "SIM", "Aggregate"], rows))
        blocks.append("")
        blocks.append(f"What the listener receives under Aggregate ({name!r}):")
        agg_rows = []
        for attempt in aggregate.received(name):
            message = attempt.message
            agg_rows.append(
                [str(row_of.get(_key(message), "?")), format_duration(attempt.time),
                 _label(message), *cells(attempt.snapshot), str(len(message.events))]
            )  # fmt: skip
        if agg_rows:
            blocks.append(text_table(["as #", "sent at", "event", *headers, "events"], agg_rows))
        else:
            blocks.append("(nothing)")
        blocks.append("")
    return "\n".join(blocks).rstrip() + "\n"
