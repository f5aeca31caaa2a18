"""Legacy XML bodies: ``DocuSignEnvelopeInformation`` in DocuSign's API 3.0 namespace.

Theory of operation
-------------------
The document is written as text, element by element, in the order DocuSign's
schema gives (the ``DocuSignEnvelopeInformation`` types of its SOAP WSDL;
``reference/connect-facts.md`` section 3c): ``EnvelopeStatus`` with
``RecipientStatuses`` first, then the envelope's own fields, custom fields
and document statuses; ``DocumentPDFs`` when the configuration includes
documents; ``TimeZone`` and ``TimeZoneOffset`` last.  What the schema
requires is always there, as DocuSign's sample messages have it: a
recipient's ``DeclineReason`` (``xsi:nil`` unless declined),
``RecipientIPAddress`` and ``CustomFields`` (empty), the envelope's
``CustomFields`` (empty when it has none).  Statuses are capitalised
(``Completed``), times are the account's local time without a zone, with
trailing zeros of the fraction dropped (:mod:`connect_sim.render.times`),
and an absent time is an absent element.

XML 1.0 cannot carry every character: most C0 controls, lone surrogates and
U+FFFE/U+FFFF are not allowed anywhere, not even escaped.  Text holding one
raises :class:`~connect_sim.PayloadError` naming the field, rather than
producing a document no parser accepts.  Everything else is escaped
(``&``, ``<``, ``>``, and carriage returns, which a parser would otherwise
turn into line feeds).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from ..envelope import AUTORESPONDED, Envelope, EnvelopeState, RecipientState
from ..errors import PayloadError
from ..formats import BOUNCE_REASON, XML_NAMESPACE, XML_STATUS
from ..ids import derived_guid
from .documents import Extras
from .memo import remember

if TYPE_CHECKING:
    from ..account import Account
    from ..configuration import Configuration
    from ..delivery.records import Attempt
    from .times import Timestamps

__all__ = ["XmlWriter", "xml_text"]

_NOT_XML: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SPECIAL: Final = re.compile("[&<>\r]")
_ESCAPES: Final = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}

_OPEN: Final = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<DocuSignEnvelopeInformation xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
    f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="{XML_NAMESPACE}">\n'
)


def xml_text(value: str, what: str) -> str:
    """``value`` escaped for XML element content; PayloadError if XML 1.0 cannot carry it.

    >>> xml_text("Tom & Jerry <3", "subject")
    'Tom &amp; Jerry &lt;3'
    >>> xml_text("bell\\x07", "s")
    Traceback (most recent call last):
    ...
    connect_sim.errors.PayloadError: s: character U+0007 at position 4 cannot be written in XML 1.0
    """
    bad = _NOT_XML.search(value)
    if bad is not None:
        raise PayloadError(
            f"{what}: character U+{ord(bad.group()):04X} at position {bad.start()} "
            "cannot be written in XML 1.0"
        )
    if _SPECIAL.search(value) is None:
        return value
    return _SPECIAL.sub(lambda match: _ESCAPES[match.group()], value)


# Optional time elements, in schema order: XML tag -> the snapshot field (by position).
# The envelope's Signed is its completion (DocuSign's completed sample carries Sent,
# Delivered, Signed and Completed; choice: signed when the last signature completed it).
_ENVELOPE_TIMES: Final = tuple(
    (tag, EnvelopeState._fields.index(field))
    for tag, field in (("Sent", "sent"), ("Delivered", "delivered"), ("Signed", "completed"),
                       ("Completed", "completed"), ("Declined", "declined"))
)  # fmt: skip
_RECIPIENT_TIMES: Final = tuple(
    (tag, RecipientState._fields.index(tag.lower()))
    for tag in ("Sent", "Delivered", "Signed", "Declined")
)
_NO_REASON: Final = '        <DeclineReason xsi:nil="true" />\n'


def _times(
    state: tuple[Any, ...],
    table: tuple[tuple[str, int], ...],
    local: Callable[[int], str],
    indent: str,
) -> list[str]:
    """The time elements of a snapshot that has them; absent times are absent elements."""
    return [f"{indent}<{tag}>{local(state[field])}</{tag}>\n"
            for tag, field in table if state[field] is not None]  # fmt: skip


class XmlWriter:
    """Renders the legacy XML bodies of one configuration's attempts."""

    def __init__(self, configuration: Configuration, account: Account, times: Timestamps) -> None:
        self._times = times
        self._extras = Extras(configuration, account, times)
        # The sender's texts are the same in every body: escaped (and checked) once.
        self._sender = xml_text(account.user_name, "account user_name")
        self._sender_email = xml_text(account.email, "account email")
        self._zone = (
            f"  <TimeZone>{xml_text(account.zone.windows_name, 'account time_zone')}</TimeZone>\n"
        )
        # Per envelope id, per recipient: [the state rendered last, its text].
        self._people: dict[str, list[list[Any]]] = {}
        # Per envelope id: the texts no snapshot changes (custom fields; documents).
        self._fixed: dict[str, tuple[str, str]] = {}

    def body(self, attempt: Attempt) -> bytes:
        """The exact body bytes of ``attempt`` (UTF-8)."""
        snapshot = attempt.snapshot
        envelope = snapshot.envelope
        local = self._times.local
        where = f"envelope {envelope.id!r}"
        out = [_OPEN, "  <EnvelopeStatus>\n", "    <RecipientStatuses>\n"]
        people = self._people.get(envelope.id)
        if people is None:
            people = remember(self._people, envelope.id, [[None, ""] for _ in envelope.recipients])
        for state, person in zip(snapshot.recipients, people, strict=True):
            # Snapshots share unchanged recipient states: reuse the text made last time.
            if person[0] is not state:
                text = self._recipient(snapshot, state)  # may refuse: cache only what worked
                person[0], person[1] = state, text
            out.append(person[1])
        out.append("    </RecipientStatuses>\n")
        generated = local(attempt.generated)
        out.append(
            f"    <TimeGenerated>{generated}</TimeGenerated>\n"
            f"    <EnvelopeID>{envelope.envelope_id}</EnvelopeID>\n"
            f"    <Subject>{xml_text(envelope.subject, f'{where}: subject')}</Subject>\n"
            f"    <UserName>{self._sender}</UserName>\n"
            f"    <Email>{self._sender_email}</Email>\n"
            f"    <Status>{XML_STATUS[snapshot.status]}</Status>\n"
            f"    <Created>{local(snapshot.created)}</Created>\n"
        )
        out.extend(_times(snapshot, _ENVELOPE_TIMES, local, "    "))
        out.append(
            "    <ACStatus>Original</ACStatus>\n"
            f"    <ACStatusDate>{local(snapshot.created)}</ACStatusDate>\n"
            f"    <ACHolder>{self._sender}</ACHolder>\n"
            f"    <ACHolderEmail>{self._sender_email}</ACHolderEmail>\n"
            "    <ACHolderLocation>DocuSign</ACHolderLocation>\n"
            "    <SigningLocation>Online</SigningLocation>\n"
            "    <EnvelopePDFHash />\n"
        )
        fixed = self._fixed.get(envelope.id) or self._fix(envelope)
        out.append(fixed[0])  # custom fields, document statuses
        if snapshot.voided_reason is not None:
            reason = xml_text(snapshot.voided_reason, f"{where}: void reason")
            out.append(f"    <VoidReason>{reason}</VoidReason>\n")
        out.append("  </EnvelopeStatus>\n")
        if self._extras.documents:
            out.append(fixed[1])
            certificate = self._extras.certificate_of(snapshot)
            if certificate is not None:
                out.append(
                    "    <DocumentPDF>\n"
                    "      <Name>Summary</Name>\n"
                    f"      <PDFBytes>{certificate.base64}</PDFBytes>\n"
                    "      <DocumentType>SUMMARY</DocumentType>\n"
                    "    </DocumentPDF>\n"
                )
            out.append("  </DocumentPDFs>\n")
        out.append(
            f"{self._zone}"
            f"  <TimeZoneOffset>{self._times.offset_hours(attempt.generated)}</TimeZoneOffset>\n"
            "</DocuSignEnvelopeInformation>\n"
        )
        return "".join(out).encode("utf-8")

    def _fix(self, envelope: Envelope) -> tuple[str, str]:
        """Build (once) the texts of an envelope's bodies no snapshot changes.

        The first is its custom fields and document statuses; the second, its
        documents' PDFs when the configuration includes them.
        """
        where = f"envelope {envelope.id!r}"
        fields = self._extras.custom_fields(envelope)
        if not fields:
            custom = "    <CustomFields />\n"
        else:
            parts = ["    <CustomFields>\n"]
            for field in fields:
                what = f"{where}: custom field {field.name!r}"
                show = "true" if field.show else "false"
                parts.append(
                    "      <CustomField>\n"
                    f"        <Name>{xml_text(field.name, f'{what} name')}</Name>\n"
                    f"        <Show>{show}</Show>\n"
                    "        <Required>false</Required>\n"
                    f"        <Value>{xml_text(field.value, f'{what} value')}</Value>\n"
                    "        <CustomFieldType>Text</CustomFieldType>\n"
                    "      </CustomField>\n"
                )
            parts.append("    </CustomFields>\n")
            custom = "".join(parts)
        custom += (
            (
                "    <AutoNavigation>true</AutoNavigation>\n"
                "    <EnvelopeIdStamping>true</EnvelopeIdStamping>\n"
                "    <AuthoritativeCopy>false</AuthoritativeCopy>\n"
                "    <DocumentStatuses>\n"
            )
            + "".join(
                "      <DocumentStatus>\n"
                f"        <ID>{document.document_id}</ID>\n"
                f"        <Name>{xml_text(document.name, f'{where}: document name')}</Name>\n"
                "        <TemplateName />\n"
                f"        <Sequence>{sequence}</Sequence>\n"
                "      </DocumentStatus>\n"
                for sequence, document in enumerate(envelope.documents, start=1)
            )
            + "    </DocumentStatuses>\n"
        )
        documents = ""
        if self._extras.documents:
            documents = "  <DocumentPDFs>\n" + "".join(
                "    <DocumentPDF>\n"
                f"      <Name>{xml_text(document.name, f'{where}: document name')}</Name>\n"
                f"      <PDFBytes>{base64.b64encode(document.content).decode('ascii')}"
                "</PDFBytes>\n"
                f"      <DocumentID>{document.document_id}</DocumentID>\n"
                "      <DocumentType>CONTENT</DocumentType>\n"
                "    </DocumentPDF>\n"
                for document in envelope.documents
            )
        fixed = remember(self._fixed, envelope.id, (custom, documents))
        return fixed

    def _recipient(self, snapshot: EnvelopeState, state: RecipientState) -> str:
        recipient = state.recipient
        local = self._times.local
        where = f"envelope {snapshot.envelope.id!r}: recipient {recipient.recipient_id!r}"
        parts = [
            "      <RecipientStatus>\n",
            f"        <Type>{recipient.type}</Type>\n",
            f"        <Email>{xml_text(recipient.email, f'{where} email')}</Email>\n",
            f"        <UserName>{xml_text(recipient.name, f'{where} name')}</UserName>\n",
            f"        <RoutingOrder>{recipient.routing_order}</RoutingOrder>\n",
        ]
        parts.extend(_times(state, _RECIPIENT_TIMES, local, "        "))
        if state.declined_reason is None:
            parts.append(_NO_REASON)  # required by the schema, nil unless declined
        else:
            reason = xml_text(state.declined_reason, f"{where} decline reason")
            parts.append(f"        <DeclineReason>{reason}</DeclineReason>\n")
        if state.status == AUTORESPONDED:
            parts.append(f"        <AutoRespondedReason>{BOUNCE_REASON}</AutoRespondedReason>\n")
        parts.append(
            f"        <Status>{XML_STATUS[state.status]}</Status>\n"
            "        <RecipientIPAddress />\n"
        )
        if recipient.client_user_id is not None:
            client = xml_text(recipient.client_user_id, f"{where} client_user_id")
            parts.append(f"        <ClientUserId>{client}</ClientUserId>\n")
        guid = derived_guid(snapshot.envelope.envelope_id, "recipient", recipient.recipient_id)
        parts.append(
            "        <CustomFields />\n"
            "        <AccountStatus>Active</AccountStatus>\n"
            f"        <RecipientId>{guid}</RecipientId>\n"
            "      </RecipientStatus>\n"
        )
        return "".join(parts)
