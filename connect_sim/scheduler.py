"""The discrete-event loop: scenario actions and timers at integer-millisecond instants.

Theory of operation
-------------------
Two kinds of work share one clock.  *Actions* are the scenario's timeline
(send, view, sign, ...), tuples whose first item is their instant: they are
known before the run, so they are kept in a plain list, sorted once (stably,
so actions given for the same instant keep the order they were given in) and
consumed front to back, each slot emptied once its action has run (a run of a
million envelopes frees its four million actions as it goes).  *Timers* are what the
run schedules for itself (a message falling due, an attempt ending, a retry):
they are kept in deques of ``(callback, argument)``, one deque per instant,
found through a dict, with the instants in a :class:`sortedcontainers.SortedList`.

At one instant every action runs before any timer, and timers run first in,
first out: the order they were scheduled in.  Between the two, work given to
:meth:`Scheduler.after` while the instant's actions run (the deliveries that
an administrative action at the same instant may still change: see
``connect_sim.simulation``) runs once the last of them is done, in the order
given.

Some timers do not keep a run going: a paused configuration's next skip (see
``connect_sim.delivery.sim``) would come round every retry interval until
the horizon.  Their owner counts them in :attr:`Scheduler.idle`; when no
action is left and every pending timer is idle, :meth:`Scheduler.run`
without ``until`` stops, and :meth:`Scheduler.step` says there is nothing to
do.  They stay pending, so a run that resumes the configuration later picks
its retry clock up where it was.  A timer that schedules another
for the same instant appends it to the deque being run.  Nothing is ordered by
object identity or hashing, so the same inputs run the same callbacks in the
same order in any process.

Actions added while a run is going on (by a listener, or by a feed: see
:meth:`connect_sim.Simulation.feed`) are given after every action of the sorted
timeline, so they wait on a small heap of ``(instant, order given, action)``
instead of re-sorting the timeline: the next action is the timeline's head,
or the heap's when it is strictly sooner.  That is the order a stable sort of
the two would give, at the cost of a heap push and pop per late action.  A
late action for the current instant (a feed's envelope created and sent
when the clock comes to it) skips the heap: it goes to a deque, after every
late action of that instant on the heap (those were given before it) and
runs before the clock moves on, so a deque keeps the same order at no cost.
Actions added are placed right after the callback that added them (an
action, a timer, an instant's ``after`` work, or ``between``: a sink), while
the clock is still where they were added.
The next ``run()`` or ``step()`` folds what is left of the heap and the
deque back into the timeline (a stable sort, once).

An action refused before it changed anything can be put back at the head of
the timeline (:meth:`Scheduler.put_back`), so that running again meets it
again instead of skipping it.  Nothing later than the *horizon* ever runs:
the loop stops there and leaves it waiting.

Keeping the timeline out of the sorted structure makes adding an action a list
append; one sorted entry per instant rather than per timer keeps the sorted
structure small when many timers share an instant (a flush after a retry).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from heapq import heappop, heappush
from operator import itemgetter
from typing import Any

from sortedcontainers import SortedList

__all__ = ["Scheduler", "Timed"]

Callback = Callable[[Any], None]


#: An action: a tuple whose first item is its instant.  Plain tuples of plain values,
#: so that the garbage collector stops tracking them: a timeline of a million
#: actions then costs the collector nothing.
Timed = tuple[Any, ...]

_by_time = itemgetter(0)
#: What takes a performed action's place in the timeline, so that a long run frees its
#: actions as it goes instead of holding all of them until the end.
_DONE: Timed = ()


class Scheduler:
    """Runs actions and timers in simulated time; the clock only moves forward.

    >>> seen = []
    >>> s = Scheduler()
    >>> s.at(5, seen.append, ("timer", 5))
    >>> s.add((5, "send"))
    >>> s.run(lambda act: seen.append(("action", act[0])))
    >>> seen, s.now
    ([('action', 5), ('timer', 5)], 5)
    """

    __slots__ = ("__weakref__", "_actions", "_after", "_given", "_incoming", "_last", "_late",
                 "_next", "_now_late", "_soonest", "_timers", "_times", "horizon", "idle",
                 "now")  # fmt: skip

    # The callback that performs an action is given to each run() and step(), never kept:
    # a scheduler that held its simulation's method would tie the two in a reference
    # cycle, and a finished simulation would wait for the cyclic collector to be freed.

    def __init__(self, horizon: float = float("inf")) -> None:
        #: Nothing scheduled after this instant runs.
        self.horizon = horizon
        self._actions: list[Timed] = []  # sorted; those before _next have run
        self._next = 0
        self._incoming: list[Timed] = []  # added since the last sort, in the order given
        # Added while running: (instant, order given, action), a heap (see the module doc).
        self._late: list[tuple[int, int, Timed]] = []
        # Added while running, for the instant the clock is at: in order given (see above).
        self._now_late: deque[Timed] = deque()
        self._given = 0  # how many actions have gone to the heap: the next one's order
        self._last: Timed | None = None  # the action performed last, if it was a late one
        self._times = SortedList()  # instants that have timers, earliest first
        self._timers: dict[int, deque[tuple[Callback, Any]]] = {}
        self._soonest: int | None = None  # _times[0], kept at hand: read once per action
        # Work for once the current instant's actions are done, before its timers.
        self._after: deque[tuple[Callback, Any]] = deque()
        #: The current instant, in milliseconds since the scenario start.
        self.now = 0
        #: How many pending timers do not keep a run going (see the module's doc).
        self.idle = 0

    def add(self, action: Timed) -> None:
        """Put an action on the timeline (at ``action[0]``, not before the clock)."""
        if action[0] < self.now:
            raise ValueError(f"cannot schedule at {action[0]} ms: the clock is at {self.now} ms")
        self._incoming.append(action)

    def at(self, time: int, callback: Callback, argument: Any = None) -> None:
        """Run ``callback(argument)`` at ``time``, after the actions of that instant."""
        if time < self.now:
            raise ValueError(f"cannot schedule at {time} ms: the clock is at {self.now} ms")
        queue = self._timers.get(time)
        if queue is None:
            queue = self._timers[time] = deque()
            self._times.add(time)
            if self._soonest is None or time < self._soonest:
                self._soonest = time
        queue.append((callback, argument))

    def after(self, callback: Callback, argument: Any = None) -> None:
        """Run ``callback(argument)`` once the current instant's actions are done.

        Before the instant's timers, in the order given.  Given while no action
        runs (from a timer), it runs before the next timer or action.
        """
        self._after.append((callback, argument))

    def _run_after(self) -> None:
        after = self._after
        while after:
            callback, argument = after.popleft()
            callback(argument)

    def _only_idle_left(self) -> bool:
        """True when every pending timer is idle (and some are): called only when ``idle``."""
        return sum(len(queue) for queue in self._timers.values()) <= self.idle

    def _done_with(self, time: int) -> None:
        """Forget the emptied timer slot at ``time`` (always the soonest)."""
        del self._timers[time]
        times = self._times
        times.pop(0)
        self._soonest = times[0] if times else None

    def _merge(self) -> None:
        # Actions still to run were given before the incoming ones, so a stable sort of
        # the two, in that order, keeps "same instant: order given".
        pending = self._actions[self._next :]
        late = self._late
        while late:  # given after the sorted timeline, before the incoming: in between
            pending.append(heappop(late)[2])
        pending.extend(self._now_late)  # the clock's instant: after the heap's of it
        self._now_late.clear()
        pending.extend(self._incoming)
        pending.sort(key=_by_time)
        self._actions = pending
        self._next = 0
        self._incoming = []

    def put_back(self) -> None:
        """Put the action just performed back at the head of the timeline, as if unrun.

        For an action that raised before it changed anything: the next run or
        step meets it again.
        """
        if self._last is not None:  # it came off the heap of late actions: back on it
            heappush(self._late, (self._last[0], -1, self._last))
            self._last = None
            return
        assert self._next > 0, "no action has been performed"
        self._next -= 1

    def _defer(self) -> None:
        """Put the actions added while running with the late ones: the clock's instant's in the
        deque, the others on the heap (in order given)."""
        late = self._late
        now, now_late = self.now, self._now_late
        given = self._given
        for action in self._incoming:
            if action[0] == now:
                now_late.append(action)  # after the heap's of this instant (see the doc)
            else:
                heappush(late, (action[0], given, action))
                given += 1
        self._given = given
        self._incoming = []

    def next_time(self) -> int | None:
        """The instant of the next action or timer, or ``None`` when there is none.

        Reads only: called during a run (by ``Simulation.check``), a merge would pull
        the late actions from under the running loop.
        """
        if self._after:
            return self.now
        times = [action[0] for action in self._incoming]
        if self._now_late:
            times.append(self._now_late[0][0])
        if self._late:
            times.append(self._late[0][0])
        if self._next < len(self._actions):
            times.append(self._actions[self._next][0])
        if self._soonest is not None:
            times.append(self._soonest)
        return min(times) if times else None

    def __len__(self) -> int:
        waiting = len(self._actions) - self._next + len(self._incoming) + len(self._late)
        waiting += len(self._now_late)
        waiting += len(self._after)
        return waiting + sum(len(queue) for queue in self._timers.values())

    def step(self, perform: Callable[[Any], None]) -> bool:
        """Run the next single action (``perform(action)``) or timer; False when none is left."""
        if self._incoming or self._late or self._now_late:
            self._merge()
        self._last = None
        actions, index, soonest = self._actions, self._next, self._soonest
        if soonest is not None and soonest > self.horizon:
            soonest = None
        next_action = actions[index][0] if index < len(actions) else None
        if self._after and next_action != self.now:  # the instant's actions are done
            callback, argument = self._after.popleft()
            callback(argument)
            return True
        if self.idle and next_action is None and self._only_idle_left():
            return False
        if (
            next_action is not None
            and next_action <= self.horizon
            and (soonest is None or next_action <= soonest)
        ):
            action = actions[index]
            self._next = index + 1
            self.now = action[0]
            perform(action)
            actions[index] = _DONE
            return True
        if soonest is None:
            return False
        queue = self._timers[soonest]
        self.now = soonest
        callback, argument = queue.popleft()
        if not queue:
            self._done_with(soonest)
        callback(argument)
        return True

    def run(
        self,
        perform: Callable[[Any], None],
        until: int | None = None,
        between: Callable[[], None] | None = None,
    ) -> None:
        """Run everything in order until nothing is left, or until the clock would pass ``until``.

        Each action is run by ``perform(action)``, each timer by its own callback.
        Work at ``until`` itself runs; the clock ends at ``until`` if it was given.
        ``between``, if given, is called after each action and after each instant's
        timers: between callbacks, where nothing is half done.
        """
        if self._incoming or self._late or self._now_late:
            self._merge()
        self._last = None
        timers = self._timers
        actions = self._actions
        count = len(actions)
        index = self._next
        late, now_late = self._late, self._now_late
        end = self.horizon if until is None else min(until, self.horizon)
        after = self._after
        while True:
            next_timer = self._soonest
            # The next action: the timeline's head, or a late one when strictly sooner; at
            # one instant the timeline's first, then the heap's, then the deque's.
            if index < count:
                action = actions[index]
                due = action[0]
                from_heap = late and late[0][0] < due
                if from_heap:
                    due = late[0][0]
            else:
                from_heap = True
                due = late[0][0] if late else None
            now_first = now_late and (due is None or now_late[0][0] < due)
            if now_first:
                due = now_late[0][0]
            if after and due != self.now:  # the instant's actions are done: what they left
                self._run_after()
                if self._incoming:
                    self._defer()
                continue
            if due is not None and (next_timer is None or due <= next_timer) and due <= end:
                self.now = due
                if now_first or from_heap:
                    self._last = action = now_late.popleft() if now_first else heappop(late)[2]
                    perform(action)
                    self._last = None
                else:
                    index += 1
                    self._next = index
                    perform(action)
                    actions[index - 1] = _DONE  # performed: freed as the run goes
                if self._incoming:  # an action added while running
                    self._defer()
                if between is not None:
                    between()
                    if self._incoming:  # a sink's: placed now, before the clock moves on
                        self._defer()
                continue
            if next_timer is None or next_timer > end:
                break
            if (
                self.idle
                and until is None
                and index >= count
                and not late
                and not now_late
                and self._only_idle_left()
            ):
                break
            self.now = next_timer
            queue = timers[next_timer]
            popleft = queue.popleft
            while queue:
                callback, argument = popleft()
                callback(argument)
            self._done_with(next_timer)
            if self._incoming:
                self._defer()
            if between is not None:
                between()
                if self._incoming:
                    self._defer()
        if until is not None and until > self.now:
            self.now = until
