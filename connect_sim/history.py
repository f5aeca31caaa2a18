"""An envelope's life during a run: what happened to it, with snapshots made when read.

Theory of operation
-------------------
Every event carries the envelope's state right after it (its *snapshot*), but
a run of a million envelopes makes six million events, and most snapshots are
never read: a capacity study reads counts, a listener test reads a few bodies.
Making each one costs more than everything else an event does, so a run makes
none; a snapshot is made when something reads it (a body, a user, a check).

Which events an action emits depends only on the statuses of the envelope
and of its recipients and on the envelope's *shape*: each recipient's role,
and how routing orders group them.  The rule tables of
:mod:`connect_sim.lifecycle` are keyed by status, routing goes by those
groups, and no rule reads a time, a reason or a recipient's type or ids.
So a :class:`Shape` keeps, for every envelope of one shape, a table from
(statuses, action, recipient) to the events the action emits and the
statuses after them.  Each entry is found once, by calling the real
:func:`~connect_sim.lifecycle.apply` on a state that has those statuses, and
serves every envelope of the shape after that: the rules stay in one place,
and the table is what they say.

A :class:`History` keeps, per envelope, the actions performed on it and how
many events they made.  An action is kept as one machine integer in an array
(its time, shifted past the action's code and the recipient's index, which
the shape's table entry carries ready-made); the rare action with a reason,
or with a recipient past the packed range, is kept whole beside it.  A run of
a million envelopes keeps three million actions: 8 bytes each, where the
timeline's tuples cost about 130.  Its :meth:`History.snapshot` replays those actions
through the real ``apply``, from the envelope's draft state, as far as the
snapshot asked for, and keeps every snapshot it made: the same event always
gives the same object, and the snapshots are exactly those an eager run
would have made.  A listener called while the run goes on sees the state up
to the event it was offered.  ``tests/test_history.py`` runs generated
scenarios both ways (snapshots made as the run goes, and made afterwards) and
requires the same events, snapshots and bodies.
"""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING, Final

from .envelope import CREATED, EnvelopeState, RecipientState, initial_state
from .errors import InvalidAction
from .events import NO_RECIPIENT
from .lifecycle import ACTIONS, apply
from .time import HORIZON_MS

if TYPE_CHECKING:
    from .envelope import Envelope

__all__ = ["History", "Passing", "Shape", "Step"]


class Replay:
    """A history's snapshots made in passing (see :meth:`History.peek`)."""

    __slots__ = ("replayed", "states")

    def __init__(self, replayed: int, states: list[EnvelopeState]) -> None:
        self.replayed = replayed  # how many of its actions made them
        self.states = states


#: Histories read in passing, by history: a memo of at most :data:`PASSING` of them,
#: emptied when full (like the renderers' memos: what is made again is the same).
Passing = dict["History", Replay]
PASSING: Final = 4096

#: What an action emits: ``(event name, recipient index or NO_RECIPIENT)``, in order
#: (a number either way, as the event log's column keeps it).
Emitted = tuple[tuple[str, int], ...]
#: A table entry: the statuses after the action (a node number), its events, and
#: the action and recipient packed as a History keeps them (see ``pack``);
#: ``None`` when the lifecycle refuses the action.
Step = tuple[int, Emitted, int] | None

# An action packed into one integer: time << 18 | action code << 14 | recipient index + 1
# (0 for none).  Times never pass the horizon (2**44.6 ms), so it stays below 2**63.
_INDEX_BITS: Final = 14
TIME_SHIFT: Final = _INDEX_BITS + 4
_INDEX_MASK: Final = (1 << _INDEX_BITS) - 1
_KIND_CODES: Final = {kind: code for code, kind in enumerate(ACTIONS)}
assert len(ACTIONS) <= 16 and HORIZON_MS < 1 << (63 - TIME_SHIFT)
#: Kept whole instead (a reason, or a recipient index past the packed range).
UNPACKED: Final = -1
_NO_STEPS: Final = array("q")


def pack(kind: str, index: int | None) -> int:
    """An action and its recipient as a History keeps them, before the time is added."""
    if index is not None and index + 1 > _INDEX_MASK:
        return UNPACKED
    return _KIND_CODES[kind] << _INDEX_BITS | (0 if index is None else index + 1)


_new = tuple.__new__
#: The one event of an envelope's creation.
CREATION: Final[Emitted] = (("envelope-created", NO_RECIPIENT),)


