"""Fuzzing parse_message: real bodies damaged at the byte level only ever raise the library's errors.

The seed bodies are rendered by a small simulation (both formats, recipients,
custom fields, a document, a decline, an account off UTC), so the mutations
start from what a listener really receives and reach deep into the parser.
Each example damages one body a few times over (flip, insert, delete,
truncate, duplicate a span, nest a span deeper, splice in markup, repeat
whole elements), and calls ``parse_message`` with a random content type,
body type and limits.  Nothing but :class:`~connect_sim.ConnectSimError` may
come out, and which one is fixed: :class:`~connect_sim.ConfigurationError`
exactly when a limit is not a positive integer,
:class:`~connect_sim.PayloadError` otherwise.

A second property checks the streaming XML reader against ElementTree: on
damaged XML bodies, both either refuse, or read the same texts.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import connect_sim as cs
from connect_sim.formats import XML_NAMESPACE

# An example costs a few milliseconds, nearly all of it Hypothesis drawing the damage, so
# the fuzz tests run five times the profile's examples: 2,500 each in the "ci" profile
# (about 35 s for both on two cores), 300 in "dev".
FUZZ = settings(max_examples=settings.default.max_examples * 5)


@functools.cache
def real_bodies() -> tuple[bytes, ...]:
    """Every body of a small simulation, JSON and XML: the fuzzer's starting points."""
    account = cs.Account(time_zone="India Standard Time", utc_offset="+05:30")
    sim = cs.Simulation(seed=4, account=account)
    include = ["recipients", "custom_fields", "documents"]
    sim.add_configuration(cs.Configuration(name="j", include_data=include))
    sim.add_configuration(cs.Configuration(name="x", format="xml", include_data=include))
    sue = cs.Signer("Sue Signer", "sue@example.com", 1, "sue")
    cc = cs.CarbonCopy("Charlie & Co <cc>", "cc@example.com", 2, "cc")
    env = sim.create_envelope(
        "Please sign \U0001f58a", [sue, cc], custom_fields={"Region": "EMEA", "Empty": ""},
        documents=[cs.Document("lease.pdf", b"%PDF-1.7 lease " * 20)],
    )  # fmt: skip
    sim.send(env)
    sim.view(env, "sue", at=timedelta(minutes=1))
    sim.sign(env, "sue", at=timedelta(minutes=2))
    other = sim.create_envelope("No thanks", [cs.Signer("Dan", "dan@example.com", 1, "dan")])
    sim.send(other, at=timedelta(minutes=3))
    sim.decline(other, "dan", at=timedelta(minutes=4), reason="Wrong\r\nterms")
    return tuple(attempt.body for attempt in sim.run().attempts)


# Bytes that mean something to one of the two parsers, to splice in.
TOKENS = [
    b"<", b">", b"</", b"/>", b"<a>", b"</a>", b"<![CDATA[", b"]]>", b"<!--", b"-->",
    b"<?pi x?>", b"<!DOCTYPE a>", b"&amp;", b"&#13;", b"&#x1F58A;", b"&lol;", b'="', b" x=''",
    b' xmlns="urn:x"', b' xmlns:p="' + XML_NAMESPACE.encode() + b'"', b"p:",
    b"<TimeZoneOffset>", b"</TimeZoneOffset>", b"<EnvelopeID>", b"<RecipientStatus>",
    b"<CustomField>", b"{", b"}", b"[", b"]", b",", b":", b'"', b'""', b"null", b"true",
    b"-0", b"1e999", b"9" * 50, b"\\u0000", b"\\ud800", b"\xef\xbb\xbf", b"\xf0\x9f\x96\x8a",
    b"\xff", b"\x00", b"\r\n", b"\t",
]  # fmt: skip


