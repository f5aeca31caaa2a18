"""Send Individual Messages (SIM): one message per event, strictly in creation order.

Theory of operation
-------------------
Every subscribed event becomes a message that holds the event's own snapshot
and the event time as its generated time; neither ever changes.  Messages wait
in one FIFO deque; only the head is ever attempted.  When an attempt of the
head fails and acknowledgement is on, the configuration is *down*: the head is
retried ``retry_interval`` after that attempt ended, and everything behind it
waits (``pending`` in Connect's words).  A success clears the down state and
the queue flushes at once, in order.  When the head has used its retries (or
acknowledgement is off) it goes to the failure log and the next message is
attempted at once.  Source: DocuSign's ``requiresAcknowledgement`` reference
text, summarised in ``reference/connect-facts.md`` section 4.

While the configuration is paused, the head is *skipped* instead of
attempted: a note in the trace, not an attempt (it does not count towards the
retry limit), and the queue waits as after a failure, the head due again
``retry_interval`` after the skip.  A deleted head (the administrator deleted
its failure-log entry) leaves the queue, which moves on at once.

At an instant with administrative actions, new messages are not attempted
while the instant's actions run but once they are done (:meth:`SimChannel.hold`),
each in turn, so that a pause later at the same instant turns them into skips.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from .channel import DISABLED, Channel
from .ledger import (
    O_DELIVERED,
    O_RETRY,
    PENDING_CODES,
    S_DELIVERED,
    S_FAILED,
    S_IN_FLIGHT,
    S_QUEUED,
    S_RETRY,
    WAITING_RETRY,
)

if TYPE_CHECKING:
    from ..history import History

__all__ = ["SimChannel"]


class SimChannel(Channel):
    """One configuration's queue under SIM."""

    mode = "sim"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.waiting: deque[int] = deque()  # message rows, the head first
        self.down = False
        # The retries a skip set while paused, by instant: idle timers (see the scheduler).
        self._idle_at: dict[int, int] = {}

    def offer(self, event: int, history: History, position: int, now: int) -> None:
        ledger = self.ledger
        waiting = self.waiting
        idle = not (waiting or self.busy or self.down or self.special)
        answer = self.answer
        if idle and answer is not None:
            # The most common case of all: an idle queue and a session that answers
            # without reading the attempt (connect-sim's own models do).  If the answer is a 2xx
            # at once, the message is delivered now, as the general path below would.
            response = answer()
            status = response[0]
            if response[1] == 0 and type(status) is int and 200 <= status < 300:
                rows = ledger.delivered_at_once(self.number, event, now, position, status)
                self.message_rows.append(rows[0])
                self.delivered_rows.append(rows[1])
                self.attempt_count += 1
                return
        else:
            response = None
        message = ledger.add_message(self.number, event, S_QUEUED)
        self.message_rows.append(message)
        if self.disabled:  # one message per event, given up at once, with no trace record
            self._give_up(message, now, DISABLED)
            return
        waiting.append(message)
        if not idle:
            if not (self.busy or self.down):
                self._pump()
            return
        # An idle queue, so the new message is the head at once.  This is _pump's first
        # turn written out, and it stops where _pump would (nothing waits behind the
        # head).  The event happens now, so now is its generated time.
        ledger.m_state[message] = S_IN_FLIGHT
        attempt = self._attempt(message, position, now, response=response)
        if attempt is None:
            return  # in flight: its end settles it
        if 200 <= ledger.a_status[attempt] < 300:
            ledger.a_outcome[attempt] = O_DELIVERED
            ledger.m_state[message] = S_DELIVERED
            waiting.popleft()
            self.delivered_rows.append(attempt)
        else:
            self._settle(attempt)

    def hold(self, event: int, history: History, position: int, now: int) -> None:
        """:meth:`offer` at an instant with administrative actions: attempt once they are done."""
        message = self.ledger.add_message(self.number, event, S_QUEUED)
        self.message_rows.append(message)
        if self.disabled:
            self._give_up(message, now, DISABLED)
            return
        self.waiting.append(message)
        self.scheduler.after(self._attempt_held, message)

    def _attempt_held(self, message: int) -> None:
        """A held message's turn: attempted (or skipped) if it heads a free queue."""
        waiting = self.waiting
        if not waiting or waiting[0] != message or self.busy or self.down:
            return  # behind another message, or gone: its turn comes with the queue's
        if self.paused:
            self._skip(message)
            return
        ledger = self.ledger
        ledger.m_state[message] = S_IN_FLIGHT
        attempt = self._attempt(message, *ledger.own(message))
        if attempt is not None:
            self._settle(attempt)

    def _skip(self, message: int) -> None:
        """The paused queue's head is due now: a skip, then a wait as after a failure."""
        ledger = self.ledger
        now = self.scheduler.now
        ledger.note_skip(now, message, ledger.attempts_of(message) + 1, *ledger.own(message))
        ledger.m_state[message] = S_RETRY
        self.skips += 1
        self.down = True
        due = now + self.retry_interval
        self.scheduler.at(due, self._retry, message)
        # Paused, the skips would come round until the horizon: this retry keeps no run going.
        self._idle_at[due] = self._idle_at.get(due, 0) + 1
        self.scheduler.idle += 1

    def resume(self) -> None:
        super().resume()
        if self._idle_at:  # the retries pending count again: resumed, they will attempt
            self.scheduler.idle -= sum(self._idle_at.values())
            self._idle_at.clear()

    def delete(self, message: int, republished: bool = False) -> bool:
        state = self.ledger.m_state[message]
        if state == S_IN_FLIGHT:
            return False
        if state != S_FAILED:  # waiting for its retry, so the head: the queue moves on
            assert self.waiting[0] == message and self.down, "a logged message not the head"
            self.waiting.popleft()
            self.down = False
            self.scheduler.after(self._move_on)
        self._deleted(message, republished)
        return True

    def queue_republished(self, message: int) -> None:
        if self.disabled:
            self._give_up(message, self.scheduler.now, DISABLED)
            return
        self.waiting.append(message)
        self.scheduler.after(self._move_on)

    def _give_up_held(self) -> list[int]:
        ledger = self.ledger
        now = self.scheduler.now
        kept = [row for row in self.waiting if ledger.m_state[row] == S_IN_FLIGHT]
        given_up = [row for row in self.waiting if ledger.m_state[row] != S_IN_FLIGHT]
        for row in given_up:
            self._give_up(row, now, DISABLED)
        self.waiting.clear()
        self.waiting.extend(kept)
        self.down = False
        return [row + 1 for row in given_up]

    def _move_on(self, _: object = None) -> None:
        if not (self.busy or self.down):
            self._pump()

    def _pump(self) -> None:
        ledger = self.ledger
        waiting = self.waiting
        answer = self.answer
        now = self.scheduler.now
        while waiting and not self.busy and not self.down:
            if self.paused:
                self._skip(waiting[0])
                return
            response = None
            if answer is not None:
                # A flush after a retry, to a session that answers without reading the
                # attempt: the run of messages it accepts at once, one answer each, in
                # order, is written and settled in one go.
                accepted: list[int] = []
                statuses: list[int] = []
                while waiting:
                    response = answer()
                    status = response[0]
                    if not (response[1] == 0 and type(status) is int and 200 <= status < 300):
                        break  # the head's answer: the general path below takes it
                    accepted.append(waiting.popleft())
                    statuses.append(status)
                else:
                    response = None
                if accepted:
                    if self.logged and accepted[0] in self.logged:  # a retry delivered
                        self._delivered_logged(accepted[0])
                    self._attempt_succeeded()
                    first = ledger.delivered_in_turn(accepted, now, statuses)
                    self.delivered_rows.extend(range(first, first + len(accepted)))
                    self.attempt_count += len(accepted)
                if response is None:
                    return  # all delivered
            head = waiting[0]
            # A SIM message carries its own event's snapshot and time, on every attempt.
            position, generated = ledger.own(head)
            ledger.m_state[head] = S_IN_FLIGHT
            attempt = self._attempt(head, position, generated, response=response)
            if attempt is not None:
                self._settle(attempt)

    def _settle(self, attempt: int) -> None:
        ledger = self.ledger
        message = ledger.a_message[attempt]
        if ledger.ok(attempt):
            ledger.a_outcome[attempt] = O_DELIVERED
            ledger.m_state[message] = S_DELIVERED
            self.waiting.popleft()
            self.delivered_rows.append(attempt)
            self.down = False
            if message in self.logged:
                self._delivered_logged(message)
            self._attempt_succeeded()
            return
        end = ledger.end_of(attempt)
        self._attempt_failed(end)
        if self.can_retry(message):
            ledger.a_outcome[attempt] = O_RETRY
            ledger.m_state[message] = S_RETRY
            self._log_failure(attempt)
            self.down = True
            self.scheduler.at(end + self.retry_interval, self._retry, message)
        else:
            self.waiting.popleft()
            self._final_failure(attempt)
            self.down = False

    def _retry(self, message: int) -> None:
        if self._idle_at:
            now = self.scheduler.now
            count = self._idle_at.pop(now, 0)
            if count > 1:
                self._idle_at[now] = count - 1
            if count:
                self.scheduler.idle -= 1
        # Only the head is ever down-and-waiting, so the retry goes to the head; unless the
        # administrator deleted it meanwhile, and the queue moved on without this timer.
        if not (self.down and self.waiting[0] == message):
            return
        self.down = False
        self._pump()

    def check(self) -> None:
        super().check()
        last = 0
        ledger = self.ledger
        for attempt in self.delivered:
            view = attempt.message
            if view.sequence - 1 in self.outside:
                continue  # a synchronous republish: delivered outside the queue
            assert view.sequence > last, f"SIM delivered #{view.sequence} after #{last}"
            position, generated = ledger.own(view.sequence - 1)
            assert attempt.position == position, f"{attempt!r} carries another snapshot"
            assert attempt.generated == generated, f"{attempt!r} carries another time"
            if not view.republished:
                assert attempt.snapshot is view.events[0].snapshot
                assert attempt.generated == view.events[0].time
            last = view.sequence
        if self.down:
            assert self.waiting, "down with nothing waiting"
            assert self.ledger.m_state[self.waiting[0]] == S_RETRY, f"head not {WAITING_RETRY}"
        for place, message in enumerate(self.waiting):
            assert self.ledger.m_state[message] in PENDING_CODES, (
                f"message #{message + 1} waits but is not pending"
            )
            # Only the head is ever attempted (Ledger.delivered_in_turn relies on it).
            assert place == 0 or self.ledger.attempts_of(message) == 0, (
                f"message #{message + 1} was attempted behind the head"
            )
