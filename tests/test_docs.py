"""The docs say what the code does: the generated diagram and the README's example."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from connect_sim.lifecycle import lifecycle_diagram

ROOT = Path(__file__).resolve().parent.parent


def test_the_concepts_diagram_is_the_one_the_tables_generate() -> None:
    text = (ROOT / "docs" / "concepts.md").read_text(encoding="utf-8")
    block = re.search(
        r"<!-- lifecycle-diagram:start -->\n```mermaid\n(.*?)\n```\n<!-- lifecycle-diagram:end -->",
        text,
        re.DOTALL,
    )
    assert block is not None
    assert block.group(1) == lifecycle_diagram()


def test_the_readme_python_example_runs_and_prints_the_six_sim_messages() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code = re.search(r"## In Python\n\n```python\n(.*?)```", readme, re.DOTALL)
    assert code is not None
    done = subprocess.run(
        [sys.executable, "-c", code.group(1)], capture_output=True, text=True, timeout=60,
        check=True,
    )  # fmt: skip
    assert done.stdout.splitlines() == [
        "recipient-sent created", "envelope-sent sent", "recipient-delivered sent",
        "recipient-completed sent", "recipient-completed sent", "envelope-completed completed",
    ]  # fmt: skip


def test_the_cli_doc_shows_what_example_prints() -> None:
    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    shown = re.search(r"\$ connect-sim example\n(.*?)```", doc, re.DOTALL)
    assert shown is not None
    done = subprocess.run(
        [sys.executable, "-m", "connect_sim.cli", "example"], capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    assert done.stdout == shown.group(1)


def test_the_payloads_listener_example_accepts_real_messages_and_refuses_forgeries() -> None:
    import connect_sim as cs
    from connect_sim.signing import hmac_signature

    doc = (ROOT / "docs" / "payloads.md").read_text(encoding="utf-8")
    code = re.search(r"## In your listener\n.*?```python\n(.*?)```", doc, re.DOTALL)
    assert code is not None
    stored: list[tuple[str, str | None]] = []
    namespace: dict[str, object] = {
        "store": lambda envelope, status, generated: stored.append((envelope, status))
    }
    exec(code.group(1), namespace)
    handle = namespace["handle"]
    keys = namespace["CONNECT_KEYS"]
    assert isinstance(keys, list)
    for fmt in ("json", "xml"):
        sim = cs.Simulation(seed=1)
        sim.add_configuration(cs.Configuration(name="c", format=fmt, hmac_keys=[keys[1]]))
        sim.send(sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com")]))
        attempt = sim.run().attempts[-1]
        assert handle(attempt.body, attempt.headers) == 200  # type: ignore[operator]
        assert handle(attempt.body + b" ", attempt.headers) == 401  # type: ignore[operator]
    garbage = b"not a message"
    signed = {"X-DocuSign-Signature-1": hmac_signature(garbage, keys[0])}
    assert handle(garbage, signed) == 400  # type: ignore[operator]
    assert [status for _, status in stored] == ["sent", "sent"]


def test_the_testing_doc_shows_what_a_listener_that_refuses_everything_is_told() -> None:
    doc = (ROOT / "docs" / "testing-your-listener.md").read_text(encoding="utf-8")
    shown = re.search(
        r"## When your listener is broken.*?```python\n(.*?)```\n\n```\nAssertionError: (.*?)\n```",
        doc,
        re.DOTALL,
    )
    assert shown is not None
    code, message = shown.groups()
    with pytest.raises(AssertionError) as failure:
        exec(code, {})
    assert str(failure.value) == message
