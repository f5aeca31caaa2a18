"""Envelopes, recipients and their immutable snapshots: the model the lifecycle acts on.

The recipient classes (:class:`Signer`, :class:`CarbonCopy`, ...) say who gets
the envelope, in which routing order and what routing needs of them (their
*role*).  An :class:`Envelope` is the fixed part of an envelope in a run: ids,
subject, recipients.  Its changing part is an :class:`EnvelopeState`, an
immutable snapshot; the rules that make one snapshot from another live in
:mod:`connect_sim.lifecycle`.

Snapshots are tuples underneath (built with one C call, compared by value,
hashable) because a run makes one per event and shares them by reference in
every message that carries them; they are never copied.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar, Final, NamedTuple

import attrs

from .errors import ConfigurationError
from .ids import MAX_ID
from .pdf import text_pdf
from .text import check_text

__all__ = [
    "AUTORESPONDED",
    "COMPLETED",
    "CREATED",
    "DECLINED",
    "DEFAULT_DOCUMENT",
    "DELIVERED",
    "SENT",
    "VOIDED",
    "Agent",
    "CarbonCopy",
    "CertifiedDelivery",
    "Document",
    "Editor",
    "Envelope",
    "EnvelopeState",
    "InPersonSigner",
    "Intermediary",
    "Recipient",
    "RecipientState",
    "Signer",
    "initial_state",
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


@attrs.frozen(init=False)
class Recipient:
    """A recipient of an envelope: who, and at which routing order.

    Use one of the subclasses (:class:`Signer`, :class:`CarbonCopy`, ...).
    ``recipient_id`` defaults to the recipient's position in the envelope
    (``"1"``, ``"2"``, ...), as DocuSign numbers recipients.  A
    ``client_user_id`` makes the recipient an embedded signer, who signs in
    the sender's own application (``clientUserId`` in JSON, ``ClientUserId``
    in XML).
    """

    name: str
    email: str
    routing_order: int = 1
    recipient_id: str | None = None
    client_user_id: str | None = None

    #: The recipient type, as Connect's XML ``Type`` names it.
    type: ClassVar[str] = ""
    #: What routing needs of it: ``"acts"``, ``"copy"`` or ``"certified"``.
    role: ClassVar[str] = ACTS

    def __init__(
        self,
        name: str,
        email: str,
        routing_order: int = 1,
        recipient_id: str | None = None,
        client_user_id: str | None = None,
    ) -> None:
        # Written here rather than by attrs (which writes the rest: equality, hashing,
        # repr, evolve): recipients are made by the hundred thousand in benchmarks and
        # what-if runs, and this one checks every field once, then sets the slots through
        # their descriptors (the frozen class's __setattr__ refuses), in 0.55 us instead of
        # 0.85 us.  Plain ASCII text passes without a call; anything else gets the full check.
        if type(self) is Recipient:
            raise ConfigurationError("use a recipient type such as Signer or CarbonCopy")
        if not (type(name) is str and name.isascii() and name.strip()):
            check_text(name, "recipient name")
        if not (type(email) is str and email.isascii() and email.strip()):
            check_text(email, "recipient email")
        if not (type(routing_order) is int and 1 <= routing_order <= 999) and (
            isinstance(routing_order, bool)
            or not isinstance(routing_order, int)
            or not 1 <= routing_order <= 999
        ):
            raise ConfigurationError(
                "recipient routing_order: expected a whole number from 1 to 999, "
                f"got {routing_order!r}"
            )
        rid = recipient_id
        if rid is not None and not (type(rid) is str and rid.isascii() and rid.strip()):
            if not isinstance(rid, str) or not rid.strip():
                raise ConfigurationError(
                    f"recipient_id: expected non-empty text or None, got {rid!r}"
                )
            check_text(rid, "recipient_id")
        if client_user_id is not None:
            check_text(client_user_id, "recipient client_user_id")
        _set_name(self, name)
        _set_email(self, email)
        _set_routing_order(self, routing_order)
        _set_recipient_id(self, rid)
        _set_client_user_id(self, client_user_id)


# The slots' own setters, for Recipient.__init__ (see there).
_set_name, _set_email, _set_routing_order, _set_recipient_id, _set_client_user_id = (
    Recipient.__dict__[field.name].__set__ for field in attrs.fields(Recipient)
)


@attrs.frozen(init=False)
class Signer(Recipient):
    """A recipient who must view and sign."""

    type: ClassVar[str] = "Signer"


@attrs.frozen(init=False)
class InPersonSigner(Recipient):
    """Signs in person, hosted by the sender; routed like a signer."""

    type: ClassVar[str] = "InPersonSigner"


@attrs.frozen(init=False)
class Agent(Recipient):
    """Fills in later recipients' details; routed like a signer (it must act)."""

    type: ClassVar[str] = "Agent"


