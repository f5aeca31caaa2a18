"""Event names (JSON SIM and legacy aliases) and the Event record.

An :class:`Event` is one change in an envelope's life, as Connect sees it: its
name (``recipient-completed``), when it happened, whom it concerns and an
immutable snapshot of the envelope right after the change.  Configurations
subscribe to event names; the delivery algorithms turn events into messages.
A run keeps its events in an :class:`EventLog`, as columns, and makes an
``Event`` when one is read.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final, NamedTuple, overload

from .errors import ConfigurationError
from .rows import ReadOnlyList

if TYPE_CHECKING:
    from .envelope import Envelope, EnvelopeState, Recipient
    from .history import History

__all__ = [
    "DEFAULT_EVENTS",
    "ENVELOPE_EVENTS",
    "LEGACY_ENVELOPE_EVENTS",
    "LEGACY_RECIPIENT_EVENTS",
    "NO_RECIPIENT",
    "RECIPIENT_EVENTS",
    "Event",
    "EventLog",
    "normalize_events",
]

#: The recipient column's "an envelope event" (the event log keeps machine integers).
NO_RECIPIENT: Final = -1

#: JSON SIM envelope events that the simulator emits, in the order Connect's docs list them.
ENVELOPE_EVENTS = (
    "envelope-created",
    "envelope-sent",
    "envelope-resent",
    "envelope-delivered",
    "envelope-completed",
    "envelope-declined",
    "envelope-voided",
    "envelope-corrected",
)

#: JSON SIM recipient events that the simulator emits.
RECIPIENT_EVENTS = (
    "recipient-authenticationfailed",
    "recipient-autoresponded",
    "recipient-declined",
    "recipient-delivered",
    "recipient-completed",
    "recipient-sent",
    "recipient-resent",
)

#: Legacy envelope trigger names (case-sensitive, as Connect has them) and their JSON SIM event.
LEGACY_ENVELOPE_EVENTS = {
    "Sent": "envelope-sent",
    "Delivered": "envelope-delivered",
    "Completed": "envelope-completed",
    "Declined": "envelope-declined",
    "Voided": "envelope-voided",
}

#: Legacy recipient trigger names and their JSON SIM event.
LEGACY_RECIPIENT_EVENTS = {
    "Sent": "recipient-sent",
    "AutoResponded": "recipient-autoresponded",
    "Delivered": "recipient-delivered",
    "Completed": "recipient-completed",
    "Declined": "recipient-declined",
    "AuthenticationFailed": "recipient-authenticationfailed",
}

#: What a configuration subscribes to when it names no events: every envelope and
#: recipient status (the legacy triggers), as in the seed example.  Not
#: ``envelope-created``, nor the resent and corrected events.
DEFAULT_EVENTS = tuple(LEGACY_ENVELOPE_EVENTS.values()) + tuple(LEGACY_RECIPIENT_EVENTS.values())

_KNOWN = frozenset(ENVELOPE_EVENTS + RECIPIENT_EVENTS)


def normalize_events(
    events: tuple[str, ...] | None,
    envelope_events: tuple[str, ...] = (),
    recipient_events: tuple[str, ...] = (),
) -> tuple[str, ...]:
    """Return the JSON SIM names a subscription stands for, in canonical order.

    ``events`` takes JSON SIM names; ``envelope_events`` and ``recipient_events``
    take the legacy trigger names.  With none of the three, the default set.
    """
    if events is None and not envelope_events and not recipient_events:
        return DEFAULT_EVENTS
    wanted: list[str] = []
    for name in events or ():
        if name not in _KNOWN:
            hint = ""
            if name in LEGACY_ENVELOPE_EVENTS or name in LEGACY_RECIPIENT_EVENTS:
                hint = " (a legacy trigger name: use envelope_events or recipient_events)"
            raise ConfigurationError(f"unknown event {name!r}{hint}")
        wanted.append(name)
    for legacy, table, field in (
        (envelope_events, LEGACY_ENVELOPE_EVENTS, "envelope_events"),
        (recipient_events, LEGACY_RECIPIENT_EVENTS, "recipient_events"),
    ):
        for name in legacy:
            if name not in table:
                raise ConfigurationError(
                    f"unknown {field} trigger {name!r}; expected one of {', '.join(table)}"
                )
            wanted.append(table[name])
    order = ENVELOPE_EVENTS + RECIPIENT_EVENTS
    return tuple(name for name in order if name in wanted)


class Event(NamedTuple):
    """One change in an envelope's life, with the envelope's state right after it.

    Attributes:
        sequence: the event's place in the whole run, from 1.
        time: when it happened, in milliseconds since the scenario start.
        name: the JSON SIM event name, such as ``"recipient-completed"``.
        envelope: the :class:`~connect_sim.Envelope` it belongs to.
        recipient: the recipient it concerns, or ``None`` for an envelope event.
        history: the envelope's :class:`~connect_sim.history.History`, which
            makes its snapshots when they are read.
        position: the event's place among its envelope's events, from 1.
        snapshot: the :class:`~connect_sim.EnvelopeState` right after this change
            and before the next one at the same instant (made when first read,
            then always the same object: see :mod:`connect_sim.history`).
    """

    sequence: int
    time: int
    name: str
    envelope: Envelope
    recipient: Recipient | None
    history: History
    position: int

    @property
    def snapshot(self) -> EnvelopeState:
        """The envelope's state right after this change (made when first read)."""
        return self.history.snapshot(self.position)

    # Events compare by what they say, as records do: the same inputs and seed give equal
    # events in two runs, though each run has its own histories.
    def _said(self) -> tuple[object, ...]:
        return (self.sequence, self.time, self.name, self.envelope, self.recipient)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Event):
            return NotImplemented
        return self._said() == other._said() and self.snapshot == other.snapshot

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(self._said())

    @property
    def recipient_id(self) -> str | None:
        """The id of the recipient it concerns, or ``None``."""
        return None if self.recipient is None else self.recipient.recipient_id

    def __repr__(self) -> str:
        who = "" if self.recipient is None else f", recipient={self.recipient.recipient_id!r}"
        return (
            f"Event(sequence={self.sequence}, time={self.time}, name={self.name!r}, "
            f"envelope={self.envelope.id!r}{who})"
        )


