"""Connect 2.0 JSON bodies: the seven-key wrapper around an eSignature v2.1 ``Envelope``.

Theory of operation
-------------------
A body is ``{event, apiVersion, uri, retryCount, configurationId,
generatedDateTime, data}``, in the order of real captured messages; ``data``
holds the account, user, (for a recipient event) recipient and envelope ids
and, unless the configuration leaves it out (``include_envelope_summary``),
the ``envelopeSummary``.  The summary uses only keys of the REST v2.1
``Envelope`` model and its nested models (``Recipients``, ``Signer``,
``CarbonCopy``, ``CustomFields``, ``EnvelopeDocument``, ``UserInfo``,
``Folder``), with one exception Connect makes: a document's content is in
``envelopeDocuments[].PDFBytes``, a key the REST model lacks.  Every scalar
in it is a string, as DocuSign writes them, and a time that has not happened
is left out, never null.  Which optional parts it carries is the
configuration's ``include_data``.

An envelope's fixed fields (ids, links, subject, sender, documents) are built
once per envelope and encoded once, by the standard library's C encoder, into
the text of their members; so is each recipient's object, once per state
(snapshots share the states they did not change).  Only the status, the
times and the recipient lists change from one snapshot to the next, and a
body is those written around the encoded pieces.  What needs no escaping
(event names, statuses, time stamps: ASCII from the library's own tables) is
written as it is; every text a user gave goes through the encoder.  The
tests hold every body to be exactly the standard encoder's text for the same
object, key order included.  Facts and sources:
``reference/connect-facts.md`` sections 3a and 8.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, cast

from ..envelope import AUTORESPONDED, COMPLETED, CREATED, Envelope, EnvelopeState, RecipientState
from ..formats import API_VERSION, BOUNCE_REASON, JSON_RECIPIENT_LISTS
from ..ids import derived_guid
from .documents import Certificate, Extras
from .memo import remember

if TYPE_CHECKING:
    from ..account import Account
    from ..configuration import Configuration
    from ..delivery.records import Attempt
    from .times import Timestamps

__all__ = ["JsonWriter"]

_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# The recipient lists in the order every summary shows them (empty ones too).
_LISTS: Final = tuple(dict.fromkeys(JSON_RECIPIENT_LISTS.values()))


def _members(fields: dict[str, Any]) -> str:
    """The members of a JSON object as text, without its braces: ``"a":"1","b":"2"``."""
    return _ENCODER.encode(fields)[1:-1]


class _Fixed:
    """The texts of an envelope's bodies that no snapshot changes, encoded once."""

    __slots__ = ("completed_tail", "envelope_id", "head", "tail", "tail_fields", "uri")

    def __init__(
        self, uri: str, envelope_id: str, head: str, tail: str, tail_fields: dict[str, Any]
    ) -> None:
        self.uri = uri  # a JSON string, quotes included; so is envelope_id
        self.envelope_id = envelope_id
        self.head = head  # the members before the times
        self.tail = tail  # the members after them
        self.tail_fields = tail_fields  # the tail as fields, for the completed variant
        self.completed_tail: str | None = None  # the tail with the certificate, once made


# Fields every envelope summary carries with the same value (DocuSign's defaults for an
# envelope sent online from the web app).
_ENVELOPE_DEFAULTS: Final = {
    "signingLocation": "online",
    "enableWetSign": "true",
    "allowMarkup": "false",
    "allowReassign": "true",
}
_ENVELOPE_FLAGS: Final = {
    "purgeState": "unpurged",
    "envelopeIdStamping": "true",
    "autoNavigation": "true",
    "isSignatureProviderEnvelope": "false",
    "hasFormDataChanged": "false",
    "allowComments": "true",
    "hasComments": "false",
    "allowViewHistory": "true",
    "envelopeLocation": "current_site",
    "isDynamicEnvelope": "false",
    "is21CFRPart11": "false",
    "signerCanSignOnMobile": "true",
    "burnDefaultTabData": "false",
}
# Optional time stamps: JSON key -> the snapshot field it shows (by position: snapshots
# are tuples).  A time that has not happened is left out, never null.
_ENVELOPE_TIMES: Final = tuple(
    (key, EnvelopeState._fields.index(field))
    for key, field in (
        ("initialSentDateTime", "sent"), ("sentDateTime", "sent"),
        ("deliveredDateTime", "delivered"), ("completedDateTime", "completed"),
        ("declinedDateTime", "declined"), ("voidedDateTime", "voided"),
    )
)  # fmt: skip
_RECIPIENT_TIMES: Final = tuple(
    (key, RecipientState._fields.index(field))
    for key, field in (
        ("sentDateTime", "sent"), ("deliveredDateTime", "delivered"),
        ("signedDateTime", "signed"), ("declinedDateTime", "declined"),
    )
)  # fmt: skip
# Extra fields of the recipient models that act (REST ``Signer`` and ``InPersonSigner``).
_SIGNER_FLAGS: Final = {
    "creationReason": "sender",
    "requireUploadSignature": "false",
}


