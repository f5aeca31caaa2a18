"""Delivery benchmark: connect-sim beside the shared SimPy peer and floor, in one command.

The workload is the one of the shared peer (``shared/bench/simpy_peer.py``): N
envelopes, each with one signer (routing order 1) and one carbon copy (order
2), sent at a Poisson rate (one every 30 s on average); the signer views after
about 10 minutes and signs about 2 minutes later.  Every event makes one
message under SIM (six per envelope); one configuration delivers them in
order, and a failed attempt blocks the queue and is retried 24 hours later.
The listener fails each attempt with probability P.

Models, each measured in a fresh interpreter, in turns, best of ``--repeat``
by CPU time:

- ``connect-sim``: the workload through the public API (``import connect_sim``),
  timed from nothing to the last delivery: drawing the times, building the
  scenario and ``run()``;
- ``peer``: ``shared/bench/simpy_peer.py``, run as it is (through ``runpy``,
  so that its CPU time can be read; it times ``env.run()``, which draws and
  builds as it goes);
- ``floor``: ``shared/bench/floor.py``, run as it is (one heap push, pop and
  append per message; no failure rate);
- ``aggregate``: connect-sim on the same traffic under Aggregate (no peer);
- ``connect-sim-fed``: the same as ``connect-sim``, built by the same loop as
  a feed (``Simulation.feed``: each envelope made when the clock reaches its
  sending time); in the scaling run, beside the build up front;
- ``own-simpy``: connect-sim's own SimPy model of the workload (kept from
  earlier versions of this script; not the shared peer), with ``--own-simpy``
  or when the shared peer is absent.

Imports are done before the clock starts, for every model.  The failures are
drawn as the peer draws them (one ``random()`` per attempt from a generator
seeded with SEED), so the script checks that connect-sim delivered every
message after exactly the number of attempts that rule gives.

Usage:
  python benchmarks/bench_delivery.py [--envelopes N [N ...]] [--rates P [P ...]]
      [--repeat R] [--shared DIR] [--own-simpy] [--no-aggregate]
      [--scaling] [--scaling-sizes N [N ...]] [--scaling-build up-front|fed ...]
      [--json PATH] [--plot PATH]
  python benchmarks/bench_delivery.py --from-json PATH [--plot PATH]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib.util
import io
import json
import os
import platform
import random
import resource
import runpy
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DAY_MS = 86_400_000
SCALING_SIZES = [25_000, 50_000, 100_000, 200_000, 500_000, 1_000_000]
# Targets of issue 10, at 100,000 envelopes: information, never a failure.
TARGET_ENVELOPES = 100_000
PEER_TARGETS = {0.0: 3.0, 0.01: 12.0}
FLOOR_TARGET = 0.35
LABELS = {
    "connect-sim": "connect-sim (SIM)",
    "connect-sim-fed": "connect-sim (SIM, fed)",
    "peer": "shared SimPy peer",
    "floor": "shared floor",
    "aggregate": "connect-sim (Aggregate)",
    "own-simpy": "connect-sim's own SimPy model",
}

Run = dict[str, Any]


# ---- in the child: one measurement, one JSON line ----------------------------------------


def _rss_kb(field: str = "VmHWM") -> int:
    """This process's own peak (or current, ``VmRSS``) resident memory in KB.

    ``ru_maxrss`` of a child starts at its parent's peak, so Linux's own
    figures are read where they exist.
    """
    with contextlib.suppress(OSError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _times(envelopes: int, seed: int) -> Iterator[tuple[int, int, int]]:
    """Send, view and sign times in ms, drawn as ``floor.py`` draws them (seed 1: its times)."""
    rng = random.Random(seed)
    t = 0.0
    for _ in range(envelopes):
        t += rng.expovariate(1 / 30.0)
        viewed = t + rng.expovariate(1 / 600.0)
        signed = viewed + rng.expovariate(1 / 120.0)
        yield round(t * 1000), round(viewed * 1000), round(signed * 1000)


def _connect_sim(
    envelopes: int, rate: float, seed: int, mode: str, fed: bool = False
) -> tuple[int, int]:
    """The workload through connect-sim's public API; returns (delivered, attempts).

    Built up front (a loop before ``run()``), or with ``fed`` by the same loop
    as a feed (``Simulation.feed``), which makes each envelope when the clock
    reaches its sending time, as the shared peer starts each envelope's
    process when it is sent.
    """
    from datetime import timedelta

    import connect_sim as cs

    sim = cs.Simulation(mode=mode, seed=seed)
    listener = (
        cs.listeners.Flaky(failure_rate=rate, seed=seed) if rate else cs.listeners.AlwaysOk()
    )
    sim.add_configuration(cs.Configuration(name="listener"), listener=listener)
    ms = timedelta(milliseconds=1)

    def build() -> Iterator[timedelta]:
        for number, (sent, viewed, signed) in enumerate(_times(envelopes, seed)):
            if fed:
                yield sent * ms  # go on when the clock comes to it
            sue = cs.Signer("Sue Signer", "sue@example.com", 1, "sue")
            charlie = cs.CarbonCopy("Charlie Copy", "charlie@example.com", 2, "charlie")
            env = sim.create_envelope("Please sign", [sue, charlie], id=f"e{number}", at=sent * ms)
            sim.send(env, at=sent * ms)
            sim.view(env, "sue", at=viewed * ms)
            sim.sign(env, "sue", at=signed * ms)

    if fed:
        sim.feed(build())
    else:
        for _ in build():
            pass
    result = sim.run()
    return len(result.received("listener")), len(result.attempts)


def _own_simpy(envelopes: int, rate: float, seed: int) -> tuple[int, int]:
    """connect-sim's own SimPy model of the workload (not the shared peer)."""
    import simpy

    env = simpy.Environment()
    queue = simpy.Store(env)
    rng = random.Random(seed)
    delivered: list[tuple[float, str, dict[str, str]]] = []
    attempts = [0]

    def envelope(sent: int, viewed: int, signed: int) -> Iterator[object]:
        state = {"envelope": "created", "sue": "created", "charlie": "created"}

        def event(name: str, **changes: str) -> None:
            state.update(changes)
            queue.put((env.now, name, dict(state)))  # a snapshot at event time

        yield env.timeout(sent - env.now)
        event("recipient-sent", sue="sent")
        event("envelope-sent", envelope="sent")
        yield env.timeout(viewed - env.now)
        event("recipient-delivered", sue="delivered")
        yield env.timeout(signed - env.now)
        event("recipient-completed", sue="completed")
        event("recipient-completed", charlie="completed")
        event("envelope-completed", envelope="completed")

    def deliver() -> Iterator[object]:
        while True:
            message = yield queue.get()
            attempts[0] += 1
            while rng.random() < rate:  # the head blocks the queue until it succeeds
                yield env.timeout(DAY_MS)
                attempts[0] += 1
            delivered.append(message)

    for sent, viewed, signed in _times(envelopes, seed):
        env.process(envelope(sent, viewed, signed))
    env.process(deliver())
    env.run()
    return len(delivered), attempts[0]