@attrs.frozen(init=False)
class Editor(Recipient):
    """May change the envelope; routed like a signer (it must act)."""

    type: ClassVar[str] = "Editor"


@attrs.frozen(init=False)
class Intermediary(Recipient):
    """May fill in later recipients' details; routed like a signer (it must act)."""

    type: ClassVar[str] = "Intermediary"


@attrs.frozen(init=False)
class CarbonCopy(Recipient):
    """Gets a copy and need not act: completes the moment routing reaches it."""

    type: ClassVar[str] = "CarbonCopy"
    role: ClassVar[str] = COPY


@attrs.frozen(init=False)
class CertifiedDelivery(Recipient):
    """Must receive (view) the documents but need not sign: completes on view."""

    type: ClassVar[str] = "CertifiedDelivery"
    role: ClassVar[str] = CERTIFIED


def _content(value: object) -> bytes:
    if isinstance(value, str):
        return check_text(value, "document content", empty=True).encode("utf-8")
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise ConfigurationError(f"document content: expected bytes or text, got {value!r}")


@attrs.frozen
class Document:
    """A document of an envelope: a name and a (small) content.

    Connect carries documents only when a configuration includes them
    (``include_data=["documents"]``): base64 in the JSON summary's
    ``envelopeDocuments[].PDFBytes``, and as ``DocumentPDFs`` in the legacy
    XML.  Text content is stored as its UTF-8 bytes.  ``document_id`` is a
    whole number as text, as DocuSign's are (from 1 to 2147483647); it
    defaults to the document's position in the envelope (``"1"``, ``"2"``,
    ...).  An envelope created without documents gets
    :data:`DEFAULT_DOCUMENT`: DocuSign cannot send an envelope with none.
    """

    name: str
    content: bytes = attrs.field(default=b"", converter=_content, repr=False)
    document_id: str | None = None

    def __attrs_post_init__(self) -> None:
        check_text(self.name, "document name")
        number = self.document_id
        if number is not None:
            check_text(number, "document_id")
            if not (
                number.isascii() and number.isdigit() and len(number) <= 10
                and 1 <= int(number) <= MAX_ID
            ):  # fmt: skip
                raise ConfigurationError(
                    f"document_id: expected a whole number from 1 to {MAX_ID} as text "
                    f"(DocuSign's document ids are), got {number!r}"
                )


#: The document an envelope gets when it is created without one: ``Document 1.pdf``,
#: a one-page PDF made by :func:`connect_sim.pdf.text_pdf`, shared by every such envelope.
DEFAULT_DOCUMENT: Final = Document(
    "Document 1.pdf",
    text_pdf(["Document 1", "A placeholder document made by connect-sim."]),
    document_id="1",
)


