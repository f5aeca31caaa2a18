"""What delivery produces: messages, attempts, skips and given-up messages, as users read them.

A :class:`Message` is what a configuration owes its listener: under SIM one per
event, under Aggregate one per burst of events of an envelope.  An
:class:`Attempt` is one try at delivering it, with the snapshot and generated
time that the try carried.  A :class:`Failure` is a message given up: a
message that will never be delivered, and why.

The run keeps messages and attempts as rows of its
:class:`~connect_sim.delivery.ledger.Ledger`.  :class:`Message` and
:class:`Attempt` are *views*: a ledger and a row, made when something reads
them, which read and write the ledger's columns (or read a row the ledger
keeps short, where it is: making or reading a view writes nothing).  Two
views of one row are equal and hash alike; a view holds its ledger, and the
ledger holds no view (no reference cycle), so nothing a run leaves needs the
cyclic collector.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, overload

from ..errors import ConfigurationError
from ..rows import ReadOnlyList
from .ledger import (
    DELIVERED,
    DISCARDED,
    FAILED,
    GAVE_UP,
    IN_FLIGHT,
    NO_STATUS,
    OPEN,
    OUTCOMES,
    PENDING_CODES,
    QUEUED,
    RELEASED,
    RETRY,
    SENT_OK,
    STATES,
    WAITING_RETRY,
    Ledger,
)

if TYPE_CHECKING:
    from ..envelope import Envelope, EnvelopeState, Recipient
    from ..events import Event
    from ..history import History
    from ..render import Renderer

__all__ = [
    "DELIVERED",
    "DISCARDED",
    "FAILED",
    "GAVE_UP",
    "IN_FLIGHT",
    "OPEN",
    "QUEUED",
    "RELEASED",
    "RETRY",
    "SENT_OK",
    "WAITING_RETRY",
    "Attempt",
    "AttemptLog",
    "Failure",
    "Ledger",
    "Message",
    "Skip",
    "in_passing",
]


class Message:
    """A message a configuration owes its listener (a view of a ledger's row).

    Attributes:
        sequence: its creation order in the whole run, from 1.
        configuration: the name of the configuration it belongs to.
        events: the events it stands for, oldest first (SIM: exactly one; a
            republished message: the envelope's event it was made after).
        snapshot: the envelope state it carries (Aggregate: as of its latest attempt).
        generated: the generated time it carries, in ms (SIM: the event time).
        attempts: how many delivery attempts it has had so far.
        state: ``open``, ``queued``, ``retry``, ``released``, ``in-flight``,
            ``delivered``, ``failed`` or ``republished`` (withdrawn by a republish).
    """

    __slots__ = ("_ledger", "_row")

    def __init__(self, ledger: Ledger, row: int) -> None:
        self._ledger = ledger
        self._row = row

    @property
    def sequence(self) -> int:
        """Its creation order in the whole run, from 1."""
        return self._row + 1

    @property
    def configuration(self) -> str:
        """The name of the configuration it belongs to."""
        ledger = self._ledger
        return ledger.channels[ledger.channel_of(self._row)][0]

    @property
    def mode(self) -> str:
        """The delivery algorithm of the queue it is in: ``sim`` or ``aggregate``."""
        ledger = self._ledger
        return ledger.channels[ledger.channel_of(self._row)][2]

    def _event_rows(self) -> list[int]:
        ledger = self._ledger
        return [ledger.event_of(self._row), *ledger.merged.get(self._row, ())]

    def _last_event_row(self) -> int:
        later = self._ledger.merged.get(self._row)
        return later[-1] if later else self._ledger.event_of(self._row)

    @property
    def events(self) -> list[Event]:
        """The events it stands for, oldest first (SIM: exactly one)."""
        event = self._ledger.events.event
        return [event(row) for row in self._event_rows()]

    @property
    def last_event(self) -> Event:
        """The most recent event the message stands for."""
        return self._ledger.events.event(self._last_event_row())

    @property
    def event(self) -> str:
        """The name of the most recent event the message stands for (a republish's own)."""
        republished = self._ledger.republished
        if republished and self._row in republished:
            return republished[self._row][0]
        return self._ledger.events.name(self._last_event_row())

    @property
    def merged_events(self) -> tuple[str, ...]:
        """The names of all the events it stands for, oldest first (a republish: its one)."""
        republished = self._ledger.republished
        if republished and self._row in republished:
            return (republished[self._row][0],)
        name = self._ledger.events.name
        return tuple(name(row) for row in self._event_rows())

    @property
    def republished(self) -> bool:
        """True for a message a republish made (its content fixed by the republish)."""
        return self._row in self._ledger.republished

    @property
    def history(self) -> History:
        """The envelope history its snapshots come from."""
        return self._ledger.history(self._row)

    @property
    def position(self) -> int:
        """The snapshot it carries: the envelope's state after its event number ``position``."""
        return self._ledger.carried(self._row)[0]

    @property
    def snapshot(self) -> EnvelopeState:
        """The envelope state it carries (Aggregate: as of its latest attempt)."""
        return self.history.snapshot(self.position)

    @property
    def generated(self) -> int:
        """The generated time it carries, in ms (SIM: the event time)."""
        return self._ledger.carried(self._row)[1]

    @property
    def attempts(self) -> int:
        """How many delivery attempts it has had so far."""
        return self._ledger.attempts_of(self._row)

    @property
    def last_end(self) -> int:
        """When its latest attempt ended, in ms (0 before the first)."""
        return self._ledger.last_end(self._row)

    @property
    def state(self) -> str:
        """Its state: one of the eight the class's docstring lists."""
        return STATES[self._ledger.state_of(self._row)]

    @property
    def envelope(self) -> Envelope:
        """The envelope it is about."""
        return self.history.envelope

    @property
    def recipient(self) -> Recipient | None:
        """The recipient of its most recent event, or ``None`` for an envelope event."""
        ledger = self._ledger
        if ledger.republished and self._row in ledger.republished:
            return None  # a republish concerns the envelope
        index = ledger.events.recipient_index(self._last_event_row())
        return None if index < 0 else self.envelope.recipients[index]

    @property
    def pending(self) -> bool:
        """True while the message is neither delivered nor given up."""
        return self._ledger.state_of(self._row) in PENDING_CODES

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return self._row == other._row and self._ledger is other._ledger

    def __hash__(self) -> int:
        return hash(("message", self._row))

    def __repr__(self) -> str:
        return (
            f"<Message #{self.sequence} {self.configuration!r} {self.event} "
            f"{self.envelope.id!r} {self.state}>"
        )


class Attempt:
    """One delivery attempt, as the listener saw it (a view of a ledger's row).

    Attributes:
        time: when it started, in ms since the scenario start.
        end: when it ended (the answer, or the timeout).
        configuration: the configuration's name.
        message: the :class:`Message` being delivered.
        number: 1 for the first attempt of the message, 2 for its first retry, ...
        snapshot: the envelope state this attempt carried.
        generated: the generated time this attempt carried, in ms.
        status: the HTTP status, or ``None`` when the listener did not answer in time.
        outcome: ``delivered``, ``retry``, ``failed`` or ``discarded``.
        duplicate: True for an accidental duplicate (an Aggregate anomaly).
        error: what went wrong in an in-process listener's code (a traceback),
            or ``None``.
        error_kind: why a real HTTP listener gave no answer (``refused``,
            ``reset``, ``timeout``, ``tls``, ``protocol``), or ``None``.
        reached_listener: False when something in front of the listener (the
            behaviour of a :class:`~connect_sim.listeners.Degraded`: an outage,
            a flaky network) failed the attempt before it got there; the
            listener then never saw it, and its answer is not the listener's.
        body: the exact bytes Connect would post (rendered on first use).
        headers: the request headers that go with the body (likewise).
    """

    __slots__ = ("_ledger", "_row")

    def __init__(self, ledger: Ledger, row: int) -> None:
        self._ledger = ledger
        self._row = row

    # A row the ledger keeps short (at or past the end of its columns) is an attempt
    # delivered at once, the first of its message: its times are its event's, and so
    # is its snapshot (see the ledger's doc).

    @property
    def time(self) -> int:
        """When it started, in ms since the scenario start."""
        ledger, row = self._ledger, self._row
        return ledger.a_time[row] if row < len(ledger.a_time) else ledger.event_time(row)

    @property
    def end(self) -> int:
        """When it ended (the answer, or the timeout), in ms."""
        return self._ledger.end_of(self._row)

    @property
    def message(self) -> Message:
        """The message being delivered."""
        return Message(self._ledger, self._ledger.message_of(self._row))

    @property
    def configuration(self) -> str:
        """The configuration's name."""
        ledger = self._ledger
        return ledger.channels[ledger.channel_of(ledger.message_of(self._row))][0]

    @property
    def number(self) -> int:
        """1 for the first attempt of the message, 2 for its first retry, ..."""
        ledger, row = self._ledger, self._row
        return ledger.a_number[row] if row < len(ledger.a_number) else 1

    @property
    def position(self) -> int:
        """The snapshot it carried: the envelope's state after its event number ``position``."""
        return self._ledger.carried_by(self._row)[0]

    @property
    def generated(self) -> int:
        """The generated time this attempt carried, in ms."""
        return self._ledger.carried_by(self._row)[1]

    @property
    def status(self) -> int | None:
        """The HTTP status, or ``None`` when the listener did not answer in time."""
        status = self._ledger.status_of(self._row)
        return None if status == NO_STATUS else status

    @property
    def outcome(self) -> str:
        """``delivered``, ``retry``, ``failed`` or ``discarded`` (empty while in flight)."""
        ledger, row = self._ledger, self._row
        return OUTCOMES[ledger.a_outcome[row]] if row < len(ledger.a_outcome) else DELIVERED

    @property
    def duplicate(self) -> bool:
        """True for an accidental duplicate (an Aggregate anomaly)."""
        return self._row in self._ledger.duplicates

    @property
    def error(self) -> str | None:
        """What went wrong in an in-process listener's code (a traceback), or ``None``."""
        return self._ledger.errors.get(self._row)

    @error.setter
    def error(self, value: str | None) -> None:
        if value is None:
            self._ledger.errors.pop(self._row, None)
        else:
            self._ledger.errors[self._row] = value

    @property
    def error_kind(self) -> str | None:
        """Why a real HTTP listener gave no answer (``refused``, ``reset``, ``timeout``,
        ``tls``, ``protocol``: see :mod:`connect_sim.remote`), or ``None``."""
        return self._ledger.error_kinds.get(self._row)

    @error_kind.setter
    def error_kind(self, value: str | None) -> None:
        if value is None:
            self._ledger.error_kinds.pop(self._row, None)
        else:
            self._ledger.error_kinds[self._row] = value

    @property
    def reached_listener(self) -> bool:
        """False when something in front of the listener failed the attempt first."""
        return self._row not in self._ledger.unreached

    @reached_listener.setter
    def reached_listener(self, value: bool) -> None:
        if value:
            self._ledger.unreached.discard(self._row)
        else:
            self._ledger.unreached.add(self._row)

    @property
    def snapshot(self) -> EnvelopeState:
        """The envelope state this attempt carried (made when first read)."""
        return self._ledger.history(self._ledger.message_of(self._row)).snapshot(self.position)

    @property
    def _renderer(self) -> Renderer:
        ledger = self._ledger
        renderer = ledger.channels[ledger.channel_of(ledger.message_of(self._row))][1]
        if renderer is None:
            raise ConfigurationError("this attempt was made without a renderer")
        return renderer

    @property
    def body(self) -> bytes:
        """The exact body bytes of this attempt (JSON or XML, UTF-8), rendered once.

        Byte-identical for the same scenario and seed; ``retryCount`` and, under
        Aggregate, the status and ``generatedDateTime`` reflect this attempt.
        """
        bodies = self._ledger.bodies
        body = bodies.get(self._row)
        if body is None:
            body = bodies[self._row] = self._renderer.body(self)
        return body

    @property
    def headers(self) -> dict[str, str]:
        """The request headers of this attempt (a new dict each time; rendered once).

        ``Content-Type``, ``X-DocuSign-AccountId``, ``Authorization`` with Basic
        auth, and ``X-Authorization-Digest`` with one ``X-DocuSign-Signature-N``
        per HMAC key.  The ``Authorization`` value carries the password: show
        headers to people through :func:`connect_sim.report.trace_records`,
        which hides it.
        """
        kept = self._ledger.headers
        headers = kept.get(self._row)
        if headers is None:
            headers = kept[self._row] = self._renderer.headers(self.body)
        return dict(headers)

    def render(self) -> tuple[bytes, dict[str, str]]:
        """The body and headers of this attempt, without keeping them.

        The same bytes and headers as :attr:`body` and :attr:`headers` (which
        render once and keep the result): what this attempt already keeps is
        returned, anything else is rendered afresh and not kept, nor is the
        snapshot it was rendered from (see :func:`in_passing`).  For a writer
        that streams a long run to disk one attempt at a time.
        """
        renderer = self._renderer
        body = self._ledger.bodies.get(self._row)
        if body is None:
            body = renderer.body(in_passing(self))
        headers = self._ledger.headers.get(self._row)
        return body, renderer.headers(body) if headers is None else dict(headers)

    @property
    def content_type(self) -> str:
        """The body's ``Content-Type``."""
        return self._renderer.content_type

    @property
    def event(self) -> str:
        """The name of the most recent event the message stands for."""
        return self.message.event

    @property
    def sequence(self) -> int:
        """The message's creation order in the run."""
        return self._ledger.message_of(self._row) + 1

    @property
    def retry_count(self) -> int:
        """How many earlier attempts this message had: the body's ``retryCount``."""
        return self.number - 1

    @property
    def merged_events(self) -> tuple[str, ...]:
        """The names of the events the message stands for."""
        return self.message.merged_events

    @property
    def envelope(self) -> Envelope:
        """The envelope the message is about."""
        return self._ledger.history(self._ledger.message_of(self._row)).envelope

    @property
    def recipient(self) -> Recipient | None:
        """The recipient of the message's most recent event, if any."""
        return self.message.recipient

    @property
    def ok(self) -> bool:
        """True when the listener answered 2xx in time."""
        return self._ledger.ok(self._row)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Attempt):
            return NotImplemented
        return self._row == other._row and self._ledger is other._ledger

    def __hash__(self) -> int:
        return hash(("attempt", self._row))

    def __repr__(self) -> str:
        return (
            f"<Attempt t={self.time} {self.configuration!r} #{self.sequence} "
            f"{self.event} try {self.number}: {self.status} {self.outcome}>"
        )


class AttemptLog(ReadOnlyList[Attempt]):
    """Every attempt of a run, in the order they started: a sequence of views."""

    __slots__ = ("_ledger",)

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def __len__(self) -> int:
        return self._ledger.attempts

    @overload
    def __getitem__(self, index: int) -> Attempt: ...
    @overload
    def __getitem__(self, index: slice) -> list[Attempt]: ...
    def __getitem__(self, index: int | slice) -> Attempt | list[Attempt]:
        rows = range(self._ledger.attempts)
        if isinstance(index, slice):
            return [Attempt(self._ledger, row) for row in rows[index]]
        return Attempt(self._ledger, rows[index])  # negative indexes, IndexError: as a list

    def __iter__(self) -> Iterator[Attempt]:
        ledger = self._ledger
        return (Attempt(ledger, row) for row in range(ledger.attempts))

    def __repr__(self) -> str:
        return f"<AttemptLog of {len(self)} attempts>"


class Failure:
    """A message given up: it will never be delivered, and why.

    (The failure log as DocuSign lists it, which also holds messages still
    waiting for a retry, is :meth:`connect_sim.Simulation.failure_log`.)

    Attributes:
        time: when it was given up, in ms.
        message: the message.
        reason: why, in words (``"no 2xx after 11 attempts"``, ...).
    """

    __slots__ = ("message", "reason", "time")

    def __init__(self, time: int, message: Message, reason: str) -> None:
        self.time = time
        self.message = message
        self.reason = reason

    def __repr__(self) -> str:
        return (
            f"<Failure t={self.time} #{self.message.sequence} {self.message.event}: {self.reason}>"
        )


class Skip:
    """A skip: the attempt a paused configuration would have made, and did not.

    Not an attempt: it does not count towards the retry limit, and nothing
    reaches the listener.

    Attributes:
        time: when, in ms.
        message: the message that waits.
        number: the number the attempt would have had (the next real attempt's).
        retry_count: the attempts made so far (the next real attempt's ``retryCount``).
        snapshot: the envelope state the attempt would have carried.
        generated: the generated time it would have carried, in ms.
    """

    __slots__ = ("_position", "generated", "message", "number", "time")

    def __init__(self, ledger: Ledger, time: int, message: int, number: int,
                 position: int, generated: int) -> None:  # fmt: skip
        self.time = time
        self.message = Message(ledger, message)
        self.number = number
        self._position = position
        self.generated = generated

    @property
    def configuration(self) -> str:
        """The configuration's name."""
        return self.message.configuration

    @property
    def retry_count(self) -> int:
        """The attempts made so far: the next real attempt's ``retryCount``."""
        return self.number - 1

    @property
    def snapshot(self) -> EnvelopeState:
        """The envelope state the attempt would have carried."""
        return self.message.history.snapshot(self._position)

    def __repr__(self) -> str:
        return (
            f"<Skip t={self.time} {self.configuration!r} #{self.message.sequence} "
            f"{self.message.event} (would be try {self.number})>"
        )


class _InPassing(Attempt):
    """An attempt read in passing: its snapshot is not kept by its history."""

    __slots__ = ()

    @property
    def snapshot(self) -> EnvelopeState:
        """The envelope state this attempt carried (kept only if it was kept already)."""
        ledger = self._ledger
        history = ledger.history(ledger.message_of(self._row))
        return history.peek(self.position, ledger.passing)


class _SkipInPassing(Skip):
    """A skip read in passing: its snapshot is not kept by its history."""

    __slots__ = ()

    @property
    def snapshot(self) -> EnvelopeState:
        """The envelope state the attempt would have carried (kept only if it was already)."""
        message = self.message
        return message.history.peek(self._position, message._ledger.passing)


@overload
def in_passing(item: Attempt) -> Attempt: ...
@overload
def in_passing(item: Skip) -> Skip: ...
def in_passing(item: Attempt | Skip) -> Attempt | Skip:
    """The same attempt (or skip), its snapshot made without its history keeping it.

    An envelope keeps every snapshot once made, so that a user reading one
    twice gets the same object; a writer that reads each of a long run's
    snapshots once, to render it, would make the run keep them all (about 2
    KB an envelope).  This view reads them through
    :meth:`History.peek <connect_sim.history.History.peek>` instead: equal
    states, kept a few thousand envelopes at a time.
    """
    if type(item) in (_InPassing, _SkipInPassing):
        return item
    if isinstance(item, Attempt):
        return _InPassing(item._ledger, item._row)
    message = item.message
    return _SkipInPassing(message._ledger, item.time, message._row, item.number, item._position,
                          item.generated)  # fmt: skip
