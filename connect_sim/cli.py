"""The ``connect-sim`` command: ``example``, ``compare FILE`` and ``run FILE --out DIR``.

Bad input of any kind (a flag, a scenario file, an action the state does not
allow, an output folder connect-sim may not write into) and a failure to write
print one line, ``error: ...``, and exit with status 2; Ctrl-C prints
``error: interrupted`` and exits with status 130.  No traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import NoReturn

from . import __version__
from .errors import ConnectSimError, PayloadError
from .output import BODIES, check_run_folder, write_run
from .report import comparison
from .scenario import Scenario, load_scenario, parse_scenario

__all__ = ["main"]


INTERRUPTED = 130
"""The exit status after Ctrl-C (128 + SIGINT, as shells report it)."""


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
        "--out",
        required=True,
        help="folder for trace.jsonl, summary.json and bodies/: new, empty or an earlier run",
    )
    return parser


def _run(args: argparse.Namespace) -> None:
    scenario = load_scenario(args.file)
    check_run_folder(args.out)  # refuse the folder now, not after a long run
    result = scenario.build(mode=args.mode, seed=args.seed).run()
    try:
        written = write_run(result, args.out)
    except PayloadError as error:  # a body the format cannot carry: name the file too
        raise PayloadError(f"{args.file}: {error}") from None
    except OSError as error:
        raise ConnectSimError(f"cannot write the run to {args.out}: {_os_error(error)}") from None
    for path in written:
        print(f"wrote {path}")
    count = len(result.simulation.attempts)
    print(f"wrote {count} message bodies to {Path(args.out) / BODIES}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 2 bad input, 130 Ctrl-C)."""
    try:
        args = _parser().parse_args(argv)
        if args.command == "example":
            sys.stdout.write(_compare(_seed_example(), None))
        elif args.command == "compare":
            sys.stdout.write(_compare(load_scenario(args.file), args.seed))
        else:
            _run(args)
    except _Exit as done:
        return done.status
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return INTERRUPTED
    except (ConnectSimError, _UsageError) as error:
        print(f"error: {_one_line(str(error))}", file=sys.stderr)
        return 2
    except OSError as error:  # reading the output folder, say
        print(f"error: {_one_line(_os_error(error))}", file=sys.stderr)
        return 2
    return 0


def _os_error(error: OSError) -> str:
    """``out/bodies/000/000001.json: No space left on device``, not ``[Errno 28] ...``."""
    if error.strerror and error.filename is not None:
        return f"{os.fsdecode(error.filename)}: {error.strerror}"
    return str(error)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _entry() -> NoReturn:  # pragma: no cover - the console script
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    _entry()