@attrs.frozen(repr=False, init=False, eq=False)
class Envelope:
    """An envelope in a simulation: its ids, subject and recipients (with ids assigned).

    Made by :meth:`Simulation.create_envelope`; its state over time is in the
    snapshots that events and messages carry.

    Attributes:
        id: the scenario's name for it (``"e1"``).
        envelope_id: the GUID Connect would show, derived from the simulation seed
            when first read.  ``Envelope(...)`` takes the GUID, or a function of
            ``id`` that makes it then: a run of a million envelopes derives only
            the GUIDs that something reads (a body, a trace, a user).
        subject: the email subject.
        recipients: the recipients in the order given, each with its ``recipient_id``.
        custom_fields: the envelope's text custom fields, ``(name, value)`` in order.
        documents: its documents, each with its ``document_id``.
        routing: recipient indices grouped by routing order, lowest order first.
        recipient_ids: the recipients' ``recipient_id`` values, in order.
    """

    id: str
    # The GUID, or until first read the function of id that makes it (see envelope_id).
    _envelope_id: str | Callable[[str], str] = attrs.field(alias="envelope_id")
    subject: str
    recipients: tuple[Recipient, ...]
    given: tuple[Recipient, ...] = attrs.field(default=(), eq=False)
    custom_fields: tuple[tuple[str, str], ...] = ()
    documents: tuple[Document, ...] = ()
    routing: tuple[tuple[int, ...], ...] = attrs.field(init=False, eq=False)

    def __init__(
        self,
        id: str,
        envelope_id: str | Callable[[str], str],
        subject: str,
        recipients: tuple[Recipient, ...],
        given: tuple[Recipient, ...] = (),
        custom_fields: tuple[tuple[str, str], ...] = (),
        documents: tuple[Document, ...] = (),
    ) -> None:
        # Written here rather than by attrs, as Recipient's is: one per envelope of a run,
        # the slots set through their descriptors (1.0 us instead of 1.8 us).
        _set_id(self, id)
        _set_envelope_id(self, envelope_id)
        _set_subject(self, subject)
        _set_recipients(self, recipients)
        _set_given(self, given)
        _set_custom_fields(self, custom_fields)
        _set_documents(self, documents)
        _set_routing(self, _routing(tuple([r.routing_order for r in recipients])))

    @property
    def recipient_ids(self) -> tuple[str, ...]:
        """The recipients' ``recipient_id`` values, in order (made when read: a million
        envelopes would keep 56 MB of them)."""
        return tuple([r.recipient_id for r in self.recipients])  # type: ignore[misc]  # all set

    @property
    def envelope_id(self) -> str:
        """The GUID Connect would show (derived when first read, then kept)."""
        guid = self._envelope_id
        if not isinstance(guid, str):
            guid = guid(self.id)
            _set_envelope_id(self, guid)
        return guid

    # Equality and hashing by value, as attrs would write them, but with the GUID as
    # read: an envelope whose GUID is still to be made equals one made with it.
    def _compared(self) -> tuple[object, ...]:
        return (self.id, self.envelope_id, self.subject, self.recipients, self.custom_fields,
                self.documents)  # fmt: skip

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._compared() == other._compared()

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(self._compared())

    def recipient(self, key: str | Recipient) -> int:
        """The index of a recipient, given its id or the object given at creation."""
        if isinstance(key, str):
            for index, recipient in enumerate(self.recipients):
                if recipient.recipient_id == key:  # ids are unique: numbered_recipients checks
                    return index
        elif isinstance(key, Recipient):
            for candidates in (self.given, self.recipients):
                for index, recipient in enumerate(candidates):
                    if recipient is key:
                        return index
            for candidates in (self.given, self.recipients):
                for index, recipient in enumerate(candidates):
                    if recipient == key:
                        return index
        else:
            raise ConfigurationError(f"expected a recipient id or a Recipient, got {key!r}")
        known = ", ".join(repr(r.recipient_id) for r in self.recipients) or "none"
        who = key if isinstance(key, str) else key.name
        raise ConfigurationError(
            f"envelope {self.id!r} has no recipient {who!r} (its recipients: {known})"
        )

    def __repr__(self) -> str:
        return f"<Envelope {self.id!r} {self.subject!r} with {len(self.recipients)} recipients>"


# The slots' own setters, for Envelope.__init__.
(_set_id, _set_envelope_id, _set_subject, _set_recipients, _set_given, _set_custom_fields,
 _set_documents, _set_routing) = (
    Envelope.__dict__[field.name].__set__ for field in attrs.fields(Envelope)
)  # fmt: skip


