"""The connect-sim command: output, files, and one-line errors with exit status 2."""

from __future__ import annotations

import errno
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import connect_sim as cs
from connect_sim import output
from connect_sim.cli import main
from connect_sim.report import body_path

ROOT = Path(__file__).resolve().parent.parent
SEED = str(ROOT / "examples" / "sue_and_charlie.toml")

SEED_ROWS = [
    "1  0s     recipient-sent (Sue Signer)         created    sent        created       delivered  merged into 2",
    "2  0s     envelope-sent                       sent       sent        created       delivered  sent",
    "3  2m     recipient-delivered (Sue Signer)    sent       delivered   created       delivered  merged into 6",
    "4  2m20s  recipient-completed (Sue Signer)    sent       completed   created       delivered  merged into 6",
    "5  2m20s  recipient-completed (Charlie Copy)  sent       completed   completed     delivered  merged into 6",
    "6  2m20s  envelope-completed                  completed  completed   completed     delivered  sent",
]  # fmt: skip


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every path under a folder, relative, with a file's bytes (None for a folder)."""
    return {
        path.relative_to(folder).as_posix(): None if path.is_dir() else path.read_bytes()
        for path in sorted(folder.rglob("*"))
    }


def test_example_prints_the_seed_table_side_by_side(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["example"]) == 0
    out = capsys.readouterr().out
    assert (
        "Configuration 'listener': SIM made 6 messages and delivered 6; "
        "Aggregate made 2 and delivered 2\n"
    ) in out
    for row in SEED_ROWS:
        assert row in out
    assert "2     1m       envelope-sent       sent       sent        created       2" in out
    assert "6     3m       envelope-completed  completed  completed   completed     4" in out


def test_compare_prints_the_same_for_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", SEED]) == 0
    out = capsys.readouterr().out
    assert main(["example"]) == 0
    assert capsys.readouterr().out == out