class JsonWriter:
    """Renders the JSON bodies of one configuration's attempts."""

    def __init__(self, configuration: Configuration, account: Account, times: Timestamps) -> None:
        assert account.account_id is not None and account.user_id is not None
        self._account_id = account.account_id
        self._user_id = account.user_id
        self._account = account
        self._times = times
        self._configuration_id = configuration.configuration_id
        self._summarised = configuration.include_envelope_summary
        self._extras = extras = Extras(configuration, account, times)
        include = configuration.include_data
        self._recipients = "recipients" in include
        # The sender's account fields are custom fields: asking for them shows them.
        self._custom_fields = "custom_fields" in include or extras.account_fields
        self._folders = "folders" in include
        # Encoded once: the ids every body's data starts with, and the configuration's id.
        self._ids = (
            f'{{"accountId":{_ENCODER.encode(self._account_id)},'
            f'"userId":{_ENCODER.encode(self._user_id)}'
        )
        self._configuration = _ENCODER.encode(self._configuration_id)
        # Per envelope id: its texts that no snapshot changes (see _Fixed).
        self._fixed: dict[str, _Fixed] = {}
        # Per envelope id: its recipients' fixed fields and their latest rendering.
        self._people: dict[str, list[list[Any]]] = {}
        # The folder's members, draft and sent, made when first asked for.
        self._folder_texts: dict[bool, str] = {}

    def body(self, attempt: Attempt) -> bytes:
        """The exact body bytes of ``attempt`` (UTF-8)."""
        # The message's own event name and recipient: a republished message's are its
        # republish's (an envelope event), not those of the event it was made from.
        message = attempt.message
        recipient = message.recipient
        snapshot = attempt.snapshot
        envelope = snapshot.envelope
        fixed = self._fixed.get(envelope.id) or self._fix(envelope)
        # Event names and time stamps are ASCII with nothing to escape: written as they are.
        out = [
            f'{{"event":"{message.event}","apiVersion":"{API_VERSION}","uri":{fixed.uri},'
            f'"retryCount":{attempt.number - 1},"configurationId":{self._configuration},'
            f'"generatedDateTime":"{self._times.utc(attempt.generated)}","data":{self._ids}'
        ]
        if recipient is not None:
            out.append(f',"recipientId":{_ENCODER.encode(recipient.recipient_id)}')
        out.append(f',"envelopeId":{fixed.envelope_id}')
        if self._summarised:
            out.append(',"envelopeSummary":')
            self._summary(snapshot, fixed, out)
        out.append("}}")
        return "".join(out).encode("utf-8")

    def _summary(self, snapshot: EnvelopeState, fixed: _Fixed, out: list[str]) -> None:
        """Append the ``envelopeSummary`` object's text to ``out``."""
        utc = self._times.utc
        changed = utc(snapshot.status_changed)
        out.append(
            f'{{"status":"{snapshot.status}",{fixed.head},'
            f'"createdDateTime":"{utc(snapshot.created)}","lastModifiedDateTime":"{changed}"'
        )
        for key, field in _ENVELOPE_TIMES:
            time = cast("int | None", snapshot[field])
            if time is not None:
                out.append(f',"{key}":"{utc(time)}"')
        if snapshot.voided_reason is not None:
            out.append(f',"voidedReason":{_ENCODER.encode(snapshot.voided_reason)}')
        out.append(f',"statusChangedDateTime":"{changed}",')
        certificate = self._extras.certificate_of(snapshot)
        if certificate is None:
            out.append(fixed.tail)
        else:
            tail = fixed.completed_tail or self._complete(fixed, snapshot.envelope, certificate)
            out.append(tail)
        if self._recipients:
            out.append(',"recipients":')
            out.append(self._recipient_lists(snapshot))
        if self._folders:
            out.append(f',"folders":[{self._folder(snapshot)}]')
        out.append("}")

    def _fix(self, envelope: Envelope) -> _Fixed:
        """Build (once) the fields of an envelope that no snapshot changes."""
        account = self._account
        uri = (
            f"/restapi/{API_VERSION}/accounts/{self._account_id}/envelopes/{envelope.envelope_id}"
        )
        short = f"/envelopes/{envelope.envelope_id}"
        head: dict[str, Any] = {
            "documentsUri": f"{short}/documents",
            "recipientsUri": f"{short}/recipients",
            "attachmentsUri": f"{short}/attachments",
            "envelopeUri": short,
            "emailSubject": envelope.subject,
            "envelopeId": envelope.envelope_id,
            "customFieldsUri": f"{short}/custom_fields",
            "notificationUri": f"{short}/notification",
            **_ENVELOPE_DEFAULTS,
        }
        tail: dict[str, Any] = {
            "documentsCombinedUri": f"{short}/documents/combined",
            "certificateUri": f"{short}/documents/certificate",
            "templatesUri": f"{short}/templates",
            "sender": {
                "userName": account.user_name,
                "userId": self._user_id,
                "accountId": self._account_id,
                "email": account.email,
            },
            **_ENVELOPE_FLAGS,
        }
        if self._extras.documents:
            tail["envelopeDocuments"] = [
                {
                    "documentId": document.document_id,
                    "documentIdGuid": derived_guid(
                        envelope.envelope_id, "document", document.document_id
                    ),
                    "name": document.name,
                    "type": "content",
                    "uri": f"{short}/documents/{document.document_id}",
                    "order": str(order),
                    "display": "inline",
                    "includeInDownload": "true",
                    "signerMustAcknowledge": "no_interaction",
                    "templateRequired": "false",
                    "authoritativeCopy": "false",
                    "sizeBytes": str(len(document.content)),
                    "PDFBytes": base64.b64encode(document.content).decode("ascii"),
                }
                for order, document in enumerate(envelope.documents, start=1)
            ]
        if self._custom_fields:  # an envelope's custom fields never change
            tail["customFields"] = self._custom_fields_of(envelope)
        fixed = _Fixed(
            _ENCODER.encode(uri), _ENCODER.encode(envelope.envelope_id),
            _members(head), _members(tail), tail,
        )  # fmt: skip
        remember(self._fixed, envelope.id, fixed)
        return fixed

    def _custom_fields_of(self, envelope: Envelope) -> dict[str, Any]:
        fields = self._extras.custom_fields(envelope)
        return {
            "textCustomFields": [
                {"fieldId": str(number), "name": field.name,
                 "show": "true" if field.show else "false", "required": "false",
                 "value": field.value}
                for number, field in enumerate(fields, start=1)
            ],
            "listCustomFields": [],
        }  # fmt: skip

    def _complete(self, fixed: _Fixed, envelope: Envelope, certificate: Certificate) -> str:
        """The tail of a completed envelope: its documents and its certificate (once)."""
        documents = [*fixed.tail_fields["envelopeDocuments"],
                     self._certificate(envelope, certificate)]  # fmt: skip
        # The key stays where it was, so the members keep their order.
        fixed.completed_tail = _members({**fixed.tail_fields, "envelopeDocuments": documents})
        return fixed.completed_tail

    def _certificate(self, envelope: Envelope, certificate: Certificate) -> dict[str, Any]:
        """The certificate of completion as an ``envelopeDocuments`` entry of type summary."""
        pdf = certificate.pdf
        return {
            "documentId": "certificate",
            "documentIdGuid": derived_guid(envelope.envelope_id, "document", "certificate"),
            "name": "Summary",
            "type": "summary",
            "uri": f"/envelopes/{envelope.envelope_id}/documents/certificate",
            "order": str(len(envelope.documents) + 1),
            "display": "inline",
            "includeInDownload": "true",
            "signerMustAcknowledge": "no_interaction",
            "templateRequired": "false",
            "authoritativeCopy": "false",
            "sizeBytes": str(len(pdf)),
            "PDFBytes": certificate.base64,
        }

    def _recipient_lists(self, snapshot: EnvelopeState) -> str:
        """The ``recipients`` object's text: every list (empty ones too), then the counts."""
        lists: dict[str, list[str]] = {key: [] for key in _LISTS}
        envelope = snapshot.envelope
        people = self._people.get(envelope.id) or self._fix_people(envelope)
        for state, person in zip(snapshot.recipients, people, strict=True):
            # A snapshot reuses the state of every recipient it did not change, so the
            # object rendered last time is very often this one: reuse its rendering.
            if person[1] is not state:
                rendered = _ENCODER.encode(self._recipient(person[0], state))
                person[1], person[2] = state, rendered
            lists[person[3]].append(person[2])
        members = ",".join(f'"{key}":[{",".join(texts)}]' for key, texts in lists.items())
        return (
            f'{{{members},"recipientCount":"{len(snapshot.recipients)}",'
            f'"currentRoutingOrder":"{_routing_order(snapshot)}"}}'
        )

    def _fix_people(self, envelope: Envelope) -> list[list[Any]]:
        """Per recipient: [fixed fields, last state rendered, its rendering, list key]."""
        people = []
        for recipient in envelope.recipients:
            kind = recipient.type
            fixed: dict[str, Any] = {}
            if kind in ("Signer", "InPersonSigner"):
                fixed.update(_SIGNER_FLAGS)
            if kind == "Signer":
                fixed["isBulkRecipient"] = "false"
            if kind == "InPersonSigner":
                fixed["hostName"] = self._account.user_name
                fixed["hostEmail"] = self._account.email
                fixed["signerName"] = recipient.name
            fixed["name"] = recipient.name
            fixed["email"] = recipient.email
            if recipient.client_user_id is not None:
                fixed["clientUserId"] = recipient.client_user_id
            fixed["recipientId"] = recipient.recipient_id
            guid = derived_guid(envelope.envelope_id, "recipient", recipient.recipient_id)
            fixed["recipientIdGuid"] = guid
            fixed["requireIdLookup"] = "false"
            fixed["routingOrder"] = str(recipient.routing_order)
            fixed["deliveryMethod"] = "email"
            fixed["recipientType"] = kind.lower()
            people.append([fixed, None, None, JSON_RECIPIENT_LISTS[kind]])
        remember(self._people, envelope.id, people)
        return people

    def _recipient(self, fixed: dict[str, Any], state: RecipientState) -> dict[str, Any]:
        out = {**fixed, "status": state.status}
        out["completedCount"] = "1" if state.status == COMPLETED else "0"
        _add_times(out, state, _RECIPIENT_TIMES, self._times.utc)
        if state.declined_reason is not None:
            out["declinedReason"] = state.declined_reason
        if state.status == AUTORESPONDED:
            out["autoRespondedReason"] = BOUNCE_REASON
        return out

    def _folder(self, snapshot: EnvelopeState) -> str:
        """The sender's folder that holds the envelope (drafts, then sent items), as text."""
        draft = snapshot.status == CREATED
        text = self._folder_texts.get(draft)
        if text is None:
            name, kind = ("Draft", "draft") if draft else ("Sent Items", "sentitems")
            folder_id = derived_guid(self._user_id, "folder", kind)
            text = self._folder_texts[draft] = _ENCODER.encode({
                "name": name,
                "type": kind,
                "owner": {"userId": self._user_id, "email": self._account.email},
                "folderId": folder_id,
                "uri": f"/folders/{folder_id}",
            })  # fmt: skip
        return text


def _add_times(
    out: dict[str, Any],
    state: tuple[Any, ...],
    table: tuple[tuple[str, int], ...],
    utc: Callable[[int], str],
) -> None:
    """Add the times of a snapshot that has them; a time not yet reached stays absent."""
    for key, field in table:
        time = cast("int | None", state[field])
        if time is not None:
            out[key] = utc(time)


def _routing_order(snapshot: EnvelopeState) -> int:
    """``currentRoutingOrder``: the order being worked on, else the first (draft) or last."""
    current = snapshot.current_routing_order
    if current is not None:
        return current
    orders = [state.recipient.routing_order for state in snapshot.recipients] or [1]
    return min(orders) if snapshot.status == CREATED else max(orders)
