"""Scenario files: the seed file, every kind of key, and clear errors for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

import connect_sim as cs
from connect_sim.scenario import load_scenario, parse_scenario

from builders import rows, seed_example

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "sue_and_charlie.toml"

BASE = """
[simulation]
seed = 3

[[configuration]]
name = "listener"

[[envelope]]
id = "e1"
subject = "Hello"
recipients = [
  { id = "sue", type = "signer", name = "Sue", email = "sue@example.com" },
  { id = "cc", type = "carbon_copy", name = "Charlie", email = "c@example.com", routing_order = 2 },
]

[[action]]
at = "0s"
envelope = "e1"
do = "send"
"""


@pytest.mark.parametrize("mode", ["sim", "aggregate"])
def test_the_seed_file_runs_exactly_like_the_python_api(mode: str) -> None:
    from_file = load_scenario(SEED).build(mode=mode).run().received("listener")
    from_api = seed_example(mode)[0].run().received("listener")
    assert rows(from_file) == rows(from_api)
    assert [a.time for a in from_file] == [a.time for a in from_api]


def test_the_example_symlink_and_the_packaged_file_are_one_file() -> None:
    packaged = ROOT / "connect_sim" / "scenarios" / "sue_and_charlie.toml"
    assert SEED.read_bytes() == packaged.read_bytes()


def test_every_key_is_understood() -> None:
    text = """
[simulation]
seed = 9
mode = "aggregate"
start = "2026-03-01T09:00:00Z"

[[envelope]]
id = "e1"
subject = "All keys"
created = 2026-03-01T09:00:00Z
recipients = [
  { id = "a", type = "signer", name = "A", email = "a@x", routing_order = 1 },
  { id = "b", type = "certified_delivery", name = "B", email = "b@x", routing_order = 2 },
  { type = "editor", name = "C", email = "c@x", routing_order = 3 },
]

[[configuration]]
name = "everything"
events = ["envelope-sent"]
envelope_events = ["Completed"]
recipient_events = ["Delivered"]
format = "xml"
require_acknowledgement = true
mode = "sim"
envelope = "e1"
retry_interval = "1h"
max_retries = 3
aggregation_window = "30s"
timeout = "10s"
duplicate_rate = 0.0
drop_rate = 0.0
listener = { kind = "scripted", responses = [503, "timeout"], then = 200, latency = "1s" }

[[configuration]]
name = "outage"
listener = { kind = "outage", windows = [["1h", "30h"]], status = "timeout", ok_status = 201 }

[[configuration]]
name = "flaky"
listener = { kind = "flaky", failure_rate = 0.5, seed = 4, status = 502 }

[[action]]
at = "2026-03-01T09:01:00Z"
envelope = "e1"
do = "send"

[[action]]
at = "2m"
envelope = "e1"
do = "sign"
recipient = "a"

