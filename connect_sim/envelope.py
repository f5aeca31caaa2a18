"""Envelopes, recipients and the lifecycle state machine.

Theory of operation
-------------------
The rules of the lifecycle live in two tables, :data:`RECIPIENT_RULES` and
:data:`ENVELOPE_RULES`: for a role (or the envelope) and a step, which status
may take it, which status it leads to and which Connect event it makes.  The
functions below only sequence those steps; they never decide a status on their
own.  :func:`apply` is pure: ``(state, action) -> events``, where each event
carries an immutable :class:`EnvelopeState` taken right after its own change.
It works on a private, mutable draft of the state and freezes one snapshot per
event, so a snapshot shares every recipient it did not change with the one
before it.  Nothing is committed until every check has passed: an action the
state does not allow raises :class:`~connect_sim.InvalidAction` and changes
nothing.

Routing is sequential by routing order; recipients that share an order are
active together.  Carbon copies complete the moment routing reaches them, so an
order made only of copies completes at once and routing moves on, in the same
instant.  What this module does not know: time zones, configurations, delivery.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar, Final

import attrs

from .errors import ConfigurationError, InvalidAction

__all__ = [
    "ENVELOPE_RULES",
    "RECIPIENT_ACTIONS",
    "RECIPIENT_RULES",
    "Agent",
    "CarbonCopy",
    "CertifiedDelivery",
    "Editor",
    "Envelope",
    "EnvelopeState",
    "InPersonSigner",
    "Intermediary",
    "Recipient",
    "RecipientState",
    "Signer",
    "apply",
    "initial_state",
    "lifecycle_diagram",
]

# Statuses, as Connect's JSON writes them.
CREATED: Final = "created"
SENT: Final = "sent"
DELIVERED: Final = "delivered"
COMPLETED: Final = "completed"
DECLINED: Final = "declined"
VOIDED: Final = "voided"
AUTORESPONDED: Final = "autoresponded"

# Roles: what a recipient must do for routing to move on.
ACTS: Final = "acts"  # signs: signer, in-person signer, agent, editor, intermediary
COPY: Final = "copy"  # carbon copy: completes when routing reaches it
CERTIFIED: Final = "certified"  # certified delivery: completes when it views

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

# Envelope statuses in which recipients can act.
_OPEN = frozenset({SENT, DELIVERED})


def _check_text(what: str) -> Callable[[object, attrs.Attribute[str], object], None]:
    def check(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ConfigurationError(
                f"{what} {attribute.name}: expected non-empty text, got {value!r}"
            )

    return check


def _check_order(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 999:
        raise ConfigurationError(
            f"recipient routing_order: expected a whole number from 1 to 999, got {value!r}"
        )


def _check_id(instance: object, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ConfigurationError(f"recipient_id: expected non-empty text or None, got {value!r}")


@attrs.frozen
class Recipient:
    """A recipient of an envelope: who, and at which routing order.

    Use one of the subclasses (:class:`Signer`, :class:`CarbonCopy`, ...).
    ``recipient_id`` defaults to the recipient's position in the envelope
    (``"1"``, ``"2"``, ...), as DocuSign numbers recipients.
    """

    name: str = attrs.field(validator=_check_text("recipient"))
    email: str = attrs.field(validator=_check_text("recipient"))
    routing_order: int = attrs.field(default=1, validator=_check_order)
    recipient_id: str | None = attrs.field(default=None, validator=_check_id)

    #: The recipient type, as Connect's XML ``Type`` names it.
    type: ClassVar[str] = ""
    #: What routing needs of it: ``"acts"``, ``"copy"`` or ``"certified"``.
    role: ClassVar[str] = ACTS

    def __attrs_post_init__(self) -> None:
        if type(self) is Recipient:
            raise ConfigurationError("use a recipient type such as Signer or CarbonCopy")


@attrs.frozen
class Signer(Recipient):
    """A recipient who must view and sign."""

    type: ClassVar[str] = "Signer"


@attrs.frozen
class InPersonSigner(Recipient):
    """Signs in person, hosted by the sender; routed like a signer."""

    type: ClassVar[str] = "InPersonSigner"


@attrs.frozen
class Agent(Recipient):
    """Fills in later recipients' details; routed like a signer (it must act)."""

    type: ClassVar[str] = "Agent"


