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
"""

from __future__ import annotations

from collections import deque
from typing import Any

from ..events import Event
from .channel import Channel
from .records import (
    DELIVERED,
    DISCARDED,
    IN_FLIGHT,
    OPEN,
    QUEUED,
    RELEASED,
    RETRY,
    SENT_OK,
    WAITING_RETRY,
    Attempt,
    Message,
)

__all__ = ["AggregateChannel"]


class AggregateChannel(Channel):
    """One configuration's queue under Aggregate."""

    mode = "aggregate"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.window = self.configuration.aggregation_window_ms
        self.duplicate_rate = self.configuration.duplicate_rate
        self.drop_rate = self.configuration.drop_rate
        # Open messages by envelope id: looked up, never iterated.
        self.open: dict[str, Message] = {}
        self.due: deque[Message] = deque()
        self.released: deque[Message] = deque()
        self.duplicates: deque[Attempt] = deque()
        # Failed messages waiting for a release, by sequence, in the order they first failed.
        self.failed: dict[int, Message] = {}

    def offer(self, event: Event) -> None:
        key = event.envelope.id
        message = self.open.get(key)
        if message is not None:
            message.events.append(event)
            return
        message = Message(self.next_sequence(), self.name, event, event.time, OPEN)
        self.open[key] = message
        self.messages.append(message)
        self.scheduler.at(event.time + self.window, self._fall_due, message)

    def _fall_due(self, message: Message) -> None:
        message.state = QUEUED
        self.due.append(message)
        if not self.busy:
            self._pump()

    def _pump(self) -> None:
        while not self.busy:
            if self.duplicates:
                original = self.duplicates.popleft()
                attempt = self._attempt(
                    original.message, original.position, original.generated, duplicate=True
                )
            elif self.released or self.due:
                message = self.released.popleft() if self.released else self.due.popleft()
                if message.state == QUEUED:
                    # From now on, new events for this envelope open a new message.
                    del self.open[message.envelope.id]
                    if self.drop_rate and self.rng.random() < self.drop_rate:
                        self._give_up(
                            message, self.scheduler.now, "lost by aggregation (drop anomaly)"
                        )
                        continue
                message.state = IN_FLIGHT
                now = self.scheduler.now
                # The envelope's state now: after the latest event it has had.
                message.position = position = message.history.count
                message.generated = now
                attempt = self._attempt(message, position, now)
            else:
                return
            if attempt is not None:
                self._settle(attempt)

    def _settle(self, attempt: Attempt) -> None:
        message = attempt.message
        ok = attempt.ok
        if attempt.duplicate:
            attempt.outcome = DELIVERED if ok else DISCARDED
            if ok:
                self.delivered.append(attempt)
            return
        if ok:
            attempt.outcome = DELIVERED
            message.state = SENT_OK
            self.failed.pop(message.sequence, None)
            self.delivered.append(attempt)
            if self.duplicate_rate and self.rng.random() < self.duplicate_rate:
                self.duplicates.append(attempt)
            self._release(attempt.end)
        elif self.can_retry(message):
            attempt.outcome = RETRY
            message.state = WAITING_RETRY
            # Kept at its first failure's place: releases go in the order of first failure.
            self.failed.setdefault(message.sequence, message)
        else:
            self.failed.pop(message.sequence, None)
            self._final_failure(attempt)

    def _release(self, now: int) -> None:
        """After a success at ``now``: retry every failed message that has waited long enough."""
        if not self.failed:
            return
        horizon = now - self.retry_interval
        for message in self.failed.values():
            if message.state == WAITING_RETRY and message.last_end <= horizon:
                message.state = RELEASED
                self.released.append(message)

    def check(self) -> None:
        super().check()
        for attempt in self.delivered:
            if not attempt.duplicate:
                assert attempt.generated == attempt.time, f"{attempt!r} not stamped at send time"
        for message in self.failed.values():
            assert message.state in (WAITING_RETRY, RELEASED, IN_FLIGHT), repr(message)
        for key, message in self.open.items():
            assert message.envelope.id == key and message.state in (OPEN, QUEUED), repr(message)
