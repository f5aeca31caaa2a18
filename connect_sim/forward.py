"""Forwarding: run a scenario against a real listener, a line per attempt as it goes.

Theory of operation
-------------------
``connect-sim forward`` builds the scenario with every configuration's
listener replaced by an :class:`~connect_sim.remote.Http` listener at the
user's URL, then steps the simulation one scheduled callback at a time.
After each step it reports the attempts that have settled since the last
report, in the order they started (an attempt in flight is reported once it
ends, and holds back the ones after it, so the lines keep the trace's order).

Simulated time is virtual: a step happens as soon as the one before it is
done, so a day of retries passes as fast as the listener answers.  With a
``pace`` (simulated seconds per wall second) the loop waits before each step
for the simulated time to the next one, divided by the pace, but never more
than ``max_wait`` seconds: long idle stretches are jumped over.

Stopping is cooperative: ``stop()`` is asked before every step and during
waits, so Ctrl-C ends the run between two steps (a request being answered
ends first, within its timeout), with everything attempted so far in the
result: an attempt whose answer has come but whose end is still ahead in
simulated time is settled then and there, and nothing more is posted.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from .delivery.records import Attempt
from .errors import ConfigurationError
from .result import Result
from .simulation import Simulation
from .time import format_instant

__all__ = ["KEY_FILE", "attempt_line", "forward", "forwarding_key"]

KEY_FILE = "forward-hmac-key"
"""The file, in connect-sim's configuration folder, that keeps the forwarding HMAC key."""


def forwarding_key(folder: str | Path | None = None) -> tuple[str, Path]:
    """The HMAC key ``forward`` signs with, made once and kept, and the file that keeps it.

    Like Stripe CLI's local signing secret, it stays the same from run to run,
    so a listener is configured once.  ``folder`` defaults to
    ``$XDG_CONFIG_HOME/connect-sim`` (``~/.config/connect-sim``).  The file is
    readable by its owner only.
    """
    if folder is None:
        base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        folder = Path(base) / "connect-sim"
    path = Path(folder) / KEY_FILE
    try:
        key = path.read_text(encoding="utf-8").strip()
        if key:
            return key, path
    except FileNotFoundError:
        pass
    except OSError as error:
        raise ConfigurationError(
            f"cannot read the forwarding key {path}: {error.strerror}"
        ) from None
    key = "csk_" + secrets.token_urlsafe(32)  # the edge of the library: not the model's seed
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(key + "\n")
    except OSError as error:
        raise ConfigurationError(
            f"cannot keep the forwarding key in {path}: {error.strerror}"
        ) from None
    return key, path


def attempt_line(sim: Simulation, attempt: Attempt) -> str:
    """One attempt as ``forward`` shows it: time, configuration, event, envelope, answer."""
    kind = attempt.error_kind
    answer = str(attempt.status) if attempt.status is not None else (kind or "no answer")
    return "  ".join((
        format_instant(sim.start, attempt.time), attempt.configuration, attempt.event,
        attempt.message.envelope.id, answer, attempt.outcome,
        f"{attempt.end - attempt.time} ms",
    ))  # fmt: skip


def forward(
    sim: Simulation,
    echo: Callable[[str], None],
    stop: Callable[[], bool] = lambda: False,
    pace: float | None = None,
    max_wait: float = 2.0,
    status: Callable[[Result], None] | None = None,
) -> tuple[Result, bool]:
    """Run ``sim`` to its end, calling ``echo`` with each settled attempt's line.

    Returns the result and whether ``stop()`` ended it early.  ``status`` is
    called with the result so far after each batch of lines (a progress line).
    """
    if pace is not None and not pace > 0:
        raise ConfigurationError(f"--pace must be positive, got {pace!r}")
    if not max_wait > 0:
        raise ConfigurationError(f"--max-wait must be positive, got {max_wait!r}")
    reported = 0
    interrupted = False
    while True:
        if stop():
            interrupted = True
            break
        if pace is not None and _wait(sim, pace, max_wait, stop):
            interrupted = True
            break
        more = sim.step()
        attempts = sim.attempts
        before = reported
        while reported < len(attempts) and attempts[reported].outcome:
            echo(attempt_line(sim, attempts[reported]))
            reported += 1
        if status is not None and reported != before:
            status(Result(sim))
        if not more:
            break
    if interrupted:
        _settle_in_flight(sim)
        attempts = sim.attempts
        while reported < len(attempts) and attempts[reported].outcome:
            echo(attempt_line(sim, attempts[reported]))
            reported += 1
    sim.close()
    return Result(sim), interrupted and sim.scheduler.next_time() is not None


def _settle_in_flight(sim: Simulation) -> None:
    """Decide, now, the attempts whose answer has come but whose end is still scheduled.

    An attempt's request and answer happen when it starts (the listener is called
    then); only its settling waits for its end in simulated time.  A stopped run
    settles those at once, each by its queue's own rule, and starts nothing more:
    settling never starts an attempt (the queue moves on only when pumped).
    """
    ledger = sim._ledger
    queues = {channel.number: channel for channel in sim._channels}
    for row in range(len(ledger.a_outcome)):  # a row kept short is settled: delivered at once
        if ledger.a_outcome[row] == 0:
            queue = queues[ledger.m_channel[ledger.a_message[row]]]
            queue.busy = False
            queue._settle(row)


def _wait(sim: Simulation, pace: float, max_wait: float, stop: Callable[[], bool]) -> bool:
    """Wait for the simulated time to the next step at ``pace``; True if ``stop()`` said so."""
    following = sim.scheduler.next_time()
    if following is None:
        return False
    seconds = min((following - sim.now) / 1000 / pace, max_wait)
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if stop():
            return True
        time.sleep(min(left, 0.05))
    return False
