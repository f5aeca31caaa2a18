"""The Simulation facade: envelopes, configurations and a timeline, wired to the scheduler.

A :class:`Simulation` holds the account: its delivery mode (SIM by default),
its configurations with their listeners, and its envelopes.  Actions (send,
view, sign, ...) are put on a timeline in simulated time; :meth:`Simulation.run`
plays it.  Each action goes through the lifecycle (:mod:`connect_sim.lifecycle`),
which returns events; each event goes to every configuration that subscribes
to it, in the order the configurations were added, and each configuration's
channel (:mod:`connect_sim.delivery`) turns events into messages and attempts.
"""

from __future__ import annotations

import gc
import random
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from .account import Account
from .configuration import MODES, Configuration
from .delivery import AggregateChannel, AttemptLog, Channel, Ledger, SimChannel
from .envelope import (
    DEFAULT_DOCUMENT,
    Document,
    Envelope,
    EnvelopeState,
    Recipient,
    checked_custom_fields,
    numbered_documents,
    numbered_recipients,
)
from .errors import ConfigurationError, InvalidAction, InvalidOperation
from .events import EventLog
from .history import CREATION, TIME_SHIFT, UNPACKED, History, Shape
from .ids import guid_maker
from .lifecycle import ACTIONS, RECIPIENT_ACTIONS, apply
from .listeners import AlwaysOk, Listener, check_listener
from .operations import CONTENTS, LogEntry, Operation, failure_log, perform
from .render import Renderer
from .result import Result
from .scheduler import Scheduler
from .sinks import BATCH, Sink, TraceCursor, check_sink
from .text import check_text
from .time import (
    DEFAULT_START,
    HORIZON_MS,
    MAX_DURATION_MS,
    check_start,
    duration_ms,
    format_duration,
)

__all__ = ["Action", "Simulation"]


class _FromSink(Exception):
    """A sink's InvalidAction or InvalidOperation, carried past run()'s ``put_back``."""

    def __init__(self, error: InvalidAction | InvalidOperation) -> None:
        super().__init__(error)
        self.error = error


When = timedelta | str | datetime

#: One step of the timeline: ``(time, kind, envelope id, recipient index or None,
#: reason or None, source or None)``.  ``source`` says where it came from
#: (``"shop.toml: action 3"``) so that an error can point at it.  A plain tuple of
#: plain values, which the garbage collector stops tracking (see the scheduler).
Action = tuple[int, str, str, int | None, str | None, str | None]

#: How a channel takes an event: its row, its envelope's history, its position there, now.
Offer = Callable[[int, History, int, int], None]


_NO_TIME: Final = timedelta(0)
_LONGEST: Final = timedelta(milliseconds=MAX_DURATION_MS)
#: What an envelope created without documents has (one tuple, shared).
_DEFAULT_DOCUMENTS: Final = (DEFAULT_DOCUMENT,)


def _describe(action: Action, envelope: Envelope) -> str:
    """A short human description, such as ``sign by 'sue' on 'e1' at 2m20s``."""
    time, kind, _, recipient, _, source = action
    who = "" if recipient is None else f" by {envelope.recipients[recipient].recipient_id!r}"
    where = f"{source}: " if source else ""
    return f"{where}{kind}{who} on {envelope.id!r} at {format_duration(time)}"


