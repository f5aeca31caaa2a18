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
    with pytest.raises(cs.ConfigurationError, match="no keys given"):
        cs.verify_hmac(b"{}", {}, [])
    with pytest.raises(cs.PayloadError, match="the body must be bytes"):
        cs.verify_hmac("{}", {}, ["k"])  # type: ignore[arg-type]
    with pytest.raises(cs.ConfigurationError, match="key 1 must be text or bytes, got a int"):
        cs.verify_hmac(b"{}", {}, [1234])  # type: ignore[list-item]


def test_a_single_key_given_as_text_is_one_key_not_its_characters() -> None:
    body = b'{"event":"envelope-completed"}'
    forged = {"X-DocuSign-Signature-1": cs.hmac_signature(body, "s")}  # signed with one letter
    assert not cs.verify_hmac(body, forged, "secret")
    assert not cs.verify_hmac(body, forged, b"secret")
    genuine = {"X-DocuSign-Signature-1": cs.hmac_signature(body, "secret")}
    assert cs.verify_hmac(body, genuine, "secret")
    assert cs.verify_hmac(body, genuine, b"secret")
    assert cs.verify_hmac(body, genuine, ("other", "secret"))  # any iterable of keys
    assert cs.verify_hmac(body, genuine, (key for key in ["other", "secret"]))


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (None, r"keys: expected a key \(text or bytes\) or a list of keys, got a NoneType"),
        (5, r"keys: expected a key .* got a int"),
        ({"secret": 1}, r"keys: expected a key .* got a dict"),
        ("", r"keys is empty: an empty key signs nothing"),
        (b"", r"keys is empty"),
        (["good", ""], r"keys: key 2 is empty"),
        (["good", 7], r"keys: key 2 must be text or bytes, got a int"),
        (["\ud800secret"], r"keys: key 1 is not valid Unicode text \(it holds a lone surrogate\)"),
    ],
)  # fmt: skip
def test_bad_keys_are_the_librarys_error_and_never_shown(keys: object, message: str) -> None:
    body = b"{}"
    headers = {"X-DocuSign-Signature-1": cs.hmac_signature(body, "good")}
    with pytest.raises(cs.ConfigurationError, match=message) as caught:
        cs.verify_hmac(body, headers, keys)  # type: ignore[arg-type]
    assert "secret" not in str(caught.value)


def test_hmac_signature_takes_one_key_and_refuses_what_signs_nothing() -> None:
    assert cs.hmac_signature(b"x", "key") == cs.hmac_signature(b"x", b"key")
    for key, message in (("", "the key is empty"), (b"", "the key is empty"),
                         (["key"], "must be text or bytes, got a list"), (None, "got a NoneType"),
                         ("\ud800", "lone surrogate")):  # fmt: skip
        with pytest.raises(cs.ConfigurationError, match=message):
            cs.hmac_signature(b"x", key)  # type: ignore[arg-type]
    with pytest.raises(cs.PayloadError, match="the body must be bytes"):
        cs.hmac_signature("x", "key")  # type: ignore[arg-type]


def test_a_configuration_takes_one_key_or_a_list_of_text_keys() -> None:
    assert cs.Configuration(name="c", hmac_keys="only").hmac_keys == ("only",)
    assert cs.Configuration(name="c", hmac_keys=["a", "b"]).hmac_keys == ("a", "b")
    assert cs.Configuration(name="c", hmac_keys=iter(["a"])).hmac_keys == ("a",)
    for keys, message in ((b"k", "keys are text here, got bytes"), ([b"k"], "key 1 must be text"),
                          (5, "got a int"), (["a", ""], "key 2 is empty"),
                          (["\ud800"], "lone surrogate")):  # fmt: skip
        with pytest.raises(cs.ConfigurationError, match=message):
            cs.Configuration(name="c", hmac_keys=keys)  # type: ignore[arg-type]


def test_the_reference_listener_takes_one_key_and_refuses_none_at_all() -> None:
    from connect_sim.testing import ReferenceListener

    body = b"{}"
    forged = {"X-DocuSign-Signature-1": cs.hmac_signature(body, "s")}
    assert ReferenceListener(hmac_keys="secret")(body, forged) == 401
    with pytest.raises(cs.ConfigurationError, match="hmac_keys: no keys given"):
        ReferenceListener(hmac_keys=[])
    with pytest.raises(cs.ConfigurationError, match="key 1 is empty"):
        ReferenceListener(hmac_keys=[""])


def test_headers_whose_items_are_not_pairs_are_a_payload_error() -> None:
    class Odd:
        def __init__(self, items: object) -> None:
            self._items = items

        def items(self) -> object:
            return self._items

    for items in ([("X-DocuSign-Signature-1",)], 5, [("a", "b", "c")]):
        with pytest.raises(cs.PayloadError, match=r"headers\.items\(\)"):
            cs.verify_hmac(b"{}", Odd(items), ["k"])  # type: ignore[arg-type]
    with pytest.raises(cs.PayloadError, match="headers must be a mapping, got a list"):
        cs.verify_hmac(b"{}", [("a", "b")], ["k"])  # type: ignore[arg-type]
    # Names or values that are not text are not headers a server gives: never a signature.
    assert not cs.verify_hmac(b"{}", {1: cs.hmac_signature(b"{}", "k")}, ["k"])  # type: ignore[dict-item]


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
    for bad in ({"hmac_keys": KEYS[0].encode()}, {"hmac_keys": [KEYS[0], 7]},
                {"hmac_keys": [""]}, {"hmac_keys": [KEYS[0] + "\ud800"]},
                {"username": "connect", "password": 12345},
                {"username": "connect", "password": PASSWORD + "\udfff"}):  # fmt: skip
        with pytest.raises(cs.ConfigurationError) as error:
            cs.Configuration(name="c", **bad)  # type: ignore[arg-type]
        shown.append(str(error.value))
    for keys in ([object()], [KEYS[0], ""], KEYS[0] + "\ud800"):
        with pytest.raises(cs.ConfigurationError) as key_error:
            cs.verify_hmac(b"{}", {}, keys)  # type: ignore[arg-type]
        shown.append(str(key_error.value))
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
