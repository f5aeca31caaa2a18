"""Connect 2.0 JSON bodies: the wrapper, the summary against DocuSign's SDK models, laziness."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given

import connect_sim as cs
from connect_sim.listeners import Outage
from connect_sim.render import memo

from builders import DAY, seed_example
from payloads import check_json_body, check_model, payload_plans
from scenarios import Plan

ALL = ["recipients", "custom_fields", "documents", "folders", "tabs"]
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$")


def documents(attempts: list[cs.Attempt]) -> list[dict[str, Any]]:
    return [check_json_body(attempt.body) for attempt in attempts]


@pytest.mark.parametrize("mode", ["sim", "aggregate"])
def test_every_seed_example_body_fits_the_sdk_models(mode: str) -> None:
    sim, _ = seed_example(mode, include_data=ALL)
    bodies = documents(sim.run().received("listener"))
    assert len(bodies) == (6 if mode == "sim" else 2)


def test_the_seed_example_under_sim_tells_the_story_event_by_event() -> None:
    sim, env = seed_example("sim", include_data=["recipients"])
    bodies = documents(sim.run().received("listener"))
    assert [b["event"] for b in bodies] == [
        "recipient-sent", "envelope-sent", "recipient-delivered", "recipient-completed",
        "recipient-completed", "envelope-completed",
    ]  # fmt: skip
    assert [b["generatedDateTime"] for b in bodies] == [
        "2026-01-01T00:00:00.0000000Z", "2026-01-01T00:00:00.0000000Z",
        "2026-01-01T00:02:00.0000000Z", "2026-01-01T00:02:20.0000000Z",
        "2026-01-01T00:02:20.0000000Z", "2026-01-01T00:02:20.0000000Z",
    ]  # fmt: skip
    first, last = bodies[0], bodies[-1]
    assert first["data"]["recipientId"] == "sue"
    assert first["data"]["envelopeId"] == env.envelope_id
    summary = first["data"]["envelopeSummary"]
    assert summary["status"] == "created"  # the recipient was notified before the envelope
    assert "sentDateTime" not in summary and "completedDateTime" not in summary
    signers = summary["recipients"]["signers"]
    assert [(s["name"], s["status"], s["routingOrder"]) for s in signers] == [
        ("Sue Signer", "sent", "1")
    ]
    final = last["data"]["envelopeSummary"]
    assert "recipientId" not in last["data"]
    assert final["status"] == "completed"
    assert final["completedDateTime"] == "2026-01-01T00:02:20.0000000Z"
    copies = final["recipients"]["carbonCopies"]
    assert [(c["name"], c["status"]) for c in copies] == [("Charlie Copy", "completed")]
    for stamp in (final["createdDateTime"], final["sentDateTime"], last["generatedDateTime"]):
        assert STAMP.match(stamp)


def test_aggregate_carries_the_sending_time_and_the_status_then() -> None:
    sim, _ = seed_example("aggregate")
    bodies = documents(sim.run().received("listener"))
    assert [b["event"] for b in bodies] == ["envelope-sent", "envelope-completed"]
    assert [b["generatedDateTime"][:19] for b in bodies] == [
        "2026-01-01T00:01:00",
        "2026-01-01T00:03:00",
    ]
    assert [b["data"]["envelopeSummary"]["status"] for b in bodies] == ["sent", "completed"]


def test_retry_count_grows_and_sim_keeps_the_generated_time() -> None:
    outage = Outage(windows=[(timedelta(0), timedelta(days=2, hours=1))])
    sim, _ = seed_example("sim", listener=outage)
    attempts = [a for a in sim.run().attempts if a.message.sequence == 1]
    bodies = documents(attempts)
    assert [b["retryCount"] for b in bodies] == [0, 1, 2, 3]
    assert {b["generatedDateTime"] for b in bodies} == {"2026-01-01T00:00:00.0000000Z"}
    day = DAY // timedelta(milliseconds=1)
    assert [a.time // day for a in attempts] == [0, 1, 2, 3]  # the retries are a day apart


def test_aggregate_retries_carry_a_newer_generated_time_and_status() -> None:
    outage = Outage(windows=[(timedelta(0), timedelta(minutes=1, seconds=30))])
    sim, _ = seed_example("aggregate", listener=outage)
    later = sim.create_envelope("Later", [cs.Signer("Lee", "lee@example.com")], id="e2")
    sim.send(later, at=timedelta(days=1, hours=1))  # a later message that succeeds
    attempts = [a for a in sim.run().attempts if a.message.sequence == 1]
    first, retry = documents(attempts)
    assert (first["retryCount"], retry["retryCount"]) == (0, 1)
    assert first["event"] == retry["event"] == "envelope-sent"
    assert retry["generatedDateTime"] > first["generatedDateTime"]
    assert retry["data"]["envelopeSummary"]["status"] == "completed"


def test_include_data_decides_what_the_summary_carries() -> None:
    def summary(include: list[str]) -> dict[str, Any]:
        sim = cs.Simulation(seed=2)
        sim.add_configuration(cs.Configuration(name="c", include_data=include))
        env = sim.create_envelope(
            "Lease", [cs.Signer("Sue", "sue@example.com")], id="e1",
            custom_fields={"Region": "EMEA", "Deal": "42"},
            documents=[cs.Document("lease.pdf", b"%PDF-1.7 lease")],
        )  # fmt: skip
        sim.send(env)
        return check_json_body(sim.run().received("c")[-1].body)["data"]["envelopeSummary"]

    bare = summary([])
    for key in ("recipients", "customFields", "envelopeDocuments", "folders"):
        assert key not in bare
    assert bare["sender"]["userName"] == "Sam Sender"
    full = summary(["recipients", "custom_fields", "documents", "folders"])
    assert [(f["name"], f["value"]) for f in full["customFields"]["textCustomFields"]] == [
        ("Region", "EMEA"), ("Deal", "42")
    ]  # fmt: skip
    (document,) = full["envelopeDocuments"]
    assert (document["name"], document["documentId"]) == ("lease.pdf", "1")
    assert document["PDFBytes"] == "JVBERi0xLjcgbGVhc2U="  # where Connect puts the content
    assert "documentBase64" not in document
    assert full["folders"][0]["type"] == "sentitems"
    assert full["recipients"]["recipientCount"] == "1"


def test_unknown_include_data_is_refused_with_the_known_options() -> None:
    with pytest.raises(cs.ConfigurationError, match=r"unknown option 'recipient'.*recipients"):
        cs.Configuration(name="c", include_data=["recipient"])


def test_bodies_are_rendered_lazily_and_once() -> None:
    sim, _ = seed_example("sim")
    attempt = sim.run().received("listener")[0]
    assert not sim._ledger.bodies  # nothing rendered by the run itself
    assert attempt.body is attempt.body  # rendered once, then kept
    assert attempt.headers == attempt.headers


def test_render_gives_the_same_body_and_headers_and_keeps_nothing() -> None:
    sim, _ = seed_example("sim", hmac_keys=["k"])
    first, second = sim.run().attempts[:2]
    body, headers = first.render()
    assert not sim._ledger.bodies and not sim._ledger.headers  # a writer's: nothing is kept
    assert (body, headers) == (first.body, first.headers)
    headers["X-DocuSign-Signature-1"] = "changed"
    assert first.render()[1] == first.headers  # a new dict each time, as headers gives
    kept = second.body
    assert second.render()[0] is kept  # what an attempt keeps is not rendered again


def test_same_scenario_and_seed_give_the_same_bytes() -> None:
    def bodies() -> list[bytes]:
        sim, _ = seed_example("sim", include_data=ALL, hmac_keys=["k"])
        return [a.body + json.dumps(a.headers).encode() for a in sim.run().attempts]

    assert bodies() == bodies()


def test_the_sdk_deserializer_reads_a_summary() -> None:
    from docusign_esign import ApiClient

    sim, _ = seed_example("sim", include_data=ALL)
    body = json.loads(sim.run().received("listener")[-1].body)

    class Response:
        data = json.dumps(body["data"]["envelopeSummary"])

    envelope = ApiClient().deserialize(Response(), "Envelope")
    assert envelope.status == "completed"
    assert envelope.recipients.signers[0].email == "sue@example.com"
    assert envelope.recipients.carbon_copies[0].status == "completed"


def test_the_walker_catches_a_key_the_model_does_not_have() -> None:
    with pytest.raises(AssertionError, match="hasFormDataChanges is not a key"):
        check_model({"hasFormDataChanges": "true"}, "Envelope", "summary")
    with pytest.raises(AssertionError, match="expects a string"):
        check_model({"recipients": {"signers": [{"routingOrder": 1}]}}, "Envelope", "summary")


@given(payload_plans(format="json"))
def test_every_json_body_of_any_scenario_fits_the_sdk_models(plan: Plan) -> None:
    for mode in ("sim", "aggregate"):
        for attempt in plan.build(mode).run().attempts:
            document = check_json_body(attempt.body)
            # Bodies are put together from pieces encoded ahead: the whole must be exactly
            # what the standard library's encoder writes for the same object.
            encoded = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
            assert attempt.body == encoded.encode("utf-8")
            assert document["retryCount"] == attempt.retry_count
            assert document["event"] == attempt.event


def one_signer(**options: object) -> cs.Result:
    sim = cs.Simulation(seed=2)
    sim.add_configuration(cs.Configuration(name="c", **options))  # type: ignore[arg-type]
    sue = cs.Signer("Sue", "sue@example.com", client_user_id="1000")
    env = sim.create_envelope("Lease", [sue], id="e1", custom_fields={"Region": "EMEA"})
    sim.send(env)
    sim.sign(env, sue, at=timedelta(minutes=2))
    return sim.run()


def test_the_top_level_keys_come_in_the_order_of_real_messages() -> None:
    body = one_signer().attempts[0].body
    assert list(json.loads(body)) == ["event", "apiVersion", "uri", "retryCount",
                                      "configurationId", "generatedDateTime", "data"]  # fmt: skip


def test_without_the_envelope_summary_data_carries_only_the_ids() -> None:
    result = one_signer(include_envelope_summary=False)
    bodies = [check_json_body(a.body) for a in result.attempts]
    assert [list(b["data"]) for b in bodies[:2]] == [
        ["accountId", "userId", "recipientId", "envelopeId"],  # recipient-sent
        ["accountId", "userId", "envelopeId"],  # envelope-sent
    ]
    message = cs.parse_message(result.attempts[0].body, "application/json")
    assert message.status is None and message.event == "recipient-sent"
    with pytest.raises(cs.ConfigurationError, match="include_envelope_summary applies to JSON"):
        cs.Configuration(name="x", format="xml", include_envelope_summary=False)
    for option in ({"include_data": ["recipients"]},
                   {"include_sender_account_as_custom_field": True}):  # fmt: skip
        with pytest.raises(cs.ConfigurationError, match="and include_envelope_summary is off"):
            cs.Configuration(name="x", include_envelope_summary=False, **option)  # type: ignore[arg-type]


def test_an_envelope_created_without_documents_carries_one_real_pdf() -> None:
    summary = check_json_body(one_signer(include_data=["documents"]).attempts[-1].body)["data"][
        "envelopeSummary"
    ]
    (document,) = summary["envelopeDocuments"]
    assert (document["documentId"], document["name"], document["type"]) == (
        "1", "Document 1.pdf", "content"
    )  # fmt: skip
    content = base64.b64decode(document["PDFBytes"])
    assert content.startswith(b"%PDF-1.4") and content.rstrip().endswith(b"%%EOF")
    assert document["sizeBytes"] == str(len(content))


def test_a_completed_envelope_carries_its_certificate_when_asked() -> None:
    result = one_signer(include_data=["documents"], include_certificate_of_completion=True)
    kinds = [[(d["documentId"], d["type"], d["name"]) for d in
              check_json_body(a.body)["data"]["envelopeSummary"]["envelopeDocuments"]]
             for a in result.attempts]  # fmt: skip
    assert kinds[0] == [("1", "content", "Document 1.pdf")]  # not completed yet
    assert kinds[-1] == [("1", "content", "Document 1.pdf"), ("certificate", "summary", "Summary")]
    last = check_json_body(result.attempts[-1].body)["data"]["envelopeSummary"]
    certificate = base64.b64decode(last["envelopeDocuments"][1]["PDFBytes"])
    assert b"Certificate of Completion" in certificate
    with pytest.raises(cs.ConfigurationError, match="needs documents included"):
        cs.Configuration(name="x", include_certificate_of_completion=True)


def test_the_sender_account_comes_after_the_envelopes_own_custom_fields() -> None:
    account = cs.Account(name="World Wide Corp", number=4197223, site="demo")
    sim = cs.Simulation(account=account)
    sim.add_configuration(cs.Configuration("c", include_sender_account_as_custom_field=True))
    sim.send(sim.create_envelope("Hi", [cs.Signer("Sue", "s@x")], custom_fields={"Deal": "42"}))
    summary = check_json_body(sim.run().attempts[-1].body)["data"]["envelopeSummary"]
    fields = summary["customFields"]["textCustomFields"]
    assert [(f["name"], f["value"], f["show"]) for f in fields] == [
        ("Deal", "42", "true"), ("AccountId", "4197223", "false"),
        ("AccountName", "World Wide Corp", "false"), ("AccountSite", "demo", "false"),
    ]  # fmt: skip


def test_an_embedded_signer_carries_its_client_user_id() -> None:
    summary = check_json_body(one_signer(include_data=["recipients"]).attempts[-1].body)
    (signer,) = summary["data"]["envelopeSummary"]["recipients"]["signers"]
    assert signer["clientUserId"] == "1000"


def test_a_completed_envelope_has_a_delivered_time_even_when_nobody_viewed_it() -> None:
    sim = cs.Simulation()
    sim.add_configuration(cs.Configuration("c"))
    sim.send(sim.create_envelope("Copy", [cs.CarbonCopy("Charlie", "c@x")]), at=timedelta(0))
    final = check_json_body(sim.run().attempts[-1].body)["data"]["envelopeSummary"]
    assert final["status"] == "completed"
    assert final["deliveredDateTime"] == final["completedDateTime"]


def test_bodies_are_the_same_when_the_renderers_memos_fill_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The memos forget everything when full; what they make again must be the same bytes.
    def bodies() -> list[bytes]:
        sim = cs.Simulation(seed=5)
        for name, format in (("json", "json"), ("xml", "xml")):
            sim.add_configuration(cs.Configuration(
                name=name, format=format, include_data=["recipients", "custom_fields", "documents"],
                include_certificate_of_completion=True, include_sender_account_as_custom_field=True,
            ))  # fmt: skip
        for number in range(6):
            envelope = sim.create_envelope("Lease", [cs.Signer("Sue", "sue@example.com"),
                                                     cs.CarbonCopy("Cc", "cc@example.com")],
                                           custom_fields={"n": str(number)})  # fmt: skip
            sim.send(envelope, at=timedelta(minutes=number))
            sim.sign(envelope, "1", at=timedelta(minutes=number, seconds=30))
        return [attempt.render()[0] for attempt in sim.run().attempts]

    whole = bodies()
    monkeypatch.setattr(memo, "MEMO_SIZE", 1)  # every memo forgets at each new entry
    assert bodies() == whole
