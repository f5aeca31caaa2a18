"""Writing a run to a folder: the trace, the summary, every body, and the marker that claims them.

:func:`write_run` never removes or overwrites a file it did not write.  The
folder rules:

- The folder must be new, empty, or hold an earlier connect-sim run, which is
  recognised by its marker, ``.connect-sim-run``: a small JSON file saying
  what that run wrote (``trace.jsonl``, ``summary.json`` and, in ``bodies/``,
  the bodies numbered from ``000001`` up to the highest number recorded for
  each extension, in folders of :data:`~connect_sim.report.BODIES_PER_FOLDER`
  laid out as :func:`~connect_sim.report.body_path` says; or, for a run
  written with ``bodies="jsonl"``, every body in ``bodies.jsonl``).  Any other
  non-empty folder is refused.  A marker of version 1 (connect-sim before the
  folders of bodies: every body directly in ``bodies/``) is read too, and
  such a run is replaced like any other.
- A re-run replaces only the earlier run's own files; anything else in the
  folder or in ``bodies/`` stays.  A file the new run's marker would claim
  that the earlier run did not write (a body name, or the name of a folder of
  bodies, that the new run needs) refuses the run.
- Everything is written into a staging folder inside the output folder,
  ``.connect-sim-staging`` (a name connect-sim reserves), then renamed into
  place.  A failure, Ctrl-C included, removes the staging folder: before the
  first rename the folder is as it was; after it, the folder holds a marker
  (``"complete": false``) claiming both runs' files, so the next run replaces
  whatever is there.

Bodies are laid out one of two ways (:data:`LAYOUTS`).  ``"files"`` (the
default) writes each body to its own file, exact bytes, at the path the
trace names.  ``"jsonl"`` writes them all into one file, ``bodies.jsonl``,
one line per attempt in trace order: ``{"body": <the path the trace names>,
"text": <the body>}`` (every body is UTF-8 text).  The trace is the same
either way, so its ``body`` names a body in both; :func:`read_bodies` reads
either layout.  One file is much faster to write than a million (creating a
file costs the operating system more than rendering its body) and easier to
move; separate files suit reading a body with any tool.

The run is streamed into the staging folder: each attempt's body is rendered,
written, and its trace line appended, one attempt at a time, so memory does
not grow with the number of bodies and the attempts keep none of them.
:class:`RunWriter` does it while the run goes on, as a sink of the
simulation (see :mod:`connect_sim.sinks`); :func:`write_run` does the same
for a run that has happened.  A body the format cannot carry (a
:class:`~connect_sim.errors.PayloadError`) still leaves no output at all:
nothing is renamed into place before the last body is written.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from . import report
from .delivery import Attempt, Skip
from .delivery.records import in_passing
from .errors import ConnectSimError
from .report import Tracer, body_extension, body_name, body_path, summary
from .result import Result

if TYPE_CHECKING:
    from .simulation import Simulation

__all__ = [
    "BODIES",
    "BODIES_FILE",
    "LAYOUTS",
    "MARKER",
    "STAGING",
    "SUMMARY",
    "TRACE",
    "RunWriter",
    "check_run_folder",
    "read_bodies",
    "write_run",
]

TRACE = "trace.jsonl"
"""The trace's file name in the output folder."""
SUMMARY = "summary.json"
"""The summary's file name in the output folder."""
BODIES = "bodies"
"""The folder of the bodies in the output folder (the ``"files"`` layout)."""
BODIES_FILE = "bodies.jsonl"
"""The file of every body in the output folder (the ``"jsonl"`` layout)."""
LAYOUTS = ("files", "jsonl")
"""How bodies may be laid out: a file each under ``bodies/``, or all in ``bodies.jsonl``."""
MARKER = ".connect-sim-run"
"""The marker's file name: its presence makes a folder an earlier run that may be replaced."""
STAGING = ".connect-sim-staging"
"""The folder a run is written into before it is renamed into place (a reserved name)."""

_MARKER_VERSION = 2  # 1: every body directly in bodies/ (read, never written)
_EXTENSIONS = ("json", "xml")
_FLAT_NAMES = "{number:06d}.{extension}"  # marker version 1's layout, in its own words
_BODY_NAME = re.compile(r"([0-9]{6,})\.(json|xml)")
_FOLDER_NAME = re.compile(r"[0-9]{3,}")
_MARKER_LIMIT = 64 * 1024  # a real marker is a few hundred bytes; refuse to read a big file
_NEVER = "connect-sim never overwrites files it did not write"
_BUFFER = 1 << 20  # bytes buffered per file written a line at a time