[[action]]
at = "3m"
envelope = "e1"
do = "decline"
recipient = "b"
reason = "Not me"
"""
    sim = parse_scenario(text, "all.toml").build()
    result = sim.run()
    assert sim.start.isoformat() == "2026-03-01T09:00:00+00:00"
    assert result.mode("everything") == "sim" and result.mode("outage") == "aggregate"
    channel = result.channel("everything")
    assert channel.configuration.format == "xml" and channel.max_retries == 3
    assert channel.configuration.subscribed == (
        "envelope-sent", "envelope-completed", "recipient-delivered",
    )  # fmt: skip
    assert sim.state("e1").recipient("b").declined_reason == "Not me"
    assert sim.state("e1").recipient("3").status == "created"
    first = result.attempts[0]
    assert (first.configuration, first.status, first.end - first.time) == ("everything", 503, 1000)


def test_forcing_a_mode_overrides_every_configuration() -> None:
    text = BASE.replace('name = "listener"', 'name = "listener"\nmode = "aggregate"')
    scenario = parse_scenario(text, "s.toml")
    assert scenario.build().run().mode("listener") == "aggregate"
    assert scenario.build(mode="sim").run().mode("listener") == "sim"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace('name = "listener"', 'name = "listener'),
         r"s\.toml: TOML syntax error: .*line 6"),
        (lambda t: t + "\n[extra]\n", r"s\.toml: top level: unknown key 'extra'"),
        (lambda t: t.replace('name = "listener"', 'name = "listener"\nretries = 3'),
         r"s\.toml: configuration 'listener': unknown key 'retries' \(allowed: "),
        (lambda t: t.replace('at = "0s"', 'at = "2x"'),
         r"s\.toml: action 1 at: bad duration '2x'"),
        (lambda t: t.replace('at = "0s"', "at = 5"),
         r"s\.toml: action 1 at: expected an offset like '2m20s' or an ISO time, got 5"),
        (lambda t: t.replace('at = "0s"', 'at = "2020-01-01T00:00:00Z"'),
         r"s\.toml: action 1 at: .* is before the simulation start"),
        (lambda t: t + '\n[[action]]\nat = "1m"\nenvelope = "nope"\ndo = "void"\n',
         r"s\.toml: action 2: no envelope with id 'nope'"),
        (lambda t: t + '\n[[action]]\nat = "1m"\nenvelope = "e1"\ndo = "view"\nrecipient = "bob"\n',
         r"s\.toml: action 2: envelope 'e1' has no recipient 'bob' \(its recipients: 'sue', 'cc'\)"),
        (lambda t: t + '\n[[action]]\nat = "1m"\nenvelope = "e1"\ndo = "dance"\n',
         r"s\.toml: action 2: unknown action 'dance'"),
        (lambda t: t + '\n[[envelope]]\nid = "e1"\n',
         r"s\.toml: envelope 'e1': an envelope with id 'e1' exists already"),
        (lambda t: t.replace('{ id = "cc"', '{ id = "sue"'),
         r"s\.toml: envelope 'e1': two recipients have the id 'sue'$"),
        (lambda t: t + '\n[[configuration]]\nname = "listener"\n',
         r"s\.toml: configuration 'listener': a configuration named 'listener' exists already"),
        (lambda t: t.replace('name = "listener"', 'name = "listener"\nevents = ["envelope-signed"]'),
         r"s\.toml: configuration 'listener': unknown event 'envelope-signed'"),
        (lambda t: t.replace('name = "listener"', 'name = "listener"\nevents = ["Sent"]'),
         r"unknown event 'Sent' \(a legacy trigger name: use envelope_events"),
        (lambda t: t.replace('name = "listener"', 'name = "listener"\nmode = "batch"'),
         r"s\.toml: configuration 'listener': mode must be one of"),
        (lambda t: t.replace('name = "listener"', 'name = "listener"\ntimeout = 100'),
         r"s\.toml: configuration 'listener': timeout must be a duration like '24h', got 100"),
        (lambda t: t.replace('name = "listener"', 'name = "listener"\nlistener = { kind = "psychic" }'),
         r"""s\.toml: configuration 'listener' listener: unknown kind "psychic" \(kinds: """),
        (lambda t: t.replace('name = "listener"', 'name = "listener"\nlistener = { kind = "flaky", failure_rate = 2 }'),
         r"s\.toml: configuration 'listener': failure_rate: expected a probability"),
        (lambda t: t.replace('name = "listener"',
                             'name = "listener"\nlistener = { kind = "outage", windows = [["5h", "1h"]] }'),
         r"""s\.toml: configuration 'listener' listener: outage window \["5h", "1h"\]: the end must come after the start$"""),
        (lambda t: t.replace('name = "listener"', 'name = "listener"\nlistener = { kind = "flaky" }'),
         r"s\.toml: configuration 'listener' listener: missing key 'failure_rate' for kind 'flaky'"),
        (lambda t: t.replace('name = "listener"', 'name = "listener"\nlistener = { kind = "flaky", failure_rate = 0.1, seed = "x" }'),
         r"s\.toml: configuration 'listener': seed: expected a whole number or None"),
        (lambda t: t.replace('type = "signer"', 'type = "notary"'),
         r"""s\.toml: envelope 'e1' recipient 1: unknown type "notary" \(types: """),
        (lambda t: t.replace('email = "sue@example.com"', 'email = ""'),
         r"s\.toml: envelope 'e1' recipient 1: recipient email: expected non-empty text"),
        (lambda t: t.replace("seed = 3", 'seed = "three"'),
         r"s\.toml: \[simulation\]: seed must be a whole number"),
        (lambda t: t.replace("seed = 3", 'seed = 3\nstart = "yesterday"'),
         r"s\.toml: \[simulation\] start: bad time 'yesterday'"),
        (lambda t: t.replace('do = "send"', 'do = "send"\nrecipient = "sue"'),
         r"s\.toml: action 1: send: concerns the whole envelope, not a recipient"),
        (lambda t: t.replace('name = "listener"', 'name = "listener"\ninclude_data = ["recipient"]'),
         r"s\.toml: configuration 'listener': include_data: unknown option 'recipient'"),
        (lambda t: t.replace('name = "listener"', 'name = "listener"\nhmac_keys = 5'),
         r"s\.toml: configuration 'listener': hmac_keys: expected a key \(text\) or a list of keys, got a int$"),
        (lambda t: t.replace('name = "listener"', 'name = "listener"\npassword = "s3cret"'),
         r"s\.toml: configuration 'listener': give both username and password, or neither"),
        (lambda t: t.replace('subject = "Hello"', 'subject = "Hello"\ncustom_fields = ["a"]'),
         r"s\.toml: envelope 'e1': custom_fields must be a table"),
        (lambda t: t.replace('subject = "Hello"', 'subject = "Hello"\ncustom_fields = { Region = 5 }'),
         r"s\.toml: envelope 'e1': custom field 'Region': expected text, got 5"),
        (lambda t: t.replace('subject = "Hello"', 'subject = "Hello"\ndocuments = [{ name = "a.pdf", content = 5 }]'),
         r"s\.toml: envelope 'e1' document 1: document content: expected bytes or text, got 5"),
        (lambda t: t.replace('subject = "Hello"', 'subject = "Hello"\ndocuments = [{ content = "x" }]'),
         r"s\.toml: envelope 'e1' document 1: missing key 'name'"),
        (lambda t: t + '\n[account]\nutc_offset = "8 hours"\n',
         r"s\.toml: \[account\]: account utc_offset: expected text such as '-08:00'"),
        (lambda t: t + '\n[account]\nzone = "UTC"\n',
         r"s\.toml: \[account\]: unknown key 'zone'"),
        # Durations and instants past what a run can write (issue 8, item 4).
        (lambda t: t.replace('at = "0s"', 'at = "1000000000d"'),
         r"s\.toml: action 1 at: duration '1000000000d' is longer than the longest duration allowed \(36500d, about a century\)$"),
        (lambda t: t.replace('at = "0s"', 'at = "99999999999999999999d"'),
         r"s\.toml: action 1 at: duration '99999999999999999999d' is longer than"),
        (lambda t: t.replace('at = "0s"', 'at = "9999-12-31T00:00:00Z"'),
         r"s\.toml: action 1 at: 9999-12-31T00:00:00\+00:00 is more than 36500d \(about a century\) after the simulation start$"),
        (lambda t: t.replace("seed = 3", "seed = 3\nstart = 9999-12-31T23:00:00Z"),
         r"s\.toml: \[simulation\] start: 9999-12-31T23:00:00\+00:00 is outside the years a simulation may start in \(1900 to 8999\)"),
        (lambda t: t.replace("seed = 3", 'seed = 3\nstart = "9999-12-31T23:00:00-05:00"'),
         r"s\.toml: \[simulation\] start: bad time .* past the year 9999"),
        (lambda t: t.replace('name = "listener"', 'name = "listener"\nretry_interval = "3000000d"'),
         r"s\.toml: configuration 'listener': retry_interval: duration '3000000d' is longer than"),
        (lambda t: t.replace('name = "listener"', 'name = "listener"\nmode = "aggregate"\naggregation_window = "36501d"'),
         r"s\.toml: configuration 'listener': aggregation_window: duration '36501d' is longer than"),
        (lambda t: t.replace('name = "listener"',
                             'name = "listener"\nlistener = { kind = "outage", windows = [["1h", "40000d"]] }'),
         r"s\.toml: configuration 'listener' listener: duration '40000d' is longer than"),
        (lambda t: "x = " + "[" * 3000 + "]" * 3000 + "\n" + t,
         r"s\.toml: TOML nested too deeply to read$"),
        # Values shown as TOML, secrets hidden (item 5).
        (lambda t: 'configuration = [[{ name = "c", password = "PW-SECRET", hmac_keys = ["KEY-SECRET"] }]]\n'
                   + t.replace('[[configuration]]\nname = "listener"', ""),
         r"""s\.toml: configuration 1: expected a table, got \[\{ name = "c", password = <hidden>, hmac_keys = <hidden> \}\]$"""),
        (lambda t: t.replace('name = "listener"', 'name = "listener"\nlistener = { kind = "always_ok", latency = 1979-05-27 }'),
         r"s\.toml: configuration 'listener' listener: latency: a TOML date or time is not a value here, got 1979-05-27$"),
        (lambda t: t.replace('name = "listener"', 'name = "listener"\ntimeout = 07:32:00'),
         r"s\.toml: configuration 'listener': timeout: a TOML date or time is not a value here, got 07:32:00$"),
        (lambda t: t.replace("seed = 3", "seed = 3\nstart = 1979-05-27"),
         r"s\.toml: \[simulation\] start: expected an ISO time with a zone, got 1979-05-27$"),
        (lambda t: t.replace("seed = 3", "seed = [true, 1.5]"),
         r"s\.toml: \[simulation\]: seed must be a whole number, got \[true, 1\.5\]$"),
        # Nonsense that used to be accepted (item 8).
        (lambda t: t.replace('name = "listener"', 'name = "listener"\nduplicate_rate = 0.5'),
         r"s\.toml: configuration 'listener': duplicate_rate and drop_rate are anomalies of Aggregate, and it runs under SIM \(the simulation's mode\)"),
        (lambda t: t.replace('name = "listener"', 'name = "listener"\nconfiguration_id = 10000000000000000000000000000000000000000'),
         r"s\.toml: configuration 'listener': configuration_id must be a whole number from 1 to 2147483647"),
        (lambda t: t.replace('name = "listener"',
                             'name = "listener"\nlistener = { kind = "outage", windows = [["1h", "2h"]], ok_status = "timeout" }'),
         r"s\.toml: configuration 'listener': ok_status: expected an HTTP status from 100 to 599, got 'timeout'$"),
        (lambda t: t.split("[[configuration]]")[0],
         r"s\.toml: top level: no \[\[envelope\]\]: nothing would happen$"),
        (lambda t: t.replace('[[configuration]]\nname = "listener"\n', ""),
         r"s\.toml: top level: no \[\[configuration\]\]: nothing would be delivered$"),
    ],
)  # fmt: skip
def test_bad_input_names_the_file_the_place_and_the_problem(change: object, message: str) -> None:
    with pytest.raises(cs.ScenarioError, match=message) as caught:
        parse_scenario(change(BASE), "s.toml").build()  # type: ignore[operator]
    assert "\n" not in str(caught.value)


def test_an_action_the_state_does_not_allow_is_found_by_the_run_and_named() -> None:
    text = BASE + '\n[[action]]\nat = "1m"\nenvelope = "e1"\ndo = "view"\nrecipient = "cc"\n'
    sim = parse_scenario(text, "s.toml").build()
    with pytest.raises(cs.InvalidAction, match=r"s\.toml: action 2: view by 'cc' on 'e1' at 1m"):
        sim.run()


def test_an_unreadable_file_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(cs.ScenarioError, match="cannot read the file"):
        load_scenario(tmp_path / "missing.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(cs.ScenarioError, match="cannot read the file"):
        load_scenario(binary)


def test_account_custom_fields_documents_and_secrets_from_a_file() -> None:
    text = (
        BASE.replace(
            'subject = "Hello"',
            """subject = "Hello"
custom_fields = { Region = "EMEA", Deal = "42" }
documents = [{ name = "lease.pdf", content = "%PDF lease" }, { id = "9", name = "terms.pdf" }]
""",
        ).replace(
            'name = "listener"',
            """name = "listener"
format = "xml"
include_data = ["documents", "recipients"]
hmac_keys = ["one", "two"]
username = "connect"
password = "pw"
configuration_id = 1234
""",
        )
        + """
[account]
account_id = "11111111-2222-4333-8444-555555555555"
user_name = "Ann Admin"
email = "ann@example.com"
time_zone = "Pacific Standard Time"
utc_offset = "-08:00"
"""
    )
    sim = parse_scenario(text, "s.toml").build()
    envelope = sim.envelope("e1")
    assert envelope.custom_fields == (("Region", "EMEA"), ("Deal", "42"))
    assert [(d.document_id, d.name, d.content) for d in envelope.documents] == [
        ("1", "lease.pdf", b"%PDF lease"), ("9", "terms.pdf", b"")
    ]  # fmt: skip
    attempt = sim.run().attempts[-1]
    headers = attempt.headers
    assert headers["X-DocuSign-AccountId"] == "11111111-2222-4333-8444-555555555555"
    assert cs.verify_hmac(attempt.body, headers, ["two"])
    assert headers["Authorization"].startswith("Basic ")
    body = attempt.body.decode()
    assert (
        "<UserName>Ann Admin</UserName>" in body and "<TimeZoneOffset>-8</TimeZoneOffset>" in body
    )
    assert "<PDFBytes>JVBERiBsZWFzZQ==</PDFBytes>" in body
    message = cs.parse_message(attempt.body, headers["Content-Type"])
    assert message.custom_fields == (("Region", "EMEA"), ("Deal", "42"))


def many_envelopes(count: int) -> str:
    """A scenario of ``count`` envelopes of the seed example's shape, each sent and signed."""
    parts = ['[simulation]\nseed = 3\n\n[[configuration]]\nname = "listener"\n']
    for number in range(count):
        parts.append(
            f'[[envelope]]\nid = "e{number}"\nsubject = "Please sign"\nrecipients = [\n'
            '  { id = "sue", type = "signer", name = "Sue", email = "sue@example.com" },\n'
            '  { id = "cc", type = "carbon_copy", name = "Cy", email = "cy@example.com", '
            "routing_order = 2 },\n]\n"
        )
    for number in range(count):
        parts.append(f'[[action]]\nat = "{number}s"\ndo = "send"\nenvelope = "e{number}"\n')
        parts.append(
            f'[[action]]\nat = "{number + 60}s"\ndo = "sign"\nenvelope = "e{number}"\n'
            'recipient = "sue"\n'
        )
    return "\n".join(parts)


def test_building_once_lets_go_of_the_tables_and_builds_the_same() -> None:
    import gc
    import tracemalloc

    from connect_sim.report import trace_records

    text = many_envelopes(2000)
    kept = {}
    for once in (False, True):
        tracemalloc.start()
        scenario = parse_scenario(text, "many.toml")
        sim = scenario.build(once=once)
        gc.collect()
        kept[once] = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        if once:
            with pytest.raises(cs.ScenarioError, match=r"many\.toml: built once already"):
                scenario.build()
        assert trace_records(sim.run()) == trace_records(parse_scenario(text, "x").build().run())
    # Built once, the scenario holds about 1 KB an envelope less beside the simulation.
    assert kept[False] - kept[True] > 2000 * 800, kept
