"""A busy day of traffic, built while it runs: one envelope every 30 seconds for 24 hours.

Each envelope has a signer who opens it a few minutes after it is sent and
signs a few minutes later, and a carbon copy.  A feed makes each envelope
when the clock comes to it (``Simulation.feed``), so the 2,880 envelopes are
never all in memory before the run; the same day runs under SIM and under
Aggregate, and the listener sees how many messages each sends.

Run: python examples/busy_day.py
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

import connect_sim as cs

ENVELOPES = 2_880  # one every 30 seconds for a day


def day_of_traffic(sim: cs.Simulation, made: list[int]) -> Iterator[timedelta]:
    """The day's envelopes, each made when the clock reaches its sending time."""
    rng = random.Random(7)  # seeded: the same day every run
    for number in range(ENVELOPES):
        sent = timedelta(seconds=30 * number)
        yield sent  # go on when the clock comes to it
        made.append(sim.now)
        signer = cs.Signer("Sue Signer", "sue@example.com", 1, "sue")
        copy = cs.CarbonCopy("Charlie Copy", "charlie@example.com", 2, "charlie")
        env = sim.create_envelope("Please sign", [signer, copy], at=sent)
        sim.send(env, at=sent)
        viewed = sent + timedelta(seconds=rng.randint(60, 900))
        sim.view(env, "sue", at=viewed)
        sim.sign(env, "sue", at=viewed + timedelta(seconds=rng.randint(30, 600)))


def run(mode: str) -> tuple[int, int]:
    """Messages delivered in ``mode``, and envelopes made when the first one arrived."""
    sim = cs.Simulation(mode=mode, seed=1)
    made: list[int] = []
    made_at_first: list[int] = []

    def listener(body: bytes, headers: dict[str, str]) -> int:
        if not made_at_first:
            made_at_first.append(len(made))
        return 200

    sim.add_configuration(
        cs.Configuration(name="listener"), listener=cs.listeners.Callable(listener)
    )
    sim.feed(day_of_traffic(sim, made))
    result = sim.run()
    assert len(made) == ENVELOPES and made == sorted(made), "every envelope, in time order"
    return len(result.received("listener")), made_at_first[0]


def main() -> None:
    for mode in ("sim", "aggregate"):
        delivered, made_then = run(mode)
        print(f"{mode:>9}: {delivered:>6,} messages for {ENVELOPES:,} envelopes; "
              f"envelopes made when the first message arrived: {made_then}")  # fmt: skip


if __name__ == "__main__":
    main()