@functools.lru_cache(maxsize=256)
def _routing(orders: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """Recipient indices grouped by routing order, lowest first; shared by every envelope
    whose recipients have the same routing orders."""
    groups: dict[int, list[int]] = {}
    for index, order in enumerate(orders):
        groups.setdefault(order, []).append(index)
    return tuple(tuple(groups[order]) for order in sorted(groups))


class RecipientState(NamedTuple):
    """A recipient's status and time stamps in one snapshot (immutable).

    Times are milliseconds since the scenario start, or ``None`` while the
    moment has not come (rendered as an absent field, never as null).
    """

    recipient: Recipient
    status: str
    sent: int | None = None
    delivered: int | None = None
    signed: int | None = None
    declined: int | None = None
    declined_reason: str | None = None

    def __repr__(self) -> str:
        return f"<RecipientState {self.recipient.recipient_id!r} {self.status}>"


class EnvelopeState(NamedTuple):
    """An immutable snapshot of an envelope: status, time stamps and every recipient.

    Snapshots are shared by reference, never copied: a change builds a new
    snapshot that reuses every recipient state it did not touch.
    """

    envelope: Envelope
    status: str
    recipients: tuple[RecipientState, ...]
    created: int
    sent: int | None = None
    delivered: int | None = None
    completed: int | None = None
    declined: int | None = None
    voided: int | None = None
    voided_reason: str | None = None
    status_changed: int = 0

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
    new = tuple.__new__
    recipients = tuple([new(RecipientState, (r, CREATED, None, None, None, None, None))
                        for r in envelope.recipients])  # fmt: skip
    return new(EnvelopeState, (envelope, CREATED, recipients, time, None, None, None, None,
                               None, None, time))  # fmt: skip


# -- an envelope's parts, as a caller gives them ------------------------------------------


def numbered_recipients(
    envelope: str, recipients: Sequence[Recipient]
) -> tuple[tuple[Recipient, ...], tuple[Recipient, ...]]:
    """The recipients as given, and as the envelope holds them: numbered by position.

    A recipient without a ``recipient_id`` gets its position (``"1"``, ...), as
    DocuSign numbers them; the caller's objects stay as they were given.
    """
    if not isinstance(recipients, list | tuple):
        raise ConfigurationError(
            f"envelope {envelope!r}: recipients must be a list of Signer, CarbonCopy, ..., "
            f"got {recipients!r}"
        )
    given = tuple(recipients)
    ids = []
    for recipient in given:
        if not isinstance(recipient, Recipient):
            raise ConfigurationError(f"envelope {envelope!r}: not a recipient: {recipient!r}")
        ids.append(recipient.recipient_id)
    bound = given
    if None in ids:
        bound = tuple([
            attrs.evolve(recipient, recipient_id=str(position))
            if recipient.recipient_id is None else recipient
            for position, recipient in enumerate(given, start=1)
        ])  # fmt: skip
        ids = [recipient.recipient_id for recipient in bound]
    if len(set(ids)) < len(ids):  # rare: then find the first id seen twice, to name it
        for position, recipient in enumerate(bound):
            if recipient.recipient_id in ids[:position]:
                raise ConfigurationError(
                    f"envelope {envelope!r}: two recipients have the id {recipient.recipient_id!r}"
                )
    return given, bound


def checked_custom_fields(
    envelope: str, fields: Mapping[str, str] | None
) -> tuple[tuple[str, str], ...]:
    """An envelope's text custom fields, ``(name, value)`` in the order given, checked."""
    if fields is None:
        return ()
    if not isinstance(fields, Mapping):
        raise ConfigurationError(
            f"envelope {envelope!r}: custom_fields must map names to values, got {fields!r}"
        )
    for name, value in fields.items():
        check_text(name, f"envelope {envelope!r}: custom field name")
        check_text(value, f"envelope {envelope!r}: custom field {name!r}", empty=True)
    return tuple(fields.items())


def numbered_documents(envelope: str, documents: Sequence[Document]) -> tuple[Document, ...]:
    """An envelope's documents, each without a ``document_id`` numbered by position."""
    if documents == ():  # the default: nothing to check
        return ()
    if not isinstance(documents, list | tuple):
        raise ConfigurationError(
            f"envelope {envelope!r}: documents must be a list of Document, got {documents!r}"
        )
    out: list[Document] = []
    for position, document in enumerate(documents, start=1):
        if not isinstance(document, Document):
            raise ConfigurationError(f"envelope {envelope!r}: not a Document: {document!r}")
        if document.document_id is None:
            document = attrs.evolve(document, document_id=str(position))
        if any(d.document_id == document.document_id for d in out):
            raise ConfigurationError(
                f"envelope {envelope!r}: two documents have the id {document.document_id!r}"
            )
        out.append(document)
    return tuple(out)