@attrs.frozen
class Editor(Recipient):
    """May change the envelope; routed like a signer (it must act)."""

    type: ClassVar[str] = "Editor"


@attrs.frozen
class Intermediary(Recipient):
    """May fill in later recipients' details; routed like a signer (it must act)."""

    type: ClassVar[str] = "Intermediary"


@attrs.frozen
class CarbonCopy(Recipient):
    """Gets a copy and need not act: completes the moment routing reaches it."""

    type: ClassVar[str] = "CarbonCopy"
    role: ClassVar[str] = COPY


@attrs.frozen
class CertifiedDelivery(Recipient):
    """Must receive (view) the documents but need not sign: completes on view."""

    type: ClassVar[str] = "CertifiedDelivery"
    role: ClassVar[str] = CERTIFIED


@attrs.frozen(repr=False)
class Envelope:
    """An envelope in a simulation: its ids, subject and recipients (with ids assigned).

    Made by :meth:`Simulation.create_envelope`; its state over time is in the
    snapshots that events and messages carry.

    Attributes:
        id: the scenario's name for it (``"e1"``).
        envelope_id: the GUID Connect would show, derived from the simulation seed.
        subject: the email subject.
        recipients: the recipients in the order given, each with its ``recipient_id``.
    """

    id: str
    envelope_id: str
    subject: str
    recipients: tuple[Recipient, ...]

    def recipient(self, key: str | Recipient) -> int:
        """The index of a recipient, given its id or the object given at creation."""
        for index, recipient in enumerate(self.recipients):
            if isinstance(key, str):
                if recipient.recipient_id == key:
                    return index
            elif recipient is key or attrs.evolve(key, recipient_id=recipient.recipient_id) == (
                recipient
            ):
                return index
        known = ", ".join(repr(r.recipient_id) for r in self.recipients) or "none"
        who = key if isinstance(key, str) else key.name
        raise ConfigurationError(
            f"envelope {self.id!r} has no recipient {who!r} (its recipients: {known})"
        )

    def __repr__(self) -> str:
        return f"<Envelope {self.id!r} {self.subject!r} with {len(self.recipients)} recipients>"


class RecipientState:
    """A recipient's status and time stamps in one snapshot (immutable).

    Times are milliseconds since the scenario start, or ``None`` while the
    moment has not come (rendered as an absent field, never as null).
    """

    __slots__ = ("declined", "declined_reason", "delivered", "recipient", "sent", "signed",
                 "status")  # fmt: skip

    recipient: Recipient
    status: str
    sent: int | None
    delivered: int | None
    signed: int | None
    declined: int | None
    declined_reason: str | None

    def __init__(
        self,
        recipient: Recipient,
        status: str,
        sent: int | None = None,
        delivered: int | None = None,
        signed: int | None = None,
        declined: int | None = None,
        declined_reason: str | None = None,
    ) -> None:
        set_ = object.__setattr__
        set_(self, "recipient", recipient)
        set_(self, "status", status)
        set_(self, "sent", sent)
        set_(self, "delivered", delivered)
        set_(self, "signed", signed)
        set_(self, "declined", declined)
        set_(self, "declined_reason", declined_reason)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"RecipientState is immutable; cannot set {name}")

    def _fields(self) -> tuple[object, ...]:
        return (self.recipient, self.status, self.sent, self.delivered, self.signed,
                self.declined, self.declined_reason)  # fmt: skip

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RecipientState):
            return NotImplemented
        return self is other or self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return f"<RecipientState {self.recipient.recipient_id!r} {self.status}>"


