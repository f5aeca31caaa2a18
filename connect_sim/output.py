"""Writing a run to a folder: the trace, the summary, every body, and the marker that claims them.

:func:`write_run` never removes or overwrites a file it did not write.  The
folder rules:

- The folder must be new, empty, or hold an earlier connect-sim run, which is
  recognised by its marker, ``.connect-sim-run``: a small JSON file saying
  what that run wrote (``trace.jsonl``, ``summary.json`` and, in ``bodies/``,
  the bodies numbered from ``000001`` up to the highest number recorded for
  each extension).  Any other non-empty folder is refused.
- A re-run replaces only the earlier run's own files; anything else in the
  folder or in ``bodies/`` stays.  A file the new run's marker would claim
  that the earlier run did not write (a body name the new run needs) refuses
  the run.
- Everything is written into a staging folder inside the output folder,
  ``.connect-sim-staging`` (a name connect-sim reserves), then renamed into
  place.  A failure, Ctrl-C included, removes the staging folder: before the
  first rename the folder is as it was; after it, the folder holds a marker
  (``"complete": false``) claiming both runs' files, so the next run replaces
  whatever is there.

Bodies reach the disk one at a time, which keeps the design open to writing
attempts as a simulation makes them; today every body is rendered before
anything is written, so that a body the format cannot carry (a
:class:`~connect_sim.errors.PayloadError`) leaves no output at all.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConnectSimError
from .report import body_name, summary, trace_records
from .result import Result

__all__ = ["BODIES", "MARKER", "STAGING", "SUMMARY", "TRACE", "check_run_folder", "write_run"]

TRACE = "trace.jsonl"
"""The trace's file name in the output folder."""
SUMMARY = "summary.json"
"""The summary's file name in the output folder."""
BODIES = "bodies"
"""The folder of the bodies in the output folder."""
MARKER = ".connect-sim-run"
"""The marker's file name: its presence makes a folder an earlier run that may be replaced."""
STAGING = ".connect-sim-staging"
"""The folder a run is written into before it is renamed into place (a reserved name)."""

_MARKER_VERSION = 1
_EXTENSIONS = ("json", "xml")
_NAMES = "{number:06d}.{extension}"  # documentation in the marker; body_name() is the rule
_BODY_NAME = re.compile(r"([0-9]{6,})\.(json|xml)")
_MARKER_LIMIT = 64 * 1024  # a real marker is a few hundred bytes; refuse to read a big file
_NEVER = "connect-sim never overwrites files it did not write"


@dataclass
class _Claim:
    """What a run wrote: its body count and, per extension, the highest body number.

    Recording numbers, not names, keeps the marker a few hundred bytes for any
    number of bodies.  Bodies are numbered by attempt, so a run whose
    configurations use one format claims exactly what it wrote.
    """

    count: int = 0
    last: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_EXTENSIONS, 0))
    complete: bool = True

    def owns(self, name: str) -> bool:
        """Whether a name in ``bodies/`` is one of this run's bodies."""
        match = _BODY_NAME.fullmatch(name)
        if match is None:
            return False
        number, extension = int(match.group(1)), match.group(2)
        # "0000001.json" is not a name connect-sim writes, though its number is.
        return 1 <= number <= self.last[extension] and body_name(number, extension) == name

    def names(self) -> Iterator[str]:
        """Every body name this run may have written (some need not exist)."""
        for extension, last in self.last.items():
            for number in range(1, last + 1):
                yield body_name(number, extension)

    def add(self, name: str) -> None:
        """Count one more body, named as :func:`~connect_sim.report.body_path` names them."""
        match = _BODY_NAME.fullmatch(name)
        assert match is not None, name
        self.count += 1
        extension = match.group(2)
        self.last[extension] = max(self.last[extension], int(match.group(1)))

    def union(self, other: _Claim) -> _Claim:
        """An incomplete claim on both runs' files: what a folder holds during a re-run."""
        last = {ext: max(self.last[ext], other.last[ext]) for ext in _EXTENSIONS}
        return _Claim(max(self.count, other.count), last, complete=False)

    def text(self) -> bytes:
        """The marker's content: deterministic (no time, no absolute path)."""
        record = {
            "written_by": "connect-sim",
            "marker_version": _MARKER_VERSION,
            "complete": self.complete,
            "trace": TRACE,
            "summary": SUMMARY,
            "bodies": {"folder": BODIES, "count": self.count, "names": _NAMES, "last": self.last},
        }
        return (json.dumps(record, indent=2) + "\n").encode("utf-8")