def _child(model: str, envelopes: int, rate: float, seed: int) -> None:
    if model == "own-simpy":
        import simpy  # noqa: F401  (imported before the clock, as for every model)
    else:
        import connect_sim  # noqa: F401
    base = _rss_kb("VmRSS")
    cpu, wall = time.process_time(), time.perf_counter()
    if model == "own-simpy":
        delivered, attempts = _own_simpy(envelopes, rate, seed)
    else:
        delivered, attempts = _connect_sim(
            envelopes, rate, seed, "aggregate" if model == "aggregate" else "sim",
            fed=model == "connect-sim-fed",
        )  # fmt: skip
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        json.dumps(
            {
                "delivered": delivered,
                "attempts": attempts,
                "cpu_s": cpu,
                "wall_s": wall,
                "rss_kb": _rss_kb(),
                "rss_base_kb": base,
            }
        ),
        flush=True,
    )


def _run_file(path: str, argv: list[str]) -> None:
    """Run a shared model file as it is; its imports first, then its ``__main__`` timed."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    for node in tree.body:  # the file's own top-level imports, so that they are not timed
        if isinstance(node, ast.Import | ast.ImportFrom) and getattr(node, "level", 0) == 0:
            for name in (
                [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            ):
                __import__(name or "")
    sys.argv = [path, *argv]
    out = io.StringIO()
    base = _rss_kb("VmRSS")
    cpu, wall = time.process_time(), time.perf_counter()
    with contextlib.redirect_stdout(out):
        runpy.run_path(path, run_name="__main__")
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    said = dict(part.split("=", 1) for part in out.getvalue().split())  # delivered=... wall_s=...
    print(
        json.dumps(
            {
                "delivered": int(said["delivered"]),
                "attempts": None,
                "cpu_s": cpu,
                "wall_s": wall,
                "self_wall_s": float(said["wall_s"]),
                "rss_kb": _rss_kb(),
                "rss_base_kb": base,
            }
        ),
        flush=True,
    )


# ---- in the parent: fresh interpreters, in turns ------------------------------------------


def _measure(command: list[str]) -> Run:
    """One child: its JSON line, plus its whole-process CPU and ``ru_maxrss`` from ``wait4``."""
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        return {"error": f"exit status {child.returncode}"}
    run: Run = json.loads(out.strip().splitlines()[-1])
    run["process_cpu_s"] = usage.ru_utime + usage.ru_stime
    run["ru_maxrss_kb"] = usage.ru_maxrss
    return run


def _command(model: str, envelopes: int, rate: float, seed: int, shared: Path) -> list[str]:
    me = [sys.executable, __file__]
    if model == "peer":
        return [
            *me,
            "--run-file",
            str(shared / "simpy_peer.py"),
            str(envelopes),
            str(rate),
            str(seed),
        ]
    if model == "floor":
        return [*me, "--run-file", str(shared / "floor.py"), str(envelopes)]
    return [*me, "--child", model, str(envelopes), str(rate), str(seed)]


def expected_attempts(messages: int, rate: float, seed: int) -> int:
    """Attempts under the peer's rule: per message, one draw per attempt until one succeeds."""
    if not rate:
        return messages
    rng = random.Random(seed)
    attempts = 0
    for _ in range(messages):
        attempts += 1
        while rng.random() < rate:
            attempts += 1
    return attempts


