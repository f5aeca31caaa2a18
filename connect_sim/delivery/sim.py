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
"""

from __future__ import annotations

from collections import deque
from typing import Any

from ..events import Event
from .channel import Channel
from .records import DELIVERED, IN_FLIGHT, QUEUED, RETRY, SENT_OK, WAITING_RETRY, Attempt, Message

__all__ = ["SimChannel"]


class SimChannel(Channel):
    """One configuration's queue under SIM."""

    mode = "sim"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.waiting: deque[Message] = deque()
        self.down = False

    def offer(self, event: Event) -> None:
        message = Message(self.next_sequence(), self.name, event, event.time, QUEUED)
        self.messages.append(message)
        waiting = self.waiting
        waiting.append(message)
        if self.busy or self.down:
            return
        if len(waiting) > 1:
            self._pump()
            return
        # The common case: an idle queue, so the new message is the head at once.  This is
        # _pump's first turn written out, and it stops where _pump would (nothing waits
        # behind the head).
        message.state = IN_FLIGHT
        attempt = self._attempt(message, message.position, message.generated)
        if attempt is None:
            return  # in flight: its end settles it
        if attempt.ok:
            attempt.outcome = DELIVERED
            message.state = SENT_OK
            waiting.popleft()
            self.delivered.append(attempt)
        else:
            self._settle(attempt)

    def _pump(self) -> None:
        waiting = self.waiting
        while waiting and not self.busy and not self.down:
            head = waiting[0]
            head.state = IN_FLIGHT
            attempt = self._attempt(head, head.position, head.generated)
            if attempt is not None:
                self._settle(attempt)

    def _settle(self, attempt: Attempt) -> None:
        message = attempt.message
        if attempt.ok:
            attempt.outcome = DELIVERED
            message.state = SENT_OK
            self.waiting.popleft()
            self.delivered.append(attempt)
            self.down = False
        elif self.can_retry(message):
            attempt.outcome = RETRY
            message.state = WAITING_RETRY
            self.down = True
            self.scheduler.at(attempt.end + self.retry_interval, self._retry, message)
        else:
            self.waiting.popleft()
            self._final_failure(attempt)
            self.down = False

    def _retry(self, message: Message) -> None:
        # Only the head is ever down-and-waiting, so the retry goes to the head.
        self.down = False
        self._pump()

    def check(self) -> None:
        super().check()
        last = 0
        for attempt in self.delivered:
            assert attempt.message.sequence > last, (
                f"SIM delivered #{attempt.message.sequence} after #{last}"
            )
            assert attempt.snapshot is attempt.message.events[0].snapshot
            assert attempt.generated == attempt.message.events[0].time
            last = attempt.message.sequence
        if self.down:
            assert self.waiting, "down with nothing waiting"
            assert self.waiting[0].state == WAITING_RETRY
        for message in self.waiting:
            assert message.pending, f"{message!r} waits but is not pending"
