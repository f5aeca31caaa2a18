"""The ledger: a run's messages and attempts, kept as columns of machine integers.

Theory of operation
-------------------
A run of a million envelopes makes six million messages and as many attempts,
and a capacity study reads their counts, a listener test a few of them.  So
the run keeps them in a :class:`Ledger`, as columns: a message is a row of
four numbers, an attempt a row of up to eight (arrays of machine integers,
32 bytes for both in a SIM run, where two objects cost about 500), and what
few rows have (an error, a duplicate, a body once read) is in a dict or set
by row.  The delivery channels write the rows;
:mod:`connect_sim.delivery.records` makes the :class:`~.records.Message` and
:class:`~.records.Attempt` views that users read.  States and outcomes are
kept as small codes, and the tables below give their names.

A message's snapshot, generated time and attempt count are those of its
latest attempt that was not a duplicate, or, before its first attempt, its
first event's: one column (``m_last``) says which, so nothing is stored
twice.  When its latest attempt ended (a duplicate's too, as listeners saw
it) is that attempt's end: ``m_last``'s, or the duplicate's that
``latest_duplicate`` names, for the few messages whose latest attempt was
one; while a listener reads an attempt to answer it (or after its answer
raised), the attempt before's (``answering``), as the listener saw it.

Columns that end early
----------------------
Three attempt columns hold what most attempts do not need: ``a_end`` (an
attempt answered at once ends when it starts) and ``a_position`` and
``a_generated`` (a SIM attempt carries its message's own event, its snapshot
and time; only Aggregate's carry the envelope's latest).  Each is written
only as far as its last attempt that needs it: a row past its end takes the
default (the start; the message's own, :meth:`Ledger.own`).  The first
attempt that needs one writes the defaults of the rows before it, once, and
then its own value (:meth:`Ledger.set_end`, :meth:`Ledger.add_attempt`).
So a SIM run keeps 19 bytes an attempt in its columns, not 39, and a run
whose listener takes time, or an Aggregate run, keeps what it did before.
:meth:`Ledger.end_of` and :meth:`Ledger.carried_by` read them.

Delivered at once, written short
--------------------------------
Nearly every message of a large SIM run is delivered at once by its first
attempt (the queue was idle and the listener answered 2xx without latency).
Such a message and its attempt are fully given by the channel, the event and
the status: every other value follows (times, end and generated time are the
event's; the snapshot is the event's; one attempt, delivered).  So
:meth:`Ledger.delivered_at_once` keeps them as one packed integer in
``quick`` (8 bytes where the two rows cost 32) and they take the next message
and attempt rows, after the rows in the columns.  :meth:`Ledger.flush` writes
them into the columns, in order, with the standard library's C loops; it
runs before any other write, so that rows stay in order.  Reading needs no
flush: a row at or past the end of its columns is kept short, and the
ledger's readers (:meth:`Ledger.event_of`, :meth:`Ledger.message_of`,
:meth:`Ledger.carried`, ...) and the views of
:mod:`~connect_sim.delivery.records` read what its packed integer says (its
event, channel and status) and derive the rest.  So a writer that reads
every attempt of a long run keeps 8 bytes an attempt, not 60.  A short row
never changes: it is delivered, and nothing writes a delivered message or
its attempt again.  Within the delivery code, a row a channel holds (one
waiting, in flight or logged) was written by a general write, so it is in
the columns.
``tests/test_fast_path.py`` holds every reading to the general path's.

Between the attempts
--------------------
A trace also shows what is not an attempt: a *skip* (a paused configuration
would have attempted a message) and an administrative action (a pause, a
deleted failure).  Both are rare, so the ledger keeps them as a list of
``notes`` in the order they happened, each with the number of attempts made
before it; the trace puts each note before the attempt of that number.

A republished message (see ``connect_sim.operations``) is a message like
another, but what it says is fixed by the republish, not by an event: its
event name, snapshot and generated time are kept in ``republished`` by its
row, and its ``m_event`` is the envelope's event it was made after (for its
history).  :meth:`Ledger.own` and :meth:`Ledger.carried` read them.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from ..events import EventLog
    from ..history import History, Passing
    from ..render import Renderer

__all__ = ["NO_STATUS", "OUTCOMES", "PENDING_CODES", "ROW", "SKIPPED", "STATES", "Ledger", "Note"]

# Attempt outcomes, as traces write them.
DELIVERED: Final = "delivered"  # a 2xx in time
RETRY: Final = "retry"  # failed; the message waits for a retry
FAILED: Final = "failed"  # failed; the message went to the failure log
DISCARDED: Final = "discarded"  # a failed accidental duplicate: Connect does not retry those
SKIPPED: Final = "skipped"  # a paused configuration: no attempt (a note, not an attempt row)

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
REPUBLISHED: Final = "republished"  # withdrawn by a republish: a new message stands for it

#: Message states by the code the ledger keeps.
STATES: Final = (OPEN, QUEUED, WAITING_RETRY, RELEASED, IN_FLIGHT, SENT_OK, GAVE_UP, REPUBLISHED)
S_OPEN, S_QUEUED, S_RETRY, S_RELEASED, S_IN_FLIGHT, S_DELIVERED, S_FAILED, S_REPUBLISHED = range(8)
#: The codes of the states in which a message is still owed (neither delivered nor failed).
PENDING_CODES: Final = frozenset({S_OPEN, S_QUEUED, S_RETRY, S_RELEASED, S_IN_FLIGHT})

NO_STATUS: Final = 0  # the status column's "no answer"
#: The type of the columns that hold rows: signed 32 bits (-1 for none).  A run would
#: need over 100 GB to make 2**31 messages or attempts.
ROW: Final = "i"

# A message delivered at once, packed: event row << 32 | channel << 10 | status.
_CHANNEL_BITS: Final = 22
_CHANNEL_MASK: Final = (1 << _CHANNEL_BITS) - 1

#: What the trace shows between attempts (see the module's doc): ``(attempts before it,
#: "skip", (time, message, number, position, generated))`` or ``(attempts before it,
#: "action", the trace record)``.
Note = tuple[int, str, Any]
_STATUS_BITS: Final = 10
_STATUS_MASK: Final = (1 << _STATUS_BITS) - 1


def _repeated(typecode: str, value: int, count: int) -> array[int]:
    """``count`` times ``value``, as an array (made by C, where extending by a repeat is not)."""
    return array(typecode, (value,)) * count


def _gather(column: Sequence[int], rows: Sequence[int], typecode: str = "q") -> array[int]:
    """``column[row]`` for each of ``rows``, as an array, gathered by C (``itemgetter``)."""
    if len(rows) == 1:  # one index: itemgetter gives the item, not a tuple of it
        return array(typecode, (column[rows[0]],))
    return array(typecode, itemgetter(*rows)(column))


class Ledger:
    """A run's messages and attempts, as columns (see the module's theory of operation).

    Message rows are the messages' sequence numbers less one; attempt rows are
    the attempts' places in the run, in the order they started.
    """

    __slots__ = ("a_end", "a_generated", "a_message", "a_number", "a_outcome", "a_position",
                 "a_status", "a_time", "answering", "bodies", "channels", "duplicates",
                 "error_kinds", "errors", "events", "headers", "latest_duplicate", "m_channel",
                 "m_event", "m_last", "m_state", "merged", "notes", "passing", "quick",
                 "republished", "unreached")  # fmt: skip

    def __init__(self, events: EventLog) -> None:
        self.events = events
        #: Per channel number: its configuration's name, its renderer and its mode.
        self.channels: list[tuple[str, Renderer | None, str]] = []
        # Messages.
        self.m_channel = array("I")
        self.m_event = array(ROW)  # its first event's row
        self.m_state = array("B")
        self.m_last = array(ROW)  # its latest attempt that was not a duplicate, or -1
        #: A message whose latest attempt is a duplicate: that attempt's row.
        self.latest_duplicate: dict[int, int] = {}
        #: A message whose latest attempt has no valid answer yet (a listener is reading it,
        #: or its answer raised): its last end before that attempt, what readers see.
        self.answering: dict[int, int] = {}
        self.merged: dict[int, list[int]] = {}  # Aggregate: the rows of its later events
        # Attempts.
        self.a_message = array(ROW)
        self.a_time = array("q")
        self.a_end = array("q")  # ends early (see the module's doc): the start past its end
        self.a_number = array("i")
        # The snapshot carried (the envelope's state after event n) and its generated time;
        # both end early (see the module's doc): the message's own past their end.
        self.a_position = array("i")
        self.a_generated = array("q")
        self.a_status = array("h")  # 0: no answer
        self.a_outcome = array("B")
        self.duplicates: set[int] = set()
        self.errors: dict[int, str] = {}
        self.unreached: set[int] = set()
        self.error_kinds: dict[int, str] = {}  # attempt row -> why an Http listener got no answer
        self.bodies: dict[int, bytes] = {}
        self.headers: dict[int, dict[str, str]] = {}
        #: Messages delivered at once, not in the columns yet (see the module's doc).
        self.quick = array("q")
        #: Skips and administrative actions, in the order they happened (see the module's doc).
        self.notes: list[Note] = []
        #: Republished messages by row: (event name, snapshot position, generated time).
        self.republished: dict[int, tuple[str, int, int]] = {}
        #: Snapshots made for a writer in passing, not kept by their histories (History.peek).
        self.passing: Passing = {}

    @property
    def messages(self) -> int:
        """How many messages there are."""
        return len(self.m_event) + len(self.quick)

    @property
    def attempts(self) -> int:
        """How many attempts there are."""
        return len(self.a_time) + len(self.quick)

    def note_skip(
        self, time: int, message: int, number: int, position: int, generated: int
    ) -> None:
        """A skip: ``message`` would have had attempt ``number``, carrying that snapshot."""
        self.notes.append((self.attempts, "skip", (time, message, number, position, generated)))

    def note_action(self, record: dict[str, Any], before: int | None = None) -> None:
        """An administrative action, as its trace record.

        ``before`` is the number of attempts made when the action began, for an
        action that makes attempts of its own (a synchronous republish): its
        line goes before them, as an action's line goes before its instant's
        attempts, though its record (their results) is known only after.
        """
        self.notes.append((self.attempts if before is None else before, "action", record))

    def add_channel(self, name: str, renderer: Renderer | None, mode: str = "sim") -> int:
        """Register a configuration's channel (one of its queues); return its number."""
        if len(self.channels) >= 1 << _CHANNEL_BITS:
            raise ValueError(f"a run takes at most {1 << _CHANNEL_BITS} configurations")
        self.channels.append((name, renderer, mode))
        return len(self.channels) - 1

    def flush(self) -> None:
        """Write the messages delivered at once into the columns (see the module's doc)."""
        quick = self.quick
        if not quick:
            return
        count = len(quick)
        first_message, first_attempt = len(self.m_event), len(self.a_time)
        event = [packed >> 32 for packed in quick]
        self.m_channel.extend(array("I", [packed >> _STATUS_BITS & _CHANNEL_MASK
                                          for packed in quick]))  # fmt: skip
        self.m_event.extend(array(ROW, event))
        self.m_state.extend(_repeated("B", S_DELIVERED, count))
        self.m_last.extend(array(ROW, range(first_attempt, first_attempt + count)))
        self.a_message.extend(array(ROW, range(first_message, first_message + count)))
        self.a_time.extend(_gather(self.events.times, event))
        # a_end, a_position and a_generated end early: these rows take their defaults.
        self.a_number.extend(_repeated("i", 1, count))
        self.a_status.extend(array("h", [packed & _STATUS_MASK for packed in quick]))
        self.a_outcome.extend(_repeated("B", O_DELIVERED, count))
        self.quick = array("q")

    def add_message(self, channel: int, event: int, state: int) -> int:
        """A new message of ``channel`` standing for event row ``event``; return its row."""
        if self.quick:
            self.flush()
        self.m_channel.append(channel)
        self.m_event.append(event)
        self.m_state.append(state)
        self.m_last.append(-1)
        return len(self.m_event) - 1

    def add_attempt(
        self,
        message: int,
        time: int,
        number: int,
        position: int,
        generated: int,
    ) -> int:
        """A new attempt of ``message`` carrying that snapshot; return its row.

        It ends when it starts, with no status and no outcome, until
        :meth:`set_end` and the channel's settlement say otherwise.
        """
        if self.quick:
            self.flush()
        row = len(self.a_time)
        self.a_message.append(message)
        self.a_time.append(time)
        self.a_number.append(number)
        self.a_status.append(NO_STATUS)
        self.a_outcome.append(0)
        if (position, generated) == self.own(message):
            return row  # carries its own: the columns end early (see the module's doc)
        events, a_position, a_generated = self.events, self.a_position, self.a_generated
        start = len(a_position)
        if start < row:  # the defaults of the rows before, once, gathered by C
            messages = self.a_message[start:row]
            firsts = _gather(self.m_event, messages, ROW)  # their messages' first events
            a_position.extend(_gather(events.positions, firsts, "i"))
            a_generated.extend(_gather(events.times, firsts))
            if self.republished:
                for place, earlier in enumerate(messages, start):
                    if earlier in self.republished:
                        a_position[place], a_generated[place] = self.own(earlier)
        a_position.append(position)
        a_generated.append(generated)
        return row

    def set_end(self, attempt: int, end: int) -> None:
        """When ``attempt`` ended (its answer or its timeout), if not when it started."""
        a_end = self.a_end
        if attempt < len(a_end):
            a_end[attempt] = end
        elif end != self.a_time[attempt]:
            a_end.extend(self.a_time[len(a_end) : attempt])  # their defaults: their starts
            a_end.append(end)

    def delivered_at_once(
        self, channel: int, event: int, time: int, position: int, status: int
    ) -> tuple[int, int]:
        """A message of ``channel`` for ``event``, delivered by its first attempt at once.

        SIM's common case: the message and its attempt written, and settled, in one
        call; returns the message's row and the attempt's.  ``time`` and ``position``
        must be the event's (the attempt carries its own event's snapshot at the
        event's time), and ``status`` a 2xx: then the two are kept short, as one
        packed integer (see the module's doc).
        """
        quick = self.quick
        quick.append(event << 32 | channel << _STATUS_BITS | status)
        return len(self.m_event) + len(quick) - 1, len(self.a_time) + len(quick) - 1

    def delivered_in_turn(self, messages: list[int], time: int, statuses: list[int]) -> int:
        """Attempts of SIM ``messages`` at ``time``, in turn, each answered 2xx at once.

        What :meth:`add_attempt` and the settlement after it write, for a SIM queue
        flushing after a retry: each attempt carries its message's own event (its
        snapshot and time), its status is the one given, and its message is
        delivered by it.  Only the first message can have been attempted before
        (SIM attempts the head only; ``SimChannel.check`` asserts it).  Written
        column by column with C loops (a queue's rows are consecutive when it is
        the run's only one, and then they are slices); returns the first
        attempt's row (the others follow it).
        """
        if self.quick:
            self.flush()
        first = len(self.a_time)
        count = len(messages)
        head, last = messages[0], messages[-1]
        consecutive = last - head == count - 1
        self.a_message.extend(array(ROW, messages))
        self.a_time.extend(_repeated("q", time, count))
        # a_end, a_position and a_generated end early: each ends at its start and carries
        # its message's own (a republished message's too), their defaults.
        self.a_number.append(self.attempts_of(head) + 1)
        self.a_number.extend(_repeated("i", 1, count - 1))
        self.a_status.extend(array("h", statuses))
        self.a_outcome.extend(_repeated("B", O_DELIVERED, count))
        rows = range(first, first + count)
        for pending in (self.latest_duplicate, self.answering):
            if pending:  # what a message's latest attempt was: this one now
                for message in messages:
                    pending.pop(message, None)
        if consecutive:
            self.m_state[head : last + 1] = _repeated("B", S_DELIVERED, count)
            self.m_last[head : last + 1] = array(ROW, rows)
        else:
            m_state, m_last = self.m_state, self.m_last
            for attempt, message in zip(rows, messages, strict=True):
                m_state[message] = S_DELIVERED
                m_last[message] = attempt
        return first

    # Reading a row: in the columns, or kept short (see the module's doc).  A message
    # kept short and its attempt are the same place in ``quick``: ``message -
    # len(m_event)`` is ``attempt - len(a_time)``.  Each reader decodes only what it
    # returns, because a writer reads a dozen of them an attempt.

    def event_of(self, message: int) -> int:
        """A message's first event's row."""
        m_event = self.m_event
        if message < len(m_event):
            return m_event[message]
        return self.quick[message - len(m_event)] >> 32

    def channel_of(self, message: int) -> int:
        """The number of the channel (configuration queue) a message is in."""
        m_channel = self.m_channel
        if message < len(m_channel):
            return m_channel[message]
        return self.quick[message - len(m_channel)] >> _STATUS_BITS & _CHANNEL_MASK

    def state_of(self, message: int) -> int:
        """A message's state code (see :data:`STATES`)."""
        m_state = self.m_state
        return m_state[message] if message < len(m_state) else S_DELIVERED

    def message_of(self, attempt: int) -> int:
        """The row of the message an attempt delivers."""
        a_message = self.a_message
        if attempt < len(a_message):
            return a_message[attempt]
        return len(self.m_event) + attempt - len(a_message)

    def event_time(self, attempt: int) -> int:
        """The time of the event of an attempt kept short: its start, end and generated time."""
        return self.events.times[self.quick[attempt - len(self.a_time)] >> 32]

    def end_of(self, attempt: int) -> int:
        """When an attempt ended (its answer, or its timeout), in ms."""
        a_end = self.a_end
        if attempt < len(a_end):
            return a_end[attempt]
        a_time = self.a_time
        return a_time[attempt] if attempt < len(a_time) else self.event_time(attempt)

    def carried_by(self, attempt: int) -> tuple[int, int]:
        """The snapshot position and generated time an attempt carried."""
        if attempt < len(self.a_position):
            return self.a_position[attempt], self.a_generated[attempt]
        return self.own(self.message_of(attempt))  # its message's own (see the module's doc)

    def carried(self, message: int) -> tuple[int, int]:
        """The snapshot position and generated time a message carries now.

        Its latest attempt's (duplicates aside), or before its first attempt, its
        first event's (a republished message's own).
        """
        if message >= len(self.m_last):  # kept short: its one attempt carried its event's
            return self.own(message)
        last = self.m_last[message]
        if last < 0:
            return self.own(message)
        return self.carried_by(last)

    def own(self, message: int) -> tuple[int, int]:
        """The snapshot position and generated time of a message's first event.

        What a SIM message carries on every attempt; a republished message's are
        the republish's.
        """
        if self.republished:
            fixed = self.republished.get(message)
            if fixed is not None:
                return fixed[1], fixed[2]
        event = self.event_of(message)
        return self.events.positions[event], self.events.times[event]

    def attempts_of(self, message: int) -> int:
        """How many attempts (duplicates aside) ``message`` has had."""
        if message >= len(self.m_last):
            return 1  # kept short: delivered by its first attempt
        last = self.m_last[message]
        return 0 if last < 0 else self.a_number[last]

    def last_end(self, message: int) -> int:
        """When the message's latest attempt ended (a duplicate too); 0 before the first."""
        m_last = self.m_last
        if message >= len(m_last):
            return self.events.times[self.event_of(message)]  # delivered at once: at its event
        if self.answering and message in self.answering:
            return self.answering[message]  # its attempt has no answer yet: the one before's
        last = m_last[message]
        if self.latest_duplicate:
            last = self.latest_duplicate.get(message, last)
        return 0 if last < 0 else self.end_of(last)

    def history(self, message: int) -> History:
        """The envelope history a message's snapshots come from."""
        return self.events.histories[self.event_of(message)]

    def envelope_id(self, message: int) -> str:
        """The id of the envelope a message is about."""
        return self.history(message).envelope.id

    def status_of(self, attempt: int) -> int:
        """An attempt's status column (:data:`NO_STATUS`: no answer)."""
        a_status = self.a_status
        if attempt < len(a_status):
            return a_status[attempt]
        return self.quick[attempt - len(a_status)] & _STATUS_MASK

    def ok(self, attempt: int) -> bool:
        """True when the attempt was answered with a 2xx in time."""
        a_status = self.a_status
        if attempt < len(a_status):
            return 200 <= a_status[attempt] < 300
        return True  # kept short: delivered