class EventLog(ReadOnlyList[Event]):
    """Every event of a run, in order, kept as columns; an :class:`Event` is made when read.

    A run of a million envelopes has six million events and reads few of them,
    so a row is a time (a machine integer: the time objects of the actions
    need not be kept), what the event says, a history and a position (about 30
    bytes, where an ``Event`` costs about 170).  What it says is the pair
    ``(name, recipient index or NO_RECIPIENT)`` that the envelope shape's table
    emitted (:mod:`connect_sim.history`): one object shared by every event of
    that kind, so one column and one write serve both.  Positions stay in a
    list: appending to an array costs more than the 4 bytes it would save.
    The run writes the columns itself (see ``Simulation._perform``); reading
    row ``i`` makes ``Event(sequence=i + 1, ...)``, equal to every other reading of it.
    """

    __slots__ = ("histories", "positions", "said", "times")

    def __init__(self) -> None:
        self.times = array("q")
        #: Per event: ``(name, recipient index or NO_RECIPIENT)``, shared (see above).
        self.said: list[tuple[str, int]] = []
        self.histories: list[History] = []
        self.positions: list[int] = []

    def add(self, time: int, said: tuple[str, int], history: History, position: int) -> int:
        """Record an event (``said``: its name and recipient index); return its row.

        ``Simulation._perform`` writes the same four columns itself, without the call.
        """
        self.times.append(time)
        self.said.append(said)
        self.histories.append(history)
        self.positions.append(position)
        return len(self.said) - 1

    def name(self, row: int) -> str:
        """The name of the event at ``row``."""
        return self.said[row][0]

    def recipient_index(self, row: int) -> int:
        """The index among its envelope's recipients of the one it concerns, or NO_RECIPIENT."""
        return self.said[row][1]

    def __len__(self) -> int:
        return len(self.times)

    def event(self, row: int) -> Event:
        """The event at ``row`` (from 0), made now."""
        history = self.histories[row]
        envelope = history.envelope
        name, index = self.said[row]
        return Event(
            row + 1, self.times[row], name, envelope,
            None if index < 0 else envelope.recipients[index], history, self.positions[row],
        )  # fmt: skip

    @overload
    def __getitem__(self, index: int) -> Event: ...
    @overload
    def __getitem__(self, index: slice) -> list[Event]: ...
    def __getitem__(self, index: int | slice) -> Event | list[Event]:
        if isinstance(index, slice):
            return [self.event(row) for row in range(*index.indices(len(self.times)))]
        row = range(len(self.times))[index]  # negative indexes, and IndexError, as a list has
        return self.event(row)

    def __iter__(self) -> Iterator[Event]:
        return map(self.event, range(len(self.times)))

    def __repr__(self) -> str:
        return f"<EventLog of {len(self.times)} events>"
