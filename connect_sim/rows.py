"""Read-only sequences of records kept as rows: what a result hands out instead of lists.

A run keeps its events, messages and attempts as rows of columns (see
:mod:`connect_sim.delivery.records`), and a record object is made when one is
read.  A :class:`Rows` is a list of such records as of when it was made: its
length is fixed then and ``len()`` costs nothing, and each item is made when
it is read.  Handing out a real list would make every record at once: six
million objects for a million envelopes, and a collector pass over them,
for a caller who often wants only ``len()`` or the last few.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar, overload

__all__ = ["ReadOnlyList", "Rows"]

T = TypeVar("T")


class ReadOnlyList(Sequence[T]):
    """A read-only sequence that compares as a list does: equal to a list, a tuple or
    another such sequence with equal items in the same order."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ReadOnlyList | list | tuple):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__: Any = None  # compares by its items, as a list does


class Rows(ReadOnlyList[T]):
    """A read-only sequence of records, made from their rows when read.

    Supports ``len()``, indexing (negative too), slicing (a list), iteration,
    ``in`` and ``index``; it compares equal to a list, a tuple or another
    ``Rows`` with equal items in the same order.  Later rows (a stepped run
    going on) are not in it: ask the result again.
    """

    __slots__ = ("_make", "_rows", "_stop")

    def __init__(self, rows: Sequence[int], make: Callable[[int], T]) -> None:
        self._rows = rows
        self._make = make
        self._stop = len(rows)

    def __len__(self) -> int:
        return self._stop

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        places = range(self._stop)[index]  # negative indexes and IndexError as a list has them
        rows, make = self._rows, self._make
        if isinstance(places, range):
            return [make(rows[place]) for place in places]
        return make(rows[places])

    def __iter__(self) -> Iterator[T]:
        rows, make = self._rows, self._make
        return (make(rows[place]) for place in range(self._stop))

    def __repr__(self) -> str:
        if self._stop <= 6:
            return f"Rows({list(self)!r})"
        return f"<Rows of {self._stop}: {self[0]!r} ... {self[-1]!r}>"
