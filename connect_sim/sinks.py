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

When the simulation hands its sinks what is final: between the scheduler's
callbacks (after an action, a feed's turn, or an instant's timers) once
:data:`BATCH` more attempts have been made, and at the end of every
:meth:`~connect_sim.Simulation.run` that ends normally and of every
:meth:`~connect_sim.Simulation.step`.  An item counts as handed over once
the sink's method has returned, so one whose method raised comes again the
next time.  A sink's :class:`~connect_sim.InvalidAction` or
:class:`~connect_sim.InvalidOperation` leaves the run as it is (its action
done), unlike an action's own, which is put back.  Without a sink the run
does none of this.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final, Protocol

from .delivery import Attempt, Skip
from .errors import ConfigurationError

if TYPE_CHECKING:
    from .delivery.ledger import Ledger

__all__ = ["BATCH", "Sink", "TraceCursor", "check_sink"]

#: The attempts made between two handings to the sinks, about (one callback, a SIM
#: queue flushing its backlog after a retry say, may make many at once).
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
    """``sink``, if it has a sink's three methods; else the library's error saying why not."""
    if isinstance(sink, type):
        raise ConfigurationError(
            f"sink: got the class {sink.__name__}; give an object of it ({sink.__name__}())"
        )
    missing = [name for name in ("attempt", "skip", "action")
               if not callable(getattr(sink, name, None))]  # fmt: skip
    if missing:
        raise ConfigurationError(
            f"sink: {sink!r} lacks {' and '.join(missing)}; a sink has the methods "
            "attempt(number, attempt), skip(skip) and action(record)"
        )
    for name, arguments in (("attempt", (1, None)), ("skip", (None,)), ("action", ({},))):
        try:
            inspect.signature(getattr(sink, name)).bind(*arguments)
        except TypeError as error:
            wanted = {"attempt": "(number, attempt)", "skip": "(skip)", "action": "(record)"}
            raise ConfigurationError(
                f"sink: {sink!r}: {name}{wanted[name]} cannot be called so: {error}"
            ) from None
        except ValueError:  # no signature to read (a builtin): it is called as it is
            pass
    return sink  # type: ignore[return-value]


class TraceCursor:
    """A place in a run's trace: what has been handed out so far (see the module's doc).

    An item counts as handed out once the sink's method for it has returned: an
    item whose method raised is handed out again the next time.
    """

    __slots__ = ("_ledger", "attempts", "giving", "notes", "stop")

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        #: The attempts handed out so far (the next one's row).
        self.attempts = 0
        #: The notes handed out so far.
        self.notes = 0
        #: True while :meth:`give` is handing out.
        self.giving = False
        #: Set while giving by a removal from inside a sink's method: ``"rest"`` hands
        #: out everything left before it stops, ``"now"`` stops after the current item.
        self.stop: str | None = None

    def _next(self, final: bool) -> TraceItem | None:
        """The next item, if it is final (or, with ``final``, whatever it is); not taken yet."""
        ledger = self._ledger
        notes = ledger.notes
        if self.notes < len(notes) and notes[self.notes][0] <= self.attempts:
            _, kind, details = notes[self.notes]
            # An action's record is the ledger's own: a copy goes out.
            return (kind, Skip(ledger, *details) if kind == "skip" else dict(details))
        row = self.attempts
        if row >= ledger.attempts:
            return None
        # A row kept short (past the columns' end) was delivered at once: it is final.
        if not final and row < len(ledger.a_outcome) and not ledger.a_outcome[row]:
            return None  # in flight: this and what follows wait
        return row + 1, Attempt(ledger, row)

    def _taken(self, item: TraceItem) -> None:
        if isinstance(item[0], int):
            self.attempts += 1
        else:
            self.notes += 1

    def take(self, final: bool = False) -> Iterator[TraceItem]:
        """The items after the last one handed out that are final (or, with ``final``, all).

        Each is handed out once the consumer asks for the next one.
        """
        while (item := self._next(final)) is not None:
            yield item
            self._taken(item)

    def give(self, sink: Sink, final: bool = False) -> None:
        """Hand ``sink`` every item :meth:`take` would give, each to its method, in turn."""
        self.giving = True
        try:
            while self.stop != "now":
                item = self._next(final or self.stop == "rest")
                if item is None:
                    return
                kind, value = item
                if isinstance(kind, int):
                    sink.attempt(kind, value)
                elif kind == "skip":
                    sink.skip(value)
                else:
                    sink.action(value)
                self._taken(item)
        finally:
            self.giving = False
