"""Legacy XML bodies against DocuSign's own schema for them (issue 9).

``tests/schema/docusign_envelope_information.xsd`` is an XSD 1.0 schema written
from the ``DocuSignEnvelopeInformation`` types of DocuSign's SOAP SDK WSDL (its
header names the file and commit).  The tests here show that:

- hand-written bodies in the shape of DocuSign's two sample Connect messages
  validate, and so do DocuSign's own samples when a copy is on this machine;
- bodies broken in one way each are refused, so the schema bites;
- the schema says what the WSDL says, type by type, when a copy is on this machine;
- every body connect-sim renders for rich scenarios validates: every recipient
  type, declines, voids, bounces, documents, custom fields, the sender-account
  fields, certificates of completion, half-hour and 45-minute zones, and an
  IANA zone across a daylight-saving change.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from xml.etree import ElementTree

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

import connect_sim as cs
from connect_sim.render import Renderer

from payloads import payload_plans
from scenarios import Plan

HERE = Path(__file__).resolve().parent / "schema"
SCHEMA_FILE = HERE / "docusign_envelope_information.xsd"
FIXTURES = ["sent.xml", "completed.xml", "declined.xml"]
NAMESPACE = "{http://www.docusign.net/API/3.0}"
# No entities, no network: the bodies are plain documents, and a test should not go out.
PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
# Built once for the module; validating a body then takes a fraction of a millisecond.
SCHEMA = etree.XMLSchema(etree.parse(str(SCHEMA_FILE), PARSER))


def violations(body: bytes) -> list[str]:
    """Every schema error in ``body`` as ``path: message``; empty when it validates."""
    document = etree.fromstring(body, PARSER)
    if SCHEMA.validate(document):
        return []
    found = []
    for entry in SCHEMA.error_log:
        message = re.sub(r"^Element '[^']*': ", "", entry.message.replace(NAMESPACE, ""))
        found.append(f"{named_path(document, getattr(entry, 'path', None))}: {message}")
    return found


def named_path(document: etree._Element, path: str | None) -> str:
    """libxml2's path of an element (``/*/*[1]/*[6]``) in element names, without positions."""
    where = document.getroottree().xpath(path) if path else []
    if not where:
        return path or "?"
    element = where[0]
    names = [etree.QName(e).localname for e in (element, *element.iterancestors())]
    return "/" + "/".join(reversed(names))


def kind_of(violation: str) -> str:
    """One mistake, one kind: of the elements libxml2 lists as expected, keep the last."""
    return re.sub(r"Expected is one of \( (?:[^,)]+, )*([^,)]+) \)",
                  r"Expected is ( ..., \1 )", violation)  # fmt: skip


def summary(bodies: list[tuple[str, bytes]]) -> tuple[int, str]:
    """How many bodies validate; in words, each kind of violation, how often, one example."""
    counts: Counter[str] = Counter()
    example: dict[str, str] = {}
    valid = 0
    for label, body in bodies:
        found = violations(body)
        valid += not found
        for violation in found:
            counts[kind_of(violation)] += 1
            example.setdefault(kind_of(violation), label)
    lines = [f"{valid} of {len(bodies)} XML bodies validate"]
    lines += [f"  {n} x {what}\n      e.g. {example[what]}" for what, n in counts.most_common()]
    return valid, "\n".join(lines)


# ----------------------------------------------------------------- known-good bodies


@pytest.mark.parametrize("name", FIXTURES)
def test_bodies_in_the_shape_of_docusigns_samples_validate(name: str) -> None:
    assert violations((HERE / name).read_bytes()) == []


MIRRORS = Path(os.environ.get("CONNECT_SIM_MIRRORS", "/work/.mirror"))


def from_mirror(repo: str, commit: str, path: str) -> bytes:
    """A file of a public repository at ``commit``, from a local clone; skip if there is none."""
    clone = MIRRORS / repo.replace("/", "+") / "repo"
    try:
        done = subprocess.run(["git", "-C", str(clone), "show", f"{commit}:{path}"],
                              capture_output=True, check=True)  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        pytest.skip(f"no clone of {repo} at {commit} under {MIRRORS} (or no git)")
    return done.stdout


