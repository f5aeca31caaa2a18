"""Writing a run to a folder: the marker, what a re-run replaces, and what a failure leaves."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import connect_sim as cs
from connect_sim import output
from connect_sim.output import MARKER, STAGING, check_run_folder, write_run
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
    return sorted(path.name for path in (folder / "bodies").iterdir())


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
        '  "marker_version": 1,\n'
        '  "complete": true,\n'
        '  "trace": "trace.jsonl",\n'
        '  "summary": "summary.json",\n'
        '  "bodies": {\n'
        '    "folder": "bodies",\n'
        '    "count": 6,\n'
        '    "names": "{number:06d}.{extension}",\n'
        '    "last": {\n'
        '      "json": 6,\n'
        '      "xml": 0\n'
        "    }\n"
        "  }\n"
        "}\n"
    )
    names = sorted(p.name for p in out.iterdir())
    assert names == [MARKER, "bodies", "summary.json", "trace.jsonl"]
    assert bodies(out) == [f"00000{n}.json" for n in range(1, 7)]


def test_the_marker_stays_small_for_a_million_bodies() -> None:
    claim = output._Claim()
    for number in range(1, 1_200_001):
        claim.add(f"{number:06d}.json")
    assert claim.count == 1_200_000
    assert len(claim.text()) < 400
    assert claim.owns("1200000.json") and claim.owns("000001.json")
    assert not claim.owns("1200001.json") and not claim.owns("0000001.json")
    assert not claim.owns("000001.xml") and not claim.owns("notes.txt")


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
        assert bodies(tmp_path / name) == ["000001.json", "000002.json"]
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


@pytest.mark.parametrize("user_body", [False, True], ids=["only its bodies", "a file of mine"])
def test_a_rerun_replaces_only_its_own_files(user_body: bool, tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_run(run("sim"), out)  # six bodies
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    if user_body:  # the bodies are then replaced one by one, not as a folder
        (out / "bodies" / "mine.json").write_text("mine too", encoding="utf-8")
    write_run(run("aggregate"), out)  # two
    fresh = tmp_path / "fresh"
    write_run(run("aggregate"), fresh)
    expected = {**tree(fresh), "notes.txt": b"mine"}  # type: ignore[dict-item]
    if user_body:
        expected["bodies/mine.json"] = b"mine too"
    assert tree(out) == expected


def test_a_rerun_in_another_format_removes_the_earlier_bodies(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_run(run("sim", "xml"), out)
    (out / "bodies" / "000001.json").write_text("mine", encoding="utf-8")  # not an XML run's
    write_run(run("aggregate", "xml"), out)
    assert bodies(out) == ["000001.json", "000001.xml", "000002.xml"]
    (out / "bodies" / "000001.json").unlink()
    write_run(run("aggregate", "json"), out)
    assert bodies(out) == ["000001.json", "000002.json"]
    assert marker(out)["bodies"] == {
        "folder": "bodies", "count": 2, "names": "{number:06d}.{extension}",
        "last": {"json": 2, "xml": 0},
    }  # fmt: skip


def test_a_body_name_the_earlier_run_did_not_write_is_never_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_run(run("aggregate"), out)  # bodies 1 and 2
    (out / "bodies" / "000005.json").write_text("mine", encoding="utf-8")
    (out / "bodies" / "000002.json").unlink()
    (out / "bodies" / "000002.json").mkdir()  # a folder is never a body, whatever its name
    before = tree(out)
    for name in ("000002.json", "000005.json"):
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
    (out / "bodies" / "000003.xml").write_text("mine", encoding="utf-8")
    before = tree(out)
    # The mixed run writes 000001.json, 000002.xml, 000003.json, 000004.xml: not 000003.xml,
    # but its marker (numbers, not names) would claim it, and a later run would remove it.
    with pytest.raises(cs.ConnectSimError, match=r"000003\.xml: not a body of the earlier run, "):
        write_run(mixed("aggregate"), out)
    assert tree(out) == before
    (out / "bodies" / "000003.xml").rename(out / "bodies" / "000005.xml")
    write_run(mixed("aggregate"), out)
    assert bodies(out) == ["000001.json", "000002.xml", "000003.json", "000004.xml", "000005.xml"]
    assert marker(out)["bodies"] == {
        "folder": "bodies", "count": 4, "names": "{number:06d}.{extension}",
        "last": {"json": 3, "xml": 4},
    }  # fmt: skip


def test_a_folder_named_like_a_body_is_never_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_run(run("sim"), out)  # bodies 1 to 6
    (out / "bodies" / "000005.json").unlink()
    (out / "bodies" / "000005.json").mkdir()
    (out / "bodies" / "000005.json" / "mine.txt").write_text("mine", encoding="utf-8")
    write_run(run("aggregate"), out)  # bodies 1 and 2: the earlier 3 to 6 go
    assert bodies(out) == ["000001.json", "000002.json", "000005.json"]
    assert (out / "bodies" / "000005.json" / "mine.txt").read_text(encoding="utf-8") == "mine"


def fail_at_step(
    monkeypatch: pytest.MonkeyPatch, step: int | None, error: BaseException
) -> list[str]:
    """Make the ``step``-th change to the disk fail (None: none fails); return the steps taken.

    A failing write writes half its bytes first, as a full disk would.
    """
    steps: list[str] = []
    make, write = output._make_folder, output._write_file
    move, remove = output._move, output._remove

    def check(name: str) -> bool:
        steps.append(name)
        return len(steps) == step

    def failing_make(path: Path) -> None:
        if check(f"make {path.name}"):
            raise error
        make(path)

    def failing_write(path: Path, data: bytes) -> None:
        if check(f"write {path.name}"):
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

    monkeypatch.setattr(output, "_make_folder", failing_make)
    monkeypatch.setattr(output, "_write_file", failing_write)
    monkeypatch.setattr(output, "_move", failing_move)
    monkeypatch.setattr(output, "_remove", failing_remove)
    return steps


def new_folder(out: Path) -> None:
    """Nothing there yet; not even the parent."""


def earlier_run(out: Path) -> None:
    write_run(run("sim", "xml"), out)


def earlier_run_and_my_files(out: Path) -> None:
    write_run(run("sim", "xml"), out)
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "bodies" / "notes.txt").write_text("mine too", encoding="utf-8")


@pytest.mark.parametrize("before", [new_folder, earlier_run, earlier_run_and_my_files])
@pytest.mark.parametrize(
    "error",
    [KeyboardInterrupt(), OSError(errno.ENOSPC, "No space left on device")],
    ids=["ctrl-c", "full disk"],
)
def test_an_interrupted_run_leaves_no_partial_files(
    before: Callable[[Path], None],
    error: BaseException,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stopped at every step in turn, a run leaves the folder as it was or as a run to replace."""
    start = tmp_path / "start" / "parent" / "out"
    start.parent.mkdir(parents=True)
    before(start)
    original = tree(start)
    expected_folder = tmp_path / "expected"
    shutil.copytree(start.parent, expected_folder)
    with monkeypatch.context() as patch:
        steps = fail_at_step(patch, None, error)
        write_run(run("aggregate"), expected_folder / "out")
    expected = tree(expected_folder / "out")
    assert len(steps) >= 6
    for step in range(1, len(steps) + 1):
        case = tmp_path / f"step{step}"
        shutil.copytree(start.parent, case)
        out = case / "out"
        with monkeypatch.context() as patch:
            fail_at_step(patch, step, error)
            with pytest.raises(type(error)):
                write_run(run("aggregate"), out)
        left = tree(out)
        where = f"stopped at {steps[step - 1]!r} (step {step})"
        leftovers = [name for name in left or () if STAGING in name or ".partial" in name]
        assert leftovers == [], where
        if left != original:  # then a run the next one replaces, and says so
            assert left is not None and marker(out)["complete"] is False, where
        if left is not None:
            for mine in ("notes.txt", "bodies/notes.txt"):
                assert left.get(mine) == (original or {}).get(mine), where
        write_run(run("aggregate"), out)
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
