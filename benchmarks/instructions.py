"""Machine instructions per envelope of the delivery benchmark's workloads, against a baseline.

Time on a shared machine moves by a quarter from one turn to the next, so CI
cannot hold the code to a speed; the number of instructions the interpreter
executes for the same work does not move with the machine's load. This
script counts them with valgrind's callgrind for each workload of
``bench_delivery.py`` (its ``--child`` runs, the loop the benchmark times) at
two sizes, and takes the difference per envelope, so that the interpreter's
start and the imports drop out. ``--check`` compares with
``benchmarks/instructions.json`` and fails (exit status 1) when a workload
takes more than ``--tolerance`` (10 %) more than its baseline; ``--update``
writes the baseline anew. Hash randomisation is off in the children
(``PYTHONHASHSEED=0``), so dicts and sets probe the same way in every run.
Without valgrind it says so and exits 0, unless ``--require``.

    python benchmarks/instructions.py --check
    python benchmarks/instructions.py --update    # after a change that is meant to cost
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASELINE = HERE / "instructions.json"
#: (name, bench_delivery model, failure rate): SIM without and with failures, built up
#: front and as a feed (the way a million envelopes fit), and Aggregate with failures
#: (its releases are where a slip costs most).
WORKLOADS = (("sim", "connect-sim", 0.0), ("sim-1%", "connect-sim", 0.01),
             ("sim-fed-1%", "connect-sim-fed", 0.01),
             ("aggregate-1%", "aggregate", 0.01))  # fmt: skip
SMALL, LARGE = 1_000, 3_000


def _instructions(model: str, envelopes: int, rate: float) -> int:
    """What callgrind counts for one ``--child`` run of the benchmark."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
               sys.executable, str(HERE / "bench_delivery.py"),
               "--child", model, str(envelopes), str(rate), "1"]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, check=False,
        env={**os.environ, "PYTHONHASHSEED": "0"}, timeout=900,
    )  # fmt: skip
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"error: callgrind of {model} {envelopes} {rate}: {done.stderr[-500:]}")
    return int(found.group(1))


def measure() -> dict[str, int]:
    """Instructions per envelope of each workload: the difference of two sizes."""
    out = {}
    for name, model, rate in WORKLOADS:
        small, large = (_instructions(model, n, rate) for n in (SMALL, LARGE))
        out[name] = round((large - small) / (LARGE - SMALL))
        print(f"{name:14} {out[name]:>9,} instructions an envelope", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--check", action="store_true", help="compare with the baseline")
    what.add_argument("--update", action="store_true", help="write the baseline anew")
    parser.add_argument("--tolerance", type=float, default=0.10, help="0.10: 10 %% more")
    parser.add_argument("--require", action="store_true", help="fail without valgrind")
    args = parser.parse_args()
    if not 0 <= args.tolerance < 10:
        parser.error(f"--tolerance: expected a share from 0 (0.10 is 10 %), got {args.tolerance}")
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: instructions not counted")
        raise SystemExit(1 if args.require else 0)
    counted = measure()
    if args.update:
        BASELINE.write_text(json.dumps(counted, indent=2) + "\n", encoding="utf-8")
        print(f"baseline written to {BASELINE}")
        return
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    over = []
    for name, count in counted.items():
        base = baseline[name]
        change = count / base - 1
        print(f"{name:14} {change:+.1%} against the baseline's {base:,}")
        if change > args.tolerance:
            over.append(f"{name}: {change:+.1%} instructions (tolerance {args.tolerance:.0%})")
    if over:
        raise SystemExit("error: " + "; ".join(over))


if __name__ == "__main__":
    main()