class Simulation:
    """A Connect account in simulated time.

    Args:
        mode: the account's delivery mode, ``"sim"`` (default) or ``"aggregate"``;
            a configuration may override it.
        seed: seeds every random choice (envelope GUIDs, flaky listeners without
            their own seed, Aggregate anomalies).  Same inputs, same seed: the
            same run, byte for byte, in any process.
        start: the UTC instant simulated time 0 stands for.
        account: the account and sender that messages name (default: an
            :class:`~connect_sim.Account` whose ids derive from the seed).

    >>> import connect_sim as cs
    >>> sim = cs.Simulation(mode="sim", seed=1)
    >>> sim.add_configuration(cs.Configuration(name="listener"))
    >>> env = sim.create_envelope(subject="Hi", recipients=[cs.Signer("Sue", "sue@example.com")])
    >>> sim.send(env, at=timedelta(0))
    >>> [a.event for a in sim.run().received("listener")]
    ['recipient-sent', 'envelope-sent']
    """

    def __init__(
        self,
        mode: str = "sim",
        seed: int = 0,
        start: datetime = DEFAULT_START,
        account: Account | None = None,
    ) -> None:
        if mode not in MODES:
            raise ConfigurationError(f"mode must be one of {MODES}, got {mode!r}")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ConfigurationError(f"seed must be a whole number, got {seed!r}")
        self.mode = mode
        self.seed = seed
        self.start = check_start(start)
        if account is None:
            account = Account()
        if not isinstance(account, Account):
            raise ConfigurationError(f"account: expected an Account, got {account!r}")
        #: The account, with every id it left out derived from the seed.
        self.account = account.resolved(seed)
        self.scheduler = Scheduler(horizon=HORIZON_MS)
        #: Every event of the run, in order (kept as columns; see EventLog).
        self.events = EventLog()
        events = self.events
        self._record = (events.times.append, events.said.append, events.histories.append,
                        events.positions.append)  # fmt: skip
        self._ledger = Ledger(self.events)
        #: Every delivery attempt, in the order they started (views of the ledger's rows).
        self.attempts = AttemptLog(self._ledger)
        self._envelopes: dict[str, Envelope] = {}
        # Per envelope id: its life so far (its snapshots are made when read; see history).
        self._histories: dict[str, History] = {}
        self._shapes: dict[tuple[tuple[str, ...], tuple[tuple[int, ...], ...]], Shape] = {}
        self._channels: list[Channel] = []
        self._scopes: list[str | None] = []  # per channel: None, or its envelope's id
        self._scoped: set[str] = set()  # envelopes with a configuration of their own
        # Per envelope id with a configuration of its own, and None for all the others.
        self._routes: dict[str | None, list[tuple[frozenset[str], Offer]]] = {}
        # The feeds given to feed(), by number; None once one is used up.
        self._feeds: list[Iterator[When] | None] = []
        # The administrative actions given, by number, and the instants that have one.
        self._operations: list[Operation] = []
        self._operation_instants: set[int] = set()
        self._held_routes: dict[str | None, list[tuple[frozenset[str], Offer]]] = {}
        self._started = False
        self._guid = guid_maker(seed)  # an envelope's GUID from its id, made when first read
        # What add_sink was given, each with its place in the trace (see connect_sim.sinks).
        self._sinks: list[tuple[Sink, TraceCursor]] = []

    # -- building ------------------------------------------------------------------

    def add_configuration(
        self,
        configuration: Configuration,
        listener: Listener | None = None,
        envelope: Envelope | None = None,
    ) -> None:
        """Add a configuration and the listener it delivers to (default: :class:`AlwaysOk`).

        With ``envelope`` it is an envelope-level configuration (the envelope's
        ``eventNotification``) and sees only that envelope's events; otherwise
        it is account-level and sees every envelope.
        """
        if self._started:
            raise ConfigurationError("add configurations before the simulation runs")
        if not isinstance(configuration, Configuration):
            raise ConfigurationError(f"expected a Configuration, got {configuration!r}")
        if any(c.name == configuration.name for c in self._channels):
            raise ConfigurationError(
                f"a configuration named {configuration.name!r} exists already"
            )
        if envelope is not None:
            self._own(envelope)
        listener = AlwaysOk() if listener is None else check_listener(listener, "listener")
        name = configuration.name
        mode = configuration.mode or self.mode
        if configuration.mode is None:  # its own mode it checked when it was made
            configuration.check_mode(mode, "the simulation's")
        session = listener.session(random.Random(f"connect-sim:{self.seed}:{name}:listener"))
        bind = getattr(type(session), "bind", None)
        if bind is not None:  # a session that needs its configuration (an Http's timeout)
            session.bind(configuration)  # type: ignore[attr-defined]
        kind = SimChannel if mode == "sim" else AggregateChannel
        channel = kind(
            configuration, session, self.scheduler, self._ledger,
            random.Random(f"connect-sim:{self.seed}:{name}:anomalies"),
            Renderer(configuration, self.account, self.start),
        )  # fmt: skip
        self._channels.append(channel)
        self._scopes.append(None if envelope is None else envelope.id)
        if envelope is not None:
            self._scoped.add(envelope.id)

    def create_envelope(
        self,
        subject: str,
        recipients: Sequence[Recipient],
        id: str | None = None,
        at: When = timedelta(0),
        custom_fields: Mapping[str, str] | None = None,
        documents: Sequence[Document] = (),
    ) -> Envelope:
        """Create a draft envelope at ``at`` (``envelope-created``) and return it.

        ``id`` is how scenarios and traces name it (default ``"envelope-1"``, ...).
        Recipients without a ``recipient_id`` are numbered by position, and so
        are documents without a ``document_id``; an envelope with no documents
        gets :data:`~connect_sim.envelope.DEFAULT_DOCUMENT`, as DocuSign sends
        none without one.  ``custom_fields`` are the
        envelope's text custom fields, name to value, in the order given.
        """
        if not (type(subject) is str and subject.isascii()):
            check_text(subject, "subject", empty=True)
        time = self._when(at)  # before anything is kept: a refused call leaves no trace
        if id is None:
            id = f"envelope-{len(self._envelopes) + 1}"
        if not isinstance(id, str) or not id.strip():
            raise ConfigurationError(f"envelope id: expected non-empty text, got {id!r}")
        if id in self._envelopes:
            raise ConfigurationError(f"an envelope with id {id!r} exists already")
        given, bound = numbered_recipients(id, recipients)
        envelope = Envelope(
            id, self._guid, subject, bound, given=given,
            custom_fields=checked_custom_fields(id, custom_fields),
            documents=numbered_documents(id, documents) or _DEFAULT_DOCUMENTS,
        )  # fmt: skip
        self._envelopes[id] = envelope
        self.scheduler.add((time, "create", id, None, None, None))
        return envelope

    def _own(self, envelope: Envelope) -> Envelope:
        if not isinstance(envelope, Envelope) or self._envelopes.get(envelope.id) is not envelope:
            raise ConfigurationError(f"{envelope!r} is not an envelope of this simulation")
        return envelope

    def envelope(self, id: str) -> Envelope:
        """The envelope with this id."""
        envelope = self._envelopes.get(id) if isinstance(id, str) else None
        if envelope is None:
            raise ConfigurationError(f"no envelope with id {id!r}")
        return envelope

    def _time(self, at: When) -> int:
        if type(at) is timedelta:
            return duration_ms(at, "at")
        if isinstance(at, datetime):
            if at.tzinfo is None:
                raise ConfigurationError(f"at: give the datetime a time zone, got {at!r}")
            offset = at - self.start
            if offset < timedelta(0):
                raise ConfigurationError(f"at: {at.isoformat()} is before the simulation start")
            return duration_ms(offset, "at")
        return duration_ms(at, "at")

    def _when(self, at: When) -> int:
        """An action's time in ms, which may not be before the clock."""
        if type(at) is timedelta and _NO_TIME <= at <= _LONGEST:
            # duration_ms's common case, written out: every action of a scenario comes here.
            time = at.days * 86_400_000 + at.seconds * 1000 + (at.microseconds + 500) // 1000
        else:
            time = self._time(at)
        if time < self.scheduler.now:
            raise ConfigurationError(
                f"at: {format_duration(time)} is in the past (the clock is at "
                f"{format_duration(self.scheduler.now)})"
            )
        return time

    def _schedule(
        self,
        kind: str,
        envelope: Envelope,
        recipient: Recipient | str | None,
        at: When,
        reason: str | None,
        source: str | None,
    ) -> None:
        if type(envelope) is not Envelope or self._envelopes.get(envelope.id) is not envelope:
            self._own(envelope)  # which says what is wrong
        time = self._when(at)
        if reason is not None:
            check_text(reason, "reason", empty=True)
        index = None
        if kind in RECIPIENT_ACTIONS:
            if recipient is None:
                raise ConfigurationError(f"{kind}: name the recipient")
            index = envelope.recipient(recipient)
        elif recipient is not None:
            raise ConfigurationError(f"{kind}: concerns the whole envelope, not a recipient")
        self.scheduler.add((time, kind, envelope.id, index, reason, source))

    def act(
        self,
        action: str,
        envelope: Envelope,
        recipient: Recipient | str | None = None,
        at: When = timedelta(0),
        reason: str | None = None,
        source: str | None = None,
    ) -> None:
        """Put any action on the timeline by name (what scenario files use).

        ``action`` is one of ``send``, ``view``, ``sign``, ``decline``, ``void``,
        ``bounce``, ``fail_authentication``, ``resend`` (with a recipient: that
        recipient's notification) and ``correct``.
        """
        if action == "resend" and recipient is not None:
            action = "resend_recipient"
        if (
            not isinstance(action, str)
            or action not in ACTIONS
            or (action == "resend_recipient" and recipient is None)
        ):
            raise ConfigurationError(
                f"unknown action {action!r}; expected one of "
                f"{', '.join(a for a in ACTIONS if a != 'resend_recipient')}"
            )
        self._schedule(action, envelope, recipient, at, reason, source)

    def send(self, envelope: Envelope, at: When = timedelta(0)) -> None:
        """Send a draft: the first routing order is notified, then the envelope is ``sent``."""
        self._schedule("send", envelope, None, at, None, None)

    def view(self, envelope: Envelope, recipient: Recipient | str, at: When) -> None:
        """The recipient opens the envelope on the signing site (``delivered``)."""
        self._schedule("view", envelope, recipient, at, None, None)

    def sign(self, envelope: Envelope, recipient: Recipient | str, at: When) -> None:
        """The recipient signs (viewing first if they had not)."""
        self._schedule("sign", envelope, recipient, at, None, None)

    def decline(
        self,
        envelope: Envelope,
        recipient: Recipient | str,
        at: When,
        reason: str = "Declined by recipient",
    ) -> None:
        """The recipient declines to sign; the envelope is ``declined`` (terminal)."""
        self._schedule("decline", envelope, recipient, at, reason, None)

    def void(self, envelope: Envelope, at: When, reason: str = "Voided by sender") -> None:
        """The sender voids a sent envelope (also how expiry shows); terminal."""
        self._schedule("void", envelope, None, at, reason, None)

    def bounce(self, envelope: Envelope, recipient: Recipient | str, at: When) -> None:
        """The notification email bounced: the recipient is ``autoresponded``."""
        self._schedule("bounce", envelope, recipient, at, None, None)

    def fail_authentication(
        self, envelope: Envelope, recipient: Recipient | str, at: When
    ) -> None:
        """The recipient failed authentication: an event, no change of status."""
        self._schedule("fail_authentication", envelope, recipient, at, None, None)

    def resend(
        self, envelope: Envelope, at: When, recipient: Recipient | str | None = None
    ) -> None:
        """Resend the envelope's notifications, or one recipient's (which revives a bounce)."""
        kind = "resend" if recipient is None else "resend_recipient"
        self._schedule(kind, envelope, recipient, at, None, None)

    def correct(self, envelope: Envelope, at: When) -> None:
        """The sender corrects the envelope: ``envelope-corrected``, no change of status."""
        self._schedule("correct", envelope, None, at, None, None)

    # -- administering (see connect_sim.operations) ---------------------------------

    def pause(self, configuration: str, *, at: When, source: str | None = None) -> None:
        """Pause a configuration at ``at`` (``pausePublish``): no attempts until it resumes.

        A message it would attempt is *skipped* instead (a trace record, not an
        attempt) and waits as after a failure: under SIM the queue's head is due
        again ``retry_interval`` after the skip; under Aggregate it waits with
        the failed messages for a later success.  Pausing a paused configuration
        is an :class:`~connect_sim.errors.InvalidOperation` when the run gets there.
        """
        self._operate("pause", at, source, configuration=self._configuration(configuration))

    def resume(self, configuration: str, *, at: When, source: str | None = None) -> None:
        """Resume a paused configuration at ``at``; it sends nothing by itself.

        Processing goes on at the next retry due ("retry schedules are not
        reset"), or with the next event.  Resuming one that is not paused is an
        :class:`~connect_sim.errors.InvalidOperation` when the run gets there.
        """
        self._operate("resume", at, source, configuration=self._configuration(configuration))

    def enable(self, configuration: str, *, at: When, source: str | None = None) -> None:
        """Turn a configuration that Connect disabled back on at ``at``, for later events.

        A configuration with ``disable_after`` is disabled when every attempt has
        failed for that long; enabling it starts afresh (the messages given up
        stay given up).  Enabling one that is not disabled is an
        :class:`~connect_sim.errors.InvalidOperation` when the run gets there.
        """
        self._operate("enable", at, source, configuration=self._configuration(configuration))

    def delete_failure(
        self,
        configuration: str | None = None,
        envelope: Envelope | str | None = None,
        *,
        at: When,
        failure_id: str | None = None,
        all: bool = False,  # DocuSign's word, and the scenario key's
        source: str | None = None,
    ) -> None:
        """Delete failure-log entries at ``at``: the messages are never retried.

        Name the entries by ``configuration`` and ``envelope`` (that envelope's
        entries in that configuration's log), by ``failure_id`` (a
        :attr:`LogEntry.failure_id <connect_sim.operations.LogEntry.failure_id>`),
        or ``all=True`` (every entry; of ``configuration`` only, if given).  A
        deleted message counts as failed, given up by the administrator; a SIM
        queue whose waiting head is deleted moves on at once.  Deleting nothing
        (but with ``all``) is an :class:`~connect_sim.errors.InvalidOperation`
        when the run gets there; so is deleting entries whose retry is in flight.
        """
        name = None if configuration is None else self._configuration(configuration)
        key = None
        if envelope is not None:
            key = envelope.id if isinstance(envelope, Envelope) else envelope
            self._own(self.envelope(key))  # an id or an envelope of this simulation
        if failure_id is not None and not (isinstance(failure_id, str) and failure_id):
            raise ConfigurationError(
                f"delete_failure: failure_id must be text, got {failure_id!r}"
            )
        if not isinstance(all, bool):
            raise ConfigurationError(f"delete_failure: all must be true or false, got {all!r}")
        if all:
            if key is not None or failure_id is not None:
                raise ConfigurationError("delete_failure: all deletes every entry; "
                                         "name no envelope or failure_id with it")  # fmt: skip
        elif failure_id is not None:
            if key is not None or name is not None:
                raise ConfigurationError("delete_failure: a failure_id names one entry; "
                                         "name no configuration or envelope with it")  # fmt: skip
        elif key is None or name is None:
            raise ConfigurationError(
                "delete_failure: name a configuration and an envelope, a failure_id, or all"
            )
        self._operate("delete_failure", at, source, configuration=name, envelope=key,
                      failure=failure_id, everything=all)  # fmt: skip

    def republish(
        self,
        envelopes: Envelope | str | Sequence[Envelope | str],
        *,
        at: When,
        synchronous: bool = False,
        content: str = "current",
        source: str | None = None,
    ) -> None:
        """Republish envelopes from the failure log at ``at`` (``PUT .../retry_queue``).

        For each envelope, every configuration whose failure log holds it gets
        one new message (a sequence number of its own, ``retryCount`` 0): with
        ``content="current"`` the envelope's state at the republish, generated
        then, event ``envelope-<status>``; with ``"original"`` the latest failed
        message's event, snapshot and generated time.  The failed messages are
        withdrawn (state ``republished``, never retried); a SIM queue whose
        blocked head is withdrawn moves on at once.  Asynchronous (default): the
        new message joins the back of the queue, whatever the configuration's
        event filter (result ``Queued``); ``synchronous=True``: one attempt at
        once, outside the queue (``Success`` or ``Fail``; a failure is given up).
        Results: :meth:`Result.republishes <connect_sim.Result.republishes>`.  An
        envelope no failure log holds is an
        :class:`~connect_sim.errors.InvalidOperation` when the run gets there.
        """
        given = [envelopes] if isinstance(envelopes, Envelope | str) else list(envelopes)
        if not given:
            raise ConfigurationError("republish: name at least one envelope")
        keys = []
        for envelope in given:
            key = envelope.id if isinstance(envelope, Envelope) else envelope
            self._own(self.envelope(key))
            if key not in keys:
                keys.append(key)
        if not isinstance(synchronous, bool):
            raise ConfigurationError(
                f"republish: synchronous must be true or false, got {synchronous!r}"
            )
        if content not in CONTENTS:
            raise ConfigurationError(
                f"republish: content must be one of {', '.join(CONTENTS)}, got {content!r}"
            )
        self._operate("republish", at, source, envelopes=tuple(keys), synchronous=synchronous,
                      content=content)  # fmt: skip

    def set_mode(self, mode: str, *, at: When, source: str | None = None) -> None:
        """Switch the account's delivery mode at ``at``: ``"sim"`` or ``"aggregate"``.

        What the seed article tells teams to do while they test.  It applies to
        every configuration that does not set its own ``mode``: events from
        ``at`` on go to a new queue under the new algorithm, and the old queue
        takes no new events and finishes what it holds under its own rules (a
        blocked SIM queue stays blocked until its retry).  The two deliver
        independently, so around a switch a new-mode message can arrive before
        an old-mode retry; sequence numbers stay global.  A configuration whose
        queue already has the new mode gets no new one.
        """
        if mode not in MODES:
            raise ConfigurationError(
                f"set_mode: mode must be one of {', '.join(MODES)}, got {mode!r}"
            )
        self._operate("set_mode", at, source, mode=mode)

    def _switch(self, operation: Operation) -> None:
        """Carry out a ``set_mode``: a new queue for each configuration it applies to."""
        mode = operation.mode
        assert mode is not None
        self.mode = mode
        for number, channel in enumerate(list(self._channels)):
            if channel.retired or channel.configuration.mode is not None or channel.mode == mode:
                continue
            kind = SimChannel if mode == "sim" else AggregateChannel
            queue = kind(channel.configuration, channel.session, self.scheduler, self._ledger,
                         channel.rng, channel.renderer)  # fmt: skip
            queue.succeed(channel)
            self._channels.append(queue)
            self._scopes.append(self._scopes[number])
        self._routes.clear()
        self._held_routes.clear()
        self._ledger.note_action({"time": operation.time, "action": "set_mode", "mode": mode})

    def _configuration(self, name: object) -> str:
        if not any(channel.name == name for channel in self._channels):
            known = ", ".join(repr(c.name) for c in self._channels) or "none yet"
            raise ConfigurationError(f"no configuration named {name!r} (configurations: {known})")
        assert isinstance(name, str)
        return name

    def _operate(self, kind: str, at: When, source: str | None, **details: Any) -> None:
        time = self._when(at)
        self._operations.append(Operation(kind, time, source=source, **details))
        self._operation_instants.add(time)
        self.scheduler.add((time, "operate", "", len(self._operations) - 1, None, source))

    def failure_log(self, configuration: str) -> list[LogEntry]:
        """The configuration's failure log now (DocuSign's ``GET /connect/failures``).

        One :class:`~connect_sim.operations.LogEntry` per message that has failed
        at least once and is neither delivered nor deleted, waiting for a retry
        or given up, in the order they went there.  Any time: before, during or
        after a run.
        """
        name = self._configuration(configuration)
        queues = [c for c in self._channels if c.name == name]
        entries = [
            entry for queue in queues for entry in failure_log(queue, self.account, self.seed)
        ]
        return sorted(entries, key=lambda entry: entry.created)  # stable: each queue's order

    def feed(self, source: Iterator[When], at: When | None = None) -> None:
        """Build while running: advance ``source`` whenever the clock reaches an instant it yields.

        ``source`` is an iterator, usually a generator, that creates envelopes
        and puts their actions on the timeline through this simulation, as a
        loop before :meth:`run` would, then yields the instant it wants to go on
        at (a ``timedelta``, ``"2m30s"`` or ``datetime``, not before the clock).
        It is first advanced at ``at`` (default: the clock), during the run, and
        the run goes on until it is used up.  So a million envelopes need not
        exist before the run starts: each is made when the clock comes to it.

        >>> import connect_sim as cs
        >>> sim = cs.Simulation(seed=1)
        >>> sim.add_configuration(cs.Configuration(name="listener"))
        >>> def arrivals():
        ...     for n in range(3):
        ...         at = timedelta(minutes=n)
        ...         yield at  # go on when the clock comes to it
        ...         env = sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com")], at=at)
        ...         sim.send(env, at=at)
        >>> sim.feed(arrivals())
        >>> [(a.envelope.id, a.event, a.time) for a in sim.run().received("listener")][-2:]
        [('envelope-3', 'recipient-sent', 120000), ('envelope-3', 'envelope-sent', 120000)]

        At one instant the feed runs in the order it was given among the
        actions; what it adds for that instant runs after the actions given
        before it.  An instant before the clock is a
        :class:`~connect_sim.ConfigurationError` naming the feed; an exception
        raised inside ``source`` ends it and comes out of :meth:`run`.
        """
        if not isinstance(source, Iterator):
            raise ConfigurationError(
                f"feed: expected an iterator (for example a generator), got {source!r}"
            )
        time = self.scheduler.now if at is None else self._when(at)
        self._feeds.append(source)
        self.scheduler.add((time, "feed", "", len(self._feeds) - 1, None, None))

    def _advance(self, number: int) -> None:
        """Advance feed ``number`` (its action is due) and put its next turn on the timeline."""
        source = self._feeds[number]
        if source is None:  # it ended by an InvalidAction, whose run put its turn back
            return
        try:
            due = next(source)
        except StopIteration:
            self._feeds[number] = None
            return
        except BaseException:
            self._feeds[number] = None  # broken: it ends here, and the error comes out of run()
            raise
        try:
            time = self._when(due)
        except ConfigurationError as error:
            self._feeds[number] = None
            raise ConfigurationError(f"feed {number + 1} yielded {due!r}: {error}") from None
        self.scheduler.add((time, "feed", "", number, None, None))

    def add_sink(self, sink: Sink) -> None:
        """Hand ``sink`` the run's trace as the run makes it (see :mod:`connect_sim.sinks`).

        ``sink`` has three methods: ``attempt(number, attempt)``, called once per
        attempt when it has ended, ``skip(skip)`` and ``action(record)``; they are
        called in the order of the trace, each item once, from the run's first
        (what a run made before the sink was added comes first).  The run hands
        over what is final every :data:`~connect_sim.sinks.BATCH` attempts or so
        and at the end of each :meth:`run` that ends normally and each
        :meth:`step`; :meth:`remove_sink` hands over the rest.  An item whose
        method raised is handed over again the next time.  A sink that writes what it is
        handed and lets it go keeps a long run's trace out of memory
        (:class:`connect_sim.output.RunWriter` writes a run's folder this way).

        >>> import connect_sim as cs
        >>> class Count:
        ...     attempts = 0
        ...     def attempt(self, number, attempt): self.attempts += 1
        ...     def skip(self, skip): pass
        ...     def action(self, record): pass
        >>> sim = cs.Simulation(seed=1)
        >>> sim.add_configuration(cs.Configuration(name="listener"))
        >>> env = sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com")])
        >>> sim.send(env)
        >>> counting = Count()
        >>> sim.add_sink(counting)
        >>> _ = sim.run()
        >>> counting.attempts
        2
        """
        check_sink(sink)
        if any(added is sink for added, _ in self._sinks):
            raise ConfigurationError(f"sink: {sink!r} was added already")
        self._sinks.append((sink, TraceCursor(self._ledger)))

    def remove_sink(self, sink: Sink, rest: bool = True) -> None:
        """Stop handing ``sink`` the trace; first, with ``rest``, hand it everything left.

        The rest is every item not handed over yet, attempts still in flight
        included, as they stand (what :func:`connect_sim.report.trace_records`
        would say of them now).  Called from inside one of the sink's own
        methods, the handing going on hands over the rest (or, without
        ``rest``, stops after the current item).  A sink not added is a
        :class:`~connect_sim.ConfigurationError`.
        """
        for number, (added, cursor) in enumerate(self._sinks):
            if added is sink:
                del self._sinks[number]
                if cursor.giving:  # from inside its own method: the give going on ends it
                    cursor.stop = "rest" if rest else "now"
                elif rest:
                    cursor.give(sink, final=True)
                return
        raise ConfigurationError(f"remove_sink: {sink!r} is not a sink of this simulation")

    def _give_sinks(self) -> None:
        """Hand every sink what is final (between callbacks: see :mod:`connect_sim.sinks`)."""
        for sink, cursor in list(self._sinks):
            if any(added is sink for added, _ in self._sinks):  # not removed meanwhile
                cursor.give(sink)

    def _every_batch(self) -> Callable[[], None]:
        """What the scheduler calls between callbacks: the sinks' turn every :data:`BATCH`."""
        ledger = self._ledger
        due = [ledger.attempts + BATCH]

        def between() -> None:
            if ledger.attempts >= due[0]:
                try:
                    self._give_sinks()
                except (InvalidAction, InvalidOperation) as error:
                    # A sink's own error, not the action's: run() must not put it back.
                    raise _FromSink(error) from error
                due[0] = ledger.attempts + BATCH

        return between

    # -- running -------------------------------------------------------------------

    def _route(self, envelope_id: str, held: bool = False) -> list[tuple[frozenset[str], Offer]]:
        """Who hears an envelope's events: each channel's subscriptions and its offer method.

        Envelopes without a configuration of their own share one route: the
        account's configurations.  ``held``: at an instant with an administrative
        action, where a SIM channel holds its new messages until the instant's
        actions are done (see :mod:`connect_sim.operations`).
        """
        key = envelope_id if envelope_id in self._scoped else None
        routes = self._held_routes if held else self._routes
        route = routes.get(key)
        if route is None:
            route = [(c.subscribed, getattr(c, "hold", c.offer) if held else c.offer)
                     for c, scope in zip(self._channels, self._scopes, strict=True)
                     if not c.retired and (scope is None or scope == key)]  # fmt: skip
            routes[key] = route
        return route

    def _perform(self, action: Action) -> None:
        _, kind, key, index, reason, _ = action
        now = self.scheduler.now
        if kind == "create":
            envelope = self._envelopes[key]
            shape_key = Shape.key(envelope)
            shape = self._shapes.get(shape_key)
            if shape is None:
                shape = self._shapes[shape_key] = Shape(envelope)
            history = self._histories[key] = History(envelope, shape, now)
            emitted = CREATION
        elif kind == "feed":
            self._advance(index)  # type: ignore[arg-type]  # a feed's number
            return
        elif kind == "operate":
            operation = self._operations[index]  # type: ignore[index]
            if operation.kind == "set_mode":
                self._switch(operation)
            else:
                perform(operation, self._channels, self._ledger, self.seed)
            return
        else:
            found = self._histories.get(key)
            if found is None:
                raise InvalidAction(
                    f"{_describe(action, self._envelopes[key])}: "
                    "the envelope is not created until later",
                    envelope=key, action=kind, status="none",
                )  # fmt: skip
            history = found
            shape = history.shape
            try:  # Shape.step, with its table looked up here first: this runs once per action
                step = shape.table[history.node, kind, index]
            except KeyError:
                step = shape.step(history.node, kind, index)
            if step is None:
                raise self._refused(action, history)
            history.node, emitted, packed = step
            if reason is None and packed != UNPACKED:
                history.steps.append(now << TIME_SHIFT | packed)  # what History.add writes
            else:
                history.add(now, kind, index, reason, packed)
        route = self._routes.get(key if key in self._scoped else None) or self._route(key)
        if self._operation_instants and now in self._operation_instants:
            route = self._route(key, held=True)
        # EventLog.add, written out with its columns' own append methods (once per event).
        said = self.events.said
        add_time, add_said, add_history, add_position = self._record
        for pair in emitted:
            # Counted before it is offered: a listener called now sees the state up to it.
            history.count = position = history.count + 1
            event = len(said)
            add_time(now)
            add_said(pair)
            add_history(history)
            add_position(position)
            name = pair[0]
            for subscribed, offer in route:
                if name in subscribed:
                    offer(event, history, position, now)

    def _refused(self, action: Action, history: History) -> InvalidAction:
        """The lifecycle's own error for an action it does not allow, naming the action."""
        _, kind, _, index, reason, _ = action
        try:
            apply(history.current(), kind, self.scheduler.now, index, reason)
        except InvalidAction as error:
            return InvalidAction(
                f"{_describe(action, history.envelope)}: {error}", envelope=error.envelope,
                action=error.action, status=error.status, recipient=error.recipient,
            )  # fmt: skip
        raise AssertionError(f"the shape table refused {action!r}, which the lifecycle allows")

    def run(self, until: When | None = None) -> Result:
        """Play the timeline until nothing is left to do, or until ``until``; return the result.

        May be called again to go on (with actions added in between, at or after
        the clock); ``until`` may not be before the clock.  An action the state
        does not allow raises :class:`~connect_sim.InvalidAction` naming it, and
        the run stops at its instant with the action unrun: running again meets
        it again (a simulation never skips an action).  A run simulates at most
        :data:`~connect_sim.time.HORIZON_MS`; what is due later stays pending.
        """
        self._begin()
        limit = None if until is None else self._time(until)
        if limit is not None and limit < self.scheduler.now:
            raise ConfigurationError(
                f"until: {format_duration(limit)} is before the clock "
                f"({format_duration(self.scheduler.now)}): a simulation cannot go back"
            )
        # The run allocates millions of small objects and makes no reference cycles of
        # its own, so the cyclic collector would only rescan them: pause it, then restore.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self.scheduler.run(self._perform, limit, self._every_batch() if self._sinks else None)
        except _FromSink as wrapped:
            raise wrapped.error from None
        except (InvalidAction, InvalidOperation):
            self.scheduler.put_back()  # it changed nothing: the next run meets it again
            raise
        finally:
            if collecting:
                gc.enable()
        if self._sinks:
            self._give_sinks()
        if self.scheduler.next_time() is None:
            self.close()  # the timeline is done: nothing will be posted again
        return Result(self)

    def close(self) -> None:
        """Close what the listeners hold open (an :class:`~connect_sim.remote.Http`
        listener's connection); a later attempt opens it again.

        :meth:`run` does this when the timeline is done; call it after a run
        stopped ``until`` an instant, or a stepped one, that you will not go on with.
        """
        for channel in self._channels:
            close = getattr(type(channel.session), "close", None)
            if close is not None:
                channel.session.close()  # type: ignore[attr-defined]

    def step(self) -> bool:
        """Run the next single scheduled callback; False when the timeline is done."""
        self._begin()
        try:
            stepped = self.scheduler.step(self._perform)
        except (InvalidAction, InvalidOperation):
            self.scheduler.put_back()
            raise
        if self._sinks:
            self._give_sinks()
        return stepped

    def _begin(self) -> None:
        if not self._channels:
            raise ConfigurationError(
                "the simulation has no configuration, so nothing would be delivered: "
                "add one with add_configuration()"
            )
        self._started = True

    def check(self) -> None:
        """Assert the model's invariants (clock, sequences, queues); for property tests."""
        now = self.scheduler.now
        last = 0
        for event in self.events:
            assert event.time <= now and event.time >= last, f"{event!r} out of time order"
            last = event.time
        last = 0
        for attempt in self.attempts:
            assert attempt.time >= last, f"{attempt!r} starts before the attempt before it"
            assert attempt.time <= now
            last = attempt.time
        counts = Counter(event.envelope.id for event in self.events)
        for key, history in self._histories.items():
            assert history.count == counts[key], f"envelope {key!r}: events miscounted"
            state = history.current()  # made by the lifecycle itself, from the actions
            assert history.shape.statuses(history.node) == (
                state.status, tuple(r.status for r in state.recipients)
            ), f"envelope {key!r}: its shape's table and the lifecycle disagree"  # fmt: skip
        for channel in self._channels:
            channel.check()
        next_time = self.scheduler.next_time()
        assert next_time is None or next_time >= now, "the clock would go back"

    @property
    def now(self) -> int:
        """The clock, in milliseconds since the start."""
        return self.scheduler.now

    def state(self, envelope: Envelope | str) -> EnvelopeState:
        """The envelope's current state (as of the clock)."""
        key = envelope if isinstance(envelope, str) else getattr(envelope, "id", None)
        history = self._histories.get(key) if isinstance(key, str) else None
        if history is None:
            raise ConfigurationError(f"envelope {envelope!r} does not exist (yet)")
        return history.current()
