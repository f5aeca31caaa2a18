"""What delivery produces: messages, attempts and failure-log entries.

A :class:`Message` is what a configuration owes its listener: under SIM one per
event, under Aggregate one per burst of events of an envelope.  An
:class:`Attempt` is one try at delivering it, with the snapshot and generated
time that the try carried.  A :class:`Failure` is a failure-log entry: a
message that will never be delivered, and why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from ..errors import ConfigurationError

if TYPE_CHECKING:
    from ..envelope import Envelope, EnvelopeState, Recipient
    from ..events import Event
    from ..render import Renderer

__all__ = ["DELIVERED", "DISCARDED", "FAILED", "RETRY", "Attempt", "Failure", "Message"]

# Attempt outcomes, as traces write them.
DELIVERED: Final = "delivered"  # a 2xx in time
RETRY: Final = "retry"  # failed; the message waits for a retry
FAILED: Final = "failed"  # failed; the message went to the failure log
DISCARDED: Final = "discarded"  # a failed accidental duplicate: Connect does not retry those

# Message states.
OPEN: Final = "open"  # Aggregate: still taking events
QUEUED: Final = "queued"  # waiting for its first attempt
WAITING_RETRY: Final = "retry"  # failed at least once, waiting to be retried
RELEASED: Final = "released"  # Aggregate: a retry released by a later success
IN_FLIGHT: Final = "in-flight"
SENT_OK: Final = "delivered"
GAVE_UP: Final = "failed"

_PENDING: Final = frozenset({OPEN, QUEUED, WAITING_RETRY, RELEASED, IN_FLIGHT})


class Message:
    """A message a configuration owes its listener.

    Attributes:
        sequence: its creation order in the whole run, from 1.
        configuration: the name of the configuration it belongs to.
        events: the events it stands for, oldest first (SIM: exactly one).
        snapshot: the envelope state it carries (Aggregate: as of its latest attempt).
        generated: the generated time it carries, in ms (SIM: the event time).
        attempts: how many delivery attempts it has had so far.
        state: ``open``, ``queued``, ``retry``, ``released``, ``in-flight``,
            ``delivered`` or ``failed``.
    """

    __slots__ = ("attempts", "configuration", "events", "generated", "history", "last_end",
                 "position", "sequence", "state")  # fmt: skip

    def __init__(
        self, sequence: int, configuration: str, event: Event, generated: int, state: str
    ) -> None:
        self.sequence = sequence
        self.configuration = configuration
        self.events = [event]
        # The snapshot it carries, as the envelope's history and an event position
        # (made only when read): the event's own, until Aggregate moves it on.
        self.history = event.history
        self.position = event.position
        self.generated = generated
        self.attempts = 0
        self.last_end = 0
        self.state = state

    @property
    def snapshot(self) -> EnvelopeState:
        """The envelope state it carries (Aggregate: as of its latest attempt)."""
        return self.history.snapshot(self.position)

    @property
    def event(self) -> str:
        """The name of the most recent event the message stands for."""
        return self.events[-1].name

    @property
    def last_event(self) -> Event:
        """The most recent event the message stands for."""
        return self.events[-1]

    @property
    def envelope(self) -> Envelope:
        """The envelope it is about."""
        return self.events[-1].envelope

    @property
    def recipient(self) -> Recipient | None:
        """The recipient of its most recent event, or ``None`` for an envelope event."""
        return self.events[-1].recipient

    @property
    def merged_events(self) -> tuple[str, ...]:
        """The names of all the events it stands for, oldest first."""
        return tuple(event.name for event in self.events)

    @property
    def pending(self) -> bool:
        """True while the message is neither delivered nor in the failure log."""
        return self.state in _PENDING

    def __repr__(self) -> str:
        return (
            f"<Message #{self.sequence} {self.configuration!r} {self.event} "
            f"{self.envelope.id!r} {self.state}>"
        )


class Attempt:
    """One delivery attempt, as the listener saw it.

    Attributes:
        time: when it started, in ms since the scenario start.
        end: when it ended (the answer, or the timeout).
        configuration: the configuration's name.
        message: the :class:`Message` being delivered.
        number: 1 for the first attempt of the message, 2 for its first retry, ...
        snapshot: the envelope state this attempt carried.
        generated: the generated time this attempt carried, in ms.
        status: the HTTP status, or ``None`` when the listener did not answer in time.
        outcome: ``delivered``, ``retry``, ``failed`` or ``discarded``.
        duplicate: True for an accidental duplicate (an Aggregate anomaly).
        error: what went wrong in an in-process listener's code (a traceback),
            or ``None``.
        reached_listener: False when something in front of the listener (the
            behaviour of a :class:`~connect_sim.listeners.Degraded`: an outage,
            a flaky network) failed the attempt before it got there; the
            listener then never saw it, and its answer is not the listener's.
        body: the exact bytes Connect would post (rendered on first use).
        headers: the request headers that go with the body (likewise).
    """

    __slots__ = ("_body", "_headers", "_renderer", "configuration", "duplicate", "end", "error",
                 "generated", "message", "number", "outcome", "position", "reached_listener",
                 "status", "time")  # fmt: skip

    def __init__(
        self,
        time: int,
        configuration: str,
        message: Message,
        number: int,
        position: int,
        generated: int,
        duplicate: bool = False,
        renderer: Renderer | None = None,
    ) -> None:
        self.time = time
        self.configuration = configuration
        self.message = message
        self.number = number
        # The snapshot it carried: its envelope's state after event ``position``.
        self.position = position
        self.generated = generated
        self.duplicate = duplicate
        self.end = time
        self.status: int | None = None
        self.outcome = ""
        self.error: str | None = None
        self.reached_listener = True
        self._renderer = renderer
        self._body: bytes | None = None
        self._headers: dict[str, str] | None = None

    @property
    def snapshot(self) -> EnvelopeState:
        """The envelope state this attempt carried (made when first read)."""
        return self.message.history.snapshot(self.position)

    @property
    def body(self) -> bytes:
        """The exact body bytes of this attempt (JSON or XML, UTF-8), rendered once.

        Byte-identical for the same scenario and seed; ``retryCount`` and, under
        Aggregate, the status and ``generatedDateTime`` reflect this attempt.
        """
        body = self._body
        if body is None:
            if self._renderer is None:
                raise ConfigurationError("this attempt was made without a renderer")
            body = self._body = self._renderer.body(self)
        return body

    @property
    def headers(self) -> dict[str, str]:
        """The request headers of this attempt (a new dict each time; rendered once).

        ``Content-Type``, ``X-DocuSign-AccountId``, ``Authorization`` with Basic
        auth, and ``X-Authorization-Digest`` with one ``X-DocuSign-Signature-N``
        per HMAC key.  The ``Authorization`` value carries the password: show
        headers to people through :func:`connect_sim.report.trace_records`,
        which hides it.
        """
        headers = self._headers
        if headers is None:
            body = self.body
            assert self._renderer is not None
            headers = self._headers = self._renderer.headers(body)
        return dict(headers)

    def render(self) -> tuple[bytes, dict[str, str]]:
        """The body and headers of this attempt, without keeping them.

        The same bytes and headers as :attr:`body` and :attr:`headers` (which
        render once and keep the result): what this attempt already keeps is
        returned, anything else is rendered afresh and not kept.  For a writer
        that streams a long run to disk one attempt at a time.
        """
        renderer = self._renderer
        if renderer is None:
            raise ConfigurationError("this attempt was made without a renderer")
        body = self._body
        if body is None:
            body = renderer.body(self)
        headers = self._headers
        return body, renderer.headers(body) if headers is None else dict(headers)

    @property
    def content_type(self) -> str:
        """The body's ``Content-Type``."""
        if self._renderer is None:
            raise ConfigurationError("this attempt was made without a renderer")
        return self._renderer.content_type

    @property
    def event(self) -> str:
        """The name of the most recent event the message stands for."""
        return self.message.events[-1].name

    @property
    def sequence(self) -> int:
        """The message's creation order in the run."""
        return self.message.sequence

    @property
    def retry_count(self) -> int:
        """How many earlier attempts this message had: the body's ``retryCount``."""
        return self.number - 1

    @property
    def merged_events(self) -> tuple[str, ...]:
        """The names of the events the message stands for."""
        return self.message.merged_events

    @property
    def envelope(self) -> Envelope:
        """The envelope the message is about."""
        return self.message.envelope

    @property
    def recipient(self) -> Recipient | None:
        """The recipient of the message's most recent event, if any."""
        return self.message.recipient

    @property
    def ok(self) -> bool:
        """True when the listener answered 2xx in time."""
        status = self.status
        return status is not None and 200 <= status < 300

    def __repr__(self) -> str:
        return (
            f"<Attempt t={self.time} {self.configuration!r} #{self.message.sequence} "
            f"{self.event} try {self.number}: {self.status} {self.outcome}>"
        )


class Failure:
    """A failure-log entry: a message that will never be delivered, and why.

    Attributes:
        time: when it went to the failure log, in ms.
        message: the message.
        reason: why, in words (``"no 2xx after 11 attempts"``, ...).
    """

    __slots__ = ("message", "reason", "time")

    def __init__(self, time: int, message: Message, reason: str) -> None:
        self.time = time
        self.message = message
        self.reason = reason

    def __repr__(self) -> str:
        return (
            f"<Failure t={self.time} #{self.message.sequence} {self.message.event}: {self.reason}>"
        )