def test_run_writes_the_trace_and_the_summary(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["run", SEED, "--mode", "aggregate", "--out", str(out)]) == 0
    lines = (out / "trace.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["event"] for r in records] == ["envelope-sent", "envelope-completed"]
    first = records[0]
    assert list(first)[6:8] == ["envelope_id", "envelope_guid"]
    assert first.pop("body") == "bodies/000/000001.json"
    headers = first.pop("headers")
    assert headers["Content-Type"] == "application/json"
    body = (out / "bodies" / "000" / "000001.json").read_bytes()
    assert first.pop("envelope_guid") == json.loads(body)["data"]["envelopeId"]
    message = cs.parse_message(body, headers["Content-Type"])
    assert message.event == "envelope-sent" and message.status == "sent"
    assert headers["X-DocuSign-AccountId"] == json.loads(body)["data"]["accountId"]
    assert first == {
        "time": "2026-01-01T00:01:00.000Z", "end": "2026-01-01T00:01:00.000Z",
        "configuration": "listener", "mode": "aggregate", "sequence": 1,
        "event": "envelope-sent", "envelope_id": "e1", "recipient_id": None,
        "generated": "2026-01-01T00:01:00.000Z", "attempt": 1, "retry_count": 0,
        "duplicate": False, "status": 200, "outcome": "delivered", "envelope_status": "sent",
        "recipient_statuses": {"sue": "sent", "charlie": "created"},
        "merged_events": ["recipient-sent", "envelope-sent"], "error_kind": None,
    }  # fmt: skip
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["configurations"]["listener"] == {
        "mode": "aggregate", "generated": 2, "delivered": 2, "failed": 0, "republished": 0,
        "pending": 0, "attempts": 2, "skipped": 0, "disabled": 0,
    }  # fmt: skip
    assert sorted(p.name for p in out.iterdir()) == [
        ".connect-sim-run", "bodies", "summary.json", "trace.jsonl",
    ]  # fmt: skip
    assert sorted(p.name for p in (out / "bodies").iterdir()) == ["000"]
    assert sorted(p.name for p in (out / "bodies" / "000").iterdir()) == [
        "000001.json", "000002.json",
    ]  # fmt: skip


def test_the_cli_doc_lists_every_trace_key_in_order(tmp_path: Path) -> None:
    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    described = doc[doc.index("- `trace.jsonl`") : doc.index("- `bodies/`")]
    assert main(["run", SEED, "--out", str(tmp_path / "o")]) == 0
    record = json.loads(
        (tmp_path / "o" / "trace.jsonl").read_text(encoding="utf-8").split("\n")[0]
    )
    where = [described.find(f"`{key}`") for key in record]
    assert -1 not in where and where == sorted(where), dict(zip(record, where, strict=True))


def test_the_docs_give_body_paths_as_body_path_makes_them() -> None:
    flat_paragraph = re.compile(
        r"- \*\*A run of the flat layout\.\*\*.*?(?=\n- \*\*|\n#)", re.DOTALL
    )
    seen = 0
    for name in ("README.md", "docs/cli.md", "docs/payloads.md"):
        text = (ROOT / name).read_text(encoding="utf-8")
        for match in re.finditer(r"bodies/(?:([0-9]{3,})/)?([0-9]{6,})\.(json|xml)", text):
            if match.group(1) is None:  # the flat layout of marker version 1: named as such
                assert any(
                    p.start() < match.start() < p.end() for p in flat_paragraph.finditer(text)
                ), (name, match.group(0))
                continue
            assert match.group(0) == body_path(int(match.group(2)), match.group(3)), name
            seen += 1
    assert seen >= 6


def test_run_traces_retries_failures_and_pending(tmp_path: Path) -> None:
    scenario = tmp_path / "down.toml"
    scenario.write_text(
        Path(SEED)
        .read_text(encoding="utf-8")
        .replace(
            'listener = { kind = "always_ok" }',
            'listener = { kind = "outage", windows = [["1m", "30h"]], status = 503 }',
        ),
        encoding="utf-8",
    )
    assert main(["run", str(scenario), "--out", str(tmp_path / "o")]) == 0
    records = [json.loads(line) for line in (tmp_path / "o" / "trace.jsonl").open()]
    assert [(r["sequence"], r["attempt"], r["status"], r["outcome"]) for r in records[2:5]] == [
        (3, 1, 503, "retry"), (3, 2, 503, "retry"), (3, 3, 200, "delivered"),
    ]  # fmt: skip
    assert records[4]["time"] == "2026-01-03T00:02:00.000Z"
    assert records[4]["generated"] == "2026-01-01T00:02:00.000Z"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "error: the following arguments are required: command"),
        (["dance"], "error: argument command: invalid choice: 'dance'"),
        (["run", SEED], "error: the following arguments are required: --out"),
        (["run", SEED, "--out", "x", "--mode", "batch"], "error: argument --mode: invalid choice"),
        (
            ["run", SEED, "--out", "x", "--seed", "one"],
            "error: argument --seed: invalid int value",
        ),
        (["compare", "missing.toml"], "error: missing.toml: cannot read the file"),
        (["run", "missing.toml", "--out", "x"], "error: missing.toml: cannot read the file"),
        (["compare", SEED, "--seed", "1.5"], "error: argument --seed: invalid int value"),
        (["example", "--colour"], "error: unrecognized arguments: --colour"),
    ],
)
def test_bad_input_prints_one_line_and_exits_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(message)
    assert captured.err.count("\n") == 1


