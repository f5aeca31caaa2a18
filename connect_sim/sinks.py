"""Sinks: where a run's trace goes while the run goes on.

A *sink* is any object with three methods, :class:`Sink`'s; give it to
:meth:`Simulation.add_sink <connect_sim.Simulation.add_sink>` and it is
handed the run's trace as the run makes it: every attempt once it has
ended, every skip and every administrative action, each once, in the order
of the trace (:func:`connect_sim.report.trace_records`).  A sink that writes
what it is handed and lets it go holds nothing per attempt:
:class:`connect_sim.output.RunWriter` writes ``trace.jsonl`` and the bodies
this way, and a sink of your own can count, check or forward.

Theory of operation
-------------------
The trace is the ledger's attempts in the order they started, with its notes
(skips and administrative actions) between them: a note goes before the
attempt that was next when it was written (see the ledger's "Between the
attempts").  An attempt's record is final once the attempt has ended: its
status and end are written when it starts, its outcome in the callback that
takes its answer, and nothing writes an ended attempt's row again (a message
takes events only while it is open, before its first attempt).  Notes are
written in the order they happen, each with the number of attempts made
before it, so their numbers never go down; a synchronous republish writes
its note after its own attempts, numbered before them, but within one
callback.  So between two of the scheduler's callbacks everything up to the
first attempt that has not ended is final, and a :class:`TraceCursor` hands
it out and remembers where it stopped.  Asked for the rest (``final``), it
hands out everything, ended or not, as it stands: then it has given exactly
the records :func:`~connect_sim.report.trace_records` makes of the run, in
the same order; ``tests/test_sinks.py`` holds the two to each other.

When the simulation hands its sinks what is final: after a scenario action
(or a feed's turn) once :data:`BATCH` more attempts have been made, and at
the end of every :meth:`~connect_sim.Simulation.run` and
:meth:`~connect_sim.Simulation.step`.  Without a sink the run does none of
this.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final, Protocol

from .delivery import Attempt, Skip
from .errors import ConfigurationError

if TYPE_CHECKING:
    from .delivery.ledger import Ledger

__all__ = ["BATCH", "Sink", "TraceCursor", "check_sink"]

#: The attempts made between two handings to the sinks, at most (but for the run's
#: timers: a SIM queue flushing its backlog after a retry makes many at once).
BATCH: Final = 1024

#: An item of the trace, as a cursor hands it out: ``(number, attempt)`` (numbered
#: from 1), ``("skip", skip)`` or ``("action", record)``.
TraceItem = tuple[int | str, Any]


class Sink(Protocol):
    """What a sink has: one method per kind of trace item.

    ``attempt`` is handed the ``number``-th attempt of the run (from 1) once it
    has ended; ``skip``, an attempt a paused configuration did not make;
    ``action``, an administrative action's trace record, a dict as
    :func:`~connect_sim.report.trace_records` has it (its ``time`` in ms).  An
    exception a method raises ends the run where it is, as a listener's would.
    """

    def attempt(self, number: int, attempt: Attempt) -> None:
        """The ``number``-th attempt of the run (from 1), which has ended."""

    def skip(self, skip: Skip) -> None:
        """An attempt a paused configuration did not make."""

    def action(self, record: dict[str, Any]) -> None:
        """An administrative action's trace record."""


def check_sink(sink: object) -> Sink:
    """``sink``, if it has a sink's three methods; else the library's error naming the missing."""
    missing = [name for name in ("attempt", "skip", "action")
               if not callable(getattr(sink, name, None))]  # fmt: skip
    if missing:
        raise ConfigurationError(
            f"sink: {sink!r} has no {', '.join(missing)} method"
            f"{'s' if len(missing) > 1 else ''}; a sink needs attempt(number, attempt), "
            "skip(skip) and action(record)"
        )
    return sink  # type: ignore[return-value]


class TraceCursor:
    """A place in a run's trace: what has been handed out so far (see the module's doc)."""

    __slots__ = ("_ledger", "attempts", "notes")

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        #: The attempts handed out so far (the next one's row).
        self.attempts = 0
        #: The notes handed out so far.
        self.notes = 0

    def take(self, final: bool = False) -> Iterator[TraceItem]:
        """The items after the last one handed out that are final (or, with ``final``, all)."""
        ledger = self._ledger
        notes = ledger.notes
        while True:
            while self.notes < len(notes) and notes[self.notes][0] <= self.attempts:
                _, kind, details = notes[self.notes]
                self.notes += 1
                yield (kind, Skip(ledger, *details) if kind == "skip" else details)
            row = self.attempts
            if row >= ledger.attempts:
                return
            if ledger.quick:
                ledger.flush()  # rows delivered at once: into the columns, to be read
            if not final and not ledger.a_outcome[row]:
                return  # in flight: this and what follows wait
            self.attempts = row + 1
            yield row + 1, Attempt(ledger, row)

    def give(self, sink: Sink, final: bool = False) -> None:
        """Hand ``sink`` every item :meth:`take` gives, each to its method."""
        for kind, item in self.take(final):
            if isinstance(kind, int):
                sink.attempt(kind, item)
            elif kind == "skip":
                sink.skip(item)
            else:
                sink.action(item)
