"""The ``connect-sim`` command: ``example``, ``compare``, ``run``, ``failures``, ``forward``
and ``receive``.

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
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import NoReturn

from . import __version__
from .errors import ConnectSimError, InvalidAction, InvalidOperation, PayloadError
from .operations import LogEntry
from .output import BODIES, BODIES_FILE, LAYOUTS, RunWriter, check_run_folder, write_run
from .report import comparison, counts_table, text_table
from .result import Result
from .scenario import Scenario, load_scenario, parse_scenario
from .time import format_instant, parse_duration, parse_instant

__all__ = ["main"]


INTERRUPTED = 130
"""The exit status after Ctrl-C (128 + SIGINT, as shells report it)."""
BROKEN_PIPE = 141
"""The exit status when the reader of standard output went away (128 + SIGPIPE)."""


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
        help="folder for trace.jsonl, summary.json and the bodies: new, empty or an earlier run",
    )
    run.add_argument(
        "--bodies",
        choices=LAYOUTS,
        default="files",
        help="a file per body under bodies/ (files, the default) or one bodies.jsonl",
    )
    failures = commands.add_parser(
        "failures", help="a scenario's failure log at an instant, as DocuSign lists it"
    )
    failures.add_argument("file", help="a scenario TOML file")
    failures.add_argument(
        "--at", help="an offset from the start (1d2h) or an ISO time; default: the run's end"
    )
    failures.add_argument("--mode", choices=("sim", "aggregate"), help="force every configuration")
    failures.add_argument("--seed", type=int, help="replace the scenario's seed")
    forward = commands.add_parser(
        "forward", help="run a scenario against a listener at a URL, over real HTTP"
    )
    forward.add_argument("file", help="a scenario TOML file")
    forward.add_argument("--to", required=True, help="the listener's URL, http:// or https://")
    forward.add_argument("--mode", choices=("sim", "aggregate"), help="force every configuration")
    forward.add_argument("--seed", type=int, help="replace the scenario's seed")
    forward.add_argument(
        "--pace", type=float, help="simulated seconds per wall second (60: a minute a second)"
    )
    forward.add_argument(
        "--max-wait",
        type=float,
        default=2.0,
        help="with --pace, wait at most this many seconds for a step (2)",
    )
    forward.add_argument("--out", help="also write the run here, as run --out does")
    forward.add_argument(
        "--bodies", choices=LAYOUTS, help="with --out: as run --bodies (default files)"
    )
    receive = commands.add_parser(
        "receive", help="a capture listener: receive Connect messages and print a line each"
    )
    receive.add_argument("--port", type=int, default=8000, help="the port (default 8000)")
    receive.add_argument("--host", default="127.0.0.1", help="where to listen (127.0.0.1)")
    receive.add_argument("--hmac-key", action="append", default=[], dest="hmac_keys",
                         help="accept messages signed with this key (repeatable)")  # fmt: skip
    receive.add_argument("--basic-auth", help="user:password to require")
    receive.add_argument("--fail", action="append", default=[],
                         help="misbehave: 503:first=3, 500:share=0.2, drop:first=1, "
                              "slow=2s, 503:from=10s,to=1m (repeatable)")  # fmt: skip
    receive.add_argument("--log", help="append one JSON line per request to this file")
    return parser


def _at(text: str, start: datetime) -> timedelta:
    """``--at``: an offset such as ``1d2h``, or an ISO time with a zone, after ``start``."""
    try:
        return timedelta(milliseconds=parse_duration(text))
    except ConnectSimError:
        pass
    try:
        moment = parse_instant(text)
    except ConnectSimError:
        raise _UsageError(
            f"--at: expected an offset like '1d2h' or an ISO time with a zone like "
            f"'2026-01-02T09:00:00Z' (or within the simulated horizon), got {text!r}"
        ) from None
    if moment < start:
        raise _UsageError(f"--at: {text} is before the scenario's start, {start.isoformat()}")
    return moment - start


def _failures(args: argparse.Namespace) -> str:
    scenario = load_scenario(args.file)
    sim = scenario.build(mode=args.mode, seed=args.seed)
    until = None if args.at is None else _at(args.at, scenario.start)
    result = sim.run(until=until)
    when = format_instant(sim.start, result.end)
    blocks = []
    for name in result.configurations:
        entries = result.failure_log(name)
        count = f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"
        blocks.append(f"Failure log of {name!r} at {when}: {count}")
        if entries:
            blocks.append(text_table(_LOG_COLUMNS, [_log_row(sim.start, e) for e in entries]))
        blocks.append("")
    return "\n".join(blocks).rstrip() + "\n"


_LOG_COLUMNS = ("failure id", "#", "envelope", "status", "created", "last try", "retries",
                "retry due", "error")  # fmt: skip


def _log_row(start: datetime, entry: LogEntry) -> list[str]:
    return [entry.failure_id, str(entry.sequence), entry.envelope_id, entry.status,
            format_instant(start, entry.created), format_instant(start, entry.last_try),
            str(entry.retry_count), "yes" if entry.retry_due else "no", entry.error]  # fmt: skip


def _run(args: argparse.Namespace) -> None:
    scenario = load_scenario(args.file)
    check_run_folder(args.out, args.bodies)  # refuse the folder now, not after building
    sim = scenario.build(mode=args.mode, seed=args.seed, once=True)  # its tables let go
    try:
        with RunWriter(sim, args.out, bodies=args.bodies) as writer:  # as the run goes
            result = sim.run()
    except PayloadError as error:  # a body the format cannot carry: name the file too
        raise PayloadError(f"{args.file}: {error}") from None
    except OSError as error:
        raise ConnectSimError(f"cannot write the run to {args.out}: {_os_error(error)}") from None
    for path in writer.paths:
        print(f"wrote {path}")
    count = len(result.simulation.attempts)
    where = Path(args.out) / (BODIES if args.bodies == "files" else BODIES_FILE)
    print(f"wrote {count} message bodies to {where}")
    print(f"run ended at {format_instant(result.simulation.start, result.end)}")
    print(counts_table(result.summary(), "configuration"))


def _forward(args: argparse.Namespace) -> None:
    import signal

    from .forward import forward, forwarding_key
    from .remote import Http, reachable

    scenario = load_scenario(args.file)
    listener = Http(args.to)
    for flag, value in (("--pace", args.pace), ("--max-wait", args.max_wait)):
        if value is not None and not value > 0:  # before anything is made or posted
            raise _UsageError(f"{flag} must be positive, got {value}")
    if args.bodies is not None and args.out is None:
        raise _UsageError("--bodies says how --out lays out the bodies: give --out too")
    if args.out is not None:
        check_run_folder(args.out, args.bodies or "files")
    problem = reachable(args.to)
    if problem is not None:
        raise ConnectSimError(f"--to {args.to}: {problem}")
    key, kept = forwarding_key()
    sim = scenario.build(mode=args.mode, seed=args.seed, listener=listener, hmac_key=key,
                         once=True)  # fmt: skip
    own = [c.name for c in sim._channels if key not in c.configuration.hmac_keys]
    print(f"signing with HMAC key {key} (kept in {kept})"
          + (f"; {', '.join(own)} sign{'s' if len(own) == 1 else ''} with the scenario's keys"
             if own else ""))  # fmt: skip
    print(f"forwarding {args.file} to {args.to}", flush=True)
    stops: list[bool] = []

    def interrupt(signum: int, frame: object) -> None:
        if stops:  # a second Ctrl-C: now
            raise KeyboardInterrupt
        stops.append(True)
        print("stopping after the attempt in flight (Ctrl-C again to quit now)", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, interrupt)
    progress = _Progress(sys.stderr)
    refused: ConnectSimError | None = None
    try:
        result, interrupted = forward(
            sim, echo=progress.line, stop=lambda: bool(stops), pace=args.pace,
            max_wait=args.max_wait, status=progress.update,
        )  # fmt: skip
    except (InvalidAction, InvalidOperation) as error:
        # The real listener's answers made an action of the file impossible (a republish
        # with nothing failed, say): the run stops there, and what was attempted is kept.
        refused, interrupted = error, True
        sim.close()
        result = Result(sim)
    finally:
        signal.signal(signal.SIGINT, previous)
        progress.clear()
    when = format_instant(sim.start, result.end)
    print(f"run interrupted at {when}" if interrupted else f"run ended at {when}")
    print(counts_table(result.summary(), "configuration"))
    if args.out is not None:
        try:
            for path in write_run(result, args.out, interrupted, bodies=args.bodies or "files"):
                print(f"wrote {path}")
        except OSError as error:
            raise ConnectSimError(
                f"cannot write the run to {args.out}: {_os_error(error)}"
            ) from None
    if refused is not None:
        written = f"; what was attempted is in {args.out}" if args.out is not None else ""
        raise ConnectSimError(f"{refused} (the run stopped there{written})")


class _Progress:
    """The live lines of ``forward``, and on a terminal a status line under them."""

    #: Redraw the status line at most this often, in wall seconds: counting a run's
    #: messages for it takes time in proportion to the run, so not after every line.
    EVERY = 0.1

    def __init__(self, stream: object) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.shown = False
        self.drawn = float("-inf")

    def line(self, text: str) -> None:
        self.clear()
        print(text, file=self.stream, flush=True)  # type: ignore[call-overload]

    def update(self, result: object) -> None:
        import time

        if not self.tty or time.monotonic() - self.drawn < self.EVERY:
            return
        self.drawn = time.monotonic()
        counts = result.summary()  # type: ignore[attr-defined]
        parts = [f"{name} {_bar(c)} {c['delivered']} delivered, {c['pending']} waiting, "
                 f"{c['failed']} failed" for name, c in counts.items()]  # fmt: skip
        self.stream.write("\r\x1b[2K" + "; ".join(parts))  # type: ignore[attr-defined]
        self.stream.flush()  # type: ignore[attr-defined]
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[2K")  # type: ignore[attr-defined]
            self.shown = False


def _bar(counts: dict[str, int | str], width: int = 20) -> str:
    """``[#####...............]``: the share of the messages made so far that have ended."""
    made = int(counts["generated"])
    ended = made - int(counts["pending"])
    filled = width if made == 0 else width * ended // made
    return "[" + "#" * filled + "." * (width - filled) + "]"


def _receive(args: argparse.Namespace) -> None:
    import signal
    import time

    from .receive import Receiver

    auth = None
    if args.basic_auth is not None:
        user, colon, password = args.basic_auth.partition(":")
        if not colon or not user:
            raise _UsageError("--basic-auth: expected user:password")
        auth = (user, password)
    receiver = Receiver(port=args.port, host=args.host, hmac_keys=args.hmac_keys,
                        basic_auth=auth, fail=args.fail, log=args.log,
                        echo=lambda line: print(line, flush=True))  # fmt: skip

    def terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM (kill, docker stop) stops it as Ctrl-C does

    signal.signal(signal.SIGTERM, terminate)
    # Ctrl-C too, even when started with SIGINT ignored (a background job of a script).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with receiver:
        print(f"receiving on {receiver.url} (Ctrl-C to stop)", flush=True)
        try:
            while True:
                time.sleep(0.2)
        except KeyboardInterrupt:
            print(f"stopped after {len(receiver.received)} requests")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 2 bad input, 130 Ctrl-C)."""
    try:
        args = _parser().parse_args(argv)
        if args.command == "example":
            sys.stdout.write(_compare(_seed_example(), None))
        elif args.command == "compare":
            sys.stdout.write(_compare(load_scenario(args.file), args.seed))
        elif args.command == "failures":
            sys.stdout.write(_failures(args))
        elif args.command == "forward":
            _forward(args)
        elif args.command == "receive":
            _receive(args)
        else:
            _run(args)
    except _Exit as done:
        return done.status
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # the reader stopped reading (| head): stop quietly, as Unix tools do
        _quiet_stdout()
        return BROKEN_PIPE
    except (ConnectSimError, _UsageError) as error:
        print(f"error: {_one_line(str(error))}", file=sys.stderr)
        return 2
    except OSError as error:  # reading the output folder, say
        print(f"error: {_one_line(_os_error(error))}", file=sys.stderr)
        return 2
    return 0


def _quiet_stdout() -> None:
    """Point standard output at nothing, so that the interpreter's last flush cannot fail."""
    try:
        descriptor = os.open(os.devnull, os.O_WRONLY)
        os.dup2(descriptor, sys.stdout.fileno())
    except (OSError, ValueError):  # no descriptor to point (a test's captured stdout)
        pass


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
