"""The ``connect-sim`` command: ``example``, ``compare FILE`` and ``run FILE --out DIR``.

Bad input of any kind (a flag, a scenario file, an action the state does not
allow) prints one line, ``error: ...``, and exits with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import NoReturn

from . import __version__
from .errors import ConnectSimError, PayloadError
from .report import comparison, write_run
from .scenario import Scenario, load_scenario, parse_scenario

__all__ = ["main"]


class _UsageError(Exception):
    pass


class _Exit(Exception):
    """``--help`` or ``--version`` has printed its text: return this status."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{message} (see connect-sim --help)")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        # main() returns a status rather than calling sys.exit, even for --help.
        if message:
            self._print_message(message, sys.stderr)
        raise _Exit(status)


def _seed_example() -> Scenario:
    text = (
        resources.files("connect_sim")
        .joinpath("scenarios/sue_and_charlie.toml")
        .read_text(encoding="utf-8")
    )
    return parse_scenario(text, "sue_and_charlie.toml")


def _compare(scenario: Scenario, seed: int | None) -> str:
    sim = scenario.build(mode="sim", seed=seed).run()
    aggregate = scenario.build(mode="aggregate", seed=seed).run()
    return comparison(sim, aggregate)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="connect-sim",
        description="Simulate DocuSign Connect webhook delivery (SIM and Aggregate).",
    )
    parser.add_argument("--version", action="version", version=f"connect-sim {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    commands.add_parser(
        "example", help="the Sue Signer / Charlie Copy example under SIM and under Aggregate"
    )
    compare = commands.add_parser("compare", help="a scenario under SIM and under Aggregate")
    compare.add_argument("file", help="a scenario TOML file")
    compare.add_argument("--seed", type=int, help="replace the scenario's seed")
    run = commands.add_parser("run", help="run a scenario and write its trace and summary")
    run.add_argument("file", help="a scenario TOML file")
    run.add_argument("--mode", choices=("sim", "aggregate"), help="force every configuration")
    run.add_argument("--seed", type=int, help="replace the scenario's seed")
    run.add_argument(
        "--out", required=True, help="folder for trace.jsonl, summary.json and bodies/"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 2 bad input)."""
    try:
        args = _parser().parse_args(argv)
        if args.command == "example":
            sys.stdout.write(_compare(_seed_example(), None))
        elif args.command == "compare":
            sys.stdout.write(_compare(load_scenario(args.file), args.seed))
        else:
            result = load_scenario(args.file).build(mode=args.mode, seed=args.seed).run()
            try:
                written = write_run(result, args.out)
            except PayloadError as error:  # a body the format cannot carry: name the file too
                raise PayloadError(f"{args.file}: {error}") from None
            for path in written:
                print(f"wrote {path}")
            count = len(result.simulation.attempts)
            print(f"wrote {count} message bodies to {Path(args.out) / 'bodies'}")
    except _Exit as done:
        return done.status
    except (ConnectSimError, _UsageError, OSError) as error:
        print(f"error: {_one_line(str(error))}", file=sys.stderr)
        return 2
    return 0


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _entry() -> NoReturn:  # pragma: no cover - the console script
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    _entry()
