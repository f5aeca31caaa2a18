"""Legacy XML bodies: element order, time zones, escaping, and the same facts as JSON."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import connect_sim as cs
from connect_sim.render import Renderer

from builders import seed_example
from payloads import payload_plans
from scenarios import Plan

NS = "{http://www.docusign.net/API/3.0}"
ENVELOPE_ORDER = [
    "RecipientStatuses", "TimeGenerated", "EnvelopeID", "Subject", "UserName", "Email", "Status",
    "Created", "Deleted", "Sent", "Delivered", "Signed", "Completed", "Declined", "TimedOut",
    "ACStatus", "ACStatusDate", "ACHolder", "ACHolderEmail", "ACHolderLocation",
    "SigningLocation", "SenderIPAddress", "EnvelopePDFHash", "CustomFields", "VaultingDetails",
    "AutoNavigation", "EnvelopeIdStamping", "AuthoritativeCopy", "EnvelopeAttachment",
    "DocumentStatuses", "FormData", "VoidReason",
]  # fmt: skip
RECIPIENT_ORDER = [
    "Type", "Email", "UserName", "RoutingOrder", "Sent", "Delivered", "Signed", "Declined",
    "DeclineReason", "AutoRespondedReason", "Status", "RecipientIPAddress", "ClientUserId", "AutoNavigation",
    "IDCheckInformation", "RecipientAuthenticationStatus", "CustomFields", "TabStatuses",
    "RecipientAttachment", "AccountStatus", "EsignAgreementInformation", "FormData",
    "RecipientId",
]  # fmt: skip
ROOT_ORDER = ["EnvelopeStatus", "DocumentPDFs", "TimeZone", "TimeZoneOffset"]


def local(tag: str) -> str:
    assert tag.startswith(NS), tag
    return tag[len(NS) :]


def in_order(children: list[str], order: list[str]) -> bool:
    positions = [order.index(child) for child in children]
    return positions == sorted(positions) and len(set(positions)) == len(positions)


def check_xml_body(body: bytes) -> ElementTree.Element:
    """Parse and check the element order the legacy schema gives."""
    root = ElementTree.fromstring(body)
    assert root.tag == f"{NS}DocuSignEnvelopeInformation"
    root_children = [local(c.tag) for c in root]
    assert in_order(root_children, ROOT_ORDER) and root_children[-2:] == ROOT_ORDER[-2:]
    status = root.find(f"{NS}EnvelopeStatus")
    assert status is not None
    children = [local(c.tag) for c in status]
    assert children[0] == "RecipientStatuses" and in_order(children, ENVELOPE_ORDER)
    for recipient in status.iter(f"{NS}RecipientStatus"):
        parts = [local(c.tag) for c in recipient]
        assert in_order(parts, RECIPIENT_ORDER)
        assert parts[:4] == ["Type", "Email", "UserName", "RoutingOrder"]
        assert parts[-1] == "RecipientId"
    return root


def facts(message: cs.ConnectMessage) -> tuple[object, ...]:
    """What both formats carry: the envelope, its status, time, subject, people, fields."""
    people = tuple(attrs.evolve(r, recipient_id=None) for r in message.recipients)
    return (message.envelope_id, message.status, message.generated, message.subject,
            sorted(people, key=lambda r: r.recipient_id_guid), message.custom_fields)  # fmt: skip


def test_the_seed_example_in_xml() -> None:
    sim, env = seed_example("sim", format="xml")
    attempts = sim.run().received("listener")
    assert len(attempts) == 6
    root = check_xml_body(attempts[-1].body)
    status = root.find(f"{NS}EnvelopeStatus")
    assert status is not None
    assert status.findtext(f"{NS}EnvelopeID") == env.envelope_id
    assert status.findtext(f"{NS}Status") == "Completed"
    assert status.findtext(f"{NS}TimeGenerated") == "2026-01-01T00:02:20"  # a whole second
    assert status.findtext(f"{NS}Completed") == "2026-01-01T00:02:20"
    assert status.findtext(f"{NS}Signed") == "2026-01-01T00:02:20"  # as the samples have it
    people = [(r.findtext(f"{NS}UserName"), r.findtext(f"{NS}Status"))
              for r in status.iter(f"{NS}RecipientStatus")]  # fmt: skip
    assert people == [("Sue Signer", "Completed"), ("Charlie Copy", "Completed")]
    assert attempts[0].headers["Content-Type"] == "text/xml; charset=utf-8"


def test_times_are_local_to_the_account_and_parse_back_to_utc() -> None:
    account = cs.Account(time_zone="Pacific Standard Time", utc_offset="-08:00")
    sim = cs.Simulation(seed=1, account=account)
    sim.add_configuration(cs.Configuration(name="c", format="xml"))
    env = sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com")])
    sim.send(env, at=timedelta(hours=3))
    body = sim.run().received("c")[-1].body
    root = check_xml_body(body)
    assert root.findtext(f"{NS}TimeZone") == "Pacific Standard Time"
    assert root.findtext(f"{NS}TimeZoneOffset") == "-8"
    assert root.findtext(f"{NS}EnvelopeStatus/{NS}Sent") == "2025-12-31T19:00:00"
    message = cs.parse_message(body, "text/xml")
    assert message.generated == datetime(2026, 1, 1, 3, tzinfo=UTC)


def test_a_half_hour_offset_is_written_in_whole_hours_and_the_times_stay_exact() -> None:
    sim = cs.Simulation(account=cs.Account(time_zone="India Standard Time", utc_offset="+05:30"))
    sim.add_configuration(cs.Configuration(name="c", format="xml"))
    sim.send(sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com")]))
    body = sim.run().received("c")[-1].body
    assert b"<TimeZoneOffset>5</TimeZoneOffset>" in body  # the schema's int, toward zero
    assert b"<Sent>2026-01-01T05:30:00</Sent>" in body  # the local time itself is exact
    # A reader that trusts TimeZoneOffset is off by the half hour it drops.
    assert cs.parse_message(body).generated == datetime(2026, 1, 1, 0, 30, tzinfo=UTC)


def test_a_daylight_saving_zone_writes_the_offset_in_force_at_each_instant() -> None:
    # 2026-03-08: Pacific time moves from -08:00 to -07:00 at 10:00 UTC.
    start = datetime(2026, 3, 8, 9, 30, tzinfo=UTC)
    sim = cs.Simulation(start=start, account=cs.Account(time_zone="America/Los_Angeles"))
    sim.add_configuration(cs.Configuration(name="c", format="xml", events=["envelope-sent",
                                                                          "envelope-completed"]))  # fmt: skip
    env = sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com", recipient_id="1")])
    sim.send(env)
    sim.sign(env, "1", at=timedelta(hours=1, seconds=1, milliseconds=590))
    sent, completed = (check_xml_body(a.body) for a in sim.run().received("c"))
    assert [r.findtext(f"{NS}TimeZone") for r in (sent, completed)] == [
        "Pacific Standard Time"
    ] * 2
    assert [r.findtext(f"{NS}TimeZoneOffset") for r in (sent, completed)] == ["-8", "-7"]
    status = completed.find(f"{NS}EnvelopeStatus")
    assert status is not None
    assert status.findtext(f"{NS}Sent") == "2026-03-08T01:30:00"  # -08:00 then
    assert status.findtext(f"{NS}Completed") == "2026-03-08T03:30:01.59"  # -07:00 now
    assert cs.parse_message(sim.run().received("c")[1].body).generated == start + timedelta(
        hours=1, seconds=1, milliseconds=590
    )


def test_an_unknown_time_zone_is_refused_and_an_unmapped_one_keeps_its_name() -> None:
    with pytest.raises(cs.ConfigurationError, match="not an IANA time zone this machine knows"):
        cs.Account(time_zone="Mars/Olympus_Mons")
    assert cs.Account(time_zone="Asia/Ulaanbaatar").zone.windows_name == "Asia/Ulaanbaatar"
    assert cs.Account(time_zone="Europe/Paris").zone.windows_name == "Romance Standard Time"


def test_what_the_schema_requires_is_always_there() -> None:
    sim = cs.Simulation()
    sim.add_configuration(cs.Configuration(name="c", format="xml"))
    people = [cs.Signer("Sue", "s@x", recipient_id="1"), cs.Signer("Bob", "b@x", recipient_id="2",
                                                                    client_user_id="1000")]  # fmt: skip
    env = sim.create_envelope("Hi", people)
    sim.send(env)
    sim.bounce(env, "1", at=timedelta(minutes=1))
    sim.void(env, at=timedelta(minutes=2), reason="Sent by mistake")
    last = check_xml_body(sim.run().attempts[-1].body)
    status = last.find(f"{NS}EnvelopeStatus")
    assert status is not None
    sue, bob = status.iter(f"{NS}RecipientStatus")
    nil = "{http://www.w3.org/2001/XMLSchema-instance}nil"
    for person in (sue, bob):
        reason = person.find(f"{NS}DeclineReason")
        assert reason is not None and reason.get(nil) == "true" and not reason.text
        assert person.findtext(f"{NS}RecipientIPAddress") == ""
        assert person.findtext(f"{NS}CustomFields") == ""
    assert sue.findtext(f"{NS}AutoRespondedReason")
    assert sue.find(f"{NS}ClientUserId") is None and bob.findtext(f"{NS}ClientUserId") == "1000"
    assert status.findtext(f"{NS}CustomFields") == ""  # present, empty: no fields
    assert status.findtext(f"{NS}VoidReason") == "Sent by mistake"
    assert [d.findtext(f"{NS}Name") for d in status.iter(f"{NS}DocumentStatus")] == [
        "Document 1.pdf"
    ]


def test_custom_fields_certificate_and_sender_account_in_xml() -> None:
    account = cs.Account(name="World Wide Corp", number=4197223)
    sim = cs.Simulation(account=account)
    sim.add_configuration(cs.Configuration(
        name="c", format="xml", include_data=["documents"], include_certificate_of_completion=True,
        include_sender_account_as_custom_field=True))  # fmt: skip
    env = sim.create_envelope("Hi", [cs.Signer("Sue", "s@x", recipient_id="1")],
                              custom_fields={"Region": "EMEA"})  # fmt: skip
    sim.send(env)
    sim.sign(env, "1", at=timedelta(minutes=1))
    first, *_, last = (check_xml_body(a.body) for a in sim.run().attempts)
    fields = [(f.findtext(f"{NS}Name"), f.findtext(f"{NS}Value"), f.findtext(f"{NS}Show"),
               f.findtext(f"{NS}Required")) for f in last.iter(f"{NS}CustomField")]  # fmt: skip
    assert fields == [("Region", "EMEA", "true", "false"), ("AccountId", "4197223", "false", "false"),
                      ("AccountName", "World Wide Corp", "false", "false"),
                      ("AccountSite", "demo", "false", "false")]  # fmt: skip
    kinds = [(d.findtext(f"{NS}Name"), d.findtext(f"{NS}DocumentType")) for d in
             last.iter(f"{NS}DocumentPDF")]  # fmt: skip
    assert kinds == [("Document 1.pdf", "CONTENT"), ("Summary", "SUMMARY")]
    assert [d.findtext(f"{NS}DocumentType") for d in first.iter(f"{NS}DocumentPDF")] == ["CONTENT"]
    # DocuSign's sample workers read the first custom field's value: there always is one.
    assert last.findtext(f"{NS}EnvelopeStatus/{NS}CustomFields/{NS}CustomField/{NS}Value")


def test_documents_and_custom_fields_in_xml() -> None:
    sim = cs.Simulation()
    sim.add_configuration(cs.Configuration(name="c", format="xml", include_data=["documents"]))
    env = sim.create_envelope(
        "Lease", [cs.Signer("Sue", "sue@example.com")], custom_fields={"Region": "EMEA"},
        documents=[cs.Document("lease.pdf", "%PDF lease")],
    )  # fmt: skip
    sim.send(env)
    root = check_xml_body(sim.run().received("c")[-1].body)
    assert root.findtext(f"{NS}DocumentPDFs/{NS}DocumentPDF/{NS}PDFBytes") == "JVBERiBsZWFzZQ=="
    assert root.findtext(f"{NS}EnvelopeStatus/{NS}CustomFields/{NS}CustomField/{NS}Value") == (
        "EMEA"
    )
    name = f"{NS}EnvelopeStatus/{NS}DocumentStatuses/{NS}DocumentStatus/{NS}Name"
    assert root.findtext(name) == "lease.pdf"


@given(payload_plans())
def test_every_xml_body_parses_in_order_and_says_what_the_json_body_says(plan: Plan) -> None:
    for mode in ("sim", "aggregate"):
        sim = plan.build(mode)
        result = sim.run()
        for name in result.configurations:
            both = attrs.evolve(result.channel(name).configuration,
                                include_data=["recipients", "custom_fields"],
                                include_envelope_summary=True,
                                include_certificate_of_completion=False)  # fmt: skip
            as_json = Renderer(attrs.evolve(both, format="json"), sim.account, sim.start)
            as_xml = Renderer(attrs.evolve(both, format="xml"), sim.account, sim.start)
            for attempt in result.attempts:
                if attempt.configuration != name:
                    continue
                xml_body = as_xml.body(attempt)
                check_xml_body(xml_body)
                from_json = cs.parse_message(as_json.body(attempt), as_json.content_type)
                from_xml = cs.parse_message(xml_body, as_xml.content_type)
                assert facts(from_json) == facts(from_xml)
                assert from_json.retry_count == attempt.retry_count
                assert from_json.event == attempt.event
                assert from_xml.event is None and from_xml.retry_count is None


not_xml = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
TEXT = st.text(st.characters(codec="utf-8"), max_size=12)  # every character UTF-8 can carry


@given(subject=TEXT, name=TEXT, reason=TEXT, value=TEXT)
def test_any_unicode_gives_well_formed_xml_or_a_clear_error(
    subject: str, name: str, reason: str, value: str
) -> None:
    sim = cs.Simulation()
    sim.add_configuration(cs.Configuration(name="c", format="xml"))
    people = [cs.Signer(f"x{name}", "sue@example.com", recipient_id="1")]
    env = sim.create_envelope(subject, people, custom_fields={"Field": value})
    sim.send(env)
    sim.decline(env, "1", at=timedelta(minutes=1), reason=reason)
    for attempt in sim.run().attempts:
        carried = [subject, name, value]
        if attempt.snapshot.recipients[0].declined_reason is not None:
            carried.append(reason)
        if any(not_xml.search(text) for text in carried):
            with pytest.raises(cs.PayloadError, match=r"^envelope 'envelope-1': .* in XML 1\.0"):
                _ = attempt.body
            continue
        body = attempt.body
        check_xml_body(body)
        message = cs.parse_message(body, "text/xml")
        assert message.subject == subject
        assert message.custom_fields == (("Field", value),)
        assert message.recipients[0].name == f"x{name}"
        declined = ElementTree.fromstring(body).findtext(
            f"{NS}EnvelopeStatus/{NS}RecipientStatuses/{NS}RecipientStatus/{NS}DeclineReason"
        )
        if attempt.snapshot.recipients[0].declined_reason is not None:
            assert (declined or "") == reason


def test_a_control_character_is_refused_by_name_and_place() -> None:
    sim = cs.Simulation()
    sim.add_configuration(cs.Configuration(name="c", format="xml"))
    sim.send(sim.create_envelope("Ring \x07 the bell", [cs.Signer("Sue", "s@example.com")]))
    attempt = sim.run().attempts[0]
    with pytest.raises(cs.PayloadError, match=r"subject: character U\+0007 at position 5"):
        _ = attempt.body


def test_a_lone_surrogate_is_refused_when_the_envelope_is_made() -> None:
    sim = cs.Simulation()
    with pytest.raises(cs.ConfigurationError, match="not valid Unicode text"):
        sim.create_envelope("bad \ud800", [cs.Signer("Sue", "s@example.com")])
    with pytest.raises(cs.ConfigurationError, match="recipient name"):
        cs.Signer("\udfff", "s@example.com")