def _none() -> dict[str, int]:
    return dict.fromkeys(_EXTENSIONS, 0)


def _folder_of(number: int) -> str:
    """The folder of ``bodies/`` that holds the ``number``-th body (``000``)."""
    return body_path(number, "json").split("/")[1]


@dataclass
class _Claim:
    """What a run wrote: its body count and, per extension, the highest body number.

    Recording numbers, not names, keeps the marker a few hundred bytes for any
    number of bodies.  Bodies are numbered by attempt, so a run whose
    configurations use one format claims exactly what it wrote.  ``last``
    counts bodies laid out as :func:`~connect_sim.report.body_path` says;
    ``flat``, bodies directly in ``bodies/`` as marker version 1 laid them out
    (an earlier run that a re-run is replacing).  Paths are relative to
    ``bodies/``: ``000/000001.json``, or ``000001.json`` for a flat body.
    ``file``: the run wrote ``bodies.jsonl`` (its bodies are counted, no file
    in ``bodies/`` is).
    """

    count: int = 0
    last: dict[str, int] = field(default_factory=_none)
    complete: bool = True
    flat: dict[str, int] = field(default_factory=_none)
    file: bool = False

    @property
    def made_bodies(self) -> bool:
        """Whether ``bodies/`` itself is the run's: a run of the files layout makes it, one of
        the jsonl layout does not (after one, a ``bodies/`` is yours), and a claim on both
        runs' files (a re-run stopped halfway) holds it if it counts bodies there."""
        return not self.file or any(self.last.values()) or any(self.flat.values())

    def owns(self, path: str) -> bool:
        """Whether a path under ``bodies/`` is one of this run's bodies."""
        _, slash, name = path.rpartition("/")
        match = _BODY_NAME.fullmatch(name)
        if match is None:
            return False
        number, extension = int(match.group(1)), match.group(2)
        # "0000001.json" is not a name connect-sim writes, though its number is.
        if slash:
            last, expected = self.last[extension], f"{BODIES}/{path}"
            return 1 <= number <= last and body_path(number, extension) == expected
        return 1 <= number <= self.flat[extension] and body_name(number, extension) == name

    def owns_folder(self, name: str) -> bool:
        """Whether a name directly in ``bodies/`` is one of this run's folders of bodies."""
        top = max(self.last.values())
        if _FOLDER_NAME.fullmatch(name) is None or top == 0:
            return False
        first = int(name) * report.BODIES_PER_FOLDER  # the folder's lowest number, or 0
        return first <= top and _folder_of(max(first, 1)) == name

    def folders(self) -> Iterator[str]:
        """Every folder of bodies this run wrote, in order."""
        size = report.BODIES_PER_FOLDER
        top = max(self.last.values())
        if top:
            for shard in range(1 // size, top // size + 1):  # from the folder of body 1
                yield _folder_of(max(shard * size, 1))

    def names(self) -> Iterator[str]:
        """Every body path this run may have written (some need not exist)."""
        for extension, last in self.last.items():
            for number in range(1, last + 1):
                yield body_path(number, extension).partition("/")[2]
        for extension, last in self.flat.items():
            for number in range(1, last + 1):
                yield body_name(number, extension)

    def add(self, number: int, extension: str) -> None:
        """Count one more body: the ``number``-th attempt's, a ``json`` or ``xml`` file
        (or, for a run that writes ``bodies.jsonl``, a line of it)."""
        self.count += 1
        if not self.file:
            self.last[extension] = max(self.last[extension], number)

    def union(self, other: _Claim) -> _Claim:
        """An incomplete claim on both runs' files: what a folder holds during a re-run."""
        last = {ext: max(self.last[ext], other.last[ext]) for ext in _EXTENSIONS}
        flat = {ext: max(self.flat[ext], other.flat[ext]) for ext in _EXTENSIONS}
        file = self.file or other.file
        return _Claim(max(self.count, other.count), last, complete=False, flat=flat, file=file)

    def text(self) -> bytes:
        """The marker's content: deterministic (no time, no absolute path)."""
        per_folder = report.BODIES_PER_FOLDER
        bodies: dict[str, Any] = {
            "folder": BODIES,
            "count": self.count,
            "per_folder": per_folder,
            "names": f"{{number // {per_folder}:03d}}/{{number:06d}}.{{extension}}",
            "last": self.last,
        }
        if any(self.flat.values()):  # only while replacing a run of marker version 1
            bodies["flat_last"] = self.flat
        if self.file:  # the "jsonl" layout
            bodies["file"] = BODIES_FILE
        return _marker_text(_MARKER_VERSION, self.complete, bodies)

    def version_1_text(self) -> bytes:
        """The marker of version 1 that would claim what ``flat`` counts."""
        bodies = {"folder": BODIES, "count": self.count, "names": _FLAT_NAMES, "last": self.flat}
        return _marker_text(1, self.complete, bodies)


def _marker_text(version: int, complete: bool, bodies: dict[str, Any]) -> bytes:
    record = {
        "written_by": "connect-sim",
        "marker_version": version,
        "complete": complete,
        "trace": TRACE,
        "summary": SUMMARY,
        "bodies": bodies,
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
        version, bodies = record["marker_version"], record["bodies"]
        last = {extension: bodies["last"][extension] for extension in _EXTENSIONS}
        if version == 1:  # every body directly in bodies/
            claim = _Claim(bodies["count"], _none(), record["complete"], flat=last)
        else:
            flat = bodies.get("flat_last", _none())
            flat = {extension: flat[extension] for extension in _EXTENSIONS}
            file = "file" in bodies  # its value is checked with the rest below
            claim = _Claim(bodies["count"], last, record["complete"], flat=flat, file=file)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
        raise refused from error
    numbers = [claim.count, *claim.last.values(), *claim.flat.values()]
    expected = claim.version_1_text() if version == 1 else claim.text()
    if (
        not all(type(n) is int and n >= 0 for n in numbers)  # bool is an int: exclude it
        or type(claim.complete) is not bool
        # Also refuses a version this connect-sim does not know, or other folder sizes.
        or expected != (json.dumps(record, indent=2) + "\n").encode("utf-8")
    ):
        raise refused
    return claim


@dataclass(frozen=True)
class _Target:
    """An output folder as found before writing: the earlier run's claim, and what is not its."""

    path: Path
    claim: _Claim | None
    foreign: frozenset[str]  # paths under bodies/ that the earlier run did not write
    foreign_file: bool = False  # a bodies.jsonl there that the earlier run did not write

    def check_free(self, claim: _Claim) -> None:
        """Refuse a run whose marker would claim something in ``bodies/`` that connect-sim did
        not write: one of its own body names or folders of bodies, or, when its
        configurations use both formats, a name of the other extension within its numbers;
        or a ``bodies.jsonl`` it did not write, for a run that writes one."""
        if claim.file and self.foreign_file:
            raise ConnectSimError(
                f"{self.path / BODIES_FILE}: not written by the earlier run, and this run writes "
                f"its bodies there; {_NEVER}; nothing was written"
            )
        for path in sorted(self.foreign):  # usually none
            where = self.path / BODIES / path
            if claim.owns(path):
                raise ConnectSimError(
                    f"{where}: not a body of the earlier run, and this run's bodies take its "
                    f"name; {_NEVER}; nothing was written"
                )
            if "/" not in path and claim.owns_folder(path):
                raise ConnectSimError(
                    f"{where}: not a folder of bodies of the earlier run, and this run's bodies "
                    f"go there; {_NEVER}; nothing was written"
                )


def _folder(out: str | Path) -> Path:
    """The folder a name stands for, or a :class:`ConnectSimError` saying why it is none."""
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
    return Path(out)


def _inspect(out: str | Path) -> _Target:
    """Check the output folder, and refuse it (a :class:`ConnectSimError`) before writing."""
    folder = _folder(out)
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
    foreign: set[str] = set()
    if BODIES in names:
        with os.scandir(folder / BODIES) as entries:
            for entry in entries:  # keep only the paths that are not the run's: usually none
                is_folder = entry.is_dir(follow_symlinks=False)
                if is_folder and claim.owns_folder(entry.name):
                    with os.scandir(entry.path) as inside:
                        for item in inside:
                            inner = f"{entry.name}/{item.name}"
                            if item.is_dir(follow_symlinks=False) or not claim.owns(inner):
                                foreign.add(inner)
                elif is_folder or not claim.owns(entry.name):  # a flat body: marker version 1
                    foreign.add(entry.name)
    file = folder / BODIES_FILE
    foreign_file = BODIES_FILE in names and (
        not claim.file or file.is_symlink() or not file.is_file()
    )
    return _Target(folder, claim, frozenset(foreign), foreign_file)


def check_run_folder(out: str | Path, bodies: str = "files") -> None:
    """Refuse now a folder :func:`write_run` would refuse (before a long run, say).

    Raises :class:`~connect_sim.errors.ConnectSimError` with one line saying
    why: an empty name, a file, a folder holding files and no marker, one
    of the run's names taken by the wrong kind of file (``bodies`` a file,
    ``trace.jsonl`` a folder), or, for ``bodies="jsonl"``, a ``bodies.jsonl``
    the earlier run did not write.  :func:`write_run` checks again.
    """
    _inspect(out).check_free(_Claim(file=_layout(bodies) == "jsonl"))


def _layout(bodies: object) -> str:
    if not isinstance(bodies, str) or bodies not in LAYOUTS:
        raise ConnectSimError(
            f"bodies: expected one of {', '.join(map(repr, LAYOUTS))}, got {bodies!r}"
        )
    return bodies


# Every change a run makes to the disk goes through these, so that a test can
# make any one of them fail (a full disk, Ctrl-C) and see what is left.
def _make_folder(path: Path) -> None:
    path.mkdir()


def _write_file(path: str | Path, data: bytes) -> None:
    # os.open and os.write: a body is written whole, without a buffered file object
    # (and a body's path is text: a Path per body costs more than writing it).
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
    finally:
        os.close(descriptor)


def _open_file(path: Path) -> IO[bytes]:
    # A large buffer: the trace and bodies.jsonl take a line per attempt, and with the
    # default 8 KB a write to the disk every few lines cost more than making the line.
    return path.open("wb", buffering=_BUFFER)


def _append(file: IO[bytes], data: bytes) -> None:
    file.write(data)


def _move(source: Path, destination: Path) -> None:
    os.replace(source, destination)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _remove_if_empty(path: Path) -> None:
    """Remove a folder of bodies the earlier run made, unless something else is in it."""
    try:
        path.rmdir()
    except OSError as error:
        if error.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT, errno.ENOTDIR):
            raise


class _Writer:
    """One run being written: a staging folder inside the output folder, then renames."""

    def __init__(self, target: _Target, layout: str) -> None:
        self.target = target
        self.files = layout == "files"  # else every body is a line of bodies.jsonl
        self.folder = target.path
        self.staging = target.path / STAGING
        self.created: list[Path] = []  # folders this run made, outermost first
        self.committing = False  # once the marker is in place the folder is a run
        self._last_folder = ""  # the folder of bodies written into last
        self._prefix = f"{self.staging}{os.sep}"

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
        if self.files:
            _make_folder(self.staging / BODIES)

    def add_body(self, path: str, data: bytes) -> None:
        """Write one body at its path (``bodies/000/000001.json``); bodies come in order."""
        folder = path.rpartition("/")[0]
        if folder != self._last_folder:  # the first body of its folder
            _make_folder(self.staging / folder)
            self._last_folder = folder
        _write_file(self._prefix + path, data)

    def add(self, name: str, data: bytes) -> None:
        _write_file(self.staging / name, data)

    def _place_marker(self, claim: _Claim) -> None:
        _write_file(self.staging / MARKER, claim.text())
        _move(self.staging / MARKER, self.folder / MARKER)

    def commit(self, claim: _Claim) -> None:
        """Rename the staged run into place: ``claim`` says what it wrote."""
        old = self.target.claim or _Claim()
        foreign = self.target.foreign
        # From this rename on, the folder is a run the next one may replace,
        # whatever step a failure stops at: the marker claims both runs' files.
        self._place_marker(old.union(claim))
        self.committing = True
        bodies = self.folder / BODIES
        staged = self.staging / BODIES
        if not os.path.lexists(bodies):
            if self.files:
                _move(staged, bodies)
        elif not foreign and not bodies.is_symlink() and old.made_bodies:
            # Only the earlier run's bodies: swap the folders (two renames, not
            # one per body); the old folder goes with the staging folder.
            _move(bodies, self.staging / "replaced-bodies")
            if self.files:
                _move(staged, bodies)
        else:
            self._remove_bodies(old)
            for name in claim.folders():
                if not os.path.lexists(bodies / name):  # a folder at a time, as a rule
                    _move(staged / name, bodies / name)
                else:  # a folder the earlier run made, which still holds files of yours
                    for item in sorted(os.listdir(staged / name)):
                        _move(staged / name / item, bodies / name / item)
        names = (TRACE, SUMMARY) if self.files else (TRACE, SUMMARY, BODIES_FILE)
        for name in names:
            _move(self.staging / name, self.folder / name)
        if self.files and old.file and not self.target.foreign_file:
            _remove(self.folder / BODIES_FILE)  # the earlier run's, of the other layout
        self._place_marker(claim)
        shutil.rmtree(self.staging)

    def _remove_bodies(self, old: _Claim) -> None:
        """Remove the earlier run's files in ``bodies/``, which holds some that are not its."""
        bodies, foreign = self.folder / BODIES, self.target.foreign
        for path in old.names():
            # Never inside something that is not the earlier run's (a link, say).
            if path not in foreign and path.partition("/")[0] not in foreign:
                _remove(bodies / path)
        for name in old.folders():
            if name not in foreign:
                _remove_if_empty(bodies / name)

    def abandon(self) -> None:
        """After a failure: no staging folder; and if the run never got in place, no new folder."""
        shutil.rmtree(self.staging, ignore_errors=True)
        if not self.committing:
            for path in reversed(self.created):
                try:
                    path.rmdir()
                except OSError:  # not empty after all: leave it
                    break


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if isinstance(error, ConnectSimError) else f"{type(error).__name__}: {text}"


class RunWriter:
    """A run written into a folder while it goes on: a sink (see :mod:`connect_sim.sinks`).

    Used as a context manager around the run::

        with RunWriter(sim, "out") as writer:
            sim.run()
        print(writer.paths)

    Entering checks the folder (as :func:`check_run_folder` does: a refusal
    writes nothing) and adds the writer to the simulation's sinks; then each
    attempt's body is rendered, written (a file each under ``bodies/``, or with
    ``bodies="jsonl"`` a line of ``bodies.jsonl``) and forgotten as the run
    hands it over, and its trace line appended.  Leaving without an error hands over the
    rest of the trace, writes the summary (``interrupted`` marks a run stopped
    before its end) and renames the run into place; leaving with an error
    (a :class:`~connect_sim.errors.PayloadError` at a body the format cannot
    carry, an ``OSError``, Ctrl-C) removes the staging folder, leaving the
    folder as it was, and lets the error go on; so does an error in writing
    that the block catches and goes on after (the writer then refuses, with a
    :class:`~connect_sim.errors.ConnectSimError`, to put an incomplete run in
    place).  The folder rules are the module's.  A writer writes one run, once.
    """

    def __init__(
        self,
        simulation: Simulation,
        out: str | Path,
        interrupted: bool = False,
        *,
        bodies: str = "files",
    ) -> None:
        _layout(bodies)
        self._simulation = simulation
        self._out = out
        #: How the bodies are laid out: ``"files"`` or ``"jsonl"`` (see the module's doc).
        self.bodies = bodies
        #: Mark the summary of a run stopped before its end (``"interrupted": true``).
        self.interrupted = interrupted
        #: The paths of the trace and the summary, once the run is in place.
        self.paths: list[Path] = []
        self._claim = _Claim(file=bodies == "jsonl")
        self._tracer = Tracer(Result(simulation))
        self._target: _Target | None = None
        self._writer: _Writer | None = None
        self._trace: IO[bytes] | None = None
        self._lines: IO[bytes] | None = None  # bodies.jsonl, in that layout
        self._used = False
        self._broken: str | None = None  # what went wrong in one of the sink's methods

    def __repr__(self) -> str:
        layout = "" if self.bodies == "files" else f", bodies={self.bodies!r}"
        return f"RunWriter(out={self._out!r}{layout})"

    def __enter__(self) -> RunWriter:
        if self._used:
            raise ConnectSimError(f"{self!r} was used already: a RunWriter writes one run once")
        self._used = True
        if self._target is None:  # write_run checks it first
            self._target = _inspect(self._out)
        self._target.check_free(self._claim)  # nothing claimed yet but bodies.jsonl, if any
        self._writer = _Writer(self._target, self.bodies)
        try:
            self._writer.open()
            self._trace = _open_file(self._writer.staging / TRACE)
            if self.bodies == "jsonl":
                self._lines = _open_file(self._writer.staging / BODIES_FILE)
            self._simulation.add_sink(self)
        except BaseException:
            self._abandon()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: object, trace: object) -> None:
        if kind is not None:
            self._abandon()
            return
        try:
            self._simulation.remove_sink(self)  # the rest of the trace, as it stands
            if self._broken is not None:  # caught inside the block: the run is not whole
                raise ConnectSimError(
                    f"{self._out}: the run was not written: {self._broken}; nothing was written"
                )
            self._finish()
        except BaseException:
            self._abandon()
            raise

    # The sink's methods.

    def attempt(self, number: int, attempt: Attempt) -> None:
        """Write the ``number``-th attempt's body and trace line."""
        assert self._writer is not None and self._target is not None
        extension = body_extension(attempt)
        try:
            line, path, body = self._tracer.written(number, attempt)
            if self._lines is not None:  # the path names the body's line (all ASCII)
                text = encode_basestring(body.decode("utf-8"))  # as json.dumps writes it
                _append(self._lines, f'{{"body": "{path}", "text": {text}}}\n'.encode())
            else:
                if self._target.foreign:  # usually none: files in bodies/ not the run's
                    self._refuse_foreign(path, number, extension)
                self._writer.add_body(path, body)
            self._text(line)
        except BaseException as error:
            self._broke(error)
            raise
        self._claim.add(number, extension)  # once written: one that failed comes again

    def skip(self, skip: Skip) -> None:
        """Write a skip's trace line."""
        self._line(self._tracer.skip(in_passing(skip)))

    def action(self, record: dict[str, Any]) -> None:
        """Write an administrative action's trace line."""
        self._line(self._tracer.action(record))

    def _line(self, record: dict[str, Any]) -> None:
        self._text(self._tracer.text(record))

    def _text(self, line: str) -> None:
        assert self._trace is not None
        try:
            _append(self._trace, (line + "\n").encode("utf-8"))
        except BaseException as error:
            self._broke(error)
            raise

    def _broke(self, error: BaseException) -> None:
        if self._broken is None:
            self._broken = _one_line(error)

    def _refuse_foreign(self, path: str, number: int, extension: str) -> None:
        """Refuse a body whose name or folder is taken by a file the earlier run did not write."""
        inner = path.partition("/")[2]  # relative to bodies/
        folder = inner.partition("/")[0]
        assert self._target is not None
        if inner in self._target.foreign or folder in self._target.foreign:
            claim = _Claim(self._claim.count, dict(self._claim.last))
            claim.add(number, extension)
            self._target.check_free(claim)  # its own words for the refusal
            raise AssertionError(f"check_free let {path} through")  # pragma: no cover

    def _finish(self) -> None:
        assert self._writer is not None and self._trace is not None and self._target is not None
        self._trace.close()
        if self._lines is not None:
            self._lines.close()
        totals = summary(Result(self._simulation))
        if self.interrupted:  # a forwarded run stopped by Ctrl-C: what was attempted so far
            totals["interrupted"] = True
        text = json.dumps(totals, ensure_ascii=False, indent=2) + "\n"
        self._writer.add(SUMMARY, text.encode("utf-8"))
        # Every name is known now: refuse what the marker would claim of someone else's.
        self._target.check_free(self._claim)
        self._writer.commit(self._claim)
        self.paths = [self._target.path / TRACE, self._target.path / SUMMARY]

    def _abandon(self) -> None:
        if any(added is self for added, _ in self._simulation._sinks):
            self._simulation.remove_sink(self, rest=False)
        try:
            for file in (self._trace, self._lines):
                if file is not None:
                    with contextlib.suppress(OSError):  # a full disk fails the last flush
                        file.close()
        finally:
            if self._writer is not None:
                self._writer.abandon()