@pytest.mark.parametrize("path", ["webhook_eg_msg_sent.xml", "webhook_eg_msg_completed.xml"])
def test_docusigns_own_sample_messages_validate(path: str) -> None:
    sample = from_mirror("docusign/connect-node-listener-aws",
                         "931ff6f35459ad6a630bf09d336b3454e668bf02", path)  # fmt: skip
    assert violations(sample) == []


Change = tuple[str | re.Pattern[str], str]

#: Bodies the samples do not show but the schema allows: changes to sent.xml.
ALLOWED: dict[str, list[Change]] = {
    # A voided envelope says so in its status; VoidReason is the last child of EnvelopeStatus.
    "voided, with its reason": [
        ("\n    <Status>Sent</Status>", "\n    <Status>Voided</Status>"),
        ("    </DocumentStatuses>\n",
         "    </DocumentStatuses>\n    <VoidReason>Sent in error</VoidReason>\n"),
    ],
    "no recipients (RecipientStatuses is nillable)": [
        (re.compile(r"<RecipientStatuses>.*</RecipientStatuses>", re.DOTALL),
         '<RecipientStatuses xsi:nil="true" />'),
    ],
    "an empty decline reason": [('<DeclineReason xsi:nil="true" />', "<DeclineReason />")],
    "a bounced recipient's reason": [
        ('<DeclineReason xsi:nil="true" />\n        <Status>Sent</Status>',
         '<DeclineReason xsi:nil="true" />\n        <AutoRespondedReason>No such mailbox'
         "</AutoRespondedReason>\n        <Status>AutoResponded</Status>"),
    ],
}  # fmt: skip


def changed(changes: list[Change]) -> bytes:
    """sent.xml with each (old, new) of ``changes`` made once; each old must be there."""
    text = (HERE / "sent.xml").read_text(encoding="utf-8")
    for old, new in changes:
        if isinstance(old, re.Pattern):
            text, found = old.subn(new, text, count=1)
        else:
            found = old in text
            text = text.replace(old, new, 1)
        assert found, f"{old!r} is not in sent.xml"
    return text.encode("utf-8")


@pytest.mark.parametrize("changes", ALLOWED.values(), ids=ALLOWED.keys())
def test_what_the_schema_allows_beyond_the_samples(changes: list[Change]) -> None:
    assert violations(changed(changes)) == []


# ------------------------------------------------------------------ the schema bites

