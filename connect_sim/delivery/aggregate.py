"""Aggregate Messages: events merged per envelope, status as of sending, no blocking.

Theory of operation
-------------------
A subscribed event for an envelope that has an *open* message here (one not
yet attempted) joins it; otherwise it opens a new message, due
``aggregation_window`` later.  A message that falls due while an attempt is in
flight waits for it to end, and keeps taking events until then.  Each attempt
carries the envelope's state at that moment and that moment as its generated
time, so a message shows the newest state whenever it goes out.

A failure blocks nothing.  A failed message waits until some later message of
the configuration succeeds at a time ``t`` at least ``retry_interval`` after
its own last attempt ended; then it is *released* and retried at once, before
messages that are merely due.  Released messages go in the order they first
failed.  After ``max_retries`` retries, or at once when acknowledgement is off,
a message goes to the failure log.

The anomalies DocuSign attributes to aggregation are optional and seeded: a
delivered message may be sent again at once (``duplicate_rate``), and a due
message may be lost (``drop_rate``); a lost message is written to the failure
log, never dropped silently.  Sources: ``reference/connect-facts.md`` sections
4 and 9.

While the configuration is paused, a message that would be attempted is
*skipped* instead (a note in the trace, not an attempt): it is no longer open
and waits with the failed messages, released by a later success at least
``retry_interval`` after the skip.  An accidental duplicate due while paused
is not sent (Connect does not retry duplicates).

A success must find the failed messages that have waited long enough without
reading every one of them: after an outage thousands wait, and a success
comes every few milliseconds.  So each wait is also an entry on a heap,
``(when it began, its place in the order of first failure, message)``, pushed
when the message fails or is skipped; a success pops the entries that began
``retry_interval`` or more ago, keeps those that are still the message's
current wait (a later failure or skip pushed a newer one, a delivery or a
deletion ended it), and releases them in the order of their places.
"""

from __future__ import annotations

from collections import deque
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any

from .channel import DISABLED, Channel
from .ledger import (
    O_DELIVERED,
    O_DISCARDED,
    O_RETRY,
    S_DELIVERED,
    S_IN_FLIGHT,
    S_OPEN,
    S_QUEUED,
    S_RELEASED,
    S_RETRY,
)

if TYPE_CHECKING:
    from ..history import History

__all__ = ["AggregateChannel"]