def _read_marker(path: Path) -> _Claim:
    refused = ConnectSimError(
        f"{path}: not a marker this connect-sim wrote, so {path.parent} is not a run it may "
        f"replace; {_NEVER}"
    )
    if not path.is_file() or path.stat().st_size > _MARKER_LIMIT:
        raise refused
    try:
        record: Any = json.loads(path.read_bytes())
        bodies = record["bodies"]
        last = {extension: bodies["last"][extension] for extension in _EXTENSIONS}
        claim = _Claim(bodies["count"], last, record["complete"])
    except (ValueError, TypeError, KeyError, RecursionError) as error:
        raise refused from error
    numbers = [claim.count, *claim.last.values()]
    if (
        not all(type(n) is int and n >= 0 for n in numbers)  # bool is an int: exclude it
        or type(claim.complete) is not bool
        or claim.text() != (json.dumps(record, indent=2) + "\n").encode("utf-8")
    ):
        raise refused
    return claim


@dataclass(frozen=True)
class _Target:
    """An output folder as found before writing: the earlier run's claim, and what is not its."""

    path: Path
    claim: _Claim | None
    foreign: frozenset[str]  # names in bodies/ that the earlier run did not write

    def check_free(self, claim: _Claim) -> None:
        """Refuse a run whose marker would claim a file in ``bodies/`` that connect-sim did not
        write: one of its own body names, or, when its configurations use both formats, a
        name of the other extension within its numbers."""
        for name in sorted(self.foreign):  # usually none
            if claim.owns(name):
                where = self.path / BODIES / name
                raise ConnectSimError(
                    f"{where}: not a body of the earlier run, and this run's bodies take its "
                    f"name; {_NEVER}; nothing was written"
                )


def _inspect(out: str | Path) -> _Target:
    """Check the output folder, and refuse it (a :class:`ConnectSimError`) before writing."""
    name = os.fspath(out) if isinstance(out, str | os.PathLike) else None
    if not isinstance(name, str):
        raise ConnectSimError(
            f"the output folder must be a path (text or a Path), got a {type(out).__name__}"
        )
    if "\0" in name:
        raise ConnectSimError(f"the output folder's name holds a NUL character: {out!r}")
    if isinstance(out, str) and not out.strip():
        # Path("") is the current folder: never take an empty --out to mean it.
        raise ConnectSimError("the output folder's name is empty (name a folder; '.' is this one)")
    folder = Path(out)
    if not os.path.lexists(folder):
        parent = folder.parent
        while not os.path.lexists(parent):
            parent = parent.parent
        if not parent.is_dir():
            raise ConnectSimError(f"{folder}: cannot make the folder, {parent} is a file")
        return _Target(folder, None, frozenset())
    if not folder.is_dir():
        raise ConnectSimError(f"{folder}: a file, not a folder")
    for name, is_folder, what in (
        (BODIES, True, "the bodies"),
        (TRACE, False, "the trace"),
        (SUMMARY, False, "the summary"),
        (MARKER, False, "its marker"),
    ):
        path = folder / name
        if os.path.lexists(path) and path.is_dir() != is_folder:
            kind = "a folder" if path.is_dir() else "a file"
            raise ConnectSimError(
                f"{path}: {kind}, where connect-sim writes {what}; nothing was written"
            )
    names = set(os.listdir(folder))
    names.discard(STAGING)  # a killed run's leftover: reserved, and removed by the next run
    if MARKER not in names:
        if names:
            raise ConnectSimError(
                f"{folder}: holds files and no {MARKER} marker of an earlier run; {_NEVER} "
                "(choose a new or empty folder)"
            )
        return _Target(folder, None, frozenset())
    claim = _read_marker(folder / MARKER)
    foreign = set()
    if BODIES in names:
        with os.scandir(folder / BODIES) as entries:
            for entry in entries:  # keep only the names that are not the run's: usually none
                if entry.is_dir(follow_symlinks=False) or not claim.owns(entry.name):
                    foreign.add(entry.name)
    return _Target(folder, claim, frozenset(foreign))


def check_run_folder(out: str | Path) -> None:
    """Refuse now a folder :func:`write_run` would refuse (before a long run, say).

    Raises :class:`~connect_sim.errors.ConnectSimError` with one line saying
    why: an empty name, a file, a folder holding files and no marker, or one
    of the run's names taken by the wrong kind of file (``bodies`` a file,
    ``trace.jsonl`` a folder).  :func:`write_run` checks again.
    """
    _inspect(out)


# Every change a run makes to the disk goes through these four, so that a
# test can make any one of them fail (a full disk, Ctrl-C) and see what is left.
def _make_folder(path: Path) -> None:
    path.mkdir()


