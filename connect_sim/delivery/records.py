"""What delivery produces: messages, attempts and failure-log entries.

A :class:`Message` is what a configuration owes its listener: under SIM one per
event, under Aggregate one per burst of events of an envelope.  An
:class:`Attempt` is one try at delivering it, with the snapshot and generated
time that the try carried.  A :class:`Failure` is a failure-log entry: a
message that will never be delivered, and why.

Theory of operation
-------------------
A run of a million envelopes makes six million messages and as many attempts,
and a capacity study reads their counts, a listener test a few of them.  So
the run keeps them in a :class:`Ledger`, as columns: a message is a row of
five numbers, an attempt a row of eight (arrays of machine integers, about 70
bytes for both, where two objects cost about 500), and what few rows have
(an error, a duplicate) is in a dict or set by row.  :class:`Message` and
:class:`Attempt` are *views*: a ledger and a row, made when something reads
them, which read and write the ledger's columns.  Two views of one row are
equal and hash alike; a view holds its ledger, and the ledger holds no view
(no reference cycle), so nothing a run leaves needs the cyclic collector.

A message's snapshot, generated time and attempt count are those of its
latest attempt that was not a duplicate, or, before its first attempt, its
first event's: one column (``m_last``) says which, so nothing is stored
twice.  When its latest attempt ended (a duplicate's too, as listeners saw
it) is a column of its own, written when the answer comes.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final, overload

from ..errors import ConfigurationError
from ..rows import ReadOnlyList

if TYPE_CHECKING:
    from ..envelope import Envelope, EnvelopeState, Recipient
    from ..events import Event, EventLog
    from ..history import History
    from ..render import Renderer

__all__ = [
    "DELIVERED",
    "DISCARDED",
    "FAILED",
    "RETRY",
    "Attempt",
    "AttemptLog",
    "Failure",
    "Ledger",
    "Message",
]

# Attempt outcomes, as traces write them.
DELIVERED: Final = "delivered"  # a 2xx in time
RETRY: Final = "retry"  # failed; the message waits for a retry
FAILED: Final = "failed"  # failed; the message went to the failure log
DISCARDED: Final = "discarded"  # a failed accidental duplicate: Connect does not retry those

#: Outcomes by the code the ledger keeps (0: not ended yet).
OUTCOMES: Final = ("", DELIVERED, RETRY, FAILED, DISCARDED)
O_DELIVERED, O_RETRY, O_FAILED, O_DISCARDED = 1, 2, 3, 4

# Message states.
OPEN: Final = "open"  # Aggregate: still taking events
QUEUED: Final = "queued"  # waiting for its first attempt
WAITING_RETRY: Final = "retry"  # failed at least once, waiting to be retried
RELEASED: Final = "released"  # Aggregate: a retry released by a later success
IN_FLIGHT: Final = "in-flight"
SENT_OK: Final = "delivered"
GAVE_UP: Final = "failed"

#: Message states by the code the ledger keeps.
STATES: Final = (OPEN, QUEUED, WAITING_RETRY, RELEASED, IN_FLIGHT, SENT_OK, GAVE_UP)
S_OPEN, S_QUEUED, S_RETRY, S_RELEASED, S_IN_FLIGHT, S_DELIVERED, S_FAILED = range(7)
#: The codes of the states in which a message is still owed (neither delivered nor failed).
PENDING_CODES: Final = frozenset({S_OPEN, S_QUEUED, S_RETRY, S_RELEASED, S_IN_FLIGHT})

_NO_STATUS: Final = 0  # the status column's "no answer"


class Ledger:
    """A run's messages and attempts, as columns (see the module's theory of operation).

    Message rows are the messages' sequence numbers less one; attempt rows are
    the attempts' places in the run, in the order they started.
    """

    __slots__ = ("a_end", "a_generated", "a_message", "a_number", "a_outcome", "a_position",
                 "a_status", "a_time", "bodies", "channels", "duplicates", "errors", "events",
                 "headers", "m_channel", "m_end", "m_event", "m_last", "m_state", "merged",
                 "unreached")  # fmt: skip

    def __init__(self, events: EventLog) -> None:
        self.events = events
        #: Per channel number: its configuration's name and its renderer.
        self.channels: list[tuple[str, Renderer | None]] = []
        # Messages.
        self.m_channel = array("I")
        self.m_event = array("q")  # its first event's row
        self.m_state = array("B")
        self.m_last = array("q")  # its latest attempt that was not a duplicate, or -1
        self.m_end = array("q")  # when its latest attempt (duplicates too) ended; 0 before
        self.merged: dict[int, list[int]] = {}  # Aggregate: the rows of its later events
        # Attempts.
        self.a_message = array("q")
        self.a_time = array("q")
        self.a_end = array("q")
        self.a_number = array("i")
        self.a_position = array("i")  # the snapshot carried: the envelope's state after event n
        self.a_generated = array("q")
        self.a_status = array("h")  # 0: no answer
        self.a_outcome = array("B")
        self.duplicates: set[int] = set()
        self.errors: dict[int, str] = {}
        self.unreached: set[int] = set()
        self.bodies: dict[int, bytes] = {}
        self.headers: dict[int, dict[str, str]] = {}

    def add_channel(self, name: str, renderer: Renderer | None) -> int:
        """Register a configuration's channel; return its number."""
        self.channels.append((name, renderer))
        return len(self.channels) - 1

    def add_message(self, channel: int, event: int, state: int) -> int:
        """A new message of ``channel`` standing for event row ``event``; return its row."""
        self.m_channel.append(channel)
        self.m_event.append(event)
        self.m_state.append(state)
        self.m_last.append(-1)
        self.m_end.append(0)
        return len(self.m_event) - 1

    def add_attempt(
        self,
        message: int,
        time: int,
        number: int,
        position: int,
        generated: int,
        status: int | None = None,
        end: int | None = None,
        outcome: int = 0,
    ) -> int:
        """A new attempt of ``message``; return its row (status and end may follow)."""
        self.a_message.append(message)
        self.a_time.append(time)
        self.a_end.append(time if end is None else end)
        self.a_number.append(number)
        self.a_position.append(position)
        self.a_generated.append(generated)
        self.a_status.append(_NO_STATUS if status is None else status)
        self.a_outcome.append(outcome)
        return len(self.a_time) - 1

    def delivered_at_once(
        self, channel: int, event: int, time: int, position: int, status: int
    ) -> int:
        """A message of ``channel`` for ``event``, delivered by its first attempt at once.

        The rows :meth:`add_message` and :meth:`add_attempt` would write, and the
        settlement after them, in one go (SIM's common case); returns the attempt's row.
        """
        message = len(self.m_event)
        attempt = len(self.a_time)
        self.m_channel.append(channel)
        self.m_event.append(event)
        self.m_state.append(S_DELIVERED)
        self.m_last.append(attempt)
        self.m_end.append(time)
        self.a_message.append(message)
        self.a_time.append(time)
        self.a_end.append(time)
        self.a_number.append(1)
        self.a_position.append(position)
        self.a_generated.append(time)
        self.a_status.append(status)
        self.a_outcome.append(O_DELIVERED)
        return attempt

    def delivered_now(
        self, message: int, time: int, number: int, position: int, generated: int, status: int
    ) -> int:
        """An attempt of ``message`` answered 2xx at once, and the message delivered by it.

        What :meth:`add_attempt` and the settlement after it write, in one go (a SIM
        queue flushing); returns the attempt's row.
        """
        attempt = len(self.a_time)
        self.a_message.append(message)
        self.a_time.append(time)
        self.a_end.append(time)
        self.a_number.append(number)
        self.a_position.append(position)
        self.a_generated.append(generated)
        self.a_status.append(status)
        self.a_outcome.append(O_DELIVERED)
        self.m_state[message] = S_DELIVERED
        self.m_last[message] = attempt
        self.m_end[message] = time
        return attempt

    def attempts_of(self, message: int) -> int:
        """How many attempts (duplicates aside) ``message`` has had."""
        last = self.m_last[message]
        return 0 if last < 0 else self.a_number[last]

    def last_end(self, message: int) -> int:
        """When the message's latest attempt ended (a duplicate too); 0 before the first."""
        return self.m_end[message]

    def history(self, message: int) -> History:
        """The envelope history a message's snapshots come from."""
        return self.events.histories[self.m_event[message]]

    def envelope_id(self, message: int) -> str:
        """The id of the envelope a message is about."""
        return self.events.histories[self.m_event[message]].envelope.id

    def ok(self, attempt: int) -> bool:
        """True when the attempt was answered with a 2xx in time."""
        return 200 <= self.a_status[attempt] < 300


