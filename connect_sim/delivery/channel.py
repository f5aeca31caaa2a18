"""What both delivery algorithms share: attempts, timeouts and the failure log.

Theory of operation
-------------------
A channel is one configuration's delivery queue.  It makes at most one attempt
at a time.  :meth:`Channel._attempt` starts one: it asks the listener session
for ``(status, latency)``; no answer, or an answer later than the timeout, is a
failure that ends when the timeout does (a session that measures its answers,
a real HTTP listener's, says when a failure with no status ended: a refused
connection fails at once).  An answer with no latency settles at
once and the method returns the attempt, so that the caller's loop goes on
(a flush of thousands of waiting messages is a loop, never a recursion).  An
answer that takes time makes the channel busy and ends in a timer, which calls
:meth:`Channel._ended`; the subclass settles the attempt there and pumps its
queue again.  The subclasses decide what a failure means for the queue.

Messages and attempts are rows of the run's :class:`~.ledger.Ledger`, and a
channel works on rows (numbers); :class:`~.records.Attempt` and
:class:`~.records.Message` views are made only for a listener that reads the
attempt, and for whoever reads the result.  A session of connect-sim's own
listener models that answers without reading the attempt says so with an
``answer()`` method, and is asked that instead of ``respond(attempt)``: the
same answer, drawn from the same generator in the same order, without a view.

Administrators act on a channel too (``connect_sim.delivery.operations``
says what for): a *paused* channel makes no attempt, and where it would
have made one it notes a *skip* and waits as after a failure; a message that
has failed is in the channel's *failure log* (``logged``) from the end of its
first failed attempt until it is delivered or the administrator deletes it.
"""

from __future__ import annotations

import random
import weakref
from array import array
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from ..errors import ConfigurationError
from ..rows import Rows
from ..scheduler import Scheduler
from .ledger import (
    GAVE_UP,
    O_DELIVERED,
    O_FAILED,
    PENDING_CODES,
    ROW,
    S_DELIVERED,
    S_FAILED,
    S_IN_FLIGHT,
    S_QUEUED,
    S_REPUBLISHED,
    Ledger,
)
from .records import Attempt, Failure, Message

if TYPE_CHECKING:
    from ..configuration import Configuration
    from ..history import History
    from ..listeners import Session
    from ..render import Renderer

__all__ = ["DISABLED", "Channel"]

#: Why a disabled configuration's messages are given up.
DISABLED = "configuration disabled"