def _write_file(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def _move(source: Path, destination: Path) -> None:
    os.replace(source, destination)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


class _Writer:
    """One run being written: a staging folder inside the output folder, then renames."""

    def __init__(self, target: _Target) -> None:
        self.target = target
        self.folder = target.path
        self.staging = target.path / STAGING
        self.written = _Claim()
        self.created: list[Path] = []  # folders this run made, outermost first
        self.committing = False  # once the marker is in place the folder is a run

    def open(self) -> None:
        missing = []
        folder = self.folder
        while not os.path.lexists(folder):
            missing.append(folder)
            folder = folder.parent
        for path in reversed(missing):
            _make_folder(path)
            self.created.append(path)
        if os.path.lexists(self.staging):
            _remove(self.staging)
        _make_folder(self.staging)
        _make_folder(self.staging / BODIES)

    def add_body(self, name: str, data: bytes) -> None:
        _write_file(self.staging / name, data)
        self.written.add(name.rpartition("/")[2])

    def add(self, name: str, data: bytes) -> None:
        _write_file(self.staging / name, data)

    def _place_marker(self, claim: _Claim) -> None:
        _write_file(self.staging / MARKER, claim.text())
        _move(self.staging / MARKER, self.folder / MARKER)

    def commit(self) -> None:
        # write_run checked the names before writing; a run streamed to disk would know
        # them only now, and this is still before the first change to the folder.
        self.target.check_free(self.written)
        old = self.target.claim or _Claim()
        # From this rename on, the folder is a run the next one may replace,
        # whatever step a failure stops at: the marker claims both runs' files.
        self._place_marker(old.union(self.written))
        self.committing = True
        bodies = self.folder / BODIES
        staged = self.staging / BODIES
        if not os.path.lexists(bodies):
            _move(staged, bodies)
        elif not self.target.foreign and not bodies.is_symlink():
            # Only the earlier run's bodies: swap the folders (two renames, not
            # one per body); the old folder goes with the staging folder.
            _move(bodies, self.staging / "replaced-bodies")
            _move(staged, bodies)
        else:
            for name in old.names():
                if name not in self.target.foreign:
                    _remove(bodies / name)
            for name in self.written.names():
                if os.path.lexists(staged / name):
                    _move(staged / name, bodies / name)
        for name in (TRACE, SUMMARY):
            _move(self.staging / name, self.folder / name)
        self._place_marker(self.written)
        shutil.rmtree(self.staging)

    def abandon(self) -> None:
        """After a failure: no staging folder; and if the run never got in place, no new folder."""
        shutil.rmtree(self.staging, ignore_errors=True)
        if not self.committing:
            for path in reversed(self.created):
                try:
                    path.rmdir()
                except OSError:  # not empty after all: leave it
                    break


def _dumps(record: object) -> str:
    return json.dumps(record, ensure_ascii=False)


def write_run(result: Result, out: str | Path) -> list[Path]:
    """Write ``trace.jsonl``, ``summary.json`` and every attempt's body into ``out``.

    Bodies go to ``out/bodies/`` (one file per attempt, exact bytes; see
    :func:`~connect_sim.report.body_path`), and a marker, ``out/.connect-sim-run``,
    records what the run wrote.  Returns the paths of the trace and the summary.

    ``out`` must be new, empty, or hold an earlier run, whose own files are
    replaced and nothing else (see the module's folder rules); otherwise a
    :class:`~connect_sim.errors.ConnectSimError` says why and nothing is
    written.  Every body is rendered before anything is written, so a
    :class:`~connect_sim.errors.PayloadError` leaves no output; a failure while
    writing (an ``OSError``, ``KeyboardInterrupt``) is raised after the staging
    folder is removed, leaving the folder as it was or as an incomplete run
    that the next run replaces.
    """
    target = _inspect(out)
    records = trace_records(result)  # renders every body and its headers
    planned = _Claim()
    for record in records:
        planned.add(record["body"].rpartition("/")[2])
    target.check_free(planned)  # every name is known now: refuse before writing anything
    trace = "".join(_dumps(record) + "\n" for record in records).encode("utf-8")
    totals = (json.dumps(summary(result), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    writer = _Writer(target)
    try:
        writer.open()
        for record, attempt in zip(records, result.attempts, strict=True):
            writer.add_body(record["body"], attempt.body)
        writer.add(TRACE, trace)
        writer.add(SUMMARY, totals)
        writer.commit()
    except BaseException:
        writer.abandon()
        raise
    return [target.path / TRACE, target.path / SUMMARY]
