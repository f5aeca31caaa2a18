"""Testing a Connect listener with connect-sim: strategies, assertions, a reference listener.

- :mod:`connect_sim.testing.strategies`: Hypothesis strategies for scenarios
  that are valid by construction (needs ``hypothesis``).
- :class:`ListenerStateMachine`: a Hypothesis state machine to subclass with
  your listener (needs ``hypothesis``).
- :func:`assert_sim_order`, :func:`assert_nothing_lost`,
  :func:`assert_converged`: checks of a run, with readable failures.
- :class:`ReferenceListener`: the simplest correct listener.
- :func:`drain`: run a scenario to the end, with the later traffic that
  releases Aggregate's waiting retries.
- :class:`ScenarioPlan` and its parts: scenarios as data, as the strategies
  make them; :data:`TEST_HMAC_KEY`, the key they sign with.

The pytest plugin (the ``connect_sim`` fixture, the ``both_delivery_modes``
marker) is registered when connect-sim is installed; see
``docs/testing-your-listener.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .assertions import assert_converged, assert_nothing_lost, assert_sim_order
from .plans import TEST_HMAC_KEY, AdminStep, ConfigurationPlan, EnvelopePlan, ScenarioPlan, Step
from .reference import ReferenceListener
from .running import drain

if TYPE_CHECKING:
    from .stateful import ListenerStateMachine

__all__ = [
    "TEST_HMAC_KEY",
    "AdminStep",
    "ConfigurationPlan",
    "EnvelopePlan",
    "ListenerStateMachine",
    "ReferenceListener",
    "ScenarioPlan",
    "Step",
    "assert_converged",
    "assert_nothing_lost",
    "assert_sim_order",
    "drain",
]


def __getattr__(name: str) -> Any:
    # The state machine needs Hypothesis; load it (and Hypothesis) only when asked for.
    if name == "ListenerStateMachine":
        from .stateful import ListenerStateMachine

        return ListenerStateMachine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
