"""Running a scenario to the end, including what only later traffic would deliver.

Under Aggregate a failed message is retried only when a later message of the
same configuration succeeds, a day or more after the failure.  In a test
scenario that ends with a failure there is no later message, so the failed
one would wait for ever: not a bug of the listener, just a scenario that
stopped too early.  :func:`drain` plays the part of the account's later
traffic.
"""

from __future__ import annotations

from datetime import timedelta

from ..envelope import Signer
from ..result import Result
from ..simulation import Simulation

__all__ = ["drain"]


def drain(simulation: Simulation, days: int = 15) -> Result:
    """Run to the end; then, while messages still wait, send one more envelope a day later.

    Each extra envelope (ids ``later-1``, ``later-2``, ...) goes out a day and
    a minute after the clock, once the listener models have recovered, and
    its success releases the failed messages waiting under Aggregate.  At
    most ``days`` of them; returns the result (check it with
    :func:`~connect_sim.testing.assert_nothing_lost`).  An envelope-level
    configuration sees none of that traffic, so under Aggregate a message it
    failed to deliver after the envelope's last event waits for ever, as it
    would with Connect.
    """
    result = simulation.run()
    for number in range(1, days + 1):
        if nothing_pending(result):
            break
        later = timedelta(milliseconds=simulation.now) + timedelta(days=1, minutes=1)
        envelope = simulation.create_envelope(
            "Later traffic", [Signer("Pat Later", "pat.later@example.com")],
            id=f"later-{number}", at=later,
        )  # fmt: skip
        simulation.send(envelope, at=later)
        result = simulation.run()
    return result


def nothing_pending(result: Result) -> bool:
    """True when no configuration has a message still to deliver (or to retry)."""
    return not any(result.pending(name) for name in result.configurations)