def _models(args: argparse.Namespace, shared_ok: bool, simpy_ok: bool) -> list[str]:
    models = ["connect-sim"]
    if shared_ok:
        models += ["peer", "floor"] if simpy_ok else ["floor"]
    if not args.no_aggregate:
        models.append("aggregate")
    if simpy_ok and (args.own_simpy or not shared_ok):
        models.append("own-simpy")
    return models


def side_by_side(args: argparse.Namespace, shared: Path, models: list[str]) -> list[Run]:
    runs: list[Run] = []
    for turn in range(1, args.repeat + 1):
        for envelopes in args.envelopes:
            for index, rate in enumerate(args.rates):
                for model in models:
                    if model == "floor" and index > 0:
                        continue  # the floor has no failure rate: once per size
                    run = _measure(_command(model, envelopes, rate, args.seed, shared))
                    run.update(
                        model=model,
                        envelopes=envelopes,
                        turn=turn,
                        rate=None if model == "floor" else rate,
                    )
                    runs.append(run)
                    print(
                        f"  turn {turn}: {envelopes:>9,} envelopes  rate {rate:<5} "
                        f"{model:<12} {_brief(run)}",
                        file=sys.stderr,
                        flush=True,
                    )
    return runs


#: The scaling run's ways of building, by the model that builds so.
BUILDS = {"up-front": "connect-sim", "fed": "connect-sim-fed"}


def scaling(args: argparse.Namespace) -> list[Run]:
    runs: list[Run] = []
    for turn in range(1, args.repeat + 1):
        for envelopes in args.scaling_sizes:
            for build in args.scaling_build:
                model = BUILDS[build]
                command = _command(model, envelopes, args.scaling_rate, args.seed, Path())
                run = _measure(command)
                run.update(model=model, envelopes=envelopes, rate=args.scaling_rate, turn=turn)
                runs.append(run)
                print(
                    f"  scaling turn {turn}: {envelopes:>9,} envelopes {build:>8}  {_brief(run)}",
                    file=sys.stderr,
                    flush=True,
                )
    return runs


