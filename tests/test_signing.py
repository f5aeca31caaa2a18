"""Headers, HMAC signatures and Basic auth; secrets never shown."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import connect_sim as cs
from connect_sim.cli import main

from builders import seed_example

# RFC 4231, test case 2: HMAC-SHA256 with key "Jefe" over "what do ya want for nothing?".
RFC4231_KEY = "Jefe"
RFC4231_DATA = b"what do ya want for nothing?"
RFC4231_HEX = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"

KEYS = ["first-secret-key-aaaaaaaaaaaa", "second-secret-key-bbbbbbbbbbb"]
PASSWORD = "pa55-word-that-must-not-leak"


def independent(body: bytes, key: str) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def test_the_published_test_vector() -> None:
    expected = base64.b64encode(bytes.fromhex(RFC4231_HEX)).decode()
    assert cs.hmac_signature(RFC4231_DATA, RFC4231_KEY) == expected
    assert cs.verify_hmac(RFC4231_DATA, {"X-DocuSign-Signature-1": expected}, [RFC4231_KEY])


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_each_attempt_is_signed_with_every_key_in_order(fmt: str) -> None:
    sim, _ = seed_example("sim", format=fmt, hmac_keys=KEYS)
    result = sim.run()
    assert len(result.attempts) == 6
    for attempt in result.attempts:
        headers = attempt.headers
        assert headers["X-Authorization-Digest"] == "HMACSHA256"
        assert headers["X-DocuSign-Signature-1"] == independent(attempt.body, KEYS[0])
        assert headers["X-DocuSign-Signature-2"] == independent(attempt.body, KEYS[1])
        assert "X-DocuSign-Signature-3" not in headers
        assert headers["X-DocuSign-AccountId"] == sim.account.account_id


def test_without_keys_there_is_no_signature() -> None:
    sim, _ = seed_example("sim")
    headers = sim.run().attempts[0].headers
    assert list(headers) == ["Content-Type", "X-DocuSign-AccountId"]


def test_key_rotation_either_key_verifies() -> None:
    sim, _ = seed_example("sim", hmac_keys=KEYS)
    attempt = sim.run().attempts[0]
    body, headers = attempt.body, attempt.headers
    assert cs.verify_hmac(body, headers, [KEYS[0]])  # a listener that has not rotated yet
    assert cs.verify_hmac(body, headers, [KEYS[1]])  # one that has
    assert cs.verify_hmac(body, headers, ["unrelated", KEYS[1]])
    assert not cs.verify_hmac(body, headers, ["unrelated"])
    lowered = {name.lower(): value for name, value in headers.items()}  # as WSGI servers give them
    assert cs.verify_hmac(body, lowered, [KEYS[1]])
    assert not cs.verify_hmac(body + b"\n", headers, KEYS)  # one byte more: no match
    assert not cs.verify_hmac(body, {"Content-Type": "application/json"}, KEYS)


def test_a_digest_header_naming_another_algorithm_is_not_verified() -> None:
    body = b"{}"
    headers = {
        "X-Authorization-Digest": "HMACSHA1",
        "X-DocuSign-Signature-1": independent(body, "k"),
    }
    assert not cs.verify_hmac(body, headers, ["k"])


def test_verify_hmac_refuses_nonsense_with_its_own_error() -> None:
    with pytest.raises(cs.PayloadError, match="no keys given"):
        cs.verify_hmac(b"{}", {}, [])
    with pytest.raises(cs.PayloadError, match="the body must be bytes"):
        cs.verify_hmac("{}", {}, ["k"])  # type: ignore[arg-type]
    with pytest.raises(cs.PayloadError, match="an HMAC key must be text or bytes, got a int"):
        cs.verify_hmac(b"{}", {}, [1234])  # type: ignore[list-item]


@given(body=st.binary(max_size=200), keys=st.lists(st.text(min_size=1), min_size=1, max_size=3))
def test_signatures_match_an_independent_computation(body: bytes, keys: list[str]) -> None:
    headers = {f"X-DocuSign-Signature-{n}": cs.hmac_signature(body, key)
               for n, key in enumerate(keys, start=1)}  # fmt: skip
    assert list(headers.values()) == [independent(body, key) for key in keys]
    for key in keys:
        assert cs.verify_hmac(body, headers, [key])


def test_basic_auth_header() -> None:
    sim, _ = seed_example("sim", username="connect", password=PASSWORD)
    headers = sim.run().attempts[0].headers
    token = base64.b64encode(f"connect:{PASSWORD}".encode()).decode()
    assert headers["Authorization"] == f"Basic {token}"


def test_basic_auth_needs_both_halves() -> None:
    with pytest.raises(cs.ConfigurationError, match="both username and password"):
        cs.Configuration(name="c", username="connect")


def test_secrets_never_appear_in_reprs_traces_or_errors(tmp_path: Path) -> None:
    configuration = cs.Configuration(
        name="c", hmac_keys=KEYS, username="connect", password=PASSWORD
    )
    secrets = [*KEYS, PASSWORD, base64.b64encode(f"connect:{PASSWORD}".encode()).decode()]
    shown = [repr(configuration), str(configuration)]
    sim = cs.Simulation()
    sim.add_configuration(configuration)
    sim.send(sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com")]))
    result = sim.run()
    shown += [repr(a) for a in result.attempts] + [repr(result.channel("c").renderer)]
    for bad in ({"hmac_keys": KEYS[0]}, {"hmac_keys": [KEYS[0], 7]}, {"hmac_keys": [""]},
                {"username": "connect", "password": 12345}):  # fmt: skip
        with pytest.raises(cs.ConfigurationError) as error:
            cs.Configuration(name="c", **bad)  # type: ignore[arg-type]
        shown.append(str(error.value))
    with pytest.raises(cs.PayloadError) as payload_error:
        cs.verify_hmac(b"{}", {}, [object()])  # type: ignore[list-item]
    shown.append(str(payload_error.value))
    scenario = tmp_path / "secret.toml"
    scenario.write_text(
        f"""
[[configuration]]
name = "c"
hmac_keys = {json.dumps(KEYS)}
username = "connect"
password = "{PASSWORD}"

[[envelope]]
id = "e1"
recipients = [{{ type = "signer", name = "Sue", email = "sue@example.com" }}]

[[action]]
at = "0"
envelope = "e1"
do = "send"
""",
        encoding="utf-8",
    )
    assert main(["run", str(scenario), "--out", str(tmp_path / "out")]) == 0
    trace = (tmp_path / "out" / "trace.jsonl").read_text(encoding="utf-8")
    assert '"Authorization": "Basic <hidden>"' in trace
    shown.append(trace)
    shown.append((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    for text in shown:
        for secret in secrets:
            assert secret not in text
