"""Two listeners that look right and are not: cautionary tales, with the runs that catch them.

Run it: ``python examples/naive_listeners.py``.  Each story builds a small
scenario in which a naive listener ends up wrong about an envelope while
:class:`connect_sim.testing.ReferenceListener` gets it right.  The test suite
(``tests/test_reference_listener.py``) shows that connect-sim's strategies find
such scenarios on their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import connect_sim as cs
from connect_sim.listeners import Callable, Outage
from connect_sim.testing import ReferenceListener, drain

# What an envelope event's name says the status is.
EVENT_STATUS = {
    "envelope-created": "created",
    "envelope-sent": "sent",
    "envelope-delivered": "delivered",
    "envelope-completed": "completed",
    "envelope-declined": "declined",
    "envelope-voided": "voided",
}


class EventNameListener:
    """Takes the status from the event name, in arrival order.

    Fine under SIM with one configuration.  Wrong under Aggregate, where a
    retried message still names the old event it was made for but arrives
    after newer ones, and wherever two queues interleave.
    """

    def __init__(self) -> None:
        self.statuses: dict[str, str] = {}

    def __call__(self, body: bytes, headers: Mapping[str, str]) -> int:
        message = cs.parse_message(body, headers.get("Content-Type"))
        status = EVENT_STATUS.get(message.event or "") or (
            message.status if message.event is None else None  # XML names no event
        )
        if status is not None:
            self.statuses[message.envelope_id] = status
        return 200


class LastArrivalListener:
    """Takes the status the message carries, and lets the last arrival win.

    Better: it reads the status rather than the event.  Still wrong when two
    configurations (say, an account-level one and an envelope's own, which
    subscribes to fewer events) feed one listener and one queue's backlog
    flushes after the other's newer messages.
    """

    def __init__(self) -> None:
        self.statuses: dict[str, str] = {}

    def __call__(self, body: bytes, headers: Mapping[str, str]) -> int:
        message = cs.parse_message(body, headers.get("Content-Type"))
        if message.status is not None:
            self.statuses[message.envelope_id] = message.status
        return 200


def aggregate_retry_story() -> tuple[str, str | None, str | None]:
    """Aggregate: 'envelope-sent' fails, the envelope completes, the old message is retried."""
    naive, reference = EventNameListener(), ReferenceListener()
    sim = cs.Simulation(mode="aggregate", seed=1)
    down = Outage(windows=[(timedelta(0), timedelta(minutes=5))])
    for name, listener in (("naive", naive), ("reference", reference)):
        behind_outage = cs.listeners.Degraded(Callable(listener), down)
        sim.add_configuration(cs.Configuration(name=name), listener=behind_outage)
    env = sim.create_envelope("Lease", [cs.Signer("Sue Signer", "sue@example.com")])
    sim.send(env)  # the first message goes out at 1m, while the listener is down
    sim.sign(env, "1", at=timedelta(hours=2))  # completed; delivered at once
    later = sim.create_envelope("Next lease", [cs.Signer("Ann", "ann@example.com")])
    sim.send(later, at=timedelta(days=1, hours=3))  # a success a day on releases the retry
    result = drain(sim)
    truth = result.simulation.state(env).status
    return truth, naive.statuses.get(env.envelope_id), reference.status(env.envelope_id)


def two_queues_story() -> tuple[str, str | None, str | None]:
    """SIM: two configurations feed one listener; one is down and flushes old news later.

    The envelope's own notification asks only for ``envelope-sent``; its first
    attempt fails, so that message arrives a day later, long after the
    account-level configuration delivered ``envelope-completed``.
    """
    naive, reference = LastArrivalListener(), ReferenceListener()

    def both(body: bytes, headers: Mapping[str, str]) -> int:
        naive(body, headers)
        return reference(body, headers)

    sim = cs.Simulation(mode="sim", seed=1)
    env = sim.create_envelope("Lease", [cs.Signer("Sue Signer", "sue@example.com")])
    sim.add_configuration(cs.Configuration(name="account"), listener=Callable(both))
    down = Outage(windows=[(timedelta(0), timedelta(hours=1))])
    own = cs.Configuration(name="envelope", events=["envelope-sent"])
    sim.add_configuration(own, envelope=env,
                          listener=cs.listeners.Degraded(Callable(both), down))  # fmt: skip
    sim.send(env)
    sim.sign(env, "1", at=timedelta(minutes=30))
    result = drain(sim)
    truth = result.simulation.state(env).status
    return truth, naive.statuses.get(env.envelope_id), reference.status(env.envelope_id)


def main() -> None:
    for title, story in (
        ("Status from the event name, under Aggregate", aggregate_retry_story),
        ("Last arrival wins, two configurations under SIM", two_queues_story),
    ):
        truth, naive, reference = story()
        print(f"{title}: the envelope is {truth!r}; the naive listener says {naive!r}, "
              f"the reference listener {reference!r}")  # fmt: skip
        assert naive != truth and reference == truth


if __name__ == "__main__":
    main()