ENVELOPE_ID = "<EnvelopeID>0c8d2f4a-9e61-4f0b-a7d3-000000000001</EnvelopeID>\n"
SUBJECT = "    <Subject>Please sign the lease</Subject>\n"
NIL_REASON = '<DeclineReason xsi:nil="true" />'
ZONE = "  <TimeZone>Pacific Standard Time</TimeZone>\n"
OFFSET = "  <TimeZoneOffset>-8</TimeZoneOffset>\n"
NOT_A = "is not a valid value of the atomic type"
#: One mistake each, made in sent.xml: (old, new), and what the refusal must say.
BROKEN: dict[str, tuple[Change, str]] = {
    "DeclineReason missing": (
        (f"        {NIL_REASON}\n", ""),
        "RecipientStatus/Status: This element is not expected. Expected is ( ..., DeclineReason )",
    ),
    "Status before DeclineReason": (
        (f"{NIL_REASON}\n        <Status>Sent</Status>", f"<Status>Sent</Status>\n        {NIL_REASON}"),
        "RecipientStatus/Status: This element is not expected. Expected is ( ..., DeclineReason )",
    ),
    "TimeZoneOffset 5.5": (("<TimeZoneOffset>-8<", "<TimeZoneOffset>5.5<"),
                           f"TimeZoneOffset: '5.5' {NOT_A} 'xs:int'"),
    "EnvelopeID after Subject": ((ENVELOPE_ID + SUBJECT, SUBJECT + "    " + ENVELOPE_ID),
                                 "EnvelopeStatus/EnvelopeID: This element is not expected"),
    "TimeZone after TimeZoneOffset": ((ZONE + OFFSET, OFFSET + ZONE),
                                      "DocuSignEnvelopeInformation/TimeZone: This element is not expected"),
    "unknown envelope status": (("\n    <Status>Sent</Status>", "\n    <Status>Finished</Status>"),
                                "EnvelopeStatus/Status: [facet 'enumeration'] The value 'Finished'"),
    # The WSDL's recipient statuses have no Voided (only the envelope's do).
    "recipient status Voided": (("        <Status>Sent</Status>", "        <Status>Voided</Status>"),
                                "RecipientStatus/Status: [facet 'enumeration'] The value 'Voided'"),
    "unknown recipient type": (("<Type>Signer</Type>", "<Type>Reviewer</Type>"),
                               "RecipientStatus/Type: [facet 'enumeration'] The value 'Reviewer'"),
    # The WSDL has no Voided time in EnvelopeStatus.
    "a Voided time": (("    <ACStatus>", "    <Voided>2026-01-01T09:01:00</Voided>\n    <ACStatus>"),
                      "EnvelopeStatus/Voided: This element is not expected"),
    "TimeGenerated missing": (("    <TimeGenerated>2026-01-01T09:00:01.5000000</TimeGenerated>\n", ""),
                              "Expected is ( TimeGenerated )"),
    "SigningLocation missing": (("    <SigningLocation>Online</SigningLocation>\n", ""),
                                "Expected is ( SigningLocation )"),
    "a time that is not a time": (("<Created>2026-01-01T08:59:58.4</Created>",
                                   "<Created>1 January 2026</Created>"),
                                  f"EnvelopeStatus/Created: '1 January 2026' {NOT_A} 'xs:dateTime'"),
    "AutoNavigation True (xs:boolean is lower case)": (
        ("<AutoNavigation>true</AutoNavigation>", "<AutoNavigation>True</AutoNavigation>"),
        f"EnvelopeStatus/AutoNavigation: 'True' {NOT_A} 'xs:boolean'",
    ),
    "a document ID that is not a positive integer": (
        ("<ID>1</ID>", "<ID>lease</ID>"), f"DocumentStatus/ID: 'lease' {NOT_A} 'xs:positiveInteger'"
    ),
    "a nil Subject (only two elements are nillable)": (
        ("<Subject>Please sign the lease</Subject>", '<Subject xsi:nil="true" />'),
        "EnvelopeStatus/Subject: The element is not 'nillable'",
    ),
    "no namespace": ((' xmlns="http://www.docusign.net/API/3.0"', ""),
                     "No matching global declaration available for the validation root"),
}  # fmt: skip


@pytest.mark.parametrize(("change", "mention"), BROKEN.values(), ids=BROKEN.keys())
def test_a_body_broken_one_way_is_refused(change: Change, mention: str) -> None:
    found = violations(changed([change]))
    assert found, "the schema accepted a broken body"
    assert any(mention in kind_of(violation) for violation in found), found


# ------------------------------------------------------- the schema says what the WSDL says

XS = "{http://www.w3.org/2001/XMLSchema}"


def shapes(schema: ElementTree.Element) -> dict[str, list[tuple[str, ...]]]:
    """Each named type, in order: elements (name, type, min, max, nillable), attributes,
    restrictions and enumerated values; type names without their prefix (s:, xs:, tns:, ds:)."""

    def unprefixed(node: ElementTree.Element, key: str) -> str:
        return node.get(key, "").split(":")[-1]

    out = {}
    for node in schema.iter():
        if node.tag not in (f"{XS}complexType", f"{XS}simpleType") or not node.get("name"):
            continue
        parts: list[tuple[str, ...]] = []
        for part in node.iter():
            tag = part.tag.removeprefix(XS)
            if tag == "element":
                parts.append((tag, part.get("name", ""), unprefixed(part, "type"),
                              part.get("minOccurs", "1"), part.get("maxOccurs", "1"),
                              part.get("nillable", "false")))  # fmt: skip
            elif tag == "attribute":
                parts.append((tag, part.get("name", ""), unprefixed(part, "type")))
            elif tag == "restriction":
                parts.append((tag, unprefixed(part, "base")))
            elif tag == "enumeration":
                parts.append((tag, part.get("value", "")))
            elif tag in ("choice", "all", "any", "extension", "simpleContent", "complexContent"):
                parts.append((tag,))
        out[node.get("name", "")] = parts
    return out


