"""The envelope lifecycle of DESIGN.md section 3, one rule at a time."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

import connect_sim as cs
from connect_sim.envelope import Envelope, initial_state
from connect_sim.ids import derived_guid
from connect_sim.lifecycle import apply, lifecycle_diagram

T = timedelta(seconds=1)


def envelope(*recipients: cs.Recipient) -> Envelope:
    return Envelope("e1", "00000000-0000-4000-8000-000000000000", "Subject", recipients)


def names(emitted: list[tuple[str, int | None, cs.EnvelopeState]]) -> list[str]:
    return [name for name, _, _ in emitted]


SUE = cs.Signer("Sue", "sue@example.com", 1, "sue")
BOB = cs.Signer("Bob", "bob@example.com", 1, "bob")
CHARLIE = cs.CarbonCopy("Charlie", "charlie@example.com", 2, "charlie")
DANA = cs.Signer("Dana", "dana@example.com", 3, "dana")


def sent(*recipients: cs.Recipient) -> cs.EnvelopeState:
    return apply(initial_state(envelope(*recipients), 0), "send", 0)[-1][2]


def test_send_notifies_the_recipient_first_while_the_envelope_is_still_created() -> None:
    out = apply(initial_state(envelope(SUE, CHARLIE), 0), "send", 5)
    assert names(out) == ["recipient-sent", "envelope-sent"]
    first, second = out[0][2], out[1][2]
    assert first.status == "created" and first.recipient("sue").status == "sent"
    assert second.status == "sent" and second.sent == 5
    assert first.recipient("sue").sent == 5
    assert second.recipient("charlie").status == "created"


def test_a_carbon_copy_completes_when_routing_reaches_it_with_its_sent_time() -> None:
    out = apply(initial_state(envelope(cs.CarbonCopy("C", "c@x", 1, "c"), SUE), 0), "send", 7)
    assert names(out)[0] == "recipient-completed"
    cc = out[0][2].recipient("c")
    assert (cc.status, cc.sent, cc.delivered, cc.signed) == ("completed", 7, None, None)


def test_a_copy_only_routing_order_completes_and_routes_on_before_envelope_sent() -> None:
    cc = cs.CarbonCopy("C", "c@x", 1, "c")
    signer = cs.Signer("S", "s@x", 2, "s")
    out = apply(initial_state(envelope(cc, signer), 0), "send", 0)
    assert names(out) == ["recipient-completed", "recipient-sent", "envelope-sent"]


def test_an_envelope_of_only_copies_completes_on_send() -> None:
    out = apply(initial_state(envelope(cs.CarbonCopy("C", "c@x", 1, "c")), 0), "send", 0)
    assert names(out) == ["recipient-completed", "envelope-sent", "envelope-completed"]


def test_view_delivers_the_recipient_and_the_envelope_only_when_everyone_has_seen_it() -> None:
    state = sent(SUE, BOB)
    out = apply(state, "view", 10, recipient=0)
    assert names(out) == ["recipient-delivered"]
    state = out[-1][2]
    assert state.recipient("sue").delivered == 10 and state.status == "sent"
    out = apply(state, "view", 20, recipient=1)
    assert names(out) == ["recipient-delivered", "envelope-delivered"]
    assert out[-1][2].status == "delivered" and out[-1][2].delivered == 20


def test_envelope_delivered_counts_a_recipient_of_an_earlier_order_who_completed() -> None:
    ray = cs.Signer("Ray", "ray@example.com", 2, "ray")
    state = apply(sent(SUE, ray), "sign", 1, recipient=0)[-1][2]
    assert (state.recipient("sue").status, state.recipient("ray").status) == ("completed", "sent")
    out = apply(state, "view", 2, recipient=1)
    assert names(out) == ["recipient-delivered", "envelope-delivered"]
    assert (out[-1][2].status, out[-1][2].delivered) == ("delivered", 2)


def test_a_recipient_not_yet_reached_keeps_the_envelope_from_being_delivered() -> None:
    state = sent(SUE, CHARLIE)
    assert names(apply(state, "view", 1, recipient=0)) == ["recipient-delivered"]


def test_signing_a_sent_recipient_views_first_at_the_same_instant() -> None:
    out = apply(sent(SUE), "sign", 9, recipient=0)
    assert names(out) == [
        "recipient-delivered", "envelope-delivered", "recipient-completed", "envelope-completed",
    ]  # fmt: skip
    final = out[-1][2].recipient("sue")
    assert (final.delivered, final.signed) == (9, 9)
    assert out[-1][2].completed == 9


def test_sequential_routing_waits_for_the_whole_order() -> None:
    state = sent(SUE, BOB, CHARLIE, DANA)
    assert state.recipient("dana").status == "created"
    out = apply(state, "sign", 1, recipient=0)
    assert names(out) == ["recipient-delivered", "recipient-completed"]
    out = apply(out[-1][2], "sign", 2, recipient=1)
    assert names(out) == [
        "recipient-delivered", "recipient-completed",  # Bob
        "recipient-completed",  # Charlie, a copy, at once
        "recipient-sent",  # Dana, order 3
    ]  # fmt: skip
    assert out[-1][2].status == "sent"
    assert out[-1][2].current_routing_order == 3


@pytest.mark.parametrize("step", ["view", "bounce"])
def test_a_routing_order_is_done_only_when_every_recipient_of_it_has_completed(
    step: str,
) -> None:
    # Bob, of Sue's order, has only viewed (or his email bounced) when Sue signs: Dana's
    # order 3 waits, and so does the envelope.
    state = apply(sent(SUE, BOB, DANA), step, 1, recipient=1)[-1][2]
    out = apply(state, "sign", 2, recipient=0)
    assert names(out) == ["recipient-delivered", "recipient-completed"]
    assert out[-1][2].recipient("dana").status == "created"
    assert out[-1][2].status == "sent"


def test_completing_through_copies_never_makes_envelope_delivered() -> None:
    state = apply(sent(SUE, CHARLIE), "view", 1, recipient=0)[-1][2]
    out = apply(state, "sign", 2, recipient=0)
    assert names(out) == ["recipient-completed", "recipient-completed", "envelope-completed"]


def test_certified_delivery_completes_on_view_and_cannot_sign() -> None:
    cd = cs.CertifiedDelivery("Cert", "cert@x", 1, "cert")
    state = sent(cd, CHARLIE)
    with pytest.raises(cs.InvalidAction, match="does not sign"):
        apply(state, "sign", 1, recipient=0)
    out = apply(state, "view", 1, recipient=0)
    assert names(out) == ["recipient-delivered", "recipient-completed", "recipient-completed",
                          "envelope-completed"]  # fmt: skip
    solo = apply(sent(cs.CertifiedDelivery("Cert", "cert@x", 1, "cert")), "view", 1, recipient=0)
    assert names(solo) == ["recipient-delivered", "envelope-delivered", "recipient-completed",
                           "envelope-completed"]  # fmt: skip


@pytest.mark.parametrize("kind", [cs.InPersonSigner, cs.Agent, cs.Editor, cs.Intermediary])
def test_other_acting_types_route_like_signers(kind: type[cs.Recipient]) -> None:
    out = apply(sent(kind("X", "x@x", 1, "x")), "sign", 1, recipient=0)
    assert names(out)[-1] == "envelope-completed"


def test_decline_records_the_reason_and_ends_the_envelope() -> None:
    out = apply(sent(SUE, BOB), "decline", 4, recipient=1, reason="Wrong amount")
    assert names(out) == ["recipient-declined", "envelope-declined"]
    state = out[-1][2]
    assert state.recipient("bob").declined_reason == "Wrong amount"
    assert (state.status, state.declined, state.status_changed) == ("declined", 4, 4)
    with pytest.raises(cs.InvalidAction):
        apply(state, "sign", 5, recipient=0)


def test_void_needs_a_sent_envelope_and_is_terminal() -> None:
    draft = initial_state(envelope(SUE), 0)
    with pytest.raises(cs.InvalidAction, match="cannot void envelope 'e1'"):
        apply(draft, "void", 1)
    out = apply(sent(SUE), "void", 3, reason="Expired")
    assert names(out) == ["envelope-voided"]
    state = out[-1][2]
    assert (state.status, state.voided, state.voided_reason) == ("voided", 3, "Expired")
    assert state.recipient("sue").status == "sent"
    with pytest.raises(cs.InvalidAction, match="not out for signature"):
        apply(state, "sign", 4, recipient=0)


def test_bounce_autoresponds_and_a_resend_revives_the_recipient() -> None:
    out = apply(sent(SUE), "bounce", 2, recipient=0)
    assert names(out) == ["recipient-autoresponded"]
    state = out[-1][2]
    assert (state.status, state.recipient("sue").status) == ("sent", "autoresponded")
    with pytest.raises(cs.InvalidAction):
        apply(state, "view", 3, recipient=0)
    out = apply(state, "resend_recipient", 5, recipient=0)
    assert names(out) == ["recipient-resent"]
    assert out[-1][2].recipient("sue").status == "sent"
    assert out[-1][2].recipient("sue").sent == 5


def test_authentication_failure_is_an_event_without_a_status_change() -> None:
    state = sent(SUE)
    out = apply(state, "fail_authentication", 2, recipient=0)
    assert names(out) == ["recipient-authenticationfailed"]
    assert out[-1][2] == state


def test_resend_and_correct_are_envelope_events_without_a_status_change() -> None:
    state = sent(SUE)
    assert names(apply(state, "resend", 1)) == ["envelope-resent"]
    assert names(apply(state, "correct", 1)) == ["envelope-corrected"]
    assert apply(state, "correct", 1)[-1][2].status == "sent"


def test_send_twice_and_sending_no_recipients_are_refused() -> None:
    with pytest.raises(cs.InvalidAction, match="cannot send envelope 'e1': it is sent"):
        apply(sent(SUE), "send", 1)
    with pytest.raises(cs.InvalidAction, match="no recipients"):
        apply(initial_state(envelope(), 0), "send", 1)


def test_an_invalid_action_names_envelope_recipient_action_and_status_and_changes_nothing() -> (
    None
):
    state = sent(SUE, CHARLIE)
    with pytest.raises(cs.InvalidAction) as caught:
        apply(state, "view", 1, recipient=1)
    error = caught.value
    assert (error.envelope, error.recipient, error.action, error.status) == (
        "e1", "charlie", "view", "created",
    )  # fmt: skip
    assert "'charlie'" in str(error) and "'e1'" in str(error) and "created" in str(error)
    assert state.recipient("charlie").status == "created"


def test_times_are_absent_until_they_happen() -> None:
    state = sent(SUE)
    assert state.delivered is state.completed is state.declined is state.voided is None
    assert state.recipient("sue").signed is None


def test_snapshots_are_immutable_and_share_unchanged_recipients() -> None:
    out = apply(sent(SUE, BOB), "view", 1, recipient=0)
    before = sent(SUE, BOB)
    after = out[-1][2]
    with pytest.raises(AttributeError):
        after.status = "completed"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        after.recipients[0].status = "x"  # type: ignore[misc]
    assert after.recipients[1] == before.recipients[1]
    views = apply(after, "view", 2, recipient=1)
    assert views[0][2].recipients[0] is after.recipients[0]


def test_a_recipient_type_is_needed_and_fields_are_checked() -> None:
    with pytest.raises(cs.ConfigurationError, match="recipient type"):
        cs.Recipient("A", "a@x")
    with pytest.raises(cs.ConfigurationError, match="routing_order"):
        cs.Signer("A", "a@x", routing_order=0)
    with pytest.raises(cs.ConfigurationError, match="name"):
        cs.Signer("", "a@x")


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"name": 5}, "recipient name"),
        ({"name": "S\ud800"}, "recipient name"),
        ({"email": " "}, "recipient email"),
        ({"routing_order": True}, "routing_order"),
        ({"routing_order": 1.0}, "routing_order"),
        ({"routing_order": 1000}, "routing_order"),
        ({"routing_order": "1"}, "routing_order"),
        ({"recipient_id": ""}, "recipient_id"),
        ({"recipient_id": 5}, "recipient_id"),
        ({"recipient_id": "r\ud800"}, "recipient_id"),
        ({"client_user_id": 5}, "client_user_id"),
    ],
)
def test_each_recipient_field_is_checked(fields: dict[str, object], complaint: str) -> None:
    given: dict[str, object] = {"name": "Sue", "email": "sue@example.com", **fields}
    with pytest.raises(cs.ConfigurationError, match=complaint):
        cs.CarbonCopy(**given)  # type: ignore[arg-type]


def test_recipients_and_envelopes_made_by_hand_written_constructors_behave_as_attrs_values() -> (
    None
):
    sue = cs.Signer("Süe", "süe@example.com", 3, "sue", client_user_id="1000")
    assert (sue.name, sue.email, sue.routing_order, sue.recipient_id, sue.client_user_id) == (
        "Süe", "süe@example.com", 3, "sue", "1000"
    )  # fmt: skip
    assert sue == cs.Signer(name="Süe", email="süe@example.com", routing_order=3,
                            recipient_id="sue", client_user_id="1000")  # fmt: skip
    assert sue != cs.InPersonSigner("Süe", "süe@example.com", 3, "sue", client_user_id="1000")
    assert attrs.evolve(sue, recipient_id="s2").recipient_id == "s2"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        sue.name = "Bob"  # type: ignore[misc]
    env = Envelope("e1", "guid", "Hi", (sue, BOB), custom_fields=(("k", "v"),))
    assert env.routing == ((1,), (0,)) and env.recipient_ids == ("sue", BOB.recipient_id)
    assert env == attrs.evolve(env) and hash(env) == hash(attrs.evolve(env))
    assert env != attrs.evolve(env, subject="Other")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        env.subject = "x"  # type: ignore[misc]


def test_the_diagram_is_generated_from_the_tables() -> None:
    diagram = lifecycle_diagram()
    assert "sent --> delivered: deliver / envelope-delivered" in diagram
    assert "copy_created --> copy_completed: activate / recipient-completed" in diagram


def test_envelope_created_is_emitted_when_the_draft_is_made() -> None:
    sim = cs.Simulation()
    sim.add_configuration(cs.Configuration("all", events=["envelope-created", "envelope-sent"]))
    env = sim.create_envelope("S", [SUE], at=timedelta(seconds=30))
    sim.send(env, at=timedelta(minutes=1))
    received = sim.run().received("all")
    assert [(a.event, a.time) for a in received] == [("envelope-created", 30_000),
                                                     ("envelope-sent", 60_000)]  # fmt: skip
    assert received[0].snapshot.created == 30_000


def test_an_action_before_the_envelope_exists_is_refused_by_the_run() -> None:
    sim = cs.Simulation()
    sim.add_configuration(cs.Configuration("c"))
    env = sim.create_envelope("S", [SUE], at=timedelta(minutes=5))
    sim.send(env, at=timedelta(minutes=1))
    with pytest.raises(cs.InvalidAction, match="not created until later"):
        sim.run()


def test_an_envelope_guid_is_made_when_first_read_and_compares_as_if_given() -> None:
    made: list[str] = []

    def guid(id: str) -> str:
        made.append(id)
        return f"guid-of-{id}"

    lazy = Envelope("e1", guid, "Hi", (SUE,))
    given = Envelope("e1", "guid-of-e1", "Hi", (SUE,))
    assert made == []
    assert lazy == given and hash(lazy) == hash(given) and made == ["e1"]
    assert lazy.envelope_id == "guid-of-e1" and made == ["e1"]  # made once, then kept
    assert lazy != Envelope("e1", "another", "Hi", (SUE,))
    assert attrs.evolve(lazy, subject="Other").envelope_id == "guid-of-e1"


def test_a_simulation_derives_the_guids_of_its_envelopes_only_when_read() -> None:
    sim = cs.Simulation(seed=7)
    sim.add_configuration(cs.Configuration("c"))
    env = sim.create_envelope("S", [SUE])
    sim.send(env)
    sim.run()
    assert not isinstance(env._envelope_id, str)  # a run that reads no body makes none
    assert env.envelope_id == derived_guid(7, env.id)
