"""The discrete-event loop: callbacks at integer-millisecond instants, in a fixed order.

Theory of operation
-------------------
Work is kept in a :class:`sortedcontainers.SortedDict` from a *slot* to a deque
of ``(callback, argument)`` pairs.  A slot is ``time * 2 + phase``: phase 0
holds scenario actions, phase 1 timers (deliveries, retries, attempt ends).  So
at one instant every action runs before any timer, and inside a slot callbacks
run first-in, first-out, which is the order they were scheduled in.  A timer
that schedules another at the same instant appends it to the slot being run.
Nothing is ordered by object identity or hashing, so two runs of the same
inputs run the same callbacks in the same order, in any process.

Many callbacks share an instant (a flush after a retry, a burst of events), so
one sorted-dict entry per instant rather than per callback keeps the sorted
structure small; scheduling at an instant that already has work is a plain
dict lookup and a deque append.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from sortedcontainers import SortedDict

__all__ = ["ACTION", "TIMER", "Scheduler"]

ACTION = 0
TIMER = 1

Callback = Callable[[Any], None]


class Scheduler:
    """Runs callbacks in simulated time; the clock only moves forward.

    >>> s = Scheduler()
    >>> seen = []
    >>> s.at(5, TIMER, seen.append, "timer")
    >>> s.at(5, ACTION, seen.append, "action")
    >>> s.run()
    >>> seen, s.now
    (['action', 'timer'], 5)
    """

    __slots__ = ("_slots", "now")

    def __init__(self) -> None:
        self._slots: SortedDict = SortedDict()
        #: The current instant, in milliseconds since the scenario start.
        self.now = 0

    def at(self, time: int, phase: int, callback: Callback, argument: Any = None) -> None:
        """Run ``callback(argument)`` at ``time`` in ``phase`` (``ACTION`` or ``TIMER``)."""
        if time < self.now:
            raise ValueError(f"cannot schedule at {time} ms: the clock is at {self.now} ms")
        slot = time * 2 + phase
        queue = self._slots.get(slot)
        if queue is None:
            queue = self._slots[slot] = deque()
        queue.append((callback, argument))

    def next_time(self) -> int | None:
        """The instant of the next scheduled callback, or ``None`` when there is none."""
        if not self._slots:
            return None
        return int(self._slots.peekitem(0)[0]) >> 1

    def __len__(self) -> int:
        return sum(len(queue) for queue in self._slots.values())

    def step(self) -> bool:
        """Run the next single callback; return False when nothing is left."""
        slots = self._slots
        if not slots:
            return False
        slot, queue = slots.peekitem(0)
        self.now = slot >> 1
        callback, argument = queue.popleft()
        if not queue:
            del slots[slot]
        callback(argument)
        return True

    def run(self, until: int | None = None) -> None:
        """Run callbacks in order until none is left, or until the clock would pass ``until``.

        Callbacks at ``until`` itself run.
        """
        slots = self._slots
        peek = slots.peekitem
        limit = None if until is None else until * 2 + 1
        while slots:
            slot, queue = peek(0)
            if limit is not None and slot > limit:
                break
            self.now = slot >> 1
            popleft = queue.popleft
            while queue:
                callback, argument = popleft()
                callback(argument)
            del slots[slot]
        if until is not None and until > self.now:
            self.now = until