def test_each_type_of_the_schema_is_the_wsdl_type_of_that_name() -> None:
    wsdl = from_mirror("docusign/docusign-soap-sdk", "750620f1f749d31f2feefc462cead57ec057eb85",
                       "PHP/CodeSnippets/api/APIService.wsdl")  # fmt: skip
    theirs = shapes(ElementTree.fromstring(wsdl))
    ours = shapes(ElementTree.parse(SCHEMA_FILE).getroot())
    # Each of ours is theirs, and ours defines every type it uses (else it would not build):
    # so it is the whole of what the WSDL reaches from DocuSignEnvelopeInformation.
    assert {name: theirs.get(name) for name in ours} == ours


# ----------------------------------------------------------- what connect-sim renders

ZONES: list[tuple[str, str | None]] = [
    ("UTC", "+00:00"), ("India Standard Time", "+05:30"), ("Pacific Standard Time", "-08:00"),
    ("Nepal Standard Time", "+05:45"), ("Newfoundland Standard Time", "-03:30"),
    ("America/Los_Angeles", None),  # daylight saving: the runs start just before a change
]  # fmt: skip
EVERYTHING = ["documents", "custom_fields", "recipients"]
# Ten minutes before Pacific time moves from -08:00 to -07:00.
BEFORE_DST = datetime(2026, 3, 8, 9, 50, tzinfo=UTC)