@st.composite
def damaged(draw: st.DrawFn, bodies: tuple[bytes, ...] | None = None) -> bytes:
    """A real body with one to four byte-level mutations."""
    body = bytearray(draw(st.sampled_from(bodies or real_bodies())))
    for _ in range(draw(st.integers(0, 4))):
        if not body:
            break
        at = draw(st.integers(0, len(body) - 1))
        span = draw(st.integers(1, 64))
        kind = draw(st.integers(0, 8))
        if kind == 0:  # flip a byte
            body[at] = draw(st.integers(0, 255))
        elif kind == 1:  # insert random bytes
            body[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == 2:  # delete a span
            del body[at : at + span]
        elif kind == 3:  # truncate
            del body[at:]
        elif kind == 4:  # duplicate a span, maybe many times
            body[at:at] = body[at : at + span] * draw(st.integers(1, 50))
        elif kind == 5:  # nest a span deeper
            depth = draw(st.integers(1, 80))
            opener, closer = draw(st.sampled_from([(b"<a>", b"</a>"), (b"[", b"]"), (b"{", b"}")]))
            body[at : at + span] = opener * depth + body[at : at + span] + closer * depth
        elif kind == 7:  # splice in a token
            body[at:at] = draw(st.sampled_from(TOKENS))
        else:  # repeat markup from a '<' to a '>', often whole elements, its first text changed
            start = body.find(b"<", at)
            close = body.find(b"</", start + draw(st.integers(1, 400))) if start >= 0 else -1
            end = body.find(b">", close) if close >= 0 else -1
            if end >= 0:
                piece = body[start : end + 1]
                text = piece.find(b">") + 1
                if piece[text : text + 1] not in (b"", b"<"):
                    piece[text] = ord("Z")  # a second EnvelopeID that says something else
                body[start:start] = piece
    return bytes(body)


CONTENT_TYPES = st.one_of(
    st.none(),
    st.sampled_from(["application/json", "text/xml; charset=utf-8", "application/xml",
                     "application/problem+json", "text/plain", "", ";", "TEXT/XML"]),
    st.text(max_size=20),
)  # fmt: skip
GOOD_LIMIT = st.integers(1, 10**9)
BAD_LIMIT = st.one_of(
    st.integers(max_value=0),
    st.booleans(),
    st.floats(),
    st.none(),
    st.text(max_size=5),
    st.binary(max_size=5),
    st.just([1]),
)


def is_good_limit(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


@st.composite
def limits(draw: st.DrawFn) -> dict[str, Any]:
    """Keyword arguments: usually none or good ones, sometimes a bad one."""
    chosen = {}
    for name in draw(st.sets(st.sampled_from(["max_bytes", "max_depth", "max_items"]))):
        strategy = draw(st.sampled_from([GOOD_LIMIT, GOOD_LIMIT, GOOD_LIMIT, BAD_LIMIT]))
        chosen[name] = draw(strategy)
    return chosen


def as_type(body: bytes, kind: int) -> Any:
    return [body, body, body, body, bytearray(body), memoryview(body), body.decode("latin-1"),
            None, list(body[:3])][kind]  # fmt: skip


@FUZZ
@given(damaged(), CONTENT_TYPES, limits(), st.integers(0, 8))
def test_damaged_real_bodies_only_ever_raise_the_librarys_errors(
    body: bytes, content_type: str | None, keywords: dict[str, Any], kind: int
) -> None:
    given_body = as_type(body, kind)
    try:
        message = cs.parse_message(given_body, content_type, **keywords)
    except cs.ConfigurationError:
        assert not all(is_good_limit(value) for value in keywords.values())
        return
    except cs.PayloadError:
        assert all(is_good_limit(value) for value in keywords.values())
        return
    assert all(is_good_limit(value) for value in keywords.values())
    assert isinstance(message, cs.ConnectMessage)
    assert isinstance(given_body, bytes | bytearray | memoryview)
    assert message.envelope_id.strip()


def test_the_undamaged_bodies_parse() -> None:
    formats = [cs.parse_message(body).format for body in real_bodies()]
    assert "json" in formats and "xml" in formats


# -- The streaming XML reader reads what ElementTree reads ---------------------------------

NS = f"{{{XML_NAMESPACE}}}"
FIELDS = ("TimeGenerated", "EnvelopeID", "Status", "Subject")
PERSON = ("Type", "UserName", "Email", "RoutingOrder", "Status", "RecipientId")


def by_elementtree(body: bytes) -> object:
    """The texts parse_message reads, found with a whole ElementTree; None if it refuses."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        root = fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError, LookupError):
        return None
    if root.tag != f"{NS}DocuSignEnvelopeInformation":
        return None

    def texts(parent: Any, names: tuple[str, ...]) -> tuple[str | None, ...]:
        found = [parent.find(f"{NS}{name}") for name in names]
        return tuple(None if child is None else child.text for child in found)

    status = root.find(f"{NS}EnvelopeStatus")
    if status is None:
        return (texts(root, ("TimeZoneOffset",)), None)
    people = status.find(f"{NS}RecipientStatuses")
    fields = status.find(f"{NS}CustomFields")
    return (
        texts(root, ("TimeZoneOffset",)),
        texts(status, FIELDS),
        None if people is None else [texts(p, PERSON) for p in people.findall(f"{NS}RecipientStatus")],
        None if fields is None else [texts(f, ("Name", "Value")) for f in fields.findall(f"{NS}CustomField")],
    )  # fmt: skip


def by_reader(body: bytes) -> object:
    """The same texts, as parse_message's streaming reader keeps them; None if it refuses."""
    from connect_sim.parsing import _MESSAGE
    from connect_sim.xml_reading import read_xml

    try:
        root = read_xml(body, _MESSAGE, max_depth=10**6, max_items=10**9)
    except cs.PayloadError as error:
        # The one bound that applies whatever the limits: ElementTree has no such rule.
        return "long namespace" if "namespace name of" in str(error) else None

    def texts(parent: Any, names: tuple[str, ...]) -> tuple[str | None, ...]:
        found = [parent.first(name) for name in names]
        return tuple(None if child is None else child.text for child in found)

    status = root.first("EnvelopeStatus")
    if status is None:
        return (texts(root, ("TimeZoneOffset",)), None)
    people = status.first("RecipientStatuses")
    fields = status.first("CustomFields")
    return (
        texts(root, ("TimeZoneOffset",)),
        texts(status, FIELDS),
        None if people is None else [texts(p, PERSON) for p in people.all("RecipientStatus")],
        None if fields is None else [texts(f, ("Name", "Value")) for f in fields.all("CustomField")],
    )  # fmt: skip


@functools.cache
def xml_bodies() -> tuple[bytes, ...]:
    return tuple(body for body in real_bodies() if body.startswith(b"<"))


@FUZZ
@given(st.deferred(lambda: damaged(xml_bodies())))
def test_the_streaming_reader_reads_what_elementtree_reads(body: bytes) -> None:
    read = by_reader(body)
    if read != "long namespace":
        assert read == by_elementtree(body)


@pytest.mark.parametrize("index", range(4))
def test_the_reader_and_elementtree_agree_on_the_undamaged_bodies(index: int) -> None:
    body = xml_bodies()[index]
    assert by_reader(body) == by_elementtree(body) is not None
