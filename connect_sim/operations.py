"""What an administrator does to Connect while it runs: pause, resume, enable, delete, republish.

Theory of operation
-------------------
An administrative action is an :class:`Operation` on the simulation's
timeline, at an instant like any envelope action, and :func:`perform` carries
it out on the configurations' channels when the run reaches it.  What each
does to a queue is the channel's (``connect_sim.delivery``): a paused channel
skips what it would attempt; a deleted failure is never retried.  What this
module adds is the checks (each refusal is an
:class:`~connect_sim.errors.InvalidOperation` raised before anything changed,
so the run stops there with the action unrun), the trace record each action
leaves, and the failure log as DocuSign's ``GET /connect/failures`` lists it
(:class:`LogEntry`, after its ``ConnectLog`` objects).

One instant runs in three phases: its actions in the order given; then the
first attempts of the SIM messages they made, in creation order (and a SIM
queue moving on after a deleted failure); then the timers due.  So a pause
given after a send at the same instant turns the send's deliveries into
skips.  The simulation keeps an instant's SIM deliveries for the second
phase only when the instant has an administrative action; at any other
instant attempting at once gives the same attempts in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import attrs

from .account import Account
from .delivery import Channel, Message
from .delivery.ledger import S_FAILED, S_IN_FLIGHT, Ledger
from .errors import InvalidOperation
from .ids import derived_guid
from .time import format_duration

__all__ = [
    "CONTENTS",
    "OPERATIONS",
    "LogEntry",
    "Operation",
    "RepublishResult",
    "failure_id",
    "failure_log",
    "perform",
    "republish_results",
]

#: The administrative actions, as scenario files name them (``do = "pause"``).
OPERATIONS: Final = ("pause", "resume", "enable", "delete_failure", "republish", "set_mode")
#: What a republished message carries: the envelope now, or the failed message's own.
CONTENTS: Final = ("current", "original")


@attrs.frozen
class Operation:
    """One administrative action, as the timeline keeps it.

    ``configuration`` names the configuration (for ``delete_failure``, the one
    whose log to delete from, or ``None`` for every one); ``envelope`` the
    envelope id and ``failure`` the failure id a ``delete_failure`` deletes, or
    ``everything`` for all of them.  ``source`` says where it was given.
    """

    kind: str
    time: int
    configuration: str | None = None
    envelope: str | None = None
    failure: str | None = None
    everything: bool = False
    source: str | None = None
    #: A republish's envelopes, whether it is synchronous, and what it carries.
    envelopes: tuple[str, ...] = ()
    synchronous: bool = False
    content: str = "current"
    #: The account's new delivery mode (``set_mode``).
    mode: str | None = None

    def describe(self) -> str:
        """``pause of 'listener' at 2h``, with the place it was given first."""
        where = f"{self.source}: " if self.source else ""
        what = "" if self.configuration is None else f" of {self.configuration!r}"
        return f"{where}{self.kind}{what} at {format_duration(self.time)}"


@attrs.frozen
class LogEntry:
    """A failure-log entry, as DocuSign's ``ConnectLog`` lists one.

    The log holds a message from the end of its first failed attempt (or from
    when it was given up without one) until it is delivered or deleted.

    Attributes:
        failure_id: the entry's id (``failureId``), a GUID derived from the run's seed.
        configuration: the configuration's name; ``configuration_id`` its number.
        sequence: the message's sequence number in the run.
        envelope_id: the envelope's id in the scenario; ``envelope_guid`` its GUID
            (Connect's ``envelopeId``).
        status: the envelope status the message carried, capitalised (``Sent``).
        error: what went wrong last, in words.
        created: when the message went to the log, in ms.
        last_try: when its latest attempt started, in ms (``created`` if it had none).
        retry_count: the retries made so far.
        subject: the envelope's subject; ``user_name`` and ``email`` its sender's.
        retry_due: True while Connect will try the message again; False once it
            has given up on it (only a republish or a delete removes such an entry).
        in_flight: True while a retry of it is being attempted, so that neither a
            republish nor a delete can take it (not one of ``ConnectLog``'s fields:
            DocuSign's console does not show it, but a script that republishes
            what the log holds needs to know).
    """

    failure_id: str
    configuration: str
    configuration_id: int
    sequence: int
    envelope_id: str
    envelope_guid: str
    status: str
    error: str
    created: int
    last_try: int
    retry_count: int
    subject: str
    user_name: str
    email: str
    retry_due: bool
    in_flight: bool = False


def failure_id(seed: int, configuration: str, sequence: int) -> str:
    """The failure-log id of message ``sequence`` of ``configuration`` (a GUID)."""
    return derived_guid(seed, "connect-failure", configuration, sequence)


def failure_log(channel: Channel, account: Account, seed: int) -> list[LogEntry]:
    """A configuration's failure log now, in the order its messages went there."""
    ledger = channel.ledger
    entries = []
    for row, created in channel.logged.items():
        message = Message(ledger, row)
        envelope = message.envelope
        last = ledger.m_last[row]
        attempts = message.attempts
        entries.append(
            LogEntry(
                failure_id=failure_id(seed, channel.name, message.sequence),
                configuration=channel.name,
                configuration_id=channel.configuration.configuration_id or 0,
                sequence=message.sequence,
                envelope_id=envelope.id,
                envelope_guid=envelope.envelope_id,
                status=message.snapshot.status.capitalize(),
                error=channel.log_errors[row],
                created=created,
                last_try=ledger.a_time[last] if last >= 0 else created,
                retry_count=max(attempts - 1, 0),
                subject=envelope.subject,
                user_name=account.user_name,
                email=account.email,
                retry_due=ledger.m_state[row] != S_FAILED,
                in_flight=ledger.m_state[row] == S_IN_FLIGHT,
            )
        )
    return entries


def perform(operation: Operation, channels: Sequence[Channel], ledger: Ledger, seed: int) -> None:
    """Carry out ``operation`` at its instant, and note it for the trace; or refuse it."""
    kind = operation.kind
    if kind in ("pause", "resume", "enable"):
        channel = _channel(channels, operation.configuration)
        if kind == "pause" and channel.paused:
            raise _refused(operation, "the configuration is paused already")
        if kind == "resume" and not channel.paused:
            raise _refused(operation, "the configuration is not paused")
        if kind == "enable" and not channel.disabled:
            raise _refused(operation, "the configuration is not disabled")
        if kind == "pause":
            channel.pause()
        elif kind == "resume":
            channel.resume()
        else:
            channel.enable()
        ledger.note_action({"time": operation.time, "action": kind, "configuration": channel.name})
        return
    if kind == "republish":
        _republish(operation, channels, ledger)
        return
    assert kind == "delete_failure", kind
    deleted = _delete(operation, channels, seed)
    ledger.note_action({
        "time": operation.time, "action": kind, "configuration": operation.configuration,
        "envelope_id": operation.envelope, "failure_id": operation.failure,
        "all": operation.everything, "deleted": deleted,
    })  # fmt: skip


def _channel(channels: Sequence[Channel], name: str | None) -> Channel:
    """The configuration's current queue (the newest)."""
    for channel in reversed(channels):
        if channel.name == name:
            return channel
    raise AssertionError(f"no channel {name!r}: names are checked when an action is given")


def _refused(operation: Operation, problem: str) -> InvalidOperation:
    return InvalidOperation(
        f"{operation.describe()}: {problem}",
        action=operation.kind, configuration=operation.configuration,
    )  # fmt: skip


def _delete(operation: Operation, channels: Sequence[Channel], seed: int) -> list[int]:
    """Delete the entries the operation names; the deleted messages' sequence numbers."""
    chosen = [
        (channel, row)
        for channel in channels
        if operation.configuration is None or channel.name == operation.configuration
        for row in channel.logged
        if _named(operation, channel, row, seed)
    ]
    deleted: list[int] = []
    in_flight = 0
    for channel, row in chosen:
        if channel.delete(row):
            deleted.append(row + 1)
        else:
            in_flight += 1
    if not deleted and not operation.everything:
        if in_flight:
            raise _refused(operation, "its failures are being retried right now (in flight)")
        if operation.failure is not None:
            raise _refused(operation, f"no failure-log entry has the id {operation.failure!r}")
        where = (
            "any configuration's failure log"
            if operation.configuration is None
            else f"the failure log of {operation.configuration!r}"
        )
        raise _refused(operation, f"{where} holds no failure of envelope {operation.envelope!r}")
    return deleted


def _named(operation: Operation, channel: Channel, row: int, seed: int) -> bool:
    if operation.everything:
        return True
    if operation.failure is not None:
        return failure_id(seed, channel.name, row + 1) == operation.failure
    return channel.ledger.envelope_id(row) == operation.envelope


@attrs.frozen
class RepublishResult:
    """What a republish did for one envelope and configuration (after ``ConnectFailureResult``).

    ``status`` is ``Queued`` (asynchronous: the new message joined the queue),
    ``Success`` or ``Fail`` (synchronous: its one attempt); ``withdrawn`` the
    sequence numbers of the failed messages it took out of the log.
    """

    time: int
    envelope_id: str
    configuration: str
    status: str
    withdrawn: tuple[int, ...]


def republish_results(ledger: Ledger) -> list[RepublishResult]:
    """Every republish's results so far, in the order of the run."""

    def of(sequence: int) -> str:
        return ledger.channels[ledger.m_channel[sequence - 1]][0]

    return [
        RepublishResult(
            record["time"],
            record["envelope_id"],
            name,
            status,
            tuple(sequence for sequence in record["withdrawn"] if of(sequence) == name),
        )
        for _, kind, record in ledger.notes
        if kind == "action" and record["action"] == "republish"
        for name, status in record["results"].items()
    ]


def _republish(operation: Operation, channels: Sequence[Channel], ledger: Ledger) -> None:
    """One new message per configuration whose failure log holds each envelope (see the docs)."""
    held = []
    current = [channel for channel in channels if not channel.retired]
    for envelope in operation.envelopes:
        rows = [
            (channel, [(queue, row) for queue in channel.siblings for row in queue.logged
                       if ledger.envelope_id(row) == envelope])
            for channel in current
        ]  # fmt: skip
        rows = [(channel, found) for channel, found in rows if found]
        if not rows:
            raise _refused(operation, f"no failure log holds envelope {envelope!r}")
        if all(ledger.m_state[row] == S_IN_FLIGHT for _, found in rows for _, row in found):
            raise _refused(
                operation, f"the failures of envelope {envelope!r} are being retried right now"
            )
        held.append((envelope, rows))
    for envelope, rows in held:  # checked: nothing above changed anything
        before = ledger.attempts
        results: dict[str, str] = {}
        withdrawn: list[int] = []
        for channel, entries in rows:
            entries = [
                (queue, row) for queue, row in entries if ledger.m_state[row] != S_IN_FLIGHT
            ]
            if not entries:
                continue  # its retry is in flight: left to end
            found = sorted(row for _, row in entries)
            latest = found[-1]
            history = ledger.history(latest)
            if operation.content == "original":
                message = Message(ledger, latest)
                name = message.event
                position, generated = ledger.carried(latest)
            else:
                name = f"envelope-{history.current().status}"
                position, generated = history.count, operation.time
            for queue, row in entries:
                queue.delete(row, republished=True)
            new = channel.add_republished(ledger.m_event[latest], name, position, generated)
            if operation.synchronous:
                results[channel.name] = "Success" if channel.attempt_outside(new) else "Fail"
            else:
                channel.queue_republished(new)
                results[channel.name] = "Queued"
            withdrawn.extend(row + 1 for row in found)
        ledger.note_action({
            "time": operation.time, "action": "republish", "envelope_id": envelope,
            "synchronous": operation.synchronous, "content": operation.content,
            "results": results, "withdrawn": withdrawn,
        }, before)  # fmt: skip