def rich_simulation(mode: str, time_zone: str, utc_offset: str | None) -> cs.Simulation:
    """Every recipient type, every way an envelope ends, documents and custom fields."""
    account = cs.Account(time_zone=time_zone, utc_offset=utc_offset)
    sim = cs.Simulation(mode=mode, account=account, start=BEFORE_DST)
    sim.add_configuration(cs.Configuration(
        name="xml", format="xml", include_data=EVERYTHING, include_certificate_of_completion=True,
        include_sender_account_as_custom_field=True))  # fmt: skip
    minute = timedelta(minutes=1)
    documents = [cs.Document("lease.pdf", "%PDF lease"), cs.Document("terms.pdf", b"%PDF terms")]
    kinds = [cs.Signer, cs.CarbonCopy, cs.CertifiedDelivery, cs.InPersonSigner, cs.Agent,
             cs.Editor, cs.Intermediary]  # fmt: skip
    people = [kind(f"Person {n}", f"p{n}@example.com", 1 + n // 3) for n, kind in enumerate(kinds)]
    everyone = sim.create_envelope("Everyone signs", people, custom_fields={"Region": "EMEA"},
                                   documents=documents)  # fmt: skip
    sim.send(everyone)
    at = minute
    for person in people:
        if isinstance(person, cs.CarbonCopy):
            continue  # completes when routing reaches it
        sim.view(everyone, person, at=at)
        if not isinstance(person, cs.CertifiedDelivery):  # completes on view
            sim.sign(everyone, person, at=at + minute)
        at += 2 * minute
    declined = sim.create_envelope(
        "Declined", [cs.InPersonSigner("Ivy", "ivy@example.com"),
                     cs.CarbonCopy("Carl", "carl@example.com", 2)],
        custom_fields={"Region": "EMEA", "Deal": "Tom & Jerry <3>"}, documents=documents[:1],
    )  # fmt: skip
    sim.send(declined)
    sim.view(declined, "1", at=minute)
    sim.decline(declined, "1", at=2 * minute, reason="The rent is too high")
    voided = sim.create_envelope("Voided", [cs.Agent("Al", "al@example.com"),
                                            cs.Editor("Ed", "ed@example.com", 2)])  # fmt: skip
    sim.send(voided)
    sim.void(voided, at=3 * minute, reason="Sent in error")
    bounced = sim.create_envelope("Bounced", [cs.Intermediary("Bo", "bo@example.invalid"),
                                              cs.CertifiedDelivery("Cy", "cy@example.com")])  # fmt: skip
    sim.send(bounced)
    sim.bounce(bounced, "1", at=4 * minute)
    return sim


@cache
def rich_bodies() -> list[tuple[str, bytes]]:
    """Every body of the rich simulations, labelled: mode, offset, attempt and event."""
    bodies = []
    for mode in ("sim", "aggregate"):
        for time_zone, offset in ZONES:
            for attempt in rich_simulation(mode, time_zone, offset).run().attempts:
                label = f"{mode} {offset or time_zone} {attempt.envelope.id} {attempt.event}"
                bodies.append((label, attempt.body))
    return bodies


def test_the_rich_scenarios_give_plenty_of_bodies() -> None:
    bodies = rich_bodies()
    assert len(bodies) >= 200
    assert all(body.startswith(b"<?xml") for _, body in bodies)
    every_type = rb"<Type>(\w+)</Type>"
    seen = {kind for _, body in bodies for kind in re.findall(every_type, body)}
    assert len(seen) == 7
    assert any(b"<DocumentPDFs>" in body for _, body in bodies)
    assert any(b"<DocumentType>SUMMARY</DocumentType>" in body for _, body in bodies)
    assert any(b"<Name>AccountSite</Name>" in body for _, body in bodies)
    assert any(b"<VoidReason>" in body for _, body in bodies)
    offsets = {m for _, body in bodies for m in re.findall(rb"<TimeZoneOffset>(-?\d+)<", body)}
    assert {b"-8", b"-7", b"5", b"-3"} <= offsets  # the DST change and the part-hour zones


def test_every_body_of_the_rich_scenarios_validates() -> None:
    valid, report = summary(rich_bodies())
    assert valid == len(rich_bodies()), report


# Made once: a strategy made inside a composite is validated again at every draw.
ACTING = st.sampled_from([cs.Signer, cs.InPersonSigner, cs.Agent, cs.Editor, cs.Intermediary])
MODES = st.sampled_from(["sim", "aggregate"])
TIME_ZONES = st.sampled_from(ZONES)


@st.composite
def xml_plans(draw: st.DrawFn) -> tuple[Plan, str, tuple[str, str | None]]:
    """The payload tests' scenarios, with all five acting types, a mode and a time zone."""
    plan = draw(payload_plans(format="xml"))
    envelopes = []
    for envelope_id, people, created in plan.envelopes:
        # The acting types are routed alike, so the plan's timeline stays one the model allows.
        people = [draw(ACTING)(p.name, p.email, p.routing_order, p.recipient_id,
                               client_user_id=p.client_user_id)
                  if p.role == "acts" else p for p in people]  # fmt: skip
        envelopes.append((envelope_id, people, created))
    plan.envelopes = envelopes
    return plan, draw(MODES), draw(TIME_ZONES)


@given(xml_plans())
def test_every_generated_xml_body_validates(
    drawn: tuple[Plan, str, tuple[str, str | None]],
) -> None:
    plan, mode, (time_zone, offset) = drawn
    sim = plan.build(mode)
    result = sim.run()
    account = attrs.evolve(sim.account, time_zone=time_zone, utc_offset=offset)
    for name in result.configurations:
        configuration = attrs.evolve(result.channel(name).configuration, include_data=EVERYTHING)
        renderer = Renderer(configuration, account, sim.start)
        bodies = [(f"{mode} {offset or time_zone} {attempt.envelope.id} {attempt.event}",
                   renderer.body(attempt))
                  for attempt in result.attempts if attempt.configuration == name]  # fmt: skip
        valid, report = summary(bodies)
        assert valid == len(bodies), report
