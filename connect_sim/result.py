"""Result: what a run produced, per configuration.

A :class:`Result` reads a simulation after (or during) a run: every attempt in
the order it started, what each configuration's listener accepted, the failure
log and what is still queued.  It is a view, not a copy: its sequences of
events, attempts and messages are :class:`~connect_sim.rows.Rows`, whose
items are made when read (so ``len()`` of six million attempts costs nothing).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from .delivery import Attempt, Channel, Failure, Message, Skip
from .errors import ConfigurationError
from .events import Event
from .rows import Rows

if TYPE_CHECKING:
    from .operations import LogEntry, RepublishResult
    from .simulation import Simulation

__all__ = ["Result"]


class Result:
    """What a run produced: attempts, deliveries, failures and what is still pending.

    A view of the simulation as of when it was asked; it does not copy it.
    """

    def __init__(self, simulation: Simulation) -> None:
        self._simulation = simulation
        self._channels = {channel.name: channel for channel in simulation._channels}

    @property
    def simulation(self) -> Simulation:
        """The simulation this is the result of."""
        return self._simulation

    @property
    def attempts(self) -> Rows[Attempt]:
        """Every delivery attempt of every configuration, in the order they started."""
        ledger = self._simulation._ledger
        return Rows(range(ledger.attempts), partial(Attempt, ledger))

    @property
    def events(self) -> Rows[Event]:
        """Every event of the run, in order (subscribed or not)."""
        events = self._simulation.events
        return Rows(range(len(events)), events.event)

    @property
    def configurations(self) -> list[str]:
        """The configurations' names, in the order they were added."""
        return list(self._channels)

    @property
    def end(self) -> int:
        """The clock when the run stopped, in ms."""
        return self._simulation.now

    def channel(self, name: str) -> Channel:
        """The delivery channel of a configuration (for its mode and settings)."""
        channel = self._channels.get(name) if isinstance(name, str) else None
        if channel is None:
            known = ", ".join(repr(n) for n in self._channels) or "none"
            raise ConfigurationError(f"no configuration named {name!r} (configurations: {known})")
        return channel

    def mode(self, name: str) -> str:
        """The delivery mode the configuration ran under (last, after a switch)."""
        return self.channel(name).mode

    def queues(self, name: str) -> list[Channel]:
        """The configuration's queues, oldest first: one, or one more per mode switch."""
        return list(self.channel(name).siblings)

    def received(self, name: str) -> Rows[Attempt]:
        """The messages the configuration's listener accepted, in arrival order.

        Each item is the successful :class:`Attempt`, with the ``event``,
        ``snapshot`` and ``generated`` time that delivery carried.  After a
        mode switch, both queues' deliveries, by when they ended.
        """
        queues = self.channel(name).siblings
        if len(queues) == 1:
            return queues[0].delivered
        ledger = self._simulation._ledger
        rows = sorted((row for queue in queues for row in queue.delivered_rows),
                      key=lambda row: (Attempt(ledger, row).end, row))  # fmt: skip
        return Rows(rows, partial(Attempt, ledger))

    def messages(self, name: str) -> Rows[Message]:
        """Every message the configuration generated, in creation order (every queue's)."""
        queues = self.channel(name).siblings
        if len(queues) == 1:
            return queues[0].messages
        rows = sorted(row for queue in queues for row in queue.message_rows)
        return Rows(rows, partial(Message, self._simulation._ledger))

    def failures(self, name: str) -> list[Failure]:
        """The messages the configuration gave up on (that will never be delivered), and why.

        In the order it gave them up; deleted failure-log entries are here too.
        The failure log as DocuSign lists it is :meth:`failure_log`.
        """
        failures = [f for queue in self.channel(name).siblings for f in queue.failures]
        return sorted(failures, key=lambda failure: failure.time)  # stable: each queue's order

    def failure_log(self, name: str) -> list[LogEntry]:
        """The configuration's failure log when the run stopped (DocuSign's ``ConnectLog`` list).

        See :meth:`Simulation.failure_log <connect_sim.Simulation.failure_log>`.
        """
        return self._simulation.failure_log(self.channel(name).name)

    def republishes(self) -> list[RepublishResult]:
        """What every republish did, per envelope and configuration, in the order of the run."""
        from .operations import republish_results

        return republish_results(self._simulation._ledger)

    def skips(self, name: str) -> list[Skip]:
        """The attempts the configuration did not make while paused, in the order of the run."""
        numbers = {queue.number for queue in self.channel(name).siblings}
        ledger = self._simulation._ledger
        return [
            Skip(ledger, *details)
            for _, kind, details in ledger.notes
            if kind == "skip" and ledger.m_channel[details[1]] in numbers
        ]

    def pending(self, name: str) -> list[Message]:
        """Messages still queued (not delivered, not failed) when the run stopped."""
        pending = [m for queue in self.channel(name).siblings for m in queue.pending()]
        return sorted(pending, key=lambda message: message.sequence)

    def summary(self) -> dict[str, dict[str, int | str]]:
        """Per configuration: mode and counts of messages generated, delivered, failed, pending.

        Each message counts once, where it ended (``failed``: given up, deleted by
        the administrator included; ``republished``: withdrawn by a republish);
        ``attempts`` and ``skipped`` count attempts and skips, ``disabled`` the
        times Connect disabled the configuration.
        """
        out: dict[str, dict[str, int | str]] = {}
        for name, channel in self._channels.items():
            queues = channel.siblings
            # Each queue's running counts (Channel.counts): no message is read.
            made, delivered, failed, withdrawn, pending = (
                sum(column) for column in zip(*(queue.counts() for queue in queues), strict=True)
            )
            out[name] = {
                "mode": channel.mode,
                "generated": made,
                "delivered": delivered,
                "failed": failed,
                "republished": withdrawn,
                "pending": pending,
                "attempts": sum(queue.attempt_count for queue in queues),
                "skipped": sum(queue.skips for queue in queues),
                "disabled": sum(queue.disables for queue in queues),
            }
        return out
