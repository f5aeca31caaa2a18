"""Writing a run to a folder: the marker, what a re-run replaces, and what a failure leaves."""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import IO

import pytest
from test_determinism import scenario_text

import connect_sim as cs
from connect_sim import output, report
from connect_sim.output import MARKER, STAGING, check_run_folder, write_run
from connect_sim.report import body_path, trace_records
from connect_sim.scenario import load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "sue_and_charlie.toml"
NEVER = "connect-sim never overwrites files it did not write"


def run(mode: str = "sim", fmt: str = "json") -> cs.Result:
    """The seed example: six bodies under SIM, two under Aggregate; JSON or XML."""
    text = SEED.read_text(encoding="utf-8")
    if fmt == "xml":
        text = text.replace('name = "listener"', 'name = "listener"\nformat = "xml"')
    return parse_scenario(text, "seed.toml").build(mode=mode).run()


def tree(folder: Path) -> dict[str, bytes | None] | None:
    """Every path under a folder, relative, with a file's bytes (None for a folder)."""
    if not folder.exists():
        return None
    return {
        path.relative_to(folder).as_posix(): None if path.is_dir() else path.read_bytes()
        for path in sorted(folder.rglob("*"))
    }


def bodies(folder: Path) -> list[str]:
    """What is in ``bodies/``, relative to it, but for the folders of bodies themselves."""
    top = folder / "bodies"
    return sorted(
        path.relative_to(top).as_posix()
        for path in top.rglob("*")
        if not (path.parent == top and path.is_dir() and path.name.isdigit())
    )


def marker(folder: Path) -> dict[str, object]:
    record: dict[str, object] = json.loads((folder / MARKER).read_bytes())
    return record


def test_a_run_writes_a_marker_that_counts_its_bodies_rather_than_naming_them(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    assert write_run(run(), out) == [out / "trace.jsonl", out / "summary.json"]
    assert (out / MARKER).read_text(encoding="utf-8") == (
        "{\n"
        '  "written_by": "connect-sim",\n'
        '  "marker_version": 2,\n'
        '  "complete": true,\n'
        '  "trace": "trace.jsonl",\n'
        '  "summary": "summary.json",\n'
        '  "bodies": {\n'
        '    "folder": "bodies",\n'
        '    "count": 6,\n'
        '    "per_folder": 1000,\n'
        '    "names": "{number // 1000:03d}/{number:06d}.{extension}",\n'
        '    "last": {\n'
        '      "json": 6,\n'
        '      "xml": 0\n'
        "    }\n"
        "  }\n"
        "}\n"
    )
    names = sorted(p.name for p in out.iterdir())
    assert names == [MARKER, "bodies", "summary.json", "trace.jsonl"]
    assert sorted(p.name for p in (out / "bodies").iterdir()) == ["000"]
    assert bodies(out) == [f"000/00000{n}.json" for n in range(1, 7)]


def test_the_marker_stays_small_for_a_million_bodies() -> None:
    claim = output._Claim()
    for number in range(1, 1_200_001):
        claim.add(number, "json")
    assert claim.count == 1_200_000
    assert len(claim.text()) < 450
    assert claim.owns("1200/1200000.json") and claim.owns("000/000001.json")
    assert claim.owns("999/999999.json") and claim.owns("1000/1000000.json")
    assert not claim.owns("1200/1200001.json") and not claim.owns("000/0000001.json")
    assert not claim.owns("001/000001.json") and not claim.owns("0000/000001.json")
    assert not claim.owns("000/000001.xml") and not claim.owns("000/notes.txt")
    assert not claim.owns("000001.json")  # a body directly in bodies/: marker version 1's
    assert claim.owns_folder("000") and claim.owns_folder("1200") and claim.owns_folder("999")
    assert not claim.owns_folder("1201") and not claim.owns_folder("0000")
    assert not claim.owns_folder("00") and not claim.owns_folder("notes")
    assert list(claim.folders()) == [f"{n:03d}" for n in range(1201)]


def test_the_marker_is_the_same_in_any_process(tmp_path: Path) -> None:
    markers = []
    for hash_seed in ("0", "4321"):
        out = tmp_path / hash_seed
        subprocess.run(
            [sys.executable, "-m", "connect_sim.cli", "run", str(SEED), "--out", str(out)],
            check=True, capture_output=True, timeout=60,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
        )  # fmt: skip
        markers.append((out / MARKER).read_bytes())
    assert markers[0] == markers[1]
    assert str(tmp_path).encode() not in markers[0]


def test_a_new_empty_or_leftover_only_folder_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "killed" / STAGING / "bodies").mkdir(parents=True)  # a run killed with -9
    (tmp_path / "killed" / STAGING / "bodies" / "000001.json").write_bytes(b"half")
    for name in ("new/deeper", "empty", "killed"):
        write_run(run("aggregate"), tmp_path / name)
        assert bodies(tmp_path / name) == ["000/000001.json", "000/000002.json"]
        assert not (tmp_path / name / STAGING).exists()