def test_a_failing_run_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text(
        Path(SEED).read_text(encoding="utf-8") + '\n[[action]]\nat = "1h"\nenvelope = "e1"\n'
        'do = "sign"\nrecipient = "sue"\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {scenario}: action 4: sign by 'sue' on 'e1' at 1h: cannot sign")
    assert "'completed'" in err
    assert not out.exists()


def test_text_xml_cannot_carry_fails_the_run_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "bell.toml"
    scenario.write_text(
        Path(SEED)
        .read_text(encoding="utf-8")
        .replace('subject = "Please sign"', 'subject = "Please \\u0007 sign"')
        .replace('name = "listener"', 'name = "listener"\nformat = "xml"'),
        encoding="utf-8",
    )
    out = tmp_path / "out"  # an earlier run, and a file of the user's beside it
    assert main(["run", SEED, "--out", str(out)]) == 0
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    before = tree(out)
    capsys.readouterr()
    assert main(["run", str(scenario), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"error: {scenario}: envelope 'e1': subject: character U+0007 at position 7 cannot be written in "
        "XML 1.0\n"
    )
    assert tree(out) == before


def test_the_installed_command_exits_2_without_a_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "connect_sim.cli", "run", str(tmp_path / "none.toml"),
         "--out", str(tmp_path / "o")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1


def test_version_prints_the_version_pyproject_declares(capsys: pytest.CaptureFixture[str]) -> None:
    with (ROOT / "pyproject.toml").open("rb") as file:
        version = tomllib.load(file)["project"]["version"]
    assert cs.__version__ == version  # the one the command prints, and the one packaging uses
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"connect-sim {version}\n"


def test_compare_title_counts_messages_made_and_delivered_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "down.toml"  # the listener is down for a month: some never arrive
    scenario.write_text(
        Path(SEED)
        .read_text(encoding="utf-8")
        .replace(
            'listener = { kind = "always_ok" }',
            'listener = { kind = "outage", windows = [["1m", "30d"]], status = 503 }',
        ),
        encoding="utf-8",
    )
    assert main(["compare", str(scenario)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "Configuration 'listener': SIM made 6 messages and delivered 4; "
        "Aggregate made 2 and delivered 0"
    )
    assert [line.split()[0] for line in lines[3:9]] == ["1", "2", "3", "4", "5", "6"]
    assert lines[9] == ""  # the table lists all six messages, delivered or not


def test_compare_title_counts_duplicates_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "twice.toml"
    scenario.write_text(
        Path(SEED)
        .read_text(encoding="utf-8")
        .replace('name = "listener"', 'name = "listener"\nduplicate_rate = 1.0'),
        encoding="utf-8",
    )
    assert main(["compare", str(scenario)]) == 0
    title = capsys.readouterr().out.splitlines()[0]
    assert title.endswith("Aggregate made 2 and delivered 2 (plus 2 duplicates)")


def only_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The one line a failing command prints: on stderr, starting error:, nothing on stdout."""
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1
    assert "Traceback" not in captured.err
    return captured.err


def test_run_out_refuses_a_folder_with_files_it_did_not_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    (out / "bodies").mkdir(parents=True)
    (out / "bodies" / "mine.json").write_text("{}", encoding="utf-8")
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    before = tree(out)

    def no_run(*args: object) -> None:  # the folder is refused before a long run, not after
        raise AssertionError("the simulation ran")

    monkeypatch.setattr(cs.Simulation, "run", no_run)
    assert main(["run", SEED, "--out", str(out)]) == 2
    assert only_error_line(capsys) == (
        f"error: {out}: holds files and no .connect-sim-run marker of an earlier run; "
        "connect-sim never overwrites files it did not write (choose a new or empty folder)\n"
    )
    assert tree(out) == before


def test_a_rerun_replaces_only_its_own_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["run", SEED, "--out", str(out)]) == 0  # SIM: six bodies
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "bodies" / "mine.txt").write_text("mine too", encoding="utf-8")
    assert main(["run", SEED, "--mode", "aggregate", "--out", str(out)]) == 0  # two
    printed = capsys.readouterr().out.splitlines()
    assert f"wrote 2 message bodies to {out / 'bodies'}" in printed
    assert sorted(p.name for p in (out / "bodies").iterdir()) == ["000", "mine.txt"]
    assert sorted(p.name for p in (out / "bodies" / "000").iterdir()) == [
        "000001.json", "000002.json",
    ]  # fmt: skip
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert (out / "bodies" / "mine.txt").read_text(encoding="utf-8") == "mine too"


@pytest.mark.parametrize("out", ["", " ", "\t"])
def test_out_that_is_empty_is_refused(
    out: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # an empty --out used to mean this folder
    assert main(["run", SEED, "--out", out]) == 2
    assert only_error_line(capsys) == (
        "error: the output folder's name is empty (name a folder; '.' is this one)\n"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("marked", [False, True], ids=["new folder", "earlier run"])
def test_bodies_being_a_file_writes_nothing(
    marked: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    if marked:
        assert main(["run", SEED, "--out", str(out)]) == 0
        capsys.readouterr()
        output._remove(out / "bodies")
    else:
        out.mkdir()
    (out / "bodies").write_text("not a folder", encoding="utf-8")
    before = tree(out)
    assert main(["run", SEED, "--out", str(out)]) == 2
    assert only_error_line(capsys) == (
        f"error: {out / 'bodies'}: a file, where connect-sim writes the bodies; "
        "nothing was written\n"
    )
    assert tree(out) == before


def test_trace_being_a_folder_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    (out / "trace.jsonl").mkdir(parents=True)
    assert main(["run", SEED, "--out", str(out)]) == 2
    assert only_error_line(capsys) == (
        f"error: {out / 'trace.jsonl'}: a folder, where connect-sim writes the trace; "
        "nothing was written\n"
    )
    assert tree(out) == {"trace.jsonl": None}


def fail_on_body(monkeypatch: pytest.MonkeyPatch, number: int, error: BaseException) -> None:
    """Make writing the ``number``-th body fail, after writing half of it (a full disk)."""
    write = output._write_file
    seen: list[Path] = []

    def failing(path: str | Path, data: bytes) -> None:
        if Path(path).parent.parent.name == "bodies":
            seen.append(Path(path))
            if len(seen) == number:
                write(path, data[: len(data) // 2])
                raise error
        write(path, data)

    monkeypatch.setattr(output, "_write_file", failing)


def test_ctrl_c_prints_error_interrupted_and_exits_130(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "new" / "out"
    fail_on_body(monkeypatch, 3, KeyboardInterrupt())
    assert main(["run", SEED, "--out", str(out)]) == 130
    assert only_error_line(capsys) == "error: interrupted\n"
    assert list(tmp_path.iterdir()) == []  # the folders it made are gone too


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "No space left on device"),
        (PermissionError(errno.EACCES, "Permission denied"), "Permission denied"),
    ],
)
def test_a_failure_while_writing_prints_one_error_line_and_exits_2(
    error: OSError,
    says: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "out"
    assert main(["run", SEED, "--mode", "aggregate", "--out", str(out)]) == 0
    capsys.readouterr()
    before = tree(out)
    error.filename = str(out / ".connect-sim-staging" / "bodies" / "000" / "000004.json")
    fail_on_body(monkeypatch, 4, error)
    assert main(["run", SEED, "--out", str(out)]) == 2
    assert only_error_line(capsys) == (
        f"error: cannot write the run to {out}: {error.filename}: {says}\n"
    )
    assert tree(out) == before  # the earlier run, untouched; no staging folder


def test_the_installed_command_exits_130_on_ctrl_c_without_a_traceback(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from connect_sim import cli, output\n"
        "def interrupt(path, data):\n"
        "    raise KeyboardInterrupt\n"
        "output._write_file = interrupt\n"
        f"sys.argv = ['connect-sim', 'run', {SEED!r}, '--out', {str(tmp_path / 'o')!r}]\n"
        "cli._entry()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout, done.stderr) == (130, "", "error: interrupted\n")
    assert list(tmp_path.iterdir()) == []


MAINTENANCE = str(ROOT / "examples" / "maintenance_window.toml")
SWITCH = str(ROOT / "examples" / "switch_to_sim.toml")


def test_run_ends_with_the_summary_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["run", MAINTENANCE, "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[3] == "run ended at 2026-03-04T12:10:00.000Z"
    header, rule, row = lines[4:]
    assert header.split() == [
        "configuration", "mode", "generated", "delivered", "failed", "republished", "pending",
        "attempts", "skipped", "disabled",
    ]  # fmt: skip
    assert set(rule) == {"-", " "}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    counts = summary["configurations"]["orders"]
    assert row.split() == ["orders", *(str(value) for value in counts.values())]
    assert (counts["republished"], counts["skipped"]) == (1, 1)  # the table shows both


def test_run_bodies_jsonl_writes_one_file_of_bodies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["run", SEED, "--out", str(out), "--bodies", "jsonl"]) == 0
    assert (
        capsys.readouterr().out.splitlines()[2] == f"wrote 6 message bodies to {out}/bodies.jsonl"
    )
    assert sorted(p.name for p in out.iterdir()) == [
        ".connect-sim-run", "bodies.jsonl", "summary.json", "trace.jsonl"
    ]  # fmt: skip
    assert [name for name, _ in output.read_bodies(out)] == [
        body_path(n, "json") for n in range(1, 7)
    ]
    assert main(["run", SEED, "--out", str(out), "--bodies", "zip"]) == 2
    assert "argument --bodies: invalid choice: 'zip'" in capsys.readouterr().err


def test_compare_shows_republishes_and_skips(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", MAINTENANCE]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == [
        "generated", "delivered", "failed", "republished", "pending", "attempts", "skipped",
        "disabled",
    ]  # fmt: skip
    assert lines[3].split() == ["SIM", "11", "10", "0", "1", "0", "11", "1", "0"]
    assert lines[4].split() == ["Aggregate", "5", "2", "0", "1", "2", "4", "1", "0"]
    rows = {line.split()[0]: line for line in lines[7:18]}
    # The withdrawn SIM message, and the Aggregate message that merged its event, say so.
    assert rows["3"].split()[-4:] == ["republished", "merged", "into", "6"]
    assert rows["6"].endswith("delivered    republished")
    # The republished message: at the republish, with the state then, in both runs.
    assert rows["9"].split()[:4] == ["9", "1d9h", "envelope-completed", "(republished)"]
    assert "order-1001 completed" in rows["9"] and rows["9"].endswith("delivered    sent")
    received = lines[lines.index("What the listener receives under Aggregate ('orders'):") + 3 :]
    assert [line.split()[0] for line in received] == ["2", "9"]


def test_compare_leaves_out_the_counts_when_nothing_was_administered(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["compare", SEED]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[:3] == ["#", "time", "event"]


def test_a_forced_mode_holds_through_set_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", SWITCH, "--mode", "aggregate", "--out", str(tmp_path / "forced")]) == 0
    assert main(["run", SWITCH, "--out", str(tmp_path / "played")]) == 0
    capsys.readouterr()

    def trace(name: str) -> list[dict[str, object]]:
        text = (tmp_path / name / "trace.jsonl").read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines()]

    forced, played = trace("forced"), trace("played")
    assert {r["mode"] for r in forced} == {"aggregate"}
    assert not any("action" in r for r in forced)
    assert {r["mode"] for r in played if "mode" in r} == {"aggregate", "sim"}
    assert [r["action"] for r in played if "action" in r] == ["set_mode"]


def test_a_forced_mode_still_checks_set_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text(
        Path(SWITCH).read_text(encoding="utf-8").replace('mode = "sim"', 'mode = "simm"'),
        encoding="utf-8",
    )
    assert main(["compare", str(scenario)]) == 2
    error = only_error_line(capsys)
    assert error.endswith(
        "bad.toml: action 3: set_mode: mode must be one of sim, aggregate, got 'simm'\n"
    )
    assert main(["run", str(scenario), "--out", str(tmp_path / "out")]) == 2
    assert only_error_line(capsys) == error  # the same words as when the action is played


def test_a_reader_that_stops_reading_ends_the_command_quietly(tmp_path: Path) -> None:
    from test_scenario import many_envelopes

    scenario = tmp_path / "many.toml"
    scenario.write_text(many_envelopes(200), encoding="utf-8")
    code = (
        "import sys; from connect_sim import cli; "
        f"sys.argv = ['connect-sim', 'compare', {str(scenario)!r}]; cli._entry()"
    )
    command = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert command.stdout is not None and command.stderr is not None
    command.stdout.close()  # gone before the table is written, as `| head` is after a line
    errors = command.stderr.read()
    assert (command.wait(timeout=60), errors) == (141, b"")