def _brief(run: Run) -> str:
    if "error" in run:
        return run["error"]
    return (
        f"{run['cpu_s']:8.2f} s CPU  {run['wall_s']:8.2f} s wall  {run['rss_kb'] / 1024:7.0f} MB"
    )


# ---- reporting, from the raw runs (also from --from-json) ---------------------------------


def _best(runs: list[Run]) -> dict[tuple[str, int, float | None], Run]:
    """Per (model, envelopes, rate): the run with the least CPU, with the median beside it."""
    groups: dict[tuple[str, int, float | None], list[Run]] = {}
    for run in runs:
        if "error" not in run:
            groups.setdefault((run["model"], run["envelopes"], run["rate"]), []).append(run)
    best = {}
    for key, group in groups.items():
        top = dict(min(group, key=lambda r: r["cpu_s"]))
        top["median_cpu_s"] = statistics.median(r["cpu_s"] for r in group)
        top["repeats"] = len(group)
        best[key] = top
    return best


def _rate(run: Run) -> float:
    return float(run["delivered"] / run["cpu_s"])


def report_side_by_side(data: dict[str, Any]) -> None:
    best = _best(data["runs"])
    failed = [r for r in data["runs"] if "error" in r]
    print(
        f"\nside by side: best of {data['repeat']} by CPU time, each run in a fresh interpreter, "
        "the models in turns; msgs/s = delivered / CPU s; whole process CPU (wait4) adds the "
        "interpreter's start, imports and exit\n"
    )
    print(
        "| envelopes | failure rate | model | delivered | attempts | CPU s best | CPU s median "
        "| wall s | whole process CPU s | msgs/s | peak RSS MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    order = list(LABELS)
    keys = sorted(best, key=lambda k: (k[1], -1 if k[2] is None else k[2], order.index(k[0])))
    for model, envelopes, rate in keys:
        run = best[model, envelopes, rate]
        attempts = "-" if run["attempts"] is None else f"{run['attempts']:,}"
        print(
            f"| {envelopes:,} | {'-' if rate is None else f'{rate:g}'} | {LABELS[model]} "
            f"| {run['delivered']:,} | {attempts} | {run['cpu_s']:.2f} "
            f"| {run['median_cpu_s']:.2f} | {run['wall_s']:.2f} | {run['process_cpu_s']:.2f} "
            f"| {_rate(run):,.0f} | {run['rss_kb'] / 1024:,.0f} |"
        )
    for run in failed:
        print(
            f"failed: {run['model']} at {run['envelopes']:,} envelopes, "
            f"rate {run['rate']}: {run['error']}"
        )
    _check(data, best)
    _ratios(data, best)


def _check(data: dict[str, Any], best: dict[tuple[str, int, float | None], Run]) -> None:
    """connect-sim must deliver what the peer's rule gives; a mismatch is not the same workload."""
    wrong = []
    for (model, envelopes, rate), run in best.items():
        messages = 6 * envelopes
        if model in ("connect-sim", "own-simpy") and rate is not None:
            expected = (messages, expected_attempts(messages, rate, data["seed"]))
            if (run["delivered"], run["attempts"]) != expected:
                wrong.append(
                    f"{model} at {envelopes:,}, rate {rate}: delivered, attempts "
                    f"{run['delivered']:,}, {run['attempts']:,}; expected {expected}"
                )
        elif model in ("peer", "floor") and run["delivered"] != messages:
            wrong.append(
                f"{model} at {envelopes:,}: delivered {run['delivered']:,}, expected {messages:,}"
            )
    if wrong:
        raise SystemExit("not the same workload:\n  " + "\n  ".join(wrong))
    print(
        "\nchecked: connect-sim delivered every message after exactly the attempts the peer's "
        "drawing rule gives (one draw per attempt, seed "
        f"{data['seed']}); the peer and the floor delivered every message (the peer does not "
        "print its attempts)"
    )


def _ratios(data: dict[str, Any], best: dict[tuple[str, int, float | None], Run]) -> None:
    print(
        "\nconnect-sim's msgs/s over the other models' (targets: information, never a failure)\n"
    )
    print(
        "| envelopes | failure rate | connect-sim msgs/s | / shared peer | / shared floor "
        "| Aggregate msgs/s (events/s) | / own SimPy model |"
    )
    print("|---|---|---|---|---|---|---|")
    mine = sorted((k, r) for k, r in best.items() if k[0] == "connect-sim")
    for (_, envelopes, rate), run in mine:
        ours = _rate(run)
        cells = [f"{envelopes:,}", f"{rate:g}", f"{ours:,.0f}"]
        peer = best.get(("peer", envelopes, rate))
        floor = best.get(("floor", envelopes, None))
        target = FLOOR_TARGET if rate == 0 else None
        cells.append(_versus(ours, peer, PEER_TARGETS.get(rate or 0.0), envelopes))
        cells.append(_versus(ours, floor, target, envelopes))
        aggregate = best.get(("aggregate", envelopes, rate))
        cells.append(
            f"{_rate(aggregate):,.0f} ({6 * envelopes / aggregate['cpu_s']:,.0f})"
            if aggregate
            else "-"
        )
        own = best.get(("own-simpy", envelopes, rate))
        cells.append(f"{ours / _rate(own):.2f}x" if own else "-")
        print("| " + " | ".join(cells) + " |")
    if not any(k[1] == TARGET_ENVELOPES for k in best):
        print(f"\n(the targets are set at {TARGET_ENVELOPES:,} envelopes, not measured here)")


def _versus(ours: float, other: Run | None, target: float | None, envelopes: int) -> str:
    """The ratio, and at the targets' size whether the target is met (never a failure)."""
    if other is None:
        return "-"
    ratio = ours / _rate(other)
    if target is None or envelopes != TARGET_ENVELOPES:
        return f"{ratio:.2f}x"
    verdict = "met" if ratio >= target else f"MISSED, {target / ratio:.1f}x short"
    return f"{ratio:.2f}x (target {target:g}x: {verdict})"


def report_scaling(data: dict[str, Any]) -> None:
    best = _best(data["scaling"])
    rate = data["scaling_rate"]
    print(
        f"\nscaling: connect-sim alone, failure rate {rate}, best of {data['repeat']} by CPU, "
        "each size in a fresh interpreter, built up front or fed\n"
    )
    print(
        "| envelopes | built | messages | CPU s | wall s | whole process CPU s | us per message "
        "| peak RSS MB | KB per envelope (peak RSS over the RSS after imports) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    builds = {model: build for build, model in BUILDS.items()}
    for key in sorted(best, key=lambda k: (k[1], list(builds).index(k[0]))):
        run = best[key]
        envelopes = key[1]
        print(
            f"| {envelopes:,} | {builds[key[0]]} | {run['delivered']:,} | {run['cpu_s']:.2f} "
            f"| {run['wall_s']:.2f} | {run['process_cpu_s']:.2f} "
            f"| {run['cpu_s'] / run['delivered'] * 1e6:.2f} | {run['rss_kb'] / 1024:,.0f} "
            f"| {_per_envelope_kb(run):.2f} |"
        )
    print()
    for model, build in builds.items():
        runs = sorted((k[1], r) for k, r in best.items() if k[0] == model)
        if len(runs) < 2:
            continue
        per_message = [r["cpu_s"] / r["delivered"] * 1e6 for _, r in runs]
        spread = max(per_message) / min(per_message) - 1
        verdict = "met" if spread <= 0.25 else "MISSED"
        print(f"built {build}: time per message from {runs[0][0]:,} to {runs[-1][0]:,} envelopes "
              f"varies by {spread:.0%} (target: within 25 %: {verdict})")  # fmt: skip
        envelopes, top = runs[-1]
        if envelopes == 1_000_000:
            cpu, rss = top["cpu_s"], top["rss_kb"] / 1024 / 1024
            print(f"built {build}: 1,000,000 envelopes in {cpu:.1f} s of CPU (target 30 s: "
                  f"{'met' if cpu < 30 else 'MISSED'}), peak RSS {rss:.2f} GB (target 1.5 GB: "
                  f"{'met' if rss < 1.5 else 'MISSED'})")  # fmt: skip
    for run in data["scaling"]:
        if "error" in run:
            print(f"failed: {run['envelopes']:,} envelopes: {run['error']}")


def _per_envelope_kb(run: Run) -> float:
    return float((run["rss_kb"] - run["rss_base_kb"]) / run["envelopes"])


def plot(data: dict[str, Any], path: str) -> None:
    """(a) msgs/s side by side; (b) us per message and (c) memory per envelope against size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    plt.rcParams["svg.hashsalt"] = "connect-sim"  # stable ids: the same data, the same file
    plt.rcParams["svg.fonttype"] = "none"
    plain = FuncFormatter(lambda value, _: f"{value:,.0f}" if value >= 10 else f"{value:g}")
    short = FuncFormatter(
        lambda value, _: f"{value / 1e6:g}M" if value >= 1e6 else f"{value / 1e3:g}k"
    )
    scaled = _best(data.get("scaling", []))
    best = _best(data.get("runs", []))
    panels = [name for name, there in (("a", best), ("bc", scaled)) if there]
    width_of = {"a": 6.4, "bc": 8.8}
    figure, axes = plt.subplots(
        1, sum(len(p) for p in panels), squeeze=False,
        figsize=(sum(width_of[p] for p in panels), 4.8),
        gridspec_kw={"width_ratios": [1.45 if p == "a" else 1 for p in "".join(panels)]},
    )  # fmt: skip
    column = iter(axes[0])
    if best:
        ax = next(column)
        groups = sorted({(k[1], k[2]) for k in best if k[2] is not None})
        models = [m for m in LABELS if any(k[0] == m for k in best)]
        width = 0.8 / len(models)
        for index, model in enumerate(models):
            runs = [best.get((model, n, None if model == "floor" else r)) for n, r in groups]
            spots = [g + index * width for g, run in enumerate(runs) if run]
            heights = [_rate(run) for run in runs if run]
            label = LABELS[model] + (" (no failures)" if model == "floor" else "")
            bars = ax.bar(spots, heights, width, label=label)
            ax.bar_label(bars, [f"{h / 1000:.0f}k" for h in heights], fontsize=6)
        ax.set_xticks(
            [g + width * (len(models) - 1) / 2 for g in range(len(groups))],
            [f"{n / 1000:g}k envelopes\np = {r:g}" for n, r in groups],
        )
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_ylabel("messages per CPU second")
        ax.set_title(f"(a) side by side, best of {data.get('repeat', '?')} by CPU", fontsize=10)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3)
    if scaled:
        rate = data["scaling_rate"]
        lines = {
            build: sorted((k for k in scaled if k[0] == model), key=lambda k: k[1])
            for build, model in BUILDS.items()
        }
        lines = {build: keys for build, keys in lines.items() if keys}
        sizes = sorted({k[1] for k in scaled})
        for measure, label, title in (
            (lambda run: run["cpu_s"] / run["delivered"] * 1e6,
             "CPU microseconds per message", "(b) time per message"),
            (_per_envelope_kb,
             "KB per envelope (peak RSS over RSS after imports)", "(c) memory per envelope"),
        ):  # fmt: skip
            ax = next(column)
            values = []
            for build, keys in lines.items():
                points = [measure(scaled[k]) for k in keys]
                values += points
                ax.loglog([k[1] for k in keys], points, "o-", label=f"built {build}")
                for key, value in zip(keys, points, strict=True):
                    ax.annotate(f"{value:.3g}", (key[1], value), textcoords="offset points",
                                xytext=(0, 6), ha="center", fontsize=7)  # fmt: skip
            ax.set_xlabel("envelopes")
            ax.set_ylabel(label)
            ax.set_title(f"{title}, connect-sim, p = {rate:g}", fontsize=10)
            if len(lines) > 1:
                ax.legend(fontsize=7)
            ax.set_xticks(sizes)
            ax.xaxis.set_major_formatter(short)
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
            ax.yaxis.set_major_formatter(plain)
            ax.yaxis.set_minor_formatter(NullFormatter())
            low, high = min(values), max(values)
            ax.set_ylim(low / 1.5, high * 1.5)
            ax.grid(True, which="both", alpha=0.3)
    figure.suptitle(f"connect-sim delivery benchmark, {data.get('date', '')}", fontsize=11)
    figure.tight_layout()
    svg = path.endswith(".svg")
    figure.savefig(path, metadata={"Date": None} if svg else None)
    print(f"\nplot written to {path}")


# ---- command line --------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envelopes", type=int, nargs="+", default=[50_000, 100_000])
    parser.add_argument("--rates", type=float, nargs="+", default=[0.0, 0.01])
    parser.add_argument("--repeat", type=int, default=3, help="best of this many, by CPU")
    parser.add_argument("--seed", type=int, default=1, help="the peer's and the floor's is 1")
    parser.add_argument(
        "--shared",
        type=Path,
        default=REPO.parent / "shared" / "bench",
        help="folder of simpy_peer.py and floor.py (default: %(default)s)",
    )
    parser.add_argument(
        "--own-simpy", action="store_true", help="add connect-sim's own SimPy model"
    )
    parser.add_argument("--no-aggregate", action="store_true")
    parser.add_argument("--no-side-by-side", action="store_true", help="only --scaling")
    parser.add_argument("--scaling", action="store_true", help="connect-sim alone, sizes below")
    parser.add_argument("--scaling-sizes", type=int, nargs="+", default=SCALING_SIZES)
    parser.add_argument("--scaling-rate", type=float, default=0.01)
    parser.add_argument(
        "--scaling-build", nargs="+", choices=list(BUILDS), default=list(BUILDS),
        help="build up front, with a feed, or both (the default)",
    )  # fmt: skip
    parser.add_argument("--json", metavar="PATH", help="save the raw measurements")
    parser.add_argument("--from-json", metavar="PATH", help="report (and plot) saved measurements")
    parser.add_argument("--plot", metavar="PATH", help="write an SVG plot (needs matplotlib)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--run-file", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        model, envelopes, rate, seed = args.child
        _child(model, int(envelopes), float(rate), int(seed))
        return
    if args.run_file:
        _run_file(args.run_file[0], args.run_file[1:])
        return
    if args.from_json:
        data = json.loads(Path(args.from_json).read_text(encoding="utf-8"))
    else:
        data = measure(args)
    if data.get("runs"):
        report_side_by_side(data)
    if data.get("scaling"):
        report_scaling(data)
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        print(f"\nmeasurements saved to {args.json}")
    if args.plot:
        plot(data, args.plot)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    shared = args.shared.resolve()
    shared_ok = (shared / "simpy_peer.py").is_file() and (shared / "floor.py").is_file()
    simpy_ok = importlib.util.find_spec("simpy") is not None
    if not shared_ok:
        print(
            f"no shared peer at {shared} (a fresh clone has none; --shared DIR): "
            "connect-sim and connect-sim's own SimPy model only"
        )
    if not simpy_ok:
        print('simpy is not installed (pip install -e ".[benchmark]"): no SimPy models')
    models = _models(args, shared_ok, simpy_ok)
    data: dict[str, Any] = {
        "date": date.today().isoformat(),
        "command": sys.argv,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "seed": args.seed,
        "repeat": args.repeat,
        "shared": str(shared) if shared_ok else None,
        "scaling_rate": args.scaling_rate,
        "runs": [],
        "scaling": [],
    }
    print(
        f"models {', '.join(models)}; envelopes {args.envelopes}; failure rates {args.rates}; "
        f"best of {args.repeat}; progress on stderr"
    )
    if not args.no_side_by_side:
        data["runs"] = side_by_side(args, shared, models)
    if args.scaling:
        data["scaling"] = scaling(args)
    return data


if __name__ == "__main__":
    main()