class Message:
    """A message a configuration owes its listener (a view of a ledger's row).

    Attributes:
        sequence: its creation order in the whole run, from 1.
        configuration: the name of the configuration it belongs to.
        events: the events it stands for, oldest first (SIM: exactly one).
        snapshot: the envelope state it carries (Aggregate: as of its latest attempt).
        generated: the generated time it carries, in ms (SIM: the event time).
        attempts: how many delivery attempts it has had so far.
        state: ``open``, ``queued``, ``retry``, ``released``, ``in-flight``,
            ``delivered`` or ``failed``.
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
        return ledger.channels[ledger.m_channel[self._row]][0]

    def _event_rows(self) -> list[int]:
        ledger = self._ledger
        return [ledger.m_event[self._row], *ledger.merged.get(self._row, ())]

    @property
    def events(self) -> list[Event]:
        """The events it stands for, oldest first (SIM: exactly one)."""
        event = self._ledger.events.event
        return [event(row) for row in self._event_rows()]

    @property
    def last_event(self) -> Event:
        """The most recent event the message stands for."""
        return self._ledger.events.event(self._event_rows()[-1])

    @property
    def event(self) -> str:
        """The name of the most recent event the message stands for."""
        return self._ledger.events.names[self._event_rows()[-1]]

    @property
    def merged_events(self) -> tuple[str, ...]:
        """The names of all the events it stands for, oldest first."""
        names = self._ledger.events.names
        return tuple(names[row] for row in self._event_rows())

    @property
    def history(self) -> History:
        """The envelope history its snapshots come from."""
        return self._ledger.history(self._row)

    @property
    def position(self) -> int:
        """The snapshot it carries: the envelope's state after its event number ``position``."""
        ledger = self._ledger
        last = ledger.m_last[self._row]
        if last < 0:
            return ledger.events.positions[ledger.m_event[self._row]]
        return ledger.a_position[last]

    @property
    def snapshot(self) -> EnvelopeState:
        """The envelope state it carries (Aggregate: as of its latest attempt)."""
        return self.history.snapshot(self.position)

    @property
    def generated(self) -> int:
        """The generated time it carries, in ms (SIM: the event time)."""
        ledger = self._ledger
        last = ledger.m_last[self._row]
        if last < 0:
            return ledger.events.times[ledger.m_event[self._row]]
        return ledger.a_generated[last]

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
        """Its state: one of the seven the class's docstring lists."""
        return STATES[self._ledger.m_state[self._row]]

    @property
    def envelope(self) -> Envelope:
        """The envelope it is about."""
        return self.history.envelope

    @property
    def recipient(self) -> Recipient | None:
        """The recipient of its most recent event, or ``None`` for an envelope event."""
        ledger = self._ledger
        index = ledger.events.recipients[self._event_rows()[-1]]
        return None if index is None else self.envelope.recipients[index]

    @property
    def pending(self) -> bool:
        """True while the message is neither delivered nor in the failure log."""
        return self._ledger.m_state[self._row] in PENDING_CODES

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

    @property
    def time(self) -> int:
        """When it started, in ms since the scenario start."""
        return self._ledger.a_time[self._row]

    @property
    def end(self) -> int:
        """When it ended (the answer, or the timeout), in ms."""
        return self._ledger.a_end[self._row]

    @property
    def message(self) -> Message:
        """The message being delivered."""
        return Message(self._ledger, self._ledger.a_message[self._row])

    @property
    def configuration(self) -> str:
        """The configuration's name."""
        ledger = self._ledger
        return ledger.channels[ledger.m_channel[ledger.a_message[self._row]]][0]

    @property
    def number(self) -> int:
        """1 for the first attempt of the message, 2 for its first retry, ..."""
        return self._ledger.a_number[self._row]

    @property
    def position(self) -> int:
        """The snapshot it carried: the envelope's state after its event number ``position``."""
        return self._ledger.a_position[self._row]

    @property
    def generated(self) -> int:
        """The generated time this attempt carried, in ms."""
        return self._ledger.a_generated[self._row]

    @property
    def status(self) -> int | None:
        """The HTTP status, or ``None`` when the listener did not answer in time."""
        status = self._ledger.a_status[self._row]
        return None if status == _NO_STATUS else status

    @property
    def outcome(self) -> str:
        """``delivered``, ``retry``, ``failed`` or ``discarded`` (empty while in flight)."""
        return OUTCOMES[self._ledger.a_outcome[self._row]]

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
        ledger = self._ledger
        return ledger.history(ledger.a_message[self._row]).snapshot(ledger.a_position[self._row])

    @property
    def _renderer(self) -> Renderer:
        ledger = self._ledger
        renderer = ledger.channels[ledger.m_channel[ledger.a_message[self._row]]][1]
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
        returned, anything else is rendered afresh and not kept.  For a writer
        that streams a long run to disk one attempt at a time.
        """
        renderer = self._renderer
        body = self._ledger.bodies.get(self._row)
        if body is None:
            body = renderer.body(self)
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
        return self._ledger.a_message[self._row] + 1

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
        return self._ledger.history(self._ledger.a_message[self._row]).envelope

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
        return len(self._ledger.a_time)

    @overload
    def __getitem__(self, index: int) -> Attempt: ...
    @overload
    def __getitem__(self, index: slice) -> list[Attempt]: ...
    def __getitem__(self, index: int | slice) -> Attempt | list[Attempt]:
        rows = range(len(self._ledger.a_time))
        if isinstance(index, slice):
            return [Attempt(self._ledger, row) for row in rows[index]]
        return Attempt(self._ledger, rows[index])  # negative indexes, IndexError: as a list

    def __iter__(self) -> Iterator[Attempt]:
        ledger = self._ledger
        return (Attempt(ledger, row) for row in range(len(ledger.a_time)))

    def __repr__(self) -> str:
        return f"<AttemptLog of {len(self)} attempts>"


class Failure:
    """A failure-log entry: a message that will never be delivered, and why.

    Attributes:
        time: when it went to the failure log, in ms.
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
