"""Result: what a run produced, per configuration.

A :class:`Result` reads a simulation after (or during) a run: every attempt in
the order it started, what each configuration's listener accepted, the failure
log and what is still queued.  It is a view, not a copy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .delivery import Attempt, Channel, Failure, Message
from .delivery.records import SENT_OK
from .errors import ConfigurationError
from .events import Event

if TYPE_CHECKING:
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
    def attempts(self) -> list[Attempt]:
        """Every delivery attempt of every configuration, in the order they started."""
        return list(self._simulation.attempts)

    @property
    def events(self) -> list[Event]:
        """Every event of the run, in order (subscribed or not)."""
        return list(self._simulation.events)

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
        """The delivery mode the configuration ran under."""
        return self.channel(name).mode

    def received(self, name: str) -> list[Attempt]:
        """The messages the configuration's listener accepted, in arrival order.

        Each item is the successful :class:`Attempt`, with the ``event``,
        ``snapshot`` and ``generated`` time that delivery carried.
        """
        return list(self.channel(name).delivered)

    def messages(self, name: str) -> list[Message]:
        """Every message the configuration generated, in creation order."""
        return list(self.channel(name).messages)

    def failures(self, name: str) -> list[Failure]:
        """The configuration's failure log: messages that will never be delivered."""
        return list(self.channel(name).failures)

    def pending(self, name: str) -> list[Message]:
        """Messages still queued (not delivered, not failed) when the run stopped."""
        return self.channel(name).pending()

    def summary(self) -> dict[str, dict[str, int | str]]:
        """Per configuration: mode and counts of messages generated, delivered, failed, pending."""
        attempts = dict.fromkeys(self._channels, 0)
        for attempt in self._simulation.attempts:  # one pass, not one per configuration
            attempts[attempt.configuration] += 1
        out: dict[str, dict[str, int | str]] = {}
        for name, channel in self._channels.items():
            out[name] = {
                "mode": channel.mode,
                "generated": len(channel.messages),
                "delivered": sum(1 for m in channel.messages if m.state == SENT_OK),
                "failed": len(channel.failures),
                "pending": len(channel.pending()),
                "attempts": attempts[name],
            }
        return out
