"""Scenarios as plain data: what the strategies generate and a failing example prints.

A :class:`ScenarioPlan` is envelopes, a timeline of :class:`Step`,
configurations, each with a listener *behaviour* (when it is down, flaky or
slow), and what an administrator does meanwhile (:class:`AdminStep`).  It
builds a fresh :class:`~connect_sim.Simulation` as often as asked, under
either delivery algorithm, with the behaviours in front of the listener
under test (see :class:`~connect_sim.listeners.Degraded`).

Every class here is frozen and its repr is Python that rebuilds it, given::

    import datetime
    from connect_sim import *
    from connect_sim.listeners import *
    from connect_sim.testing import *

so the example Hypothesis prints for a failing test is a script to paste.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import timedelta
from typing import Final

import attrs

from ..configuration import Configuration
from ..envelope import Recipient
from ..errors import ConfigurationError
from ..listeners import AlwaysOk, Degraded, Listener
from ..simulation import Simulation

__all__ = [
    "TEST_HMAC_KEY",
    "AdminStep",
    "ConfigurationPlan",
    "EnvelopePlan",
    "ScenarioPlan",
    "Step",
]

#: The HMAC key the testing recipes sign with unless told otherwise: give it to your
#: listener under test (``ScenarioPlan.build`` and ``ListenerStateMachine`` use it).
#: It is a test key, published in the docs; never use it for a real listener.
TEST_HMAC_KEY: Final = "connect-sim-test-key"


def _recipients(value: Iterable[Recipient]) -> tuple[Recipient, ...]:
    return tuple(value)


@attrs.frozen
class EnvelopePlan:
    """An envelope to create: its id, subject, recipients and creation time."""

    id: str
    recipients: tuple[Recipient, ...] = attrs.field(converter=_recipients)
    subject: str = "Please sign"
    created: timedelta = timedelta(0)


@attrs.frozen
class Step:
    """One action of a timeline: ``at`` (from the start), ``action`` on ``envelope``.

    ``action`` is a name :meth:`Simulation.act` takes (``send``, ``view``,
    ``sign``, ``decline``, ``void``, ...); ``recipient`` is a recipient id.
    """

    at: timedelta
    action: str
    envelope: str
    recipient: str | None = None
    reason: str | None = None


@attrs.frozen
class AdminStep:
    """What an administrator does at ``at`` (see ``docs/operations.md``).

    ``action`` is ``pause`` or ``resume`` (``configuration``), ``delete_failure``
    (every entry of ``configuration``'s failure log), or ``republish``: every
    envelope any failure log holds at that moment, if any (what an
    administrator who reads the logs does), ``synchronous`` or not, with
    ``content``; or ``set_mode``, the account's switch to ``mode``.
    """

    at: timedelta
    action: str
    configuration: str | None = None
    synchronous: bool = False
    content: str = "current"
    mode: str | None = None


@attrs.frozen
class ConfigurationPlan:
    """A configuration, the behaviour of the listener it delivers to, and its scope.

    ``behaviour`` is a listener model (:class:`~connect_sim.listeners.Outage`,
    :class:`~connect_sim.listeners.Flaky`, ...).  ``envelope`` makes the
    configuration envelope-level.
    """

    configuration: Configuration
    behaviour: Listener = attrs.field(factory=AlwaysOk)
    envelope: str | None = None


def _envelopes(value: Iterable[EnvelopePlan]) -> tuple[EnvelopePlan, ...]:
    return tuple(value)


def _steps(value: Iterable[Step]) -> tuple[Step, ...]:
    return tuple(value)


def _configurations(value: Iterable[ConfigurationPlan]) -> tuple[ConfigurationPlan, ...]:
    return tuple(value)


def _admin(value: Iterable[AdminStep]) -> tuple[AdminStep, ...]:
    return tuple(value)


@attrs.frozen
class ScenarioPlan:
    """A whole scenario: envelopes, their timeline, configurations, a seed, an administrator."""

    envelopes: tuple[EnvelopePlan, ...] = attrs.field(converter=_envelopes)
    timeline: tuple[Step, ...] = attrs.field(converter=_steps)
    configurations: tuple[ConfigurationPlan, ...] = attrs.field(converter=_configurations)
    seed: int = 0
    admin: tuple[AdminStep, ...] = attrs.field(default=(), converter=_admin)

    def build(
        self,
        mode: str = "sim",
        listener: Listener | None = None,
        hmac_keys: str | Sequence[str] = (TEST_HMAC_KEY,),
    ) -> Simulation:
        """A fresh simulation of the plan under ``mode``, not yet run.

        With ``listener`` (your listener, for example
        ``Callable(my_handler)``), every configuration delivers to it through
        its behaviour: an attempt that the behaviour fails never reaches your
        code.  Without, the behaviours answer by themselves.  ``mode`` forces
        every configuration to one algorithm (Aggregate's anomalies are
        dropped under SIM).  ``hmac_keys`` sign every configuration's
        messages: by default :data:`TEST_HMAC_KEY`, so that a listener that
        checks signatures works out of the box with that key; give your own
        test keys, or ``()`` for unsigned messages.  (Plans never hold keys,
        so that they print whole.)
        """
        sim = Simulation(mode=mode, seed=self.seed)
        made = {}
        for envelope in self.envelopes:
            made[envelope.id] = sim.create_envelope(
                envelope.subject, list(envelope.recipients), id=envelope.id, at=envelope.created
            )
        for plan in self.configurations:
            configuration = plan.configuration.for_mode(mode)
            if hmac_keys:
                configuration = attrs.evolve(configuration, hmac_keys=hmac_keys)
            target = plan.behaviour if listener is None else Degraded(listener, plan.behaviour)
            scope = None if plan.envelope is None else made[plan.envelope]
            sim.add_configuration(configuration, listener=target, envelope=scope)
        for step in self.timeline:
            sim.act(step.action, made[step.envelope], step.recipient, at=step.at,
                    reason=step.reason)  # fmt: skip
        republishes = []
        for admin in self.admin:
            if admin.action == "pause":
                sim.pause(admin.configuration, at=admin.at)  # type: ignore[arg-type]
            elif admin.action == "resume":
                sim.resume(admin.configuration, at=admin.at)  # type: ignore[arg-type]
            elif admin.action == "delete_failure":
                sim.delete_failure(admin.configuration, all=True, at=admin.at)
            elif admin.action == "republish":
                republishes.append(admin)
            elif admin.action == "set_mode":
                sim.set_mode(admin.mode, at=admin.at)  # type: ignore[arg-type]
            else:
                raise ConfigurationError(f"unknown administrative step {admin.action!r}")
        if republishes:
            names = [plan.configuration.name for plan in self.configurations]
            sim.feed(_administrator(sim, names, sorted(republishes, key=lambda step: step.at)))
        return sim


def _administrator(
    sim: Simulation, names: list[str], republishes: list[AdminStep]
) -> Iterator[timedelta]:
    """A feed that, at each step's instant, republishes what the failure logs hold then."""
    for step in republishes:
        yield step.at
        # Not an envelope whose every entry is being retried right now: that is refused.
        entries = [entry for name in names for entry in sim.failure_log(name)]
        busy = {e.envelope_id for e in entries} - {
            e.envelope_id for e in entries if not e.in_flight
        }
        held = sorted({entry.envelope_id for entry in entries} - busy)
        if held:
            sim.republish(held, at=step.at, synchronous=step.synchronous, content=step.content)