def write_run(
    result: Result, out: str | Path, interrupted: bool = False, *, bodies: str = "files"
) -> list[Path]:
    """Write ``trace.jsonl``, ``summary.json`` and every attempt's body into ``out``.

    Bodies go to ``out/bodies/``, in folders of a thousand (one file per
    attempt, exact bytes; see :func:`~connect_sim.report.body_path`), or with
    ``bodies="jsonl"`` into ``out/bodies.jsonl`` (a line each; see the
    module's doc), and a marker, ``out/.connect-sim-run``, records what the
    run wrote.  Returns the paths of the trace and the summary.
    ``interrupted`` marks the summary of a run stopped before its end
    (``"interrupted": true``).

    The run as it is now, written after the fact; :class:`RunWriter` writes
    it while it goes on, with the same bytes.  ``out`` must be new, empty, or
    hold an earlier run, whose own files are replaced and nothing else (see
    the module's folder rules); otherwise a
    :class:`~connect_sim.errors.ConnectSimError` says why and nothing is
    written.  Each body is rendered, written and forgotten in turn, into a
    staging folder that is renamed into place only once every body and the
    whole trace are written; so a :class:`~connect_sim.errors.PayloadError`
    leaves no output, and a failure while writing (an ``OSError``,
    ``KeyboardInterrupt``) is raised after the staging folder is removed,
    leaving the folder as it was or as an incomplete run that the next run
    replaces.  The attempts keep no body they did not hold before.
    """
    writer = RunWriter(result.simulation, out, interrupted, bodies=bodies)
    target = _inspect(out)
    claim = _Claim(file=bodies == "jsonl")
    for number, attempt in enumerate(result.simulation.attempts, start=1):
        claim.add(number, body_extension(attempt))  # the content type: nothing is rendered
    target.check_free(claim)  # every name is known now: refuse before rendering anything
    writer._target = target
    with writer:
        pass
    return writer.paths