class Channel:
    """A configuration's delivery queue (abstract: see SimChannel and AggregateChannel)."""

    #: The delivery algorithm: ``"sim"`` or ``"aggregate"``.
    mode: ClassVar[str]

    def __init__(
        self,
        configuration: Configuration,
        session: Session,
        scheduler: Scheduler,
        ledger: Ledger,
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
        self.ledger = ledger
        self.number = ledger.add_channel(self.name, renderer, self.mode)
        # The configuration's queues after a mode switch, oldest first, as weak references
        # (the simulation keeps them; a strong list would be a reference cycle); None for one.
        self._family: list[weakref.ref[Channel]] | None = None
        #: True once a newer queue of the configuration takes its events.
        self.retired = False
        self.rng = rng
        # A session that answers without reading the attempt (see the theory of operation).
        # Looked up on the class: an instance attribute, or a wrapper forwarding attributes,
        # is not a promise that the answers never depend on the attempt.
        self.answer: Callable[[], tuple[int | None, int]] | None = None
        if callable(getattr(type(session), "answer", None)):
            self.answer = session.answer  # type: ignore[attr-defined]
        self.timeout = configuration.timeout_ms
        # A session that measures its answers (a real HTTP listener) says how long even a
        # failure with no status took: a refused connection fails at once, not at the timeout.
        self.measured = bool(getattr(type(session), "measured", False))
        self.retry_interval = configuration.retry_interval_ms
        self.max_retries = configuration.max_retries
        self.acknowledged = configuration.require_acknowledgement
        self.subscribed = frozenset(configuration.subscribed)
        self.busy = False
        #: How many attempts it has made.
        self.attempt_count = 0
        #: The ledger rows of every message generated, in creation order.
        self.message_rows = array(ROW)
        #: The ledger rows of the delivered attempts, in arrival order.
        self.delivered_rows = array(ROW)
        #: How many of those delivered an accidental duplicate (Aggregate), and how many
        #: messages a republish withdrew: with ``failures`` they give the counts of
        #: :meth:`counts` without reading every message.
        self.duplicates_delivered = 0
        self.withdrawn = 0
        #: The messages given up (that will never be delivered), in the order they were.
        self.failures: list[Failure] = []
        #: The failure log: message row to when it went there, in that order (see above).
        self.logged: dict[int, int] = {}
        #: Per message in the failure log: what went wrong last, in words.
        self.log_errors: dict[int, str] = {}
        #: True while the administrator has paused the configuration.
        self.paused = False
        #: How many skips it has made (attempts a pause turned into none).
        self.skips = 0
        #: Messages attempted outside the queue (synchronous republishes), by row.
        self.outside: set[int] = set()
        # Auto-disable: when the current failing period began (the end of its first failed
        # attempt), or None; whether it is disabled; how many times it was.
        self.disable_after = configuration.disable_after_ms
        self.failing_since: int | None = None
        self.disabled = False
        self.disables = 0
        #: True while more than the plain rules applies (paused, disabled, a failing period
        #: watched for auto-disable, another queue after a mode switch): no fast path then.
        self.special = False

    def offer(self, event: int, history: History, position: int, now: int) -> None:
        """Take one subscribed event of the run: its row, its envelope's history, its position.

        The simulation filters by subscription; the event happens ``now`` (the clock).
        """
        raise NotImplementedError

    def _settle(self, attempt: int) -> None:
        """Decide what an ended attempt means for the queue (outcome, retries, failure log)."""
        raise NotImplementedError

    def _pump(self) -> None:
        """Start attempts while the queue allows."""
        raise NotImplementedError

    def _attempt(
        self,
        message: int,
        position: int,
        generated: int,
        duplicate: bool = False,
        response: tuple[int | None, int] | None = None,
        outside: bool = False,
    ) -> int | None:
        """Start an attempt of ``message`` carrying the envelope's state after event ``position``.

        Returns the attempt's row if it ended at once, ``None`` if it is in flight.
        ``response`` is the session's answer when the caller has asked it already.
        ``outside``: an attempt outside the queue (a synchronous republish), whose
        answer is settled now whatever its latency, and which keeps the queue free.
        """
        ledger = self.ledger
        now = self.scheduler.now
        number = ledger.attempts_of(message)
        if not duplicate:
            number += 1
        answer = self.answer
        asked = response is None and answer is None  # the listener reads the attempt
        if asked:  # and sees its message as it was until the answer: its last end the earlier
            before = ledger.last_end(message)
        row = ledger.add_attempt(message, now, number, position, generated)
        self.attempt_count += 1
        if duplicate:
            ledger.duplicates.add(row)
            ledger.latest_duplicate[message] = row
        else:
            ledger.m_last[message] = row
            if ledger.latest_duplicate:
                ledger.latest_duplicate.pop(message, None)
        if asked:
            # Until its answer is known good, the message shows its last end before this
            # attempt (also if the answer raises: as the run stopped).
            ledger.answering[message] = before
            response = self.session.respond(Attempt(ledger, row))
        elif response is None:
            response = answer()  # type: ignore[misc]  # not None: asked is False
        status, latency = response
        if not (status is None or (type(status) is int and 100 <= status <= 599)) or not (
            type(latency) is int and latency >= 0
        ):
            raise ConfigurationError(
                f"configuration {self.name!r}: its listener answered {response!r}; expected "
                "(an HTTP status from 100 to 599 or None, a latency in whole ms, 0 or more)"
            )
        if latency > self.timeout or (status is None and not self.measured):
            status, latency = None, self.timeout
        if status is not None:
            ledger.a_status[row] = status
        end = now + latency
        if latency:
            ledger.set_end(row, end)
        if ledger.answering:
            ledger.answering.pop(message, None)
        if latency == 0 or outside:
            return row
        self.busy = True
        self.scheduler.at(end, self._ended, row)
        return None

    def _ended(self, attempt: int) -> None:
        self.busy = False
        self._settle(attempt)
        self._pump()

    def _give_up(self, message: int, time: int, reason: str, logged: bool = True) -> None:
        self.ledger.m_state[message] = S_FAILED
        self.failures.append(Failure(time, Message(self.ledger, message), reason))
        if logged:  # stays in the failure log until the administrator deletes it
            self.logged.setdefault(message, time)
            self.log_errors[message] = reason

    def _log_failure(self, attempt: int) -> None:
        """A failed attempt that will be retried: its message is in the failure log."""
        ledger = self.ledger
        message = ledger.a_message[attempt]
        self.logged.setdefault(message, ledger.end_of(attempt))
        status = ledger.a_status[attempt]
        self.log_errors[message] = (
            f"no answer within {self.timeout} ms" if status == 0 else f"HTTP {status}"
        ) + f" on attempt {ledger.a_number[attempt]}; a retry is due"

    def _delivered_logged(self, message: int) -> None:
        """A message in the failure log delivered at last: it leaves the log."""
        del self.logged[message]
        del self.log_errors[message]

    def pause(self) -> None:
        """Make no attempt until :meth:`resume` (see the module's doc); every queue of it."""
        for queue in self.siblings:
            queue.paused = True
            queue._update_special()

    def resume(self) -> None:
        """Attempt again, from the next retry due: resuming sends nothing by itself."""
        for queue in self.siblings:
            queue.paused = False
            queue._update_special()

    @property
    def siblings(self) -> list[Channel]:
        """Every queue of this configuration, this one included, oldest first.

        One, or one more per switch of the account's mode (see ``connect_sim.operations``).
        """
        if self._family is None:
            return [self]
        queues = [ref() for ref in self._family]
        return [queue for queue in queues if queue is not None]

    def _update_special(self) -> None:
        # Queues of one configuration share what a success does (the fast path does not).
        self.special = (self.paused or self.disabled or self.failing_since is not None
                        or self._family is not None)  # fmt: skip

    def _attempt_failed(self, end: int) -> None:
        """An attempt failed at ``end``: a failing period begins, if none has (auto-disable)."""
        if self.disable_after is not None and self.failing_since is None:
            for queue in self.siblings:  # the configuration's period, whichever queue failed
                queue.failing_since = end
                queue.special = True
            self.scheduler.at(end + self.disable_after, self._disable_due, end)

    def _attempt_succeeded(self) -> None:
        """An attempt succeeded: a failing period, if any, is over."""
        if self.failing_since is not None:
            for queue in self.siblings:
                queue.failing_since = None
                queue._update_special()
        if self._family is not None:  # a success in any queue releases every Aggregate queue's
            for queue in self.siblings:
                if queue is not self:
                    queue._released_by_sibling(self.scheduler.now)

    def _released_by_sibling(self, now: int) -> None:
        """A success in another queue of the configuration (Aggregate: releases failures)."""

    def _disable_due(self, since: int) -> None:
        """The failing period that began at ``since`` has lasted ``disable_after``: disable."""
        if self.failing_since != since or self.disabled:
            return  # a success ended that period (or an enable started afresh)
        given_up: list[int] = []
        for queue in self.siblings:
            queue.disabled = True
            queue.special = True
            given_up.extend(queue._give_up_held())
        self.siblings[-1].disables += 1
        self.ledger.note_action({"time": self.scheduler.now, "action": "disable",
                                 "configuration": self.name,
                                 "given_up": sorted(given_up)})  # fmt: skip

    def _give_up_held(self) -> list[int]:
        """Give up every message held but the one in flight; their sequence numbers."""
        raise NotImplementedError

    def enable(self) -> None:
        """Turn a disabled configuration back on, for later events; afresh."""
        for queue in self.siblings:
            queue.disabled = False
            queue.failing_since = None
            queue._update_special()

    def succeed(self, other: Channel) -> None:
        """Become the configuration's queue for new events, after ``other`` (a mode switch).

        ``other`` keeps what it holds and finishes it under its own rules; the two
        share the configuration's pause, failing period and disabling.
        """
        family = other._family
        if family is None:
            family = other._family = [weakref.ref(other)]
        family.append(weakref.ref(self))
        self._family = family
        other.retired = True
        self.paused, self.disabled = other.paused, other.disabled
        self.failing_since = other.failing_since
        for queue in self.siblings:
            queue._update_special()

    def delete(self, message: int, republished: bool = False) -> bool:
        """Delete a message's failure-log entry: it is never retried.

        ``republished``: withdrawn by a republish instead (a new message stands for
        it).  False, and nothing changes, while its retry is in flight.
        """
        raise NotImplementedError

    def _deleted(self, message: int, republished: bool) -> None:
        """What a deletion writes: the message given up (or withdrawn), out of the log."""
        state = self.ledger.m_state
        if republished:
            if state[message] == S_FAILED:  # it ends withdrawn, not given up: counted once
                self.failures = [f for f in self.failures if f.message.sequence != message + 1]
            state[message] = S_REPUBLISHED
            self.withdrawn += 1
        elif state[message] != S_FAILED:
            self._give_up(
                message, self.scheduler.now, "deleted by the administrator", logged=False
            )
        self._delivered_logged(message)

    def add_republished(self, event: int, name: str, position: int, generated: int) -> int:
        """A new message a republish makes: what it says is fixed (see the ledger's doc)."""
        row = self.ledger.add_message(self.number, event, S_QUEUED)
        self.ledger.republished[row] = (name, position, generated)
        self.message_rows.append(row)
        return row

    def queue_republished(self, message: int) -> None:
        """An asynchronous republish: the new message joins the back of the queue."""
        raise NotImplementedError

    def attempt_outside(self, message: int) -> bool:
        """A synchronous republish: one attempt now, outside the queue; True on a 2xx.

        A failure (a paused configuration makes no attempt) gives the message up:
        it goes back to the failure log and is not retried.
        """
        ledger = self.ledger
        now = self.scheduler.now
        ledger.m_state[message] = S_IN_FLIGHT
        if self.paused or self.disabled:
            why = "paused" if self.paused else "disabled"
            self._give_up(message, now, f"a synchronous republish: the configuration is {why}")
            return False
        attempt = self._attempt(message, *ledger.own(message), outside=True)
        assert attempt is not None
        if ledger.ok(attempt):
            ledger.a_outcome[attempt] = O_DELIVERED
            ledger.m_state[message] = S_DELIVERED
            self.outside.add(message)
            self.delivered_rows.append(attempt)
            self._attempt_succeeded()
            self._succeeded_outside(ledger.end_of(attempt))
            return True
        self._attempt_failed(ledger.end_of(attempt))
        ledger.a_outcome[attempt] = O_FAILED
        status = ledger.a_status[attempt]
        answer = "no answer" if status == 0 else f"HTTP {status}"
        self._give_up(message, ledger.end_of(attempt),
                      f"{answer} to a synchronous republish; not retried")  # fmt: skip
        return False

    def _succeeded_outside(self, end: int) -> None:
        """What a success outside the queue does to it (Aggregate: releases failures)."""

    def _fail_reason(self, attempt: int) -> str:
        """Why a message goes to the failure log after this failed attempt."""
        status = Attempt(self.ledger, attempt).status
        answer = "no answer" if status is None else f"HTTP {status}"
        if self.disabled:
            return f"{answer}; {DISABLED}"
        if not self.acknowledged:
            return f"{answer}; acknowledgement is off, so Connect does not retry"
        number = self.ledger.a_number[attempt]
        return f"{answer} on attempt {number}; retries exhausted ({self.max_retries})"

    def _final_failure(self, attempt: int) -> None:
        ledger = self.ledger
        ledger.a_outcome[attempt] = O_FAILED
        message, end = ledger.a_message[attempt], ledger.end_of(attempt)
        self._give_up(message, end, self._fail_reason(attempt))

    def can_retry(self, message: int) -> bool:
        """True when a failed message gets another attempt."""
        return (
            self.acknowledged
            and self.ledger.attempts_of(message) <= self.max_retries
            and not self.disabled
        )

    @property
    def messages(self) -> Rows[Message]:
        """Every message generated, in creation order."""
        return Rows(self.message_rows, partial(Message, self.ledger))

    @property
    def delivered(self) -> Rows[Attempt]:
        """The delivered attempts, in arrival order."""
        return Rows(self.delivered_rows, partial(Attempt, self.ledger))

    def counts(self) -> tuple[int, int, int, int, int]:
        """Its messages: how many were made, delivered, given up, withdrawn, still pending.

        From running counts, without reading a message: every message is in
        exactly one of the four ends (pending counts what is in none yet).
        """
        made = len(self.message_rows)
        delivered = len(self.delivered_rows) - self.duplicates_delivered
        failed = len(self.failures)
        return made, delivered, failed, self.withdrawn, made - delivered - failed - self.withdrawn

    def pending(self) -> list[Message]:
        """Messages neither delivered nor in the failure log, in creation order."""
        ledger = self.ledger
        state = ledger.state_of  # a row kept short is delivered: read where it is
        return [Message(ledger, row) for row in self.message_rows if state(row) in PENDING_CODES]

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
        state = self.ledger.m_state
        for row in self.logged:
            assert state[row] != S_DELIVERED, f"message #{row + 1} delivered but logged"
            assert self.ledger.attempts_of(row) or state[row] == S_FAILED, (
                f"message #{row + 1} logged without a failure"
            )
        assert list(self.logged) == list(self.log_errors), "the failure log's errors differ"
        recount = Counter(map(self.ledger.state_of, self.message_rows))
        assert self.counts()[1:] == (
            recount[S_DELIVERED], recount[S_FAILED], recount[S_REPUBLISHED],
            sum(recount[code] for code in PENDING_CODES),
        ), f"running counts {self.counts()} against the states {dict(recount)}"  # fmt: skip
        delivered = {a.message.sequence for a in self.delivered}
        for message in self.messages:
            assert not (message.pending and message.sequence in delivered), (
                f"{message!r} is both pending and delivered"
            )
