"""Nonsense through the Python API only ever raises the library's own errors.

Every public constructor and the simulation's methods are called with values
of every kind a caller might pass by mistake (None, booleans, huge numbers,
NaN, lone surrogates, bytes, nested containers, timedeltas and datetimes at
their extremes, classes, arbitrary objects); ``verify_hmac`` and
``hmac_signature`` with arbitrary bodies, headers and keys.  Whatever comes
out must be a :class:`~connect_sim.ConnectSimError`; a secret passed in must
never appear in an error.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import connect_sim as cs
from connect_sim import listeners
from connect_sim.testing import ReferenceListener

SECRET = "S3CRET-VALUE"

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([0, -1, 10**40, -(10**40), 2**31, 2**63]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.sampled_from(["", " ", "\ud800", "x\udfff", "2m20s", "1000000000d", "9" * 30 + "d",
                     "-1s", "1.5s", "+05:30", "-99:00", "json", "xml", "sim", "aggregate",
                     "envelope-sent", "Sent", "recipients", "/connect", "connect", SECRET]),
    st.binary(max_size=6),
    st.sampled_from([timedelta(0), timedelta(microseconds=1), timedelta(microseconds=500),
                     timedelta(days=-1), timedelta.max, timedelta.min, timedelta(days=40_000)]),
    st.sampled_from([datetime(2026, 1, 1), datetime(2026, 1, 1, tzinfo=UTC),
                     datetime.max.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC),
                     date(2026, 1, 1)]),
    st.sampled_from([object(), object, int, listeners.AlwaysOk, print, Ellipsis]),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=4), inner, max_size=2)
    ),
    max_leaves=6,
)

#: Each public constructor and the keyword arguments it takes.
CONSTRUCTORS: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {
    "Configuration": (cs.Configuration, (
        "name", "events", "envelope_events", "recipient_events", "format",
        "require_acknowledgement", "mode", "retry_interval", "max_retries",
        "aggregation_window", "timeout", "duplicate_rate", "drop_rate", "include_data",
        "hmac_keys", "username", "password", "configuration_id")),
    "Account": (cs.Account, ("account_id", "user_id", "user_name", "email", "time_zone",
                             "utc_offset")),
    "Signer": (cs.Signer, ("name", "email", "routing_order", "recipient_id")),
    "CarbonCopy": (cs.CarbonCopy, ("name", "email", "routing_order", "recipient_id")),
    "Document": (cs.Document, ("name", "content", "document_id")),
    "Simulation": (cs.Simulation, ("mode", "seed", "start", "account")),
    "AlwaysOk": (listeners.AlwaysOk, ("status", "latency")),
    "Outage": (listeners.Outage, ("windows", "status", "ok_status", "latency")),
    "Flaky": (listeners.Flaky, ("failure_rate", "seed", "status", "latency")),
    "Scripted": (listeners.Scripted, ("responses", "then", "latency")),
    "Callable": (listeners.Callable, ("fn", "latency")),
    "Wsgi": (listeners.Wsgi, ("app", "path", "latency")),
    "Asgi": (listeners.Asgi, ("app", "path", "latency")),
    "Degraded": (listeners.Degraded, ("listener", "behaviour")),
    "ReferenceListener": (ReferenceListener, ("hmac_keys",)),
}  # fmt: skip
REQUIRED = {"Configuration": ("name",), "Signer": ("name", "email"),
            "CarbonCopy": ("name", "email"), "Document": ("name",), "Outage": ("windows",),
            "Flaky": ("failure_rate",), "Scripted": ("responses",), "Callable": ("fn",),
            "Wsgi": ("app",), "Asgi": ("app",), "Degraded": ("listener", "behaviour")}  # fmt: skip


def outcome(call: Callable[[], object]) -> tuple[object, Exception | None]:
    """What the call returned, or the exception it raised."""
    try:
        return call(), None
    except Exception as error:  # the point: which kinds come out
        return None, error


def assert_own(error: Exception | None) -> None:
    assert error is None or isinstance(error, cs.ConnectSimError), (
        f"{type(error).__name__}: {error}"
    )


@given(name=st.sampled_from(sorted(CONSTRUCTORS)), data=st.data())
@settings(max_examples=settings().max_examples * 8)  # cheap calls: many of them
def test_constructors_refuse_nonsense_with_the_librarys_error(name: str, data: Any) -> None:
    make, keys = CONSTRUCTORS[name]
    chosen = data.draw(st.lists(st.sampled_from(keys), unique=True, max_size=4))
    kwargs = {key: data.draw(values, label=key) for key in (*REQUIRED.get(name, ()), *chosen)}
    made, error = outcome(lambda: make(**kwargs))
    assert_own(error)
    secrets = [key for key in ("password", "hmac_keys") if SECRET in repr(kwargs.get(key))]
    if error is not None:
        if secrets and SECRET not in repr({k: v for k, v in kwargs.items() if k not in secrets}):
            assert SECRET not in str(error), str(error)
        return
    if secrets:
        assert SECRET not in repr(made), repr(made)
    assert type(made).__name__ == name


@given(data=st.data())
@settings(max_examples=settings().max_examples * 4)
def test_simulation_methods_refuse_nonsense_with_the_librarys_error(data: Any) -> None:
    sim = cs.Simulation()
    sue = cs.Signer("Sue", "sue@example.com", recipient_id="sue")
    envelope = sim.create_envelope("S", [sue], id="e1")
    calls: list[Callable[[], object]] = [
        lambda: sim.add_configuration(data.draw(values), listener=data.draw(values)),
        lambda: sim.add_configuration(
            cs.Configuration("c"), listener=data.draw(values), envelope=data.draw(values)
        ),
        lambda: sim.create_envelope(
            data.draw(values),
            data.draw(values),
            id=data.draw(values),
            at=data.draw(values),
            custom_fields=data.draw(values),
            documents=data.draw(values),
        ),
        lambda: sim.act(
            data.draw(values),
            envelope,
            data.draw(values),
            at=data.draw(values),
            reason=data.draw(values),
        ),
        lambda: sim.act(
            data.draw(st.sampled_from(["send", "view", "sign", "void", "resend"])),
            data.draw(values),
            data.draw(values),
        ),
        lambda: sim.void(envelope, at=data.draw(values), reason=data.draw(values)),
        lambda: sim.envelope(data.draw(values)),
        lambda: sim.state(data.draw(values)),
        lambda: sim.run(until=data.draw(values)),
    ]
    for _ in range(data.draw(st.integers(1, 4))):
        assert_own(outcome(data.draw(st.sampled_from(calls)))[1])

    def run_and_render() -> None:
        for attempt in sim.run().attempts:
            _ = attempt.body, attempt.headers

    if sim._channels:
        assert_own(outcome(run_and_render)[1])


class _Headers:
    """A headers object whose items() gives whatever the fuzzer drew."""

    def __init__(self, items: object) -> None:
        self._items = items

    def items(self) -> object:
        return self._items


headers = st.one_of(
    st.dictionaries(st.one_of(st.text(max_size=8), st.sampled_from(
        ["X-DocuSign-Signature-1", "x-authorization-digest", "X-DocuSign-Signature-2"])),
        st.one_of(st.text(max_size=50), values), max_size=4),
    values.map(_Headers),
    values,
)  # fmt: skip


@given(body=st.one_of(st.binary(max_size=64), values), headers=headers,
       keys=st.one_of(values, st.lists(st.one_of(st.text(max_size=8), st.binary(max_size=8),
                                                 values), max_size=3)))  # fmt: skip
@settings(max_examples=settings().max_examples * 8)
def test_verify_hmac_answers_nonsense_with_a_bool_or_the_librarys_error(
    body: object, headers: object, keys: object
) -> None:
    verified, error = outcome(lambda: cs.verify_hmac(body, headers, keys))  # type: ignore[arg-type]
    assert_own(error)
    assert error is not None or isinstance(verified, bool)
    signature, error = outcome(lambda: cs.hmac_signature(body, keys))  # type: ignore[arg-type]
    assert_own(error)
    assert error is not None or isinstance(signature, str)


@given(key=st.text(min_size=1, max_size=12), body=st.binary(max_size=64))
def test_a_key_given_alone_verifies_only_its_own_signature(key: str, body: bytes) -> None:
    signed = {"X-DocuSign-Signature-1": cs.hmac_signature(body, key)}
    assert cs.verify_hmac(body, signed, key)
    # HMAC pads a short key with zero bytes, so keys that differ only by trailing NULs
    # are one key: a fact of HMAC (RFC 2104), not of connect-sim.
    for part in {p for p in (key[:1], key[1:]) if p and p.rstrip("\x00") != key.rstrip("\x00")}:
        assert not cs.verify_hmac(body, {"X-DocuSign-Signature-1": cs.hmac_signature(body, part)},
                                  key)  # fmt: skip