class Shape:
    """The lifecycle of every envelope whose recipients have one list of roles and orders.

    Nodes are the statuses an envelope of the shape has been seen in, numbered
    in the order first seen: node 0 is the draft (everything ``created``).
    """

    __slots__ = ("_envelope", "_numbers", "_statuses", "table")

    def __init__(self, envelope: Envelope) -> None:
        # The first envelope of the shape: the states apply is asked about are built on it.
        self._envelope = envelope
        self._statuses: list[tuple[str, tuple[str, ...]]] = []
        self._numbers: dict[tuple[str, tuple[str, ...]], int] = {}
        #: The entries found so far, by (node, action, recipient index); see :meth:`step`.
        self.table: dict[tuple[int, str, int | None], Step] = {}
        self._node(CREATED, tuple(CREATED for _ in envelope.recipients))

    @staticmethod
    def key(envelope: Envelope) -> tuple[tuple[str, ...], tuple[tuple[int, ...], ...]]:
        """What decides the events of an envelope's actions: its recipients' roles and routing.

        Routing is the recipients grouped by routing order, lowest first: orders
        1 and 2 route as 10 and 20 do, so they share a shape.
        """
        return tuple([r.role for r in envelope.recipients]), envelope.routing

    def _node(self, status: str, recipients: tuple[str, ...]) -> int:
        statuses = (status, recipients)
        number = self._numbers.get(statuses)
        if number is None:
            number = self._numbers[statuses] = len(self._statuses)
            self._statuses.append(statuses)
        return number

    def statuses(self, node: int) -> tuple[str, tuple[str, ...]]:
        """The statuses a node stands for: the envelope's, and its recipients' in order."""
        return self._statuses[node]

    def step(self, node: int, action: str, index: int | None) -> Step:
        """What ``action`` (on recipient ``index``) does to an envelope at ``node``."""
        key = (node, action, index)
        try:
            return self.table[key]
        except KeyError:
            pass
        status, recipients = self._statuses[node]
        probe = _new(EnvelopeState, (
            self._envelope, status,
            tuple(_new(RecipientState, (r, s, None, None, None, None, None))
                  for r, s in zip(self._envelope.recipients, recipients, strict=True)),
            0, None, None, None, None, None, None, 0,
        ))  # fmt: skip
        try:
            emitted = apply(probe, action, 0, index)
        except InvalidAction:
            entry: Step = None
        else:
            after = emitted[-1][2]
            node_after = self._node(after.status, tuple(r.status for r in after.recipients))
            events = tuple(
                (name, NO_RECIPIENT if who is None else who) for name, who, _ in emitted
            )
            entry = (node_after, events,
                     pack(action, index))  # fmt: skip
        self.table[key] = entry
        return entry


class History:
    """One envelope's life so far: its actions, its event count, its snapshots once read.

    ``count`` is the number of events the envelope has had; event ``k`` (from
    1) of the envelope carries :meth:`snapshot` ``(k)``.
    """

    __slots__ = ("_created", "_replayed", "_states", "_whole", "count", "envelope", "node",
                 "shape", "steps")  # fmt: skip

    def __init__(self, envelope: Envelope, shape: Shape, created: int) -> None:
        self.envelope = envelope
        self.shape = shape
        self.node = 0  # the draft
        self.count = 0
        #: The actions performed after creation, packed (see the module doc and ``add``).
        self.steps = _NO_STEPS.__copy__()  # a copy costs a third of array("q")
        # The actions kept whole, by their place in steps; None until there is one.
        self._whole: dict[int, tuple[int, str, int | None, str | None]] | None = None
        self._created = created
        # The snapshots made so far, in event order; no list until the first is read.
        self._states: list[EnvelopeState] | None = None
        self._replayed = 0  # how many steps the snapshots made so far cover

    def add(
        self, time: int, kind: str, index: int | None, reason: str | None, packed: int
    ) -> None:
        """Keep a performed action; ``packed`` is its shape table entry's (see ``pack``).

        The run writes ``steps.append(time << TIME_SHIFT | packed)`` itself when there is no
        reason and ``packed`` is not :data:`UNPACKED`: this is the rest.
        """
        if reason is None and packed != UNPACKED:
            self.steps.append(time << TIME_SHIFT | packed)
            return
        if self._whole is None:
            self._whole = {}
        self._whole[len(self.steps)] = (time, kind, index, reason)
        self.steps.append(UNPACKED)

    def action(self, k: int) -> tuple[int, str, int | None, str | None]:
        """The ``k``-th action performed (from 0): ``(time, kind, recipient index, reason)``."""
        packed = self.steps[k]
        if packed == UNPACKED:
            assert self._whole is not None
            return self._whole[k]
        index = packed & _INDEX_MASK
        kind = ACTIONS[packed >> _INDEX_BITS & 15]
        return packed >> TIME_SHIFT, kind, index - 1 if index else None, None

    def snapshot(self, k: int) -> EnvelopeState:
        """The envelope's state right after its ``k``-th event (from 1), made once."""
        states = self._states
        if states is None:
            states = self._states = [initial_state(self.envelope, self._created)]
        if len(states) < k:
            while len(states) < k:
                time, kind, index, reason = self.action(self._replayed)
                emitted = apply(states[-1], kind, time, index, reason)
                states.extend(state for _, _, state in emitted)
                self._replayed += 1  # once its snapshots are in: a failure replays it again
        return states[k - 1]

    def current(self) -> EnvelopeState:
        """The envelope's state after its latest event."""
        return self.snapshot(self.count)

    def peek(self, k: int, passing: Passing) -> EnvelopeState:
        """:meth:`snapshot` ``(k)`` without keeping it, for a reader that passes by once.

        A snapshot kept already is that one; any other is made by the same replay,
        from the last one kept, into ``passing`` (a bounded memo of the histories
        read in passing, by history: their replay so far), not into the history.
        A writer that renders a long run's bodies one after the other (every
        snapshot once, roughly in time order) so keeps a few thousand envelopes'
        snapshots at a time instead of all of them; it gets equal states, not
        the kept objects a user reads later.
        """
        states = self._states
        if states is not None and len(states) >= k:
            return states[k - 1]
        replay = passing.get(self)
        if replay is None:
            if len(passing) >= PASSING:
                passing.clear()
            if states is None:
                replay = Replay(0, [initial_state(self.envelope, self._created)])
            else:
                replay = Replay(self._replayed, states[:])
            passing[self] = replay
        made = replay.states
        while len(made) < k:
            time, kind, index, reason = self.action(replay.replayed)
            made.extend(state for _, _, state in apply(made[-1], kind, time, index, reason))
            replay.replayed += 1
        return made[k - 1]
