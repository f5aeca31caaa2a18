"""What both delivery algorithms share: attempts, timeouts and the failure log.

Theory of operation
-------------------
A channel is one configuration's delivery queue.  It makes at most one attempt
at a time.  :meth:`Channel._attempt` starts one: it asks the listener session
for ``(status, latency)``; no answer, or an answer later than the timeout, is a
failure that ends when the timeout does.  An answer with no latency settles at
once and the method returns the attempt, so that the caller's loop goes on
(a flush of thousands of waiting messages is a loop, never a recursion).  An
answer that takes time makes the channel busy and ends in a timer, which calls
:meth:`Channel._ended`; the subclass settles the attempt there and pumps its
queue again.  The subclasses decide what a failure means for the queue.
"""

from __future__ import annotations

import random
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from ..scheduler import Scheduler
from .records import FAILED, GAVE_UP, Attempt, Failure, Message

if TYPE_CHECKING:
    from ..configuration import Configuration
    from ..events import Event
    from ..listeners import Session
    from ..render import Renderer

__all__ = ["Channel"]


class Channel:
    """A configuration's delivery queue (abstract: see SimChannel and AggregateChannel)."""

    #: The delivery algorithm: ``"sim"`` or ``"aggregate"``.
    mode: ClassVar[str]

    def __init__(
        self,
        configuration: Configuration,
        session: Session,
        scheduler: Scheduler,
        log: list[Attempt],
        next_sequence: Callable[[], int],
        rng: random.Random,
        renderer: Renderer | None = None,
    ) -> None:
        self.configuration = configuration
        self.renderer = renderer
        self.name = configuration.name
        self.session = session
        # A proxy, not a reference: the scheduler's timers hold this channel's methods,
        # and a reference back would make a cycle that keeps a simulation stopped with
        # work pending alive until the cyclic collector runs.
        self.scheduler = weakref.proxy(scheduler)
        self.log = log
        self.next_sequence = next_sequence
        self.rng = rng
        self.timeout = configuration.timeout_ms
        self.retry_interval = configuration.retry_interval_ms
        self.max_retries = configuration.max_retries
        self.acknowledged = configuration.require_acknowledgement
        self.subscribed = frozenset(configuration.subscribed)
        self.busy = False
        #: Every message generated, in creation order.
        self.messages: list[Message] = []
        #: Delivered attempts, in arrival order.
        self.delivered: list[Attempt] = []
        #: The failure log, in the order messages went there.
        self.failures: list[Failure] = []

    def offer(self, event: Event) -> None:
        """Take one subscribed event of the run (the simulation filters by subscription)."""
        raise NotImplementedError

    def _settle(self, attempt: Attempt) -> None:
        """Decide what an ended attempt means for the queue (outcome, retries, failure log)."""
        raise NotImplementedError

    def _pump(self) -> None:
        """Start attempts while the queue allows."""
        raise NotImplementedError

    def _attempt(
        self, message: Message, position: int, generated: int, duplicate: bool = False
    ) -> Attempt | None:
        """Start an attempt carrying the envelope's state after event ``position``.

        Returns the attempt if it ended at once, ``None`` if it is in flight.
        """
        now = self.scheduler.now
        number = message.attempts if duplicate else message.attempts + 1
        attempt = Attempt(
            now, self.name, message, number, position, generated, duplicate, self.renderer
        )
        if not duplicate:
            message.attempts = number
        self.log.append(attempt)
        status, latency = self.session.respond(attempt)
        if status is None or latency > self.timeout:
            status, latency = None, self.timeout
        attempt.status = status
        attempt.end = end = now + latency
        message.last_end = end
        if latency == 0:
            return attempt
        self.busy = True
        self.scheduler.at(end, self._ended, attempt)
        return None

    def _ended(self, attempt: Attempt) -> None:
        self.busy = False
        self._settle(attempt)
        self._pump()

    def _give_up(self, message: Message, time: int, reason: str) -> None:
        message.state = GAVE_UP
        self.failures.append(Failure(time, message, reason))

    def _fail_reason(self, attempt: Attempt) -> str:
        """Why a message goes to the failure log after this failed attempt."""
        answer = "no answer" if attempt.status is None else f"HTTP {attempt.status}"
        if not self.acknowledged:
            return f"{answer}; acknowledgement is off, so Connect does not retry"
        return f"{answer} on attempt {attempt.number}; retries exhausted ({self.max_retries})"

    def _final_failure(self, attempt: Attempt) -> None:
        attempt.outcome = FAILED
        self._give_up(attempt.message, attempt.end, self._fail_reason(attempt))

    def can_retry(self, message: Message) -> bool:
        """True when a failed message gets another attempt."""
        return self.acknowledged and message.attempts <= self.max_retries

    def pending(self) -> list[Message]:
        """Messages neither delivered nor in the failure log, in creation order."""
        return [message for message in self.messages if message.pending]

    def check(self) -> None:
        """Assert the invariants both algorithms keep; property tests call it after every step."""
        last = 0
        for message in self.messages:
            assert message.sequence > last, f"sequence numbers go back at {message!r}"
            last = message.sequence
        for attempt in self.delivered:
            assert attempt.ok, f"{attempt!r} delivered without a 2xx"
            assert attempt.configuration == self.name
        for failure in self.failures:
            assert failure.message.state == GAVE_UP, f"{failure!r} is not marked failed"
        delivered = {a.message.sequence for a in self.delivered}
        for message in self.messages:
            assert not (message.pending and message.sequence in delivered), (
                f"{message!r} is both pending and delivered"
            )