class EnvelopeState:
    """An immutable snapshot of an envelope: status, time stamps and every recipient.

    Snapshots are shared by reference, never copied: a change builds a new
    snapshot that reuses every recipient state it did not touch.
    """

    __slots__ = ("completed", "created", "declined", "delivered", "envelope", "recipients",
                 "sent", "status", "status_changed", "voided", "voided_reason")  # fmt: skip

    envelope: Envelope
    status: str
    recipients: tuple[RecipientState, ...]
    created: int
    sent: int | None
    delivered: int | None
    completed: int | None
    declined: int | None
    voided: int | None
    voided_reason: str | None
    status_changed: int

    def __init__(
        self,
        envelope: Envelope,
        status: str,
        recipients: tuple[RecipientState, ...],
        created: int,
        sent: int | None,
        delivered: int | None,
        completed: int | None,
        declined: int | None,
        voided: int | None,
        voided_reason: str | None,
        status_changed: int,
    ) -> None:
        set_ = object.__setattr__
        set_(self, "envelope", envelope)
        set_(self, "status", status)
        set_(self, "recipients", recipients)
        set_(self, "created", created)
        set_(self, "sent", sent)
        set_(self, "delivered", delivered)
        set_(self, "completed", completed)
        set_(self, "declined", declined)
        set_(self, "voided", voided)
        set_(self, "voided_reason", voided_reason)
        set_(self, "status_changed", status_changed)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"EnvelopeState is immutable; cannot set {name}")

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EnvelopeState):
            return NotImplemented
        return self is other or self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def recipient(self, key: str | Recipient) -> RecipientState:
        """The state of one recipient, given its id or the object given at creation."""
        return self.recipients[self.envelope.recipient(key)]

    @property
    def recipient_statuses(self) -> dict[str, str]:
        """Each recipient's status by recipient id, in the envelope's recipient order."""
        return {r.recipient.recipient_id or "": r.status for r in self.recipients}

    @property
    def current_routing_order(self) -> int | None:
        """The lowest routing order with a recipient who has been reached and not finished."""
        orders = [r.recipient.routing_order for r in self.recipients
                  if r.status in (SENT, DELIVERED, AUTORESPONDED)]  # fmt: skip
        return min(orders) if orders else None

    def __repr__(self) -> str:
        who = " ".join(f"{r.recipient.recipient_id}={r.status}" for r in self.recipients)
        return f"<EnvelopeState {self.envelope.id!r} {self.status} {who}>"


def initial_state(envelope: Envelope, time: int) -> EnvelopeState:
    """The state of a draft envelope created at ``time``: everything ``created``."""
    recipients = tuple(RecipientState(r, CREATED) for r in envelope.recipients)
    return EnvelopeState(envelope, CREATED, recipients, time, None, None, None, None, None, None,
                         time)  # fmt: skip


#: One event as the lifecycle emits it: name, recipient index or None, snapshot.
Emitted = tuple[str, int | None, EnvelopeState]


