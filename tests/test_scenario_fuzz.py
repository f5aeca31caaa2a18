"""Nonsense in a scenario file only ever raises ScenarioError, and the run only InvalidAction.

Two fuzzers: one breaks a valid scenario's parsed document in one to three
places (values of every TOML type, huge numbers and durations, date-times,
deep nesting), the other breaks its TOML text byte by byte.  Neither may get
anything out but the library's errors, an error may never name a secret of
the file, and whatever runs renders every body and writes its trace.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, time
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import connect_sim as cs
from connect_sim.report import trace_records
from connect_sim.scenario import Scenario, parse_scenario

PASSWORD = "PW-SECRET-x1"
KEY = "KEY-SECRET-y2"

# Values of every TOML type, including nested ones, and some near-miss texts.
scalars = st.one_of(
    st.none(),  # no TOML value, but Scenario takes documents from Python too
    st.booleans(),
    st.integers(-5, 10**6),
    st.sampled_from([10**40, -(10**40), 2**31, 2**63 - 1]),
    st.floats(allow_nan=True),
    st.sampled_from([datetime(2026, 1, 1, 9, tzinfo=UTC), datetime(2026, 1, 1, 9),
                     datetime(9999, 12, 31, 23, tzinfo=UTC), date(1979, 5, 27), time(7, 32)]),
    st.sampled_from(["1000000000d", "99999999999999999999d", "36500d", "36501d",
                     "9" * 40 + "ms", "9999-12-31T23:00:00Z", "9999-12-31T23:00:00-05:00",
                     "1900-01-01T00:00:00Z"]),
    st.sampled_from(["", "0", "1m", "2x", "sue", "e1", "sim", "aggregate", "timeout",
                     "2026-01-01T00:00:00Z", "send", "view", "sign", "always_ok", "outage",
                     "flaky", "scripted", "signer", "carbon_copy", "envelope-sent", "Sent"]),
    st.text(max_size=5),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
# Deep nesting, which tomllib reads and every error message must survive.
deep = st.integers(10, 400).map(lambda depth: _nest(depth))


def _nest(depth: int) -> Any:
    value: Any = "x"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


def valid() -> dict[str, Any]:
    """A scenario that uses every section and listener kind: the fuzzer's starting point."""
    return {
        "simulation": {"start": "2026-01-01T00:00:00Z", "seed": 1, "mode": "sim"},
        "configuration": [
            {"name": "a", "events": ["envelope-sent"], "format": "json", "mode": "aggregate",
             "require_acknowledgement": True, "retry_interval": "1h", "max_retries": 2,
             "aggregation_window": "30s", "timeout": "10s", "duplicate_rate": 0.5,
             "drop_rate": 0.1, "listener": {"kind": "outage", "windows": [["1m", "2h"]],
                                            "status": 503, "ok_status": 200, "latency": "1s"}},
            {"name": "b", "envelope_events": ["Sent"], "recipient_events": ["Completed"],
             "envelope": "e1", "listener": {"kind": "flaky", "failure_rate": 0.3, "seed": 2,
                                            "status": "timeout"}},
            {"name": "c", "listener": {"kind": "scripted", "responses": [500, "timeout"],
                                       "then": 200}},
            {"name": "d", "listener": {"kind": "always_ok", "status": 201}, "format": "xml",
             "username": "connect", "password": PASSWORD, "hmac_keys": [KEY, KEY + "2"]},
        ],
        "envelope": [
            {"id": "e1", "subject": "S", "created": "0", "recipients": [
                {"id": "sue", "type": "signer", "name": "Sue", "email": "s@x", "routing_order": 1},
                {"id": "cc", "type": "carbon_copy", "name": "C", "email": "c@x", "routing_order": 2},
            ]},
        ],
        "action": [
            {"at": "0s", "envelope": "e1", "do": "send"},
            {"at": "1m", "envelope": "e1", "do": "sign", "recipient": "sue"},
            {"at": "2m", "envelope": "e1", "do": "decline", "recipient": "sue", "reason": "no"},
        ],
    }  # fmt: skip


