"""Same scenario and seed: byte-identical output in separate processes, any hash seed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCENARIO = """
[simulation]
seed = 11

[[configuration]]
name = "flaky"
include_data = ["recipients", "custom_fields", "documents", "folders"]
listener = { kind = "flaky", failure_rate = 0.3 }

[[configuration]]
name = "aggregate"
mode = "aggregate"
duplicate_rate = 0.3
drop_rate = 0.1
listener = { kind = "outage", windows = [["10m", "2d"]], status = "timeout" }

[[configuration]]
name = "legacy"
format = "xml"
hmac_keys = ["one", "two"]
envelope_events = ["Sent", "Completed"]
recipient_events = ["Completed"]
listener = { kind = "scripted", responses = [500, 500, 200, 503], latency = "3s" }
"""


def scenario_text() -> str:
    parts = [SCENARIO]
    for n in range(12):
        parts.append(f"""
[[envelope]]
id = "e{n}"
subject = "Contract {n} ✓ <&>"
custom_fields = {{ Region = "EMEA-{n}" }}
documents = [{{ name = "c{n}.pdf", content = "contract {n}" }}]
recipients = [
  {{ id = "s{n}", type = "signer", name = "Signer {n}", email = "s{n}@example.com" }},
  {{ id = "c{n}", type = "carbon_copy", name = "Copy {n}", email = "c{n}@example.com", routing_order = 2 }},
]
[[action]]
at = "{n}m"
envelope = "e{n}"
do = "send"
[[action]]
at = "{n}m30s"
envelope = "e{n}"
do = "{"sign" if n % 3 else "decline"}"
recipient = "s{n}"
""")
    return "".join(parts)


def run_in_process(scenario: Path, out: Path, hash_seed: str) -> bytes:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    subprocess.run(
        [sys.executable, "-m", "connect_sim.cli", "run", str(scenario), "--out", str(out)],
        check=True, env=env, capture_output=True, timeout=120,
    )  # fmt: skip
    bodies = sorted(path for path in (out / "bodies").rglob("*") if path.is_file())
    assert len(bodies) > 100
    return b"".join(
        [(out / "trace.jsonl").read_bytes(), (out / "summary.json").read_bytes()]
        + [path.relative_to(out).as_posix().encode() + path.read_bytes() for path in bodies]
    )


def test_two_processes_with_different_hash_seeds_write_the_same_bytes(tmp_path: Path) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text(scenario_text(), encoding="utf-8")
    first = run_in_process(scenario, tmp_path / "a", "0")
    second = run_in_process(scenario, tmp_path / "b", "12345")
    assert first == second
    assert first.count(b"\n") > 40
    for outcome in (b'"retry"', b'"failed"', b'"delivered"', b'"duplicate": true'):
        assert outcome in first
    for part in (b"<DocuSignEnvelopeInformation", b'"envelopeSummary"', b"X-DocuSign-Signature-2"):
        assert part in first