# A body's name as a trace gives it: in its folder of bodies, or flat (marker version 1).
_BODY_PATH = re.compile(r"bodies/(?:[0-9]{3,}/)?([0-9]{6,})\.(?:json|xml)")


def read_bodies(out: str | Path) -> Iterator[tuple[str, bytes]]:
    """Every body of the run written in ``out``, in trace order: its name and its bytes.

    The name is what the attempt's trace record says in ``body``
    (``bodies/000/000001.json``).  Either layout is read (the run's marker
    says which): the lines of ``bodies.jsonl``, or the files the trace
    names.  A folder that holds no complete run is refused at once; a line
    or name that is not the next body's, or fewer or more bodies than the
    marker counts, when the reading comes to it: a
    :class:`~connect_sim.errors.ConnectSimError` naming the file (and the line).
    """
    folder = _folder(out)
    marker = folder / MARKER
    try:
        if not os.path.lexists(marker):
            raise ConnectSimError(f"{folder}: no {MARKER} marker, so not a run connect-sim wrote")
        claim = _read_marker(marker)
    except OSError as error:
        raise ConnectSimError(f"{marker}: {error.strerror or error}") from None
    if not claim.complete:
        raise ConnectSimError(f"{folder}: holds a run whose writing was stopped; run it again")
    return _bodies(folder, claim)