def places(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside the document."""
    found = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += places(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += places(value, (*path, index))
    return found


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """A valid scenario with one to three places broken: replaced, removed, or a key added."""
    doc = valid()
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(places(doc)))
        *parents, last = path
        node = doc
        for step in parents:
            node = node[step]
        how = draw(st.sampled_from(["replace", "replace", "remove", "add"]))
        if how == "replace":
            node[last] = draw(st.one_of(values, deep) if draw(st.integers(0, 9)) == 0 else values)
        elif how == "remove":
            del node[last]
        elif isinstance(node, dict):
            node[draw(st.text(max_size=6))] = draw(values)
        else:
            node.append(draw(values))
        if not places(doc):
            break
    return doc


def outcome(document: dict[str, Any]) -> tuple[str, str]:
    """("ok", "") or the library error's type and message; anything else propagates.

    A run that completes renders every body and its trace, as ``connect-sim run`` does.
    """
    try:
        simulation = Scenario("fuzz.toml", document).build()
    except cs.ScenarioError as error:
        return "ScenarioError", str(error)
    try:
        result = simulation.run()
    except cs.InvalidAction as error:
        return "InvalidAction", str(error)
    try:
        trace_records(result)
    except cs.PayloadError as error:  # text the XML format cannot carry
        return "PayloadError", str(error)
    return "ok", ""


def check(kind: str, message: str) -> None:
    assert PASSWORD not in message and KEY not in message, message
    if kind == "ScenarioError":
        assert message.startswith("fuzz.toml: ")
        assert "\n" not in message
        assert message.count("fuzz.toml") == 1, "the file named twice"
    elif kind == "InvalidAction":
        assert message.startswith("fuzz.toml: action ")


@given(documents())
@settings(max_examples=settings().max_examples * 4)  # cheap examples: run more of them
def test_nonsense_raises_only_scenario_error(document: dict[str, Any]) -> None:
    check(*outcome(document))


def _toml(value: Any) -> str:
    """A TOML document for the fuzzer's starting point (tomllib reads, never writes)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{key} = {_toml(item)}" for key, item in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


VALID_TOML = "\n".join(f"{key} = {_toml(value)}" for key, value in valid().items())


@st.composite
def toml_texts(draw: st.DrawFn) -> str:
    """The valid scenario as TOML text, with one to four spans cut, repeated or replaced."""
    text = VALID_TOML
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 12)))
        how = draw(st.sampled_from(["cut", "repeat", "replace", "nest"]))
        if how == "cut":
            text = text[:start] + text[end:]
        elif how == "repeat":
            text = text[:end] + text[start:end] * draw(st.integers(1, 3)) + text[end:]
        elif how == "nest":
            depth = draw(st.sampled_from([3, 50, 3000]))
            text = text[:start] + "[" * depth + "1" + "]" * depth + text[start:]
        else:
            text = text[:start] + draw(st.text(max_size=6)) + text[end:]
    return text


def test_the_fuzzers_starting_points_are_valid() -> None:
    assert tomllib.loads(VALID_TOML) == valid()
    assert outcome(valid())[0] in ("ok", "InvalidAction")


@given(toml_texts())
@settings(max_examples=settings().max_examples * 4)
def test_broken_toml_text_raises_only_scenario_error(text: str) -> None:
    try:
        simulation = parse_scenario(text, "fuzz.toml").build()
    except cs.ScenarioError as error:
        check("ScenarioError", str(error))
        return
    try:
        trace_records(simulation.run())
    except (cs.InvalidAction, cs.PayloadError) as error:
        check(type(error).__name__, str(error))


# Pieces of TOML text around the headers a scenario file is cut at: tables of
# both arrays, sub-tables of their last tables, headers written otherwise, a cut
# inside a multi-line string, static arrays and tables of the same keys, CRLF,
# comments, and plain mistakes.
FRAGMENTS = [
    "[simulation]\nseed = 1\n",
    '[[configuration]]\nname = "c"\n',
    'configuration = [{ name = "d" }]\n',
    '[[envelope]]\nid = "e1"\n',
    '[[envelope]]  # a comment\nid = "e2"\nrecipients = [\n  { id = "s", type = "signer" },\n]\n',
    '[[ envelope ]]\nid = "e3"\n',
    '[["action"]]\nat = "1s"\n',
    '[[action]]\nat = "2s"\nenvelope = "e1"\ndo = "send"\n',
    '[[action]]\r\nat = "3s"\r\n',
    "[envelope.extra]\nx = 1\n",
    '[[envelope.recipients]]\nid = "r"\n',
    "[[action.sub]]\ny = 2\n",
    'note = """\n[[action]]\nstill text\n"""\n',
    "lit = '''\n[[envelope]]\n'''\n",
    'action = [{ at = "0s" }]\n',
    "[action]\nz = 1\n",
    "envelope.dotted = 1\n",
    "# only a comment\n",
    'k = "v"\n',
    '[[envelope]]\nk = "v"\nk = "w"\n',
    "bad = \n",
    "\n",
]


@settings(max_examples=300)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=12), st.sampled_from([1, 2, 256]))
def test_a_file_read_in_pieces_is_the_file_read_whole(pieces: list[str], size: int) -> None:
    import pytest

    from connect_sim import scenario

    text = "".join(pieces)
    try:
        whole: object = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        whole = f"error: {error}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scenario, "_PIECE", size)
        try:
            read: object = scenario._read(text)
        except tomllib.TOMLDecodeError as error:
            read = f"error: {error}"
    assert read == whole


def test_a_piece_nested_too_deeply_after_a_wrong_first_piece_gives_tomllibs_error() -> None:
    # Found by a reviewer: the whole file fails at the header, before the deep piece.
    import re

    import pytest

    from connect_sim import scenario

    for first in ("envelope = 1\n", "[envelope]\n", "envelope = []\n"):
        text = first + "[[envelope]]\nx = " + "[" * 2000 + "]" * 2000 + "\n"
        with pytest.raises(tomllib.TOMLDecodeError) as whole:
            tomllib.loads(text)
        with pytest.raises(tomllib.TOMLDecodeError, match=re.escape(str(whole.value))):
            scenario._read(text)
