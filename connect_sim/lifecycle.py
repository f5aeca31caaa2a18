"""The lifecycle state machine: which action may happen when, and which events it makes.

Theory of operation
-------------------
The rules live in two tables, :data:`RECIPIENT_RULES` and :data:`ENVELOPE_RULES`:
for a role (or the envelope) and a step, which status may take it, which status
it leads to and which Connect event it makes.  The code below only sequences
those steps (a send activates the first routing order, a sign may view first, a
finished routing order activates the next); it never decides a status on its
own.  :func:`apply` is pure: ``(state, action) -> events``, each event with the
immutable :class:`~connect_sim.EnvelopeState` taken right after its own change
and before the next change of the same instant.  It works on a private mutable
draft of the state and freezes one snapshot per event, so a snapshot shares
every recipient it did not change with the one before.  Every check happens
before the first change, so an action the state does not allow raises
:class:`~connect_sim.InvalidAction` and changes nothing.

Routing is sequential by routing order; recipients who share an order are
active together.  Carbon copies complete the moment routing reaches them, so an
order made only of copies is done at once and routing moves on in the same
instant.  What this module does not know: time zones, configurations, delivery.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .envelope import (
    ACTS,
    AUTORESPONDED,
    CERTIFIED,
    COMPLETED,
    COPY,
    CREATED,
    DECLINED,
    DELIVERED,
    SENT,
    VOIDED,
    EnvelopeState,
    RecipientState,
)
from .errors import ConfigurationError, InvalidAction

__all__ = [
    "ACTIONS",
    "ENVELOPE_RULES",
    "RECIPIENT_ACTIONS",
    "RECIPIENT_RULES",
    "Emitted",
    "apply",
    "lifecycle_diagram",
]

_Rule = Mapping[str, tuple[str, str]]

#: ``(role, step) -> {status before: (status after, event)}``.  The steps
#: ``activate`` and ``acknowledge`` are routing's own; the rest are actions.
RECIPIENT_RULES: Final[Mapping[tuple[str, str], _Rule]] = {
    (ACTS, "activate"): {CREATED: (SENT, "recipient-sent")},
    (CERTIFIED, "activate"): {CREATED: (SENT, "recipient-sent")},
    (COPY, "activate"): {CREATED: (COMPLETED, "recipient-completed")},
    (ACTS, "view"): {SENT: (DELIVERED, "recipient-delivered")},
    (CERTIFIED, "view"): {SENT: (DELIVERED, "recipient-delivered")},
    (ACTS, "sign"): {DELIVERED: (COMPLETED, "recipient-completed")},
    (CERTIFIED, "acknowledge"): {DELIVERED: (COMPLETED, "recipient-completed")},
    (ACTS, "decline"): {SENT: (DECLINED, "recipient-declined"),
                        DELIVERED: (DECLINED, "recipient-declined")},
    (CERTIFIED, "decline"): {SENT: (DECLINED, "recipient-declined"),
                             DELIVERED: (DECLINED, "recipient-declined")},
    (ACTS, "bounce"): {SENT: (AUTORESPONDED, "recipient-autoresponded")},
    (CERTIFIED, "bounce"): {SENT: (AUTORESPONDED, "recipient-autoresponded")},
    (ACTS, "fail_authentication"): {
        SENT: (SENT, "recipient-authenticationfailed"),
        DELIVERED: (DELIVERED, "recipient-authenticationfailed"),
    },
    (CERTIFIED, "fail_authentication"): {
        SENT: (SENT, "recipient-authenticationfailed"),
        DELIVERED: (DELIVERED, "recipient-authenticationfailed"),
    },
    (ACTS, "resend"): {SENT: (SENT, "recipient-resent"),
                       DELIVERED: (DELIVERED, "recipient-resent"),
                       AUTORESPONDED: (SENT, "recipient-resent")},
    (CERTIFIED, "resend"): {SENT: (SENT, "recipient-resent"),
                            DELIVERED: (DELIVERED, "recipient-resent"),
                            AUTORESPONDED: (SENT, "recipient-resent")},
}  # fmt: skip

#: ``step -> {envelope status before: (status after, event)}``.
ENVELOPE_RULES: Final[Mapping[str, _Rule]] = {
    "send": {CREATED: (SENT, "envelope-sent")},
    "deliver": {SENT: (DELIVERED, "envelope-delivered")},
    "complete": {SENT: (COMPLETED, "envelope-completed"),
                 DELIVERED: (COMPLETED, "envelope-completed")},
    "decline": {SENT: (DECLINED, "envelope-declined"),
                DELIVERED: (DECLINED, "envelope-declined")},
    "void": {SENT: (VOIDED, "envelope-voided"), DELIVERED: (VOIDED, "envelope-voided")},
    "resend": {SENT: (SENT, "envelope-resent"), DELIVERED: (DELIVERED, "envelope-resent")},
    "correct": {CREATED: (CREATED, "envelope-corrected"), SENT: (SENT, "envelope-corrected"),
                DELIVERED: (DELIVERED, "envelope-corrected")},
}  # fmt: skip

#: Actions that name a recipient; the others concern the whole envelope.
RECIPIENT_ACTIONS: Final = frozenset(
    {"view", "sign", "decline", "bounce", "fail_authentication", "resend_recipient"}
)
#: Every action a timeline may hold.
ACTIONS: Final = ("send", "view", "sign", "decline", "void", "bounce",
                  "fail_authentication", "resend", "resend_recipient", "correct")  # fmt: skip


# The same rules by role, then step: the hot path looks up without building a key.
_BY_ROLE: Final[Mapping[str, Mapping[str, _Rule]]] = {
    role: {step: rule for (r, step), rule in RECIPIENT_RULES.items() if r == role}
    for role in (ACTS, CERTIFIED, COPY)
}

#: One event as the lifecycle emits it: name, recipient index or None, snapshot.
Emitted = tuple[str, int | None, EnvelopeState]

_new = tuple.__new__

# Field positions in the snapshot tuples, for the draft's hot path.
_E_STATUS, _E_RECIPIENTS, _E_SENT, _E_DELIVERED, _E_COMPLETED = 1, 2, 4, 5, 6
_E_DECLINED, _E_VOIDED, _E_VOIDED_REASON, _E_STATUS_CHANGED = 7, 8, 9, 10
_R_STATUS = 1


class _Draft:
    """A mutable working copy of a state; each step freezes one snapshot for its event."""

    __slots__ = ("fields", "out", "recipients", "routing", "time")

    def __init__(self, state: EnvelopeState, time: int) -> None:
        self.fields: list[Any] = list(state)  # EnvelopeState's fields, by position
        self.recipients = list(state.recipients)
        self.routing = state.envelope.routing
        self.time = time
        self.out: list[Emitted] = []

    def recipient_step(self, index: int, step: str, reason: str | None = None) -> None:
        """Apply one row of :data:`RECIPIENT_RULES` (the caller checked that it applies)."""
        old = self.recipients[index]
        recipient, status, sent, delivered, signed, declined, declined_reason = old
        new_status, event = _BY_ROLE[recipient.role][step][status]
        t = self.time
        if step == "activate" or step == "resend":
            sent = t
        elif step == "view":
            delivered = t
        elif step == "sign":
            signed = t
        elif step == "decline":
            declined, declined_reason = t, reason
        recipients = self.recipients
        recipients[index] = _new(
            RecipientState,
            (recipient, new_status, sent, delivered, signed, declined, declined_reason),
        )
        fields = self.fields
        fields[_E_RECIPIENTS] = tuple(recipients)
        self.out.append((event, index, _new(EnvelopeState, fields)))

    def envelope_step(self, step: str, reason: str | None = None) -> None:
        """Apply one row of :data:`ENVELOPE_RULES` (the caller checked that it applies)."""
        fields = self.fields
        status: str = fields[_E_STATUS]
        new_status, event = ENVELOPE_RULES[step][status]
        t = self.time
        if new_status != status:
            fields[_E_STATUS] = new_status
            fields[_E_STATUS_CHANGED] = t
        if step == "send":
            fields[_E_SENT] = t
        elif step == "deliver":
            fields[_E_DELIVERED] = t
        elif step == "complete":
            fields[_E_COMPLETED] = t
            if fields[_E_DELIVERED] is None:
                # A completed envelope has been delivered, whether or not every recipient
                # viewed it (carbon copies never do): DocuSign's completed messages carry
                # a Delivered time; the completion's is the honest one.  No event: the
                # envelope-delivered rule stays that of the views.
                fields[_E_DELIVERED] = t
        elif step == "decline":
            fields[_E_DECLINED] = t
        elif step == "void":
            fields[_E_VOIDED] = t
            fields[_E_VOIDED_REASON] = reason
        self.out.append((event, None, _new(EnvelopeState, fields)))

    def route(self) -> bool:
        """Activate the next routing order if the current one is done; True when all are done.

        An order whose recipients all complete on activation (carbon copies) is
        done at once, so routing moves straight on to the next one.
        """
        recipients = self.recipients
        for group in self.routing:
            done = True
            for index in group:
                status = recipients[index][_R_STATUS]
                if status == CREATED:
                    self.recipient_step(index, "activate")
                    status = recipients[index][_R_STATUS]
                if status != COMPLETED:
                    done = False
            if not done:
                return False
        return True

    def view(self, index: int) -> None:
        """A view, then ``envelope-delivered`` if every recipient has now seen it."""
        self.recipient_step(index, "view")
        if self.fields[_E_STATUS] != SENT:
            return
        for recipient in self.recipients:
            status = recipient[_R_STATUS]
            if status != DELIVERED and status != COMPLETED:
                return
        self.envelope_step("deliver")

    def finish(self, index: int, step: str) -> None:
        """A recipient completes (sign or acknowledge); routing moves on if its order is done."""
        self.recipient_step(index, step)
        if self.route():
            self.envelope_step("complete")


def _refuse(state: EnvelopeState, action: str, index: int | None, why: str) -> InvalidAction:
    envelope = state.envelope.id
    if index is None:
        return InvalidAction(
            f"cannot {action} envelope {envelope!r}: {why}",
            envelope=envelope, action=action, status=state.status,
        )  # fmt: skip
    recipient = state.recipients[index]
    rid = recipient.recipient.recipient_id
    return InvalidAction(
        f"cannot {action} for recipient {rid!r} of envelope {envelope!r}: {why} "
        f"(recipient status {recipient.status!r}, envelope status {state.status!r})",
        envelope=envelope, action=action, status=recipient.status, recipient=rid,
    )  # fmt: skip


def apply(
    state: EnvelopeState,
    action: str,
    time: int,
    recipient: int | None = None,
    reason: str | None = None,
) -> list[Emitted]:
    """Apply one action to a state; return its events, each with the snapshot right after it.

    Pure: ``state`` is not changed.  Raises :class:`~connect_sim.InvalidAction`
    if the state does not allow the action.

    >>> from connect_sim import Envelope, Signer
    >>> from connect_sim.envelope import initial_state
    >>> env = Envelope("e1", "guid", "Hi", (Signer("Sue", "s@x", 1, "sue"),))
    >>> [name for name, _, _ in apply(initial_state(env, 0), "send", 0)]
    ['recipient-sent', 'envelope-sent']
    """
    if action in RECIPIENT_ACTIONS:
        if recipient is None:
            raise ConfigurationError(f"action {action!r} needs a recipient")
        draft = _Draft(state, time)
        _recipient_action(state, draft, action, recipient, reason)
        return draft.out
    if action not in ACTIONS:
        raise ConfigurationError(
            f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}"
        )
    if recipient is not None:
        raise ConfigurationError(f"action {action!r} concerns the whole envelope, not a recipient")
    status = state.status
    if status not in ENVELOPE_RULES[action]:
        why = f"it is {status}, not a draft" if action == "send" else f"its status is {status!r}"
        raise _refuse(state, action, None, why)
    if action == "send" and not state.recipients:
        raise _refuse(state, action, None, "it has no recipients")
    draft = _Draft(state, time)
    if action == "send":
        done = draft.route()
        draft.envelope_step("send")
        if done:
            draft.envelope_step("complete")
    else:
        draft.envelope_step(action, reason)
    return draft.out


def _recipient_action(
    state: EnvelopeState, draft: _Draft, action: str, index: int, reason: str | None
) -> None:
    if state.status != SENT and state.status != DELIVERED:
        raise _refuse(state, action, index, "the envelope is not out for signature")
    current = state.recipients[index]
    role = current.recipient.role
    if action == "sign":
        if role != ACTS:
            raise _refuse(state, action, index, f"a {current.recipient.type} does not sign")
        if current.status == SENT:  # signing a sent recipient views first, at the same instant
            draft.view(index)
        elif current.status != DELIVERED:
            raise _refuse(state, action, index, "it is not the recipient's turn to sign")
        draft.finish(index, "sign")
        return
    step = "resend" if action == "resend_recipient" else action
    rule = RECIPIENT_RULES.get((role, step))
    if rule is None or current.status not in rule:
        raise _refuse(state, action, index, "the recipient's status does not allow it")
    if action == "view":
        draft.view(index)
        if role == CERTIFIED:
            draft.finish(index, "acknowledge")
    elif action == "decline":
        draft.recipient_step(index, "decline", reason)
        draft.envelope_step("decline")
    else:
        draft.recipient_step(index, step, reason)


def lifecycle_diagram() -> str:
    """A Mermaid state diagram of both transition tables, for ``docs/concepts.md``."""
    lines = ["stateDiagram-v2", "    state Envelope {"]
    for step, rule in ENVELOPE_RULES.items():
        for before, (after, event) in rule.items():
            lines.append(f"        {before} --> {after}: {step} / {event}")
    lines.append("    }")
    for role in (ACTS, CERTIFIED, COPY):
        lines.append(f"    state Recipient_{role} {{")
        for (rule_role, step), rule in RECIPIENT_RULES.items():
            if rule_role != role:
                continue
            for before, (after, event) in rule.items():
                lines.append(f"        {role}_{before} --> {role}_{after}: {step} / {event}")
        lines.append("    }")
    return "\n".join(lines)
