"""Nonsense in a scenario file only ever raises ScenarioError, and the run only InvalidAction."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import connect_sim as cs
from connect_sim.scenario import Scenario

# Values of every TOML type, including nested ones, and some near-miss texts.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.floats(allow_nan=True),
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
            {"name": "d", "listener": {"kind": "always_ok", "status": 201}},
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
            node[last] = draw(values)
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
    """("ok", "") or the library error's type and message; anything else propagates."""
    try:
        simulation = Scenario("fuzz.toml", document).build()
    except cs.ScenarioError as error:
        return "ScenarioError", str(error)
    try:
        simulation.run()
    except cs.InvalidAction as error:
        return "InvalidAction", str(error)
    return "ok", ""


@given(documents())
@settings(max_examples=settings().max_examples * 4)  # cheap examples: run more of them
def test_nonsense_raises_only_scenario_error(document: dict[str, Any]) -> None:
    kind, message = outcome(document)
    if kind == "ScenarioError":
        assert message.startswith("fuzz.toml: ")
        assert "\n" not in message
        assert message.count("fuzz.toml") == 1, "the file named twice"
    elif kind == "InvalidAction":
        assert message.startswith("fuzz.toml: action ")
