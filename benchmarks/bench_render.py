"""Rendering benchmark: JSON and XML bodies per second, beside the floor of ``json.dumps``.

Two workloads, each rendered in full many times over:

- ``seed``: the six SIM messages of the Sue Signer / Charlie Copy example;
- ``ten``: an envelope with ten signers in sequence, each viewing and signing
  (33 SIM messages, each summary carrying ten recipients).

Configurations include recipients and custom fields, so each JSON body carries
the whole ``envelopeSummary`` a listener would ask for.

For each workload the script times, interleaved and best of ``--repeat``:

- ``json``: connect-sim rendering every message's JSON body from its attempt
  (the renderer is called directly, so the attempt's cache does not count);
- ``floor``: ``json.dumps`` of an equivalent dict built beforehand (the body
  parsed back), with the same encoder settings: the cost of serialisation
  alone, with no model to read;
- ``xml``: connect-sim rendering the legacy XML bodies of the same messages.

The target is JSON at least as fast as the floor (a ratio of at most 1).  Usage:
python benchmarks/bench_render.py [--rounds N] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import timedelta

import attrs

import connect_sim as cs
from connect_sim.render import Renderer

INCLUDE = ["recipients", "custom_fields"]


def seed_attempts() -> tuple[cs.Simulation, list[cs.Attempt]]:
    sim = cs.Simulation(seed=1)
    sim.add_configuration(cs.Configuration(name="listener", include_data=INCLUDE))
    sue = cs.Signer("Sue Signer", "sue@example.com", 1, "sue")
    charlie = cs.CarbonCopy("Charlie Copy", "charlie@example.com", 2, "charlie")
    env = sim.create_envelope(
        "Please sign", [sue, charlie], id="e1", custom_fields={"Region": "EMEA"}
    )
    sim.send(env)
    sim.view(env, "sue", at=timedelta(minutes=2))
    sim.sign(env, "sue", at=timedelta(minutes=2, seconds=20))
    return sim, sim.run().attempts


def ten_signer_attempts() -> tuple[cs.Simulation, list[cs.Attempt]]:
    sim = cs.Simulation(seed=1)
    sim.add_configuration(cs.Configuration(name="listener", include_data=INCLUDE))
    people = [cs.Signer(f"Signer {n}", f"signer{n}@example.com", n) for n in range(1, 11)]
    env = sim.create_envelope("Ten signatures", people, custom_fields={"Region": "EMEA"})
    sim.send(env)
    for n in range(1, 11):
        sim.view(env, str(n), at=timedelta(minutes=10 * n))
        sim.sign(env, str(n), at=timedelta(minutes=10 * n + 2))
    return sim, sim.run().attempts


def timer(work: Callable[[], object], rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        work()
    return time.perf_counter() - start


def measure(name: str, sim: cs.Simulation, attempts: list[cs.Attempt], rounds: int,
            repeat: int) -> float:  # fmt: skip
    configuration = sim._channels[0].configuration
    as_json = Renderer(configuration, sim.account, sim.start)
    as_xml = Renderer(attrs.evolve(configuration, format="xml"), sim.account, sim.start)
    prebuilt = [json.loads(as_json.body(attempt)) for attempt in attempts]
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    # The floor must produce the very same bytes, or it measures something else.
    assert [encoder.encode(d).encode() for d in prebuilt] == [as_json.body(a) for a in attempts]

    def render_json() -> None:
        for attempt in attempts:
            as_json.body(attempt)

    def render_xml() -> None:
        for attempt in attempts:
            as_xml.body(attempt)

    def floor() -> None:
        for document in prebuilt:
            encoder.encode(document).encode("utf-8")

    best = {"json": float("inf"), "floor": float("inf"), "xml": float("inf")}
    for _ in range(repeat):  # interleaved, so that a noisy moment hits all three alike
        for label, work in (("json", render_json), ("floor", floor), ("xml", render_xml)):
            best[label] = min(best[label], timer(work, rounds))
    bodies = len(attempts) * rounds
    size = sum(len(as_json.body(a)) for a in attempts) // len(attempts)
    xml_size = sum(len(as_xml.body(a)) for a in attempts) // len(attempts)
    print(f"{name}: {len(attempts)} messages x {rounds} rounds "
          f"(JSON ~{size} bytes, XML ~{xml_size} bytes per body)")  # fmt: skip
    for label in ("json", "floor", "xml"):
        print(f"  {label:5}  {best[label]:7.3f} s  {bodies / best[label]:>10,.0f} bodies/s")
    ratio = best["json"] / best["floor"]
    print(f"  JSON rendering / json.dumps floor: {ratio:.2f}x (target: at most 1x)")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000, help="renders of each workload")
    parser.add_argument("--repeat", type=int, default=5, help="best of this many")
    args = parser.parse_args()
    workloads = (("seed", seed_attempts, args.rounds),
                 ("ten", ten_signer_attempts, max(1, args.rounds // 7)))  # fmt: skip
    for name, build, rounds in workloads:
        sim, attempts = build()
        measure(name, sim, attempts, rounds, args.repeat)


if __name__ == "__main__":
    main()