def test_run_out_refuses_a_folder_with_files_it_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "bodies").mkdir(parents=True)
    (out / "bodies" / "000001.json").write_text("mine", encoding="utf-8")
    before = tree(out)
    for call in (check_run_folder, lambda folder: write_run(run(), folder)):
        with pytest.raises(cs.ConnectSimError, match=NEVER):
            call(out)
        assert tree(out) == before


def test_a_file_given_as_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("mine", encoding="utf-8")
    with pytest.raises(cs.ConnectSimError, match="a file, not a folder"):
        write_run(run(), tmp_path / "file")
    with pytest.raises(cs.ConnectSimError, match="cannot make the folder"):
        write_run(run(), tmp_path / "file" / "out")
    assert tree(tmp_path) == {"file": b"mine"}


@pytest.mark.parametrize(
    ("out", "message"),
    [
        (5, r"must be a path \(text or a Path\), got a int$"),
        (None, "got a NoneType$"),
        (b"out", "got a bytes$"),
        ("a\0b", r"holds a NUL character: 'a\\x00b'$"),
    ],
)
def test_out_that_is_not_a_folder_name_is_refused(
    out: object, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(cs.ConnectSimError, match=message):
        write_run(run(), out)  # type: ignore[arg-type]  # what a caller might pass
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("out", ["", "   ", "\n"])
def test_out_that_is_empty_is_refused(
    out: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # Path("") is the current folder: it must not be written
    with pytest.raises(cs.ConnectSimError, match="name is empty"):
        write_run(run(), out)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("bodies", lambda path: path.write_text("mine", encoding="utf-8")),
        ("trace.jsonl", Path.mkdir),
        ("summary.json", Path.mkdir),
        (MARKER, Path.mkdir),
    ],
)
@pytest.mark.parametrize("earlier", [False, True], ids=["new folder", "earlier run"])
def test_bodies_being_a_file_writes_nothing(
    name: str, make: Callable[[Path], object], earlier: bool, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    if earlier:
        write_run(run(), out)
        output._remove(out / name)
    make(out / name)
    before = tree(out)
    with pytest.raises(cs.ConnectSimError, match=f"{name}: a .*; nothing was written"):
        write_run(run(), out)
    assert tree(out) == before


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '{"written_by": "someone else"}',
        "[]",
        "{}",
        None,  # the real marker with a count that is not a number
        "x" * 70_000,
        "[" * 60_000 + "]" * 60_000,
    ],
)
def test_a_marker_connect_sim_did_not_write_is_refused(text: str | None, tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_run(run(), out)
    if text is None:
        text = (out / MARKER).read_text(encoding="utf-8").replace('"count": 6', '"count": "6"')
    (out / MARKER).write_text(text, encoding="utf-8")
    before = tree(out)
    with pytest.raises(cs.ConnectSimError, match=f"not a marker this connect-sim wrote.*{NEVER}"):
        write_run(run(), out)
    assert tree(out) == before


@pytest.mark.parametrize(
    "user_body",
    [None, "mine.json", "000/mine.json", "007/mine.json"],
    ids=["only its bodies", "a file of mine", "mine among its bodies", "a folder of mine"],
)
def test_a_rerun_replaces_only_its_own_files(user_body: str | None, tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_run(run("sim"), out)  # six bodies
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    if user_body:  # the bodies are then replaced one by one, not as a folder
        (out / "bodies" / user_body).parent.mkdir(exist_ok=True)
        (out / "bodies" / user_body).write_text("mine too", encoding="utf-8")
    write_run(run("aggregate"), out)  # two
    fresh = tmp_path / "fresh"
    write_run(run("aggregate"), fresh)
    expected = {**tree(fresh), "notes.txt": b"mine"}  # type: ignore[dict-item]
    if user_body:
        expected[f"bodies/{user_body}"] = b"mine too"
        folder = user_body.rpartition("/")[0]
        if folder:  # a folder of bodies that still holds a file of mine is not removed
            expected[f"bodies/{folder}"] = None
    assert tree(out) == expected


def test_a_rerun_in_another_format_removes_the_earlier_bodies(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_run(run("sim", "xml"), out)
    (out / "bodies" / "000" / "000001.json").write_text("mine", encoding="utf-8")  # not XML
    write_run(run("aggregate", "xml"), out)
    assert bodies(out) == ["000/000001.json", "000/000001.xml", "000/000002.xml"]
    (out / "bodies" / "000" / "000001.json").unlink()
    write_run(run("aggregate", "json"), out)
    assert bodies(out) == ["000/000001.json", "000/000002.json"]
    assert marker(out)["bodies"] == {
        "folder": "bodies", "count": 2, "per_folder": 1000,
        "names": "{number // 1000:03d}/{number:06d}.{extension}", "last": {"json": 2, "xml": 0},
    }  # fmt: skip


def test_a_body_name_the_earlier_run_did_not_write_is_never_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_run(run("aggregate"), out)  # bodies 1 and 2
    (out / "bodies" / "000" / "000005.json").write_text("mine", encoding="utf-8")
    (out / "bodies" / "000" / "000002.json").unlink()
    (out / "bodies" / "000" / "000002.json").mkdir()  # a folder is never a body
    before = tree(out)
    for name in ("000/000002.json", "000/000005.json"):
        with pytest.raises(cs.ConnectSimError, match=f"{name}: not a body of the earlier run, "):
            write_run(run("sim"), out)  # six bodies
        assert tree(out) == before
        output._remove(out / "bodies" / name)
        before = tree(out)


def mixed(mode: str) -> cs.Result:
    """Two configurations, JSON and XML: the bodies' extensions alternate."""
    text = SEED.read_text(encoding="utf-8").replace(
        "[[envelope]]",
        '[[configuration]]\nname = "legacy"\nformat = "xml"\nlistener = { kind = "always_ok" }'
        "\n\n[[envelope]]",
        1,
    )
    return parse_scenario(text, "mixed.toml").build(mode=mode).run()


def test_a_run_in_both_formats_never_claims_a_file_it_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_run(run("aggregate"), out)  # 000001.json, 000002.json
    mine = out / "bodies" / "000" / "000003.xml"
    mine.write_text("mine", encoding="utf-8")
    before = tree(out)
    # The mixed run writes 000001.json, 000002.xml, 000003.json, 000004.xml: not 000003.xml,
    # but its marker (numbers, not names) would claim it, and a later run would remove it.
    with pytest.raises(cs.ConnectSimError, match=r"000003\.xml: not a body of the earlier run, "):
        write_run(mixed("aggregate"), out)
    assert tree(out) == before
    mine.rename(mine.with_name("000005.xml"))
    write_run(mixed("aggregate"), out)
    assert bodies(out) == [
        "000/000001.json", "000/000002.xml", "000/000003.json", "000/000004.xml", "000/000005.xml",
    ]  # fmt: skip
    assert marker(out)["bodies"] == {
        "folder": "bodies", "count": 4, "per_folder": 1000,
        "names": "{number // 1000:03d}/{number:06d}.{extension}", "last": {"json": 3, "xml": 4},
    }  # fmt: skip


def test_a_folder_named_like_a_body_is_never_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_run(run("sim"), out)  # bodies 1 to 6
    folder = out / "bodies" / "000" / "000005.json"
    folder.unlink()
    folder.mkdir()
    (folder / "mine.txt").write_text("mine", encoding="utf-8")
    write_run(run("aggregate"), out)  # bodies 1 and 2: the earlier 3 to 6 go
    assert bodies(out) == [
        "000/000001.json", "000/000002.json", "000/000005.json", "000/000005.json/mine.txt",
    ]  # fmt: skip
    assert (folder / "mine.txt").read_text(encoding="utf-8") == "mine"


def fail_at_step(
    monkeypatch: pytest.MonkeyPatch, step: int | None, error: BaseException
) -> list[str]:
    """Make the ``step``-th change to the disk fail (None: none fails); return the steps taken.

    A failing write writes half its bytes first, as a full disk would.
    """
    steps: list[str] = []
    make, write = output._make_folder, output._write_file
    move, remove = output._move, output._remove
    open_file, append, remove_if_empty = output._open_file, output._append, output._remove_if_empty

    def check(name: str) -> bool:
        steps.append(name)
        return len(steps) == step

    def failing_make(path: Path) -> None:
        if check(f"make {path.name}"):
            raise error
        make(path)

    def failing_write(path: str | Path, data: bytes) -> None:
        if check(f"write {Path(path).name}"):
            write(path, data[: len(data) // 2])
            raise error
        write(path, data)

    def failing_move(source: Path, destination: Path) -> None:
        if check(f"move {source.name}"):
            raise error
        move(source, destination)

    def failing_remove(path: Path) -> None:
        if check(f"remove {path.name}"):
            raise error
        remove(path)

    def failing_open(path: Path) -> IO[bytes]:
        if check(f"open {path.name}"):
            raise error
        return open_file(path)

    def failing_append(file: IO[bytes], data: bytes) -> None:
        if check(f"append to {Path(file.name).name}"):
            append(file, data[: len(data) // 2])
            raise error
        append(file, data)

    def failing_remove_if_empty(path: Path) -> None:
        if check(f"remove folder {path.name}"):
            raise error
        remove_if_empty(path)

    monkeypatch.setattr(output, "_make_folder", failing_make)
    monkeypatch.setattr(output, "_write_file", failing_write)
    monkeypatch.setattr(output, "_move", failing_move)
    monkeypatch.setattr(output, "_remove", failing_remove)
    monkeypatch.setattr(output, "_open_file", failing_open)
    monkeypatch.setattr(output, "_append", failing_append)
    monkeypatch.setattr(output, "_remove_if_empty", failing_remove_if_empty)
    return steps


VERSION_1_MARKER = """{
  "written_by": "connect-sim",
  "marker_version": 1,
  "complete": true,
  "trace": "trace.jsonl",
  "summary": "summary.json",
  "bodies": {
    "folder": "bodies",
    "count": 6,
    "names": "{number:06d}.{extension}",
    "last": {
      "json": 0,
      "xml": 6
    }
  }
}
"""


def flat_run(out: Path) -> None:
    """A run as connect-sim wrote it before the folders of bodies (marker version 1)."""
    write_run(run("sim", "xml"), out)
    for folder in sorted((out / "bodies").iterdir()):
        for body in sorted(folder.iterdir()):
            body.rename(out / "bodies" / body.name)
        folder.rmdir()
    (out / MARKER).write_text(VERSION_1_MARKER, encoding="utf-8")


def new_folder(out: Path) -> None:
    """Nothing there yet; not even the parent."""


def earlier_run(out: Path) -> None:
    write_run(run("sim", "xml"), out)


def earlier_run_and_my_files(out: Path) -> None:
    write_run(run("sim", "xml"), out)
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "bodies" / "notes.txt").write_text("mine too", encoding="utf-8")
    (out / "bodies" / "000").mkdir(exist_ok=True)  # not a folder of bodies at one a folder
    (out / "bodies" / "000" / "notes.txt").write_text("mine as well", encoding="utf-8")


def earlier_flat_run_and_my_files(out: Path) -> None:
    flat_run(out)  # marker version 1
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "bodies" / "notes.txt").write_text("mine too", encoding="utf-8")


def earlier_jsonl_run_and_my_files(out: Path) -> None:
    write_run(run("sim", "xml"), out, bodies="jsonl")
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "bodies").mkdir()
    (out / "bodies" / "notes.txt").write_text("mine too", encoding="utf-8")


@pytest.mark.parametrize("layout", ["files", "jsonl"])
@pytest.mark.parametrize(
    "before",
    [new_folder, earlier_run, earlier_run_and_my_files, flat_run, earlier_flat_run_and_my_files,
     earlier_jsonl_run_and_my_files],
)  # fmt: skip
@pytest.mark.parametrize(
    ("error", "per_folder"),
    [
        (KeyboardInterrupt(), 1000),
        (OSError(errno.ENOSPC, "No space left on device"), 1000),
        (KeyboardInterrupt(), 1),  # every body in a folder of its own
    ],
    ids=["ctrl-c", "full disk", "ctrl-c, one a folder"],
)
def test_an_interrupted_run_leaves_no_partial_files(
    before: Callable[[Path], None],
    layout: str,
    error: BaseException,
    per_folder: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stopped at every step in turn, a run leaves the folder as it was or as a run to replace."""
    monkeypatch.setattr(report, "BODIES_PER_FOLDER", per_folder)
    start = tmp_path / "start" / "parent" / "out"
    start.parent.mkdir(parents=True)
    before(start)
    original = tree(start)
    expected_folder = tmp_path / "expected"
    shutil.copytree(start.parent, expected_folder)
    with monkeypatch.context() as patch:
        steps = fail_at_step(patch, None, error)
        write_run(run("aggregate"), expected_folder / "out", bodies=layout)
    expected = tree(expected_folder / "out")
    assert len(steps) >= 6
    for step in range(1, len(steps) + 1):
        case = tmp_path / f"step{step}"
        shutil.copytree(start.parent, case)
        out = case / "out"
        with monkeypatch.context() as patch:
            fail_at_step(patch, step, error)
            with pytest.raises(type(error)):
                write_run(run("aggregate"), out, bodies=layout)
        left = tree(out)
        where = f"stopped at {steps[step - 1]!r} (step {step})"
        leftovers = [name for name in left or () if STAGING in name or ".partial" in name]
        assert leftovers == [], where
        if left != original:  # then a run the next one replaces, and says so
            assert left is not None and marker(out)["complete"] is False, where
        if left is not None:
            for mine in ("notes.txt", "bodies/notes.txt", "bodies/000/notes.txt"):
                assert left.get(mine) == (original or {}).get(mine), where
        write_run(run("aggregate"), out, bodies=layout)
        assert tree(out) == expected, where


def test_a_payload_error_writes_nothing(tmp_path: Path) -> None:
    scenario = tmp_path / "bell.toml"
    scenario.write_text(
        SEED.read_text(encoding="utf-8")
        .replace('subject = "Please sign"', 'subject = "Please \\u0007 sign"')
        .replace('name = "listener"', 'name = "listener"\nformat = "xml"'),
        encoding="utf-8",
    )
    result = load_scenario(str(scenario)).build().run()
    with pytest.raises(cs.PayloadError):
        write_run(result, tmp_path / "out")
    assert list(tmp_path.iterdir()) == [scenario]


# -- the folders of bodies ---------------------------------------------------------


def test_a_body_path_is_its_folder_of_a_thousand_then_its_name() -> None:
    assert report.BODIES_PER_FOLDER <= 10_000  # the bound on files in one folder
    assert [body_path(n, "json") for n in (1, 999, 1000, 1999, 2000)] == [
        "bodies/000/000001.json", "bodies/000/000999.json", "bodies/001/001000.json",
        "bodies/001/001999.json", "bodies/002/002000.json",
    ]  # fmt: skip
    assert body_path(999_999, "xml") == "bodies/999/999999.xml"
    assert body_path(1_000_000, "xml") == "bodies/1000/1000000.xml"
    assert body_path(12_345_678, "json") == "bodies/12345/12345678.json"
    attempt = run(fmt="xml").attempts[0]
    assert body_path(7, attempt) == "bodies/000/000007.xml"


def files_per_folder(folder: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for path in folder.rglob("*"):
        where = path.parent.relative_to(folder).as_posix()
        counts[where] = counts.get(where, 0) + 1
    return counts


def test_more_than_ten_thousand_attempts_put_at_most_a_thousand_files_in_a_folder(
    tmp_path: Path,
) -> None:
    sim = cs.Simulation(mode="sim", seed=1)
    sim.add_configuration(cs.Configuration(name="listener"), listener=cs.listeners.AlwaysOk())
    for n in range(1668):  # six messages each: 10,008 attempts
        sue = cs.Signer(name="Sue Signer", email="sue@example.com")
        charlie = cs.CarbonCopy(name="Charlie Copy", email="charlie@example.com", routing_order=2)
        envelope = sim.create_envelope(subject=f"Contract {n}", recipients=[sue, charlie])
        sim.send(envelope, at=timedelta(seconds=n))
        sim.sign(envelope, sue, at=timedelta(seconds=n + 60))
    result = sim.run()
    assert len(result.attempts) == 10_008
    out = tmp_path / "out"
    write_run(result, out)
    counts = files_per_folder(out)
    assert max(counts.values()) == 1000
    assert counts["bodies"] == 11 and counts["bodies/000"] == 999 and counts["bodies/010"] == 9
    assert sum(counts[f"bodies/{n:03d}"] for n in range(11)) == 10_008
    last = json.loads((out / "trace.jsonl").read_bytes().splitlines()[-1])
    assert last["body"] == "bodies/010/010008.json"
    assert (out / last["body"]).read_bytes() == result.attempts[-1].body


@pytest.fixture
def four_per_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Folders of four bodies: the seed's six SIM bodies fill 000 (1 to 3) and 001 (4 to 6)."""
    monkeypatch.setattr(report, "BODIES_PER_FOLDER", 4)


@pytest.mark.usefixtures("four_per_folder")
def test_bodies_fill_one_folder_after_another(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_run(mixed("sim"), out)  # twelve bodies, JSON and XML in turn
    assert bodies(out) == [
        "000/000001.json", "000/000002.xml", "000/000003.json",
        "001/000004.xml", "001/000005.json", "001/000006.xml", "001/000007.json",
        "002/000008.xml", "002/000009.json", "002/000010.xml", "002/000011.json",
        "003/000012.xml",
    ]  # fmt: skip
    records = [json.loads(line) for line in (out / "trace.jsonl").read_bytes().splitlines()]
    assert [record["body"] for record in records] == [f"bodies/{p}" for p in bodies(out)]
    assert marker(out)["bodies"]["names"] == "{number // 4:03d}/{number:06d}.{extension}"  # type: ignore[index]
    (out / "bodies" / "002" / "mine.txt").write_text("mine", encoding="utf-8")
    write_run(run("sim"), out)  # six: 002 and 003 go, but 002 holds a file of mine
    assert bodies(out) == [
        "000/000001.json", "000/000002.json", "000/000003.json",
        "001/000004.json", "001/000005.json", "001/000006.json", "002/mine.txt",
    ]  # fmt: skip
    write_run(mixed("aggregate"), out)  # four: 000 is made again, 001 holds one
    assert bodies(out) == [
        "000/000001.json", "000/000002.xml", "000/000003.json", "001/000004.xml", "002/mine.txt",
    ]  # fmt: skip


def test_a_marker_of_other_folders_of_bodies_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    with monkeypatch.context() as patch:
        patch.setattr(report, "BODIES_PER_FOLDER", 4)
        write_run(run(), out)
    before = tree(out)
    with pytest.raises(cs.ConnectSimError, match="not a marker this connect-sim wrote"):
        write_run(run(), out)
    assert tree(out) == before


def test_something_of_mine_where_a_folder_of_bodies_goes_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_run(run("sim"), out)
    shutil.rmtree(out / "bodies" / "000")
    (out / "bodies" / "000").write_text("mine", encoding="utf-8")  # a file, not a folder
    before = tree(out)
    with pytest.raises(
        cs.ConnectSimError,
        match=r"bodies/000: not a folder of bodies of the earlier run, and this run's bodies go "
        f"there; {NEVER}; nothing was written$",
    ):
        write_run(run("aggregate"), out)
    assert tree(out) == before


@pytest.mark.usefixtures("four_per_folder")
def test_a_link_in_place_of_a_folder_of_bodies_is_never_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "000006.json").write_text("mine", encoding="utf-8")  # named like a body
    out = tmp_path / "out"
    write_run(run("sim"), out)  # 000: bodies 1 to 3; 001: 4 to 6
    shutil.rmtree(out / "bodies" / "001")
    (out / "bodies" / "001").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(cs.ConnectSimError, match="bodies/001: not a folder of bodies"):
        write_run(run("sim"), out)  # six bodies: it needs 001
    write_run(run("aggregate"), out)  # two bodies: 000 only; the link stays, unread
    assert (out / "bodies" / "001").is_symlink()
    assert tree(elsewhere) == {"000006.json": b"mine"}
    assert bodies(out) == ["000/000001.json", "000/000002.json"]
    assert sorted(os.listdir(out / "bodies")) == ["000", "001"]


@pytest.mark.parametrize("mine", [False, True], ids=["only its files", "and files of mine"])
def test_a_run_of_the_flat_layout_is_replaced(mine: bool, tmp_path: Path) -> None:
    out = tmp_path / "out"
    flat_run(out)
    assert bodies(out) == [f"00000{n}.xml" for n in range(1, 7)]
    if mine:
        (out / "notes.txt").write_text("mine", encoding="utf-8")
        (out / "bodies" / "000007.xml").write_text("mine too", encoding="utf-8")
    write_run(run("aggregate"), out)
    fresh = tmp_path / "fresh"
    write_run(run("aggregate"), fresh)
    expected = tree(fresh)
    assert expected is not None
    if mine:
        expected |= {"notes.txt": b"mine", "bodies/000007.xml": b"mine too"}
    assert tree(out) == expected


def test_a_folder_of_mine_in_a_run_of_the_flat_layout_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    flat_run(out)
    (out / "bodies" / "000").mkdir()
    (out / "bodies" / "000" / "notes.txt").write_text("mine", encoding="utf-8")
    before = tree(out)
    with pytest.raises(cs.ConnectSimError, match="bodies/000: not a folder of bodies of the earl"):
        write_run(run("aggregate"), out)
    assert tree(out) == before


# -- streaming ---------------------------------------------------------------------


def test_the_streamed_trace_is_the_trace_records_as_json_lines(tmp_path: Path) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text(scenario_text(), encoding="utf-8")  # both formats, HMAC, retries
    out = tmp_path / "out"
    write_run(load_scenario(str(scenario)).build().run(), out)
    records = trace_records(load_scenario(str(scenario)).build().run())
    expected = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    assert (out / "trace.jsonl").read_bytes() == expected.encode("utf-8")
    assert len(records) > 100 and {r["body"][-4:] for r in records} == {"json", ".xml"}


def test_writing_a_run_leaves_the_attempts_holding_no_bodies(tmp_path: Path) -> None:
    result = mixed("sim")
    kept = result.attempts[3]
    body, headers = kept.body, kept.headers  # read before: kept, and the file has it
    write_run(result, tmp_path / "out")
    # Private, but the point: the attempts do not keep what write_run rendered.
    ledger = result.simulation._ledger
    assert list(ledger.bodies) == [3] and list(ledger.headers) == [3]  # kept's row, only
    assert (tmp_path / "out" / body_path(4, kept)).read_bytes() == body
    assert kept.render() == (body, headers)
    assert result.attempts[0].render() == (result.attempts[0].body, result.attempts[0].headers)


def test_names_are_checked_before_anything_is_rendered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    write_run(run("aggregate"), out)
    (out / "bodies" / "000" / "000005.json").write_text("mine", encoding="utf-8")
    before = tree(out)
    result = run("sim")

    def no_render(attempt: cs.Attempt) -> None:
        raise AssertionError("rendered before the names were checked")

    monkeypatch.setattr(cs.Attempt, "render", no_render)
    with pytest.raises(cs.ConnectSimError, match=r"000005\.json: not a body of the earlier run"):
        write_run(result, out)
    assert tree(out) == before


def test_a_payload_error_after_some_bodies_were_written_changes_nothing(tmp_path: Path) -> None:
    text = SEED.read_text(encoding="utf-8").replace(
        'name = "listener"', 'name = "listener"\nformat = "xml"'
    )
    second = text[text.index("[[envelope]]") :].replace('"e1"', '"e2"')
    second = second.replace('subject = "Please sign"', 'subject = "Please \\u0007 sign"')
    second = second.replace('at = "0s"', 'at = "1h"').replace('at = "2m', 'at = "1h2m')
    result = parse_scenario(text + "\n" + second, "bell.toml").build().run()
    assert len(result.attempts) == 12  # e1's six bodies render; e2's first does not
    out = tmp_path / "out"
    write_run(run("aggregate"), out)
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    before = tree(out)
    written: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        write = output._write_file

        def counting(path: str | Path, data: bytes) -> None:
            written.append(Path(path).name)
            write(path, data)

        patch.setattr(output, "_write_file", counting)
        with pytest.raises(cs.PayloadError, match="U\\+0007"):
            write_run(result, out)
    assert written == [f"00000{n}.xml" for n in range(1, 7)]  # into the staging folder
    assert tree(out) == before


# -- every body in one file ----------------------------------------------------------


def test_bodies_jsonl_holds_the_bodies_the_files_hold_under_the_same_trace(tmp_path: Path) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text(scenario_text(), encoding="utf-8")  # both formats, HMAC, retries
    files, lines = tmp_path / "files", tmp_path / "lines"
    write_run(load_scenario(str(scenario)).build().run(), files)
    with output.RunWriter(load_scenario(str(scenario)).build(), lines, bodies="jsonl") as writer:
        writer._simulation.run()
    assert sorted(os.listdir(lines)) == [MARKER, "bodies.jsonl", "summary.json", "trace.jsonl"]
    for name in ("trace.jsonl", "summary.json"):
        assert (lines / name).read_bytes() == (files / name).read_bytes()
    in_files, in_lines = list(output.read_bodies(files)), list(output.read_bodies(lines))
    assert in_lines == in_files and len(in_lines) > 100
    assert {name[-4:] for name, _ in in_lines} == {"json", ".xml"}
    assert all((files / name).read_bytes() == body for name, body in in_lines)
    assert marker(lines)["bodies"] == {**marker(files)["bodies"], "file": "bodies.jsonl",  # type: ignore[dict-item]
                                       "last": {"json": 0, "xml": 0}}  # fmt: skip


@pytest.mark.parametrize(("first", "then"), [("files", "jsonl"), ("jsonl", "files")])
def test_a_rerun_in_the_other_layout_removes_the_earlier_bodies_and_nothing_else(
    first: str, then: str, tmp_path: Path
) -> None:
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    write_run(run("sim", "xml"), out, bodies=first)
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    write_run(run("sim"), out, bodies=then)
    write_run(run("sim"), fresh, bodies=then)
    left = tree(out)
    assert left is not None and left.pop("notes.txt") == b"mine"
    assert left == tree(fresh)


def test_a_bodies_jsonl_the_earlier_run_did_not_write_is_never_touched(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_run(run("sim"), out)
    (out / "bodies.jsonl").write_text("mine", encoding="utf-8")
    before = tree(out)
    with pytest.raises(
        cs.ConnectSimError, match=f"bodies.jsonl: not written by the earlier run.*{NEVER}"
    ):
        write_run(run("sim"), out, bodies="jsonl")
    assert tree(out) == before
    write_run(run("aggregate"), out)  # the files layout leaves it be
    assert (out / "bodies.jsonl").read_text(encoding="utf-8") == "mine"
    assert len(list(output.read_bodies(out))) == 2


def test_a_layout_that_is_not_one_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    for wrong in ("json", "", None, ["files"]):
        with pytest.raises(cs.ConnectSimError, match=r"bodies: expected one of 'files', 'jsonl'"):
            write_run(run("sim"), tmp_path / "out", bodies=wrong)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def tampered(out: Path, name: str, change: Callable[[bytes], bytes]) -> None:
    path = out / name
    path.write_bytes(change(path.read_bytes()))


@pytest.mark.parametrize(
    ("layout", "name", "change", "message"),
    [
        ("jsonl", "bodies.jsonl", lambda b: b.replace(b"bodies/000/000002", b"../../../etc/x", 1),
         r"bodies.jsonl, line 2: '../../../etc/x.json' is not the name of a body"),
        ("jsonl", "bodies.jsonl", lambda b: b + b"{not json\n",
         r"bodies.jsonl, line 7: not a line of JSON"),
        ("jsonl", "bodies.jsonl", lambda b: b + b'{"body": "bodies/000/000007.json"}\n',
         r"bodies.jsonl, line 7: not a body's line"),
        ("jsonl", "bodies.jsonl", lambda b: b + b"[1]\n", r"line 7: not a JSON object"),
        ("files", "trace.jsonl", lambda b: b.replace(b"bodies/000/000003.json", b"/etc/passwd"),
         r"trace.jsonl, line 3: '/etc/passwd' is not the name of a body"),
        ("files", "bodies/000/000004.json", lambda b: b"",  None),
        ("jsonl", "bodies.jsonl", lambda b: b + b'{"body": "bodies/000/000007.json", "text": "\\ud800"}\n',
         r"bodies.jsonl, line 7: the text is not UTF-8 text"),
        ("jsonl", "bodies.jsonl", lambda b: b"".join(b.splitlines(keepends=True)[:2]),
         r"bodies.jsonl: 2 bodies, where the run's marker counts 6"),
        ("jsonl", "bodies.jsonl", lambda b: b + b.splitlines(keepends=True)[-1],
         r"line 7: 'bodies/000/000006.json' is not the name of body 7"),
        ("jsonl", "bodies.jsonl", lambda b: b"".join(b.splitlines(keepends=True)[1:]),
         r"line 1: 'bodies/000/000002.json' is not the name of body 1"),
        ("files", "trace.jsonl", lambda b: b"".join(b.splitlines(keepends=True)[:5]),
         r"trace.jsonl: 5 bodies, where the run's marker counts 6"),
    ],
)  # fmt: skip
def test_read_bodies_names_the_line_that_is_not_a_body(
    layout: str, name: str, change: Callable[[bytes], bytes], message: str | None, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    write_run(run("sim"), out, bodies=layout)
    tampered(out, name, change)
    if message is None:  # an emptied body is read as it is: read_bodies does not judge bodies
        assert dict(output.read_bodies(out))["bodies/000/000004.json"] == b""
        return
    with pytest.raises(cs.ConnectSimError, match=message):
        list(output.read_bodies(out))


def test_read_bodies_refuses_a_folder_that_holds_no_complete_run(tmp_path: Path) -> None:
    with pytest.raises(cs.ConnectSimError, match=r"no \.connect-sim-run marker"):
        list(output.read_bodies(tmp_path))
    write_run(run("sim"), tmp_path / "out", bodies="jsonl")
    (tmp_path / "out" / "bodies.jsonl").unlink()
    with pytest.raises(cs.ConnectSimError, match=r"out/bodies.jsonl: No such file"):
        list(output.read_bodies(tmp_path / "out"))
    text = (tmp_path / "out" / MARKER).read_text(encoding="utf-8")
    (tmp_path / "out" / MARKER).write_text(text.replace('"complete": true', '"complete": false'))
    with pytest.raises(cs.ConnectSimError, match=r"a run whose writing was stopped"):
        output.read_bodies(tmp_path / "out")  # at once, not when the reading begins
    for wrong in (None, 3, b"out", ""):
        with pytest.raises(cs.ConnectSimError, match="output folder"):
            output.read_bodies(wrong)  # type: ignore[arg-type]


def test_read_bodies_reads_a_run_of_the_flat_layout(tmp_path: Path) -> None:
    flat_run(tmp_path / "out")
    trace = tmp_path / "out" / "trace.jsonl"  # as such a run named its bodies
    trace.write_bytes(trace.read_bytes().replace(b'"bodies/000/', b'"bodies/'))
    names = [name for name, _ in output.read_bodies(tmp_path / "out")]
    assert names == [f"bodies/{n:06d}.xml" for n in range(1, 7)]


def test_a_bodies_folder_found_after_a_jsonl_run_is_yours(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_run(run("sim"), out, bodies="jsonl")
    (out / "bodies").mkdir()  # empty: nothing says it is not the run's but the marker
    write_run(run("sim"), out, bodies="jsonl")
    assert (out / "bodies").is_dir() and list((out / "bodies").iterdir()) == []
    write_run(run("sim"), out)  # the files layout puts its folders of bodies into it
    assert sorted(path.name for path in (out / "bodies").iterdir()) == ["000"]


def test_a_foreign_bodies_jsonl_is_refused_before_the_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_run(run("sim"), out)
    (out / "bodies.jsonl").write_text("mine", encoding="utf-8")
    check_run_folder(out)  # the files layout leaves it be
    refused = r"bodies\.jsonl: not written by the earlier run"
    with pytest.raises(cs.ConnectSimError, match=refused):
        check_run_folder(out, "jsonl")
    sim = parse_scenario(SEED.read_text(encoding="utf-8"), "seed.toml").build()
    with (
        pytest.raises(cs.ConnectSimError, match=refused),
        output.RunWriter(sim, out, bodies="jsonl"),
    ):
        pytest.fail("the block ran")
    assert sim.attempts == [] and (out / "bodies.jsonl").read_text(encoding="utf-8") == "mine"


class FullDisk(io.RawIOBase):
    """A file on a disk that is full: every write fails, as the buffer's last flush does."""

    def __init__(self, name: str) -> None:
        self.name = name

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("layout", ["files", "jsonl"])
def test_a_full_disk_under_a_buffered_file_leaves_no_staging_folder(
    layout: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    write_run(run("sim", "xml"), out)
    before = tree(out)
    # Every line fits in the buffer: the disk says it is full when the files are closed.
    full = lambda path: io.BufferedWriter(FullDisk(str(path)), 1 << 20)  # noqa: E731
    monkeypatch.setattr(output, "_open_file", full)
    with pytest.raises(OSError, match="No space left"):
        write_run(run("sim"), out, bodies=layout)
    assert tree(out) == before