def _bodies(folder: Path, claim: _Claim) -> Iterator[tuple[str, bytes]]:
    source = folder / (BODIES_FILE if claim.file else TRACE)
    count = 0
    try:
        with source.open("rb") as lines:
            for number, line in enumerate(lines, start=1):
                where = f"{source}, line {number}"
                record = _record(line, where)
                if claim.file:
                    text = record.get("text")
                    if set(record) != {"body", "text"} or not isinstance(text, str):
                        raise ConnectSimError(f"{where}: not a body's line")
                    count += 1
                    name = _body_name(record["body"], count, where)
                    try:
                        body = text.encode("utf-8")
                    except UnicodeEncodeError:
                        raise ConnectSimError(f"{where}: the text is not UTF-8 text") from None
                elif record.get("body") is None:  # skips and actions have no body
                    continue
                else:
                    count += 1
                    name = _body_name(record["body"], count, where)
                    body = (folder / name).read_bytes()
                yield name, body
    except OSError as error:
        raise ConnectSimError(f"{error.filename or source}: {error.strerror or error}") from None
    if count != claim.count:
        raise ConnectSimError(
            f"{source}: {count} bodies, where the run's marker counts {claim.count}"
        )


def _record(line: bytes, where: str) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as error:
        raise ConnectSimError(f"{where}: not a line of JSON ({error})") from None
    if not isinstance(record, dict):
        raise ConnectSimError(f"{where}: not a JSON object")
    return record


def _body_name(name: object, number: int, where: str) -> str:
    """The ``number``-th body's name from a line, checked: a path in the run's ``bodies/``."""
    match = _BODY_PATH.fullmatch(name) if isinstance(name, str) else None
    if match is None:
        raise ConnectSimError(f"{where}: {name!r} is not the name of a body")
    if int(match.group(1)) != number:
        raise ConnectSimError(f"{where}: {name!r} is not the name of body {number}")
    return match.group(0)