class AggregateChannel(Channel):
    """One configuration's queue under Aggregate."""

    mode = "aggregate"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.window = self.configuration.aggregation_window_ms
        self.duplicate_rate = self.configuration.duplicate_rate
        self.drop_rate = self.configuration.drop_rate
        # Message rows throughout.  Open messages by envelope id: looked up, never iterated.
        self.open: dict[str, int] = {}
        self.due: deque[int] = deque()
        self.released: deque[int] = deque()
        self.duplicates: deque[int] = deque()  # attempt rows to send again
        # Failed (or skipped) messages waiting for a release, in the order they first were,
        # each with its place in that order; the waits on a heap (see the module's doc).
        self.failed: dict[int, int] = {}
        self._places = 0  # places handed out
        self._waits: list[tuple[int, int, int]] = []  # (since, place, message)
        self.skipped_at: dict[int, int] = {}  # message row: its latest skip, if later than a try

    def offer(self, event: int, history: History, position: int, now: int) -> None:
        key = history.envelope.id
        ledger = self.ledger
        if self.disabled:  # one message per event, given up at once, with no trace record
            row = ledger.add_message(self.number, event, S_QUEUED)
            self.message_rows.append(row)
            self._give_up(row, now, DISABLED)
            return
        message = self.open.get(key)
        if message is not None:
            ledger.merged.setdefault(message, []).append(event)
            return
        message = ledger.add_message(self.number, event, S_OPEN)
        self.open[key] = message
        self.message_rows.append(message)
        self.scheduler.at(now + self.window, self._fall_due, message)

    def _fall_due(self, message: int) -> None:
        if self.ledger.m_state[message] != S_OPEN:
            return  # given up meanwhile: the configuration was disabled
        self.ledger.m_state[message] = S_QUEUED
        self.due.append(message)
        if not self.busy:
            self._pump()

    def _pump(self) -> None:
        ledger = self.ledger
        state = ledger.m_state
        while not self.busy:
            if self.duplicates:
                original = self.duplicates.popleft()
                if self.paused or self.disabled:
                    continue  # not sent: Connect does not retry an accidental duplicate
                attempt = self._attempt(
                    ledger.a_message[original], *ledger.carried_by(original), duplicate=True
                )
            elif self.released or self.due:
                message = self.released.popleft() if self.released else self.due.popleft()
                history = ledger.history(message)
                fresh = state[message] == S_QUEUED and message not in ledger.republished
                if fresh:
                    # From now on, new events for this envelope open a new message.
                    del self.open[history.envelope.id]
                if self.paused:
                    self._skip(message, history.count)
                    continue
                if fresh and self.drop_rate and self.rng.random() < self.drop_rate:
                    self._give_up(
                        message, self.scheduler.now, "lost by aggregation (drop anomaly)"
                    )
                    continue
                state[message] = S_IN_FLIGHT
                if ledger.republished and message in ledger.republished:
                    # A republished message says what the republish fixed, on every attempt.
                    attempt = self._attempt(message, *ledger.own(message))
                else:
                    # The envelope's state now: after the latest event it has had.
                    attempt = self._attempt(message, history.count, self.scheduler.now)
            else:
                return
            if attempt is not None:
                self._settle(attempt)

    def _settle(self, attempt: int) -> None:
        ledger = self.ledger
        message = ledger.a_message[attempt]
        ok = ledger.ok(attempt)
        if attempt in ledger.duplicates:
            ledger.a_outcome[attempt] = O_DELIVERED if ok else O_DISCARDED
            if ok:
                self.delivered_rows.append(attempt)
                self.duplicates_delivered += 1
                self._attempt_succeeded()
            else:
                self._attempt_failed(ledger.end_of(attempt))
            return
        if ok:
            self._attempt_succeeded()
            ledger.a_outcome[attempt] = O_DELIVERED
            ledger.m_state[message] = S_DELIVERED
            if self.failed:
                self.failed.pop(message, None)
                self.skipped_at.pop(message, None)
            if message in self.logged:
                self._delivered_logged(message)
            self.delivered_rows.append(attempt)
            if self.duplicate_rate and self.rng.random() < self.duplicate_rate:
                self.duplicates.append(attempt)
            self._release(ledger.end_of(attempt))
            return
        self._attempt_failed(ledger.end_of(attempt))
        if self.can_retry(message):
            ledger.a_outcome[attempt] = O_RETRY
            ledger.m_state[message] = S_RETRY
            self._log_failure(attempt)
            self._wait(message)
        else:
            self.failed.pop(message, None)
            self.skipped_at.pop(message, None)
            self._final_failure(attempt)

    def _skip(self, message: int, position: int) -> None:
        """A message the paused configuration would have attempted now, with that snapshot."""
        ledger = self.ledger
        now = self.scheduler.now
        generated = now
        if ledger.republished and message in ledger.republished:
            position, generated = ledger.own(message)
        ledger.note_skip(now, message, ledger.attempts_of(message) + 1, position, generated)
        ledger.m_state[message] = S_RETRY
        self.skips += 1
        self.skipped_at[message] = now
        self._wait(message)

    def _wait(self, message: int) -> None:
        """``message`` waits for a release from now on (see the module's doc)."""
        # Kept at its first failure's place: releases go in the order of first failure.
        place = self.failed.get(message)
        if place is None:
            place = self.failed[message] = self._places
            self._places += 1
        heappush(self._waits, (self._waiting_since(message), place, message))

    def _waiting_since(self, message: int) -> int:
        """When the message's current wait began: its latest attempt's end, or a later skip."""
        since = self.ledger.last_end(message)
        skipped = self.skipped_at.get(message) if self.skipped_at else None
        return since if skipped is None or skipped < since else skipped

    def delete(self, message: int, republished: bool = False) -> bool:
        state = self.ledger.m_state[message]
        if state == S_IN_FLIGHT:
            return False
        if state == S_RELEASED:
            self.released.remove(message)  # due to be retried now; rare, so a linear search
        self.failed.pop(message, None)
        self.skipped_at.pop(message, None)
        self._deleted(message, republished)
        return True

    def queue_republished(self, message: int) -> None:
        if self.disabled:
            self._give_up(message, self.scheduler.now, DISABLED)
            return
        # Due at once, with no aggregation window; never open, so it merges with nothing.
        self.due.append(message)
        self.scheduler.after(self._move_on)

    def _give_up_held(self) -> list[int]:
        ledger = self.ledger
        state = ledger.m_state
        held = [*self.open.values(), *self.due, *self.released, *self.failed]
        given_up = sorted({row for row in held if state[row] != S_IN_FLIGHT})
        now = self.scheduler.now
        for row in given_up:
            self._give_up(row, now, DISABLED)
        self.open.clear()
        self.due.clear()
        self.released.clear()
        self.duplicates.clear()
        self.failed = {row: place for row, place in self.failed.items()
                       if state[row] == S_IN_FLIGHT}  # fmt: skip
        self.skipped_at.clear()
        return [row + 1 for row in given_up]

    def _move_on(self, _: object = None) -> None:
        if not self.busy:
            self._pump()

    def _released_by_sibling(self, now: int) -> None:
        self._release(now)
        if self.released:
            self.scheduler.after(self._move_on)

    def _succeeded_outside(self, end: int) -> None:
        self._release(end)
        if self.released:
            self.scheduler.after(self._move_on)

    def _release(self, now: int) -> None:
        """After a success at ``now``: retry every failed message that has waited long enough."""
        waits = self._waits
        horizon = now - self.retry_interval
        if not waits or waits[0][0] > horizon:
            return
        state = self.ledger.m_state
        failed = self.failed
        ready = []
        while waits and waits[0][0] <= horizon:
            since, place, message = heappop(waits)
            if (state[message] == S_RETRY and failed.get(message) == place
                    and self._waiting_since(message) == since):  # fmt: skip
                state[message] = S_RELEASED  # so that an equal entry finds it released
                ready.append((place, message))
        ready.sort()
        self.released.extend(message for _, message in ready)

    def check(self) -> None:
        super().check()
        for attempt in self.delivered:
            if not (attempt.duplicate or attempt.message.republished):
                assert attempt.generated == attempt.time, f"{attempt!r} not stamped at send time"
        state = self.ledger.m_state
        waits = set(self._waits)
        for message, place in self.failed.items():
            assert state[message] in (S_RETRY, S_RELEASED, S_IN_FLIGHT), f"#{message + 1}"
            if state[message] == S_RETRY:  # a release must be able to find it
                wait = (self._waiting_since(message), place, message)
                assert wait in waits, f"#{message + 1} waits with no current entry {wait}"
        for key, message in self.open.items():
            assert self.ledger.envelope_id(message) == key, f"#{message + 1} open for {key!r}"
            assert state[message] in (S_OPEN, S_QUEUED), f"#{message + 1} open but not queued"
