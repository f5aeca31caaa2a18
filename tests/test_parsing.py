"""parse_message: both formats into one object; hostile or broken input only ever PayloadError."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

import connect_sim as cs
from connect_sim.formats import XML_NAMESPACE

from builders import HOUR, seed_example

NS = 'xmlns="http://www.docusign.net/API/3.0"'


def seed_bodies(fmt: str) -> list[cs.Attempt]:
    sim, _ = seed_example("sim", format=fmt, include_data=["recipients", "custom_fields"])
    return sim.run().received("listener")


def test_one_code_path_reads_both_formats() -> None:
    for fmt in ("json", "xml"):
        last = seed_bodies(fmt)[-1]
        message = cs.parse_message(last.body, last.headers["Content-Type"])
        assert message.format == fmt
        assert message.status == "completed"
        assert message.envelope_id == last.envelope.envelope_id
        assert message.generated == datetime(2026, 1, 1, 0, 2, 20, tzinfo=UTC)
        assert [(r.type, r.name, r.status, r.routing_order) for r in message.recipients] == [
            ("Signer", "Sue Signer", "completed", 1),
            ("CarbonCopy", "Charlie Copy", "completed", 2),
        ]
        assert message.subject == "Please sign"


def test_json_carries_what_xml_cannot() -> None:
    first = seed_bodies("json")[0]
    message = cs.parse_message(first.body, "application/json; charset=utf-8")
    assert (message.event, message.recipient_id, message.retry_count) == (
        "recipient-sent", "sue", 0
    )  # fmt: skip
    assert message.account_id is not None and message.configuration_id is not None


def test_the_format_is_sniffed_without_a_content_type() -> None:
    for fmt in ("json", "xml"):
        assert cs.parse_message(seed_bodies(fmt)[0].body).format == fmt


MINIMAL = {
    "event": "envelope-sent", "uri": "/x", "retryCount": 0, "configurationId": 1,
    "apiVersion": "v2.1", "generatedDateTime": "2026-01-01T00:00:00.0000000Z",
    "data": {"accountId": "a", "userId": "u", "envelopeId": "e",
             "envelopeSummary": {"status": "sent"}},
}  # fmt: skip


def without(path: list[str]) -> bytes:
    document = json.loads(json.dumps(MINIMAL))
    target = document
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("body", "content_type", "problem"),
    [
        (b"", None, "neither JSON nor XML"),
        (b"hello", None, "neither JSON nor XML"),
        (b"{}", "text/plain", "content type 'text/plain' is neither JSON nor XML"),
        (b'{"event": ', "application/json", "invalid JSON at line 1 column 11"),
        (b"\xff\xfe{}", "application/json", "not UTF-8"),
        (b"[1, 2]", "application/json", "the top level must be an object, got list"),
        (without(["event"]), None, "event is missing"),
        (without(["data", "envelopeId"]), None, "data.envelopeId is missing"),
        (json.dumps({**MINIMAL, "retryCount": "0"}).encode(), None,
         "retryCount must be an integer, got str"),
        (json.dumps({**MINIMAL, "data": {**MINIMAL["data"], "envelopeSummary": {  # type: ignore[dict-item]
            "status": "sent", "recipients": {"signers": [{
                "name": "S", "email": "s@x", "status": "sent", "recipientIdGuid": "g",
                "recipientId": "1", "routingOrder": "9" * 5000}]}}}}).encode(), None,
         "signers[0].routingOrder must be a number from 1 to 999"),
        (json.dumps({**MINIMAL, "generatedDateTime": "yesterday"}).encode(), None,
         "generatedDateTime: not a time stamp: 'yesterday'"),
        (json.dumps({**MINIMAL, "generatedDateTime": "2026-02-30T00:00:00Z"}).encode(), None,
         "not a real date and time"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", "JSON message"),
        (b'<?xml version="1.0" encoding="tf-8"?><a/>', "text/xml",
         "XML message: unknown encoding: tf-8"),
        (b"<html><body/></html>", "text/xml",
         "the root element is 'html' without a namespace, expected DocuSignEnvelopeInformation"),
        (b"<DocuSignEnvelopeInformation " + NS.encode() + b"/>", None,
         "DocuSignEnvelopeInformation/EnvelopeStatus is missing"),
        (b"<DocuSignEnvelopeInformation " + NS.encode() + b"><EnvelopeStatus>", None,
         "not well-formed at line 1"),
        (b"<DocuSignEnvelopeInformation " + NS.encode() + b"><EnvelopeStatus/>"
         b"</DocuSignEnvelopeInformation>", None, "EnvelopeStatus/TimeGenerated is missing"),
    ],
)  # fmt: skip
def test_broken_bodies_are_refused_with_a_clear_message(
    body: bytes, content_type: str | None, problem: str
) -> None:
    with pytest.raises(cs.PayloadError) as error:
        cs.parse_message(body, content_type)
    assert problem in str(error.value)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<DocuSignEnvelopeInformation xmlns="http://www.docusign.net/API/3.0">&lol3;</DocuSignEnvelopeInformation>
"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<DocuSignEnvelopeInformation xmlns="http://www.docusign.net/API/3.0">&xxe;</DocuSignEnvelopeInformation>
"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_entity_tricks_are_refused_before_expansion(body: bytes) -> None:
    with pytest.raises(cs.PayloadError, match="XML message: refused: DTDForbidden"):
        cs.parse_message(body, "text/xml")


def test_huge_bodies_are_refused_unread() -> None:
    body = seed_bodies("json")[0].body
    with pytest.raises(cs.PayloadError, match=f"the body is {len(body)} bytes, more than"):
        cs.parse_message(body, max_bytes=len(body) - 1)
    assert cs.parse_message(body, max_bytes=len(body)).format == "json"


def test_non_bytes_are_refused() -> None:
    with pytest.raises(cs.PayloadError, match="the body must be bytes, got a str"):
        cs.parse_message("{}")  # type: ignore[arg-type]


@given(st.binary(max_size=300), st.sampled_from([None, "application/json", "text/xml"]))
def test_arbitrary_bytes_only_ever_raise_payload_error(
    body: bytes, content_type: str | None
) -> None:
    with contextlib.suppress(cs.PayloadError):
        cs.parse_message(body, content_type)


def mutations() -> st.SearchStrategy[bytes]:
    """Real bodies with a few bytes changed, cut or repeated: near misses, not noise."""
    bodies = [a.body for fmt in ("json", "xml") for a in seed_bodies(fmt)]

    @st.composite
    def mutate(draw: st.DrawFn) -> bytes:
        body = bytearray(draw(st.sampled_from(bodies)))
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, len(body) - 1))
            choice = draw(st.integers(0, 2))
            if choice == 0:
                body[at] = draw(st.integers(0, 255))
            elif choice == 1:
                del body[at : at + draw(st.integers(1, 40))]
            else:
                body[at:at] = body[at : at + draw(st.integers(1, 40))]
        return bytes(body)

    return mutate()


@given(mutations())
def test_damaged_real_bodies_parse_or_raise_payload_error(body: bytes) -> None:
    try:
        message = cs.parse_message(body)
    except cs.PayloadError:
        return
    assert isinstance(message, cs.ConnectMessage)


# Every key the parser reads, so that generated documents reach deep into it.
KEYS = ["event", "retryCount", "configurationId", "generatedDateTime", "data", "envelopeId",
        "recipientId", "accountId", "envelopeSummary", "status", "emailSubject", "recipients",
        "signers", "carbonCopies", "name", "email", "routingOrder", "recipientIdGuid",
        "customFields", "textCustomFields", "value"]  # fmt: skip
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
    | st.sampled_from(["2026-01-01T00:00:00.0000000Z", "1", "sent"]),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=5), inner, max_size=6),
    max_leaves=30,
)  # fmt: skip


@given(JSON_VALUES)
def test_json_of_any_shape_only_ever_raises_payload_error(document: object) -> None:
    body = json.dumps(document).encode()
    with contextlib.suppress(cs.PayloadError):
        cs.parse_message(body, "application/json")


@st.composite
def real_json_with_one_part_replaced(draw: st.DrawFn) -> bytes:
    """A real body with one value, anywhere in it, replaced by JSON of any shape."""
    document = json.loads(draw(st.sampled_from(seed_bodies("json"))).body)
    target = document
    while True:
        keys = list(target) if isinstance(target, dict) else list(range(len(target)))
        if not keys:
            break
        key = draw(st.sampled_from(keys))
        if not isinstance(target[key], dict | list) or draw(st.booleans()):
            target[key] = draw(JSON_VALUES)
            break
        target = target[key]
    return json.dumps(document).encode()


@given(real_json_with_one_part_replaced())
def test_real_json_with_any_part_replaced_parses_or_raises_payload_error(body: bytes) -> None:
    with contextlib.suppress(cs.PayloadError):
        message = cs.parse_message(body, "application/json")
        assert isinstance(message, cs.ConnectMessage)


# -- Bounds: any body under the byte limit costs a small multiple of its size -------------

ROOT = b"<DocuSignEnvelopeInformation " + NS.encode() + b">"
END = b"</DocuSignEnvelopeInformation>"


def xml_message(
    inside: bytes = b"", *, envelope_id: bytes = b"e", offset: bytes | None = b"0"
) -> bytes:
    """A minimal XML message; ``inside`` goes into EnvelopeStatus, before its fields."""
    zone = b"" if offset is None else b"<TimeZoneOffset>" + offset + b"</TimeZoneOffset>"
    return (
        ROOT + b"<EnvelopeStatus>" + inside
        + b"<TimeGenerated>2026-01-01T00:00:00.0000000</TimeGenerated>"
        + b"<EnvelopeID>" + envelope_id + b"</EnvelopeID><Status>Sent</Status>"
        + b"</EnvelopeStatus>" + zone + END
    )  # fmt: skip


def test_the_minimal_xml_message_of_these_tests_parses() -> None:
    message = cs.parse_message(xml_message())
    assert (message.envelope_id, message.status) == ("e", "sent")


def test_a_deeply_nested_xml_body_is_refused_quickly() -> None:
    # 150,000 deep: under the element bound, so it is the depth that refuses it.
    body = xml_message(b"<a>" * 150_000 + b"</a>" * 150_000)
    with pytest.raises(cs.PayloadError, match=r"nested more than 64 deep \(line 1 column"):
        cs.parse_message(body)


def test_a_deeply_nested_body_with_another_root_is_refused_at_its_first_element() -> None:
    with pytest.raises(cs.PayloadError, match="the root element is 'a' without a namespace"):
        cs.parse_message(b"<a>" * 150_000 + b"</a>" * 150_000)


def test_xml_nested_exactly_max_depth_deep_is_read() -> None:
    # The root is 1 and EnvelopeStatus 2, so 62 more reach 64.
    assert cs.parse_message(xml_message(b"<a>" * 62 + b"</a>" * 62)).envelope_id == "e"
    with pytest.raises(cs.PayloadError, match="nested more than 64 deep"):
        cs.parse_message(xml_message(b"<a>" * 63 + b"</a>" * 63))
    with pytest.raises(cs.PayloadError, match="nested more than 3 deep"):
        cs.parse_message(xml_message(b"<a><b/></a>"), max_depth=3)


def test_a_refusal_inside_expat_stops_the_parse_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from connect_sim import xml_reading

    starts = []
    on_start = xml_reading._Reader.on_start

    def counting(self: xml_reading._Reader, name: str, attributes: list[str]) -> None:
        starts.append(name)
        on_start(self, name, attributes)

    monkeypatch.setattr(xml_reading._Reader, "on_start", counting)
    with pytest.raises(cs.PayloadError, match="nested more than 64 deep"):
        cs.parse_message(xml_message(b"<a>" * 100_000 + b"</a>" * 100_000))
    assert len(starts) == 65  # the 65th raised; expat read no further


def test_an_xml_body_of_millions_of_elements_is_refused_before_it_is_parsed() -> None:
    # Not well-formed either (never closed): the count refuses it before expat could say so.
    body = ROOT + b"<a/>" * 2_000_000
    with pytest.raises(cs.PayloadError, match=r"too many elements: up to 2000001 by its '<' "
                       r"signs, more than the limit of 200000"):  # fmt: skip
        cs.parse_message(body)
    with pytest.raises(cs.PayloadError, match="too many elements"):
        cs.parse_message(xml_message(b"<a/>" * 20), max_items=20)


def test_end_tags_do_not_count_as_elements() -> None:
    body = xml_message(b"<a></a>" * 190_000)  # 380,000 '<' but 190,000 elements
    assert cs.parse_message(body).envelope_id == "e"


def test_an_element_with_millions_of_attributes_is_refused_before_it_is_parsed() -> None:
    body = ROOT + b"<a" + b"".join(b' a%d=""' % n for n in range(1_000_000))
    with pytest.raises(cs.PayloadError, match=r"too many attributes: up to 1000001 by its '=' "
                       r"signs, more than the limit of 20000 \(a tenth of max_items\)"):  # fmt: skip
        cs.parse_message(body)


def test_equals_signs_in_text_do_not_count_as_attributes() -> None:
    # 100,000 '=' in a custom field: none is followed by a quote or white space.
    value = b"a=b" * 50_000 + b"=" * 50_000
    field = b"<CustomFields><CustomField><Name>n</Name><Value>" + value
    body = xml_message(field + b"</Value></CustomField></CustomFields>")
    assert cs.parse_message(body).custom_fields == (("n", value.decode()),)


def test_a_long_namespace_name_is_refused() -> None:
    body = xml_message(b'<x xmlns:p="' + b"u" * 257 + b'"><p:a/></x>')
    with pytest.raises(cs.PayloadError, match="a namespace name of 257 characters, more than "
                       "the limit of 256"):  # fmt: skip
        cs.parse_message(body)
    assert cs.parse_message(xml_message(b'<x xmlns:p="' + b"u" * 256 + b'"/>')).status == "sent"


def test_pyexpats_table_of_names_is_emptied_as_it_grows() -> None:
    from connect_sim import xml_reading

    interned = {f"name{n}": f"name{n}" for n in range(xml_reading._MAX_INTERNED + 1)}
    schema = xml_reading.Schema("urn:x", "r", xml_reading.Shape())
    reader = xml_reading._Reader(schema, 8, interned)
    reader.on_start("urn:x}r", [])
    assert interned == {}


def test_only_the_elements_the_parser_reads_are_kept() -> None:
    from connect_sim.xml_reading import Schema, Shape, read_xml

    sim = cs.Simulation()
    sim.add_configuration(cs.Configuration(name="x", format="xml", include_data=["documents"]))
    env = sim.create_envelope("Hi", [cs.Signer("Sue", "s@example.com")],
                              documents=[cs.Document("a.pdf", b"%PDF" * 1000)])  # fmt: skip
    sim.send(env)
    body = sim.run().attempts[0].body
    assert b"<PDFBytes>" in body
    schema = Schema(XML_NAMESPACE, "DocuSignEnvelopeInformation",
                    Shape({"EnvelopeStatus": Shape({"Subject": Shape(text=True)})}))  # fmt: skip
    root = read_xml(body, schema, max_depth=64, max_items=1000)
    assert list(root.children) == ["EnvelopeStatus"]  # no DocumentPDFs, no TimeZone
    status = root.children["EnvelopeStatus"][0]
    assert list(status.children) == ["Subject"] and status.text is None
    assert status.first("Subject").text == "Hi"  # type: ignore[union-attr]


def test_a_json_body_of_millions_of_values_is_refused_before_it_is_parsed() -> None:
    # Invalid JSON too (never closed): the count refuses it before the decoder could say so.
    body = b'{"a":[' + b"0," * 2_000_000
    with pytest.raises(cs.PayloadError, match=r"too many values: up to 2000003 by its brackets "
                       r"and commas, more than the limit of 200000"):  # fmt: skip
        cs.parse_message(body)


def test_a_json_body_nested_deeper_than_max_depth_is_refused() -> None:
    def nested(depth: int) -> bytes:  # MINIMAL with arrays nested in it, the top object is 1
        inner = b"[" * (depth - 1) + b"]" * (depth - 1)
        return json.dumps(MINIMAL).encode()[:-1] + b',"x":' + inner + b"}"

    assert cs.parse_message(nested(64)).envelope_id == "e"
    with pytest.raises(cs.PayloadError, match="JSON message: nested more than 64 deep"):
        cs.parse_message(nested(65))
    with pytest.raises(cs.PayloadError, match="nested more than 2 deep"):
        cs.parse_message(nested(3), max_depth=2)
    with pytest.raises(cs.PayloadError, match="nested too deeply to decode"):
        cs.parse_message(nested(100_000), max_depth=1_000_000)


def test_a_json_integer_of_thousands_of_digits_is_refused() -> None:
    body = json.dumps({**MINIMAL, "retryCount": 10**4000}).encode()
    with pytest.raises(cs.PayloadError, match="an integer of 4001 characters, more than the "
                       "limit of 40"):  # fmt: skip
        cs.parse_message(body)
    long_but_fine = json.dumps({**MINIMAL, "retryCount": -(10**38)}).encode()
    assert cs.parse_message(long_but_fine).retry_count == -(10**38)


def test_the_limits_have_documented_defaults() -> None:
    from connect_sim.parsing import MAX_BODY_BYTES, MAX_DEPTH, MAX_ITEMS

    assert (MAX_BODY_BYTES, MAX_DEPTH, MAX_ITEMS) == (32 * 1024 * 1024, 64, 200_000)
    body = seed_bodies("json")[0].body
    with pytest.raises(cs.PayloadError, match="too many values"):
        cs.parse_message(body, max_items=10)


def test_the_format_is_sniffed_past_a_byte_order_mark_and_white_space() -> None:
    body = seed_bodies("json")[0].body
    assert cs.parse_message(b"\xef\xbb\xbf \r\n\t" + body).format == "json"


# -- The caller's mistakes are ConfigurationError, not PayloadError -------------------------


def test_max_bytes_that_is_not_a_number_is_a_configuration_error() -> None:
    with pytest.raises(cs.ConfigurationError,
                       match=r"parse_message max_bytes: expected a positive integer, got 'x' "
                             r"\(str\)"):  # fmt: skip
        cs.parse_message(b"{}", max_bytes="x")  # type: ignore[arg-type]


@pytest.mark.parametrize("keyword", ["max_bytes", "max_depth", "max_items"])
@pytest.mark.parametrize("value", [True, False, 0, -1, 1.5, 10.0, None, "10", b"10", [10]])
def test_a_limit_that_is_not_a_positive_integer_is_a_configuration_error(
    keyword: str, value: object
) -> None:
    with pytest.raises(cs.ConfigurationError, match=f"parse_message {keyword}: expected") as error:
        cs.parse_message(seed_bodies("json")[0].body, **{keyword: value})  # type: ignore[arg-type]
    # A listener's "except PayloadError: return 400" must not hide the caller's mistake.
    assert not isinstance(error.value, cs.PayloadError)


def test_a_bad_limit_is_reported_whatever_the_body() -> None:
    with pytest.raises(cs.ConfigurationError):
        cs.parse_message("not even bytes", max_items=0)  # type: ignore[arg-type]


def test_a_huge_bad_limit_is_not_echoed_whole() -> None:
    with pytest.raises(cs.ConfigurationError) as error:
        cs.parse_message(b"{}", max_depth="x" * 100_000)  # type: ignore[arg-type]
    assert len(str(error.value)) < 150


# -- Nonsense that used to be accepted ---------------------------------------------------------


@pytest.mark.parametrize("envelope_id", ["", "   "])
def test_an_empty_envelope_id_is_refused(envelope_id: str) -> None:
    body = json.dumps({**MINIMAL, "data": {**MINIMAL["data"], "envelopeId": envelope_id}})  # type: ignore[dict-item]
    with pytest.raises(cs.PayloadError, match=r"^JSON message: data\.envelopeId is empty$"):
        cs.parse_message(body.encode())
    for xml_id in (envelope_id.encode(), b"<!-- none -->"):
        with pytest.raises(
            cs.PayloadError, match=r"^XML message: EnvelopeStatus/EnvelopeID is empty$"
        ):
            cs.parse_message(xml_message(envelope_id=xml_id))


@pytest.mark.parametrize(
    "offset",
    ["1_0", "inf", "-inf", "nan", "Infinity", " 1e1 ", "1e1", "0x5", "5.", ".5", "+-1", "--1",
     "\uff15", "\u0665", "5,5", "5:30", " ", "+", "1.2.3", "100"],
)  # fmt: skip
def test_a_time_zone_offset_with_underscores_is_refused(offset: str) -> None:
    # And every other spelling float() takes that is not a number of hours.
    with pytest.raises(cs.PayloadError, match=r"XML message: TimeZoneOffset is not a number of "
                       r"hours such as -8 or 5\.5"):  # fmt: skip
        cs.parse_message(xml_message(offset=offset.encode()))


@pytest.mark.parametrize(
    ("offset", "minutes"),
    [("0", 0), ("-8", -480), ("5", 300), ("+2", 120), ("5.5", 330), ("-3.5", -210),
     ("5.75", 345), ("-0.0166667", -1), ("14", 840), ("-14", -840), ("\n  -8\t\r\n", -480)],
)  # fmt: skip
def test_a_time_zone_offset_in_whole_or_decimal_hours_is_read(offset: str, minutes: int) -> None:
    generated = cs.parse_message(xml_message(offset=offset.encode())).generated
    assert generated == datetime(2026, 1, 1, tzinfo=UTC) - timedelta(minutes=minutes)


def test_a_time_zone_offset_beyond_fourteen_hours_is_refused() -> None:
    with pytest.raises(cs.PayloadError, match=r"TimeZoneOffset '14\.5' is not a UTC offset"):
        cs.parse_message(xml_message(offset=b"14.5"))


def test_an_absent_or_empty_time_zone_offset_means_utc() -> None:
    for body in (xml_message(offset=None), xml_message(offset=b"")):
        assert cs.parse_message(body).generated == datetime(2026, 1, 1, tzinfo=UTC)


@given(st.integers(-14 * 60, 14 * 60))
def test_every_offset_the_renderer_writes_is_read_back(minutes: int) -> None:
    account = cs.Account(time_zone="Z", utc_offset=timedelta(minutes=minutes))
    sim = cs.Simulation(account=account)
    sim.add_configuration(cs.Configuration(name="x", format="xml"))
    sim.send(sim.create_envelope("Hi", [cs.Signer("Sue", "s@example.com")]), at=HOUR)
    # TimeZoneOffset is whole hours (the schema's int), toward zero; the local time stamps
    # stay exact, so a reader is off by exactly the minutes the offset drops.
    dropped = timedelta(minutes=minutes - int(minutes / 60) * 60)
    generated = cs.parse_message(sim.run().attempts[0].body).generated
    assert generated == sim.start + HOUR + dropped


@pytest.mark.parametrize("stamp", ["2026-01-01T00:00:00.\u0665Z", "2026-01-01T00:00:00.\uff15Z"])
def test_a_time_stamp_with_digits_other_than_ascii_is_refused(stamp: str) -> None:
    with pytest.raises(cs.PayloadError, match="generatedDateTime: not a time stamp"):
        cs.parse_message(json.dumps({**MINIMAL, "generatedDateTime": stamp}).encode())