class _Draft:
    """A mutable working copy of a state; :meth:`emit` freezes one snapshot per event."""

    __slots__ = (
        "completed",
        "created",
        "declined",
        "delivered",
        "envelope",
        "out",
        "recipients",
        "sent",
        "status",
        "status_changed",
        "time",
        "voided",
        "voided_reason",
    )  # fmt: skip

    def __init__(self, state: EnvelopeState, time: int) -> None:
        self.envelope = state.envelope
        self.status = state.status
        self.recipients = list(state.recipients)
        self.created = state.created
        self.sent = state.sent
        self.delivered = state.delivered
        self.completed = state.completed
        self.declined = state.declined
        self.voided = state.voided
        self.voided_reason = state.voided_reason
        self.status_changed = state.status_changed
        self.time = time
        self.out: list[Emitted] = []

    def emit(self, name: str, index: int | None) -> None:
        snapshot = EnvelopeState(
            self.envelope, self.status, tuple(self.recipients), self.created, self.sent,
            self.delivered, self.completed, self.declined, self.voided, self.voided_reason,
            self.status_changed,
        )  # fmt: skip
        self.out.append((name, index, snapshot))

    def recipient_step(self, index: int, step: str, reason: str | None = None) -> None:
        """Apply one row of :data:`RECIPIENT_RULES` (the caller checked it applies)."""
        old = self.recipients[index]
        new_status, event = RECIPIENT_RULES[old.recipient.role, step][old.status]
        t = self.time
        sent, delivered, signed = old.sent, old.delivered, old.signed
        declined, declined_reason = old.declined, old.declined_reason
        if step in ("activate", "resend") and new_status in (SENT, COMPLETED):
            sent = t
        elif step == "view":
            delivered = t
        elif step == "sign":
            signed = t
        elif step == "decline":
            declined, declined_reason = t, reason
        self.recipients[index] = RecipientState(
            old.recipient, new_status, sent, delivered, signed, declined, declined_reason
        )
        self.emit(event, index)

    def envelope_step(self, step: str, reason: str | None = None) -> None:
        """Apply one row of :data:`ENVELOPE_RULES` (the caller checked it applies)."""
        new_status, event = ENVELOPE_RULES[step][self.status]
        t = self.time
        if new_status != self.status:
            self.status_changed = t
        self.status = new_status
        if step == "send":
            self.sent = t
        elif step == "deliver":
            self.delivered = t
        elif step == "complete":
            self.completed = t
        elif step == "decline":
            self.declined = t
        elif step == "void":
            self.voided, self.voided_reason = t, reason
        self.emit(event, None)

    def route(self) -> bool:
        """Activate the next routing order(s); return True when nobody is left to act.

        An order whose recipients all complete on activation (carbon copies) is
        done at once, so routing moves straight on to the next one.
        """
        while True:
            pending = [i for i, r in enumerate(self.recipients) if r.status == CREATED]
            if not pending:
                return all(r.status == COMPLETED for r in self.recipients)
            order = min(self.recipients[i].recipient.routing_order for i in pending)
            for i in pending:
                if self.recipients[i].recipient.routing_order == order:
                    self.recipient_step(i, "activate")
            if not self._order_done(order):
                return False

    def _order_done(self, order: int) -> bool:
        return all(r.status == COMPLETED for r in self.recipients
                   if r.recipient.routing_order == order)  # fmt: skip

    def view(self, index: int) -> None:
        """A view, and ``envelope-delivered`` if every recipient has now seen it."""
        self.recipient_step(index, "view")
        if self.status == SENT and all(
            r.status in (DELIVERED, COMPLETED) for r in self.recipients
        ):
            self.envelope_step("deliver")

    def finish(self, index: int, step: str) -> None:
        """A recipient completes (sign or acknowledge); routing moves on if its order is done."""
        self.recipient_step(index, step)
        order = self.recipients[index].recipient.routing_order
        if self._order_done(order) and self.route():
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

    >>> from connect_sim import Signer, CarbonCopy
    >>> env = Envelope("e1", "guid", "Hi", (Signer("Sue", "s@x", 1, "sue"),))
    >>> [name for name, _, _ in apply(initial_state(env, 0), "send", 0)]
    ['recipient-sent', 'envelope-sent']
    """
    if action not in ACTIONS:
        raise ConfigurationError(
            f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}"
        )
    draft = _Draft(state, time)
    if action in RECIPIENT_ACTIONS:
        if recipient is None:
            raise ConfigurationError(f"action {action!r} needs a recipient")
        _recipient_action(state, draft, action, recipient, reason)
        return draft.out
    if recipient is not None:
        raise ConfigurationError(f"action {action!r} concerns the whole envelope, not a recipient")
    status = state.status
    if action == "send":
        if status not in ENVELOPE_RULES["send"]:
            raise _refuse(state, action, None, f"it is {status}, not a draft")
        if not state.recipients:
            raise _refuse(state, action, None, "it has no recipients")
        done = draft.route()
        draft.envelope_step("send")
        if done:
            draft.envelope_step("complete")
    elif action in ("void", "resend", "correct"):
        if status not in ENVELOPE_RULES[action]:
            raise _refuse(state, action, None, f"its status is {status!r}")
        draft.envelope_step(action, reason)
    return draft.out


def _recipient_action(
    state: EnvelopeState, draft: _Draft, action: str, index: int, reason: str | None
) -> None:
    if state.status not in _OPEN:
        raise _refuse(state, action, index, "the envelope is not out for signature")
    current = state.recipients[index]
    role = current.recipient.role
    step = "resend" if action == "resend_recipient" else action
    if action == "sign":
        if role != ACTS:
            raise _refuse(state, action, index, f"a {current.recipient.type} does not sign")
        if current.status == SENT:  # signing a sent recipient views first, at the same instant
            draft.view(index)
        elif current.status != DELIVERED:
            raise _refuse(state, action, index, "it is not the recipient's turn to sign")
        draft.finish(index, "sign")
        return
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
