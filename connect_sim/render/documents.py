"""What a body carries besides the envelope's state: its documents, certificate, custom fields.

Both formats carry the same facts, each in its own spelling: the envelope's
documents (when the configuration includes them), the certificate of
completion of a completed envelope (when the configuration asks for it), and
the envelope's custom fields followed by the sender's account as three more
(``AccountId``, ``AccountName``, ``AccountSite``, when the configuration asks
for them: DocuSign's ``includeSenderAccountasCustomField``).  This module
decides which; the writers decide how they look.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, NamedTuple

from ..envelope import COMPLETED, Envelope, EnvelopeState
from ..formats import XML_STATUS
from ..pdf import text_pdf
from .memo import remember

if TYPE_CHECKING:
    from ..account import Account
    from ..configuration import Configuration
    from .times import Timestamps

__all__ = ["Certificate", "CustomField", "Extras"]


class CustomField(NamedTuple):
    """A text custom field as a body shows it; ``show`` is False for the sender's fields."""

    name: str
    value: str
    show: bool


class Certificate(NamedTuple):
    """A certificate of completion: its PDF and the base64 text both formats carry."""

    pdf: bytes
    base64: str


class Extras:
    """For one configuration: which documents, certificate and custom fields bodies carry."""

    __slots__ = (
        "_account_fields", "_certificates", "_fields", "_times", "certificate", "documents",
    )  # fmt: skip

    def __init__(self, configuration: Configuration, account: Account, times: Timestamps) -> None:
        self._times = times
        #: True when bodies carry the envelope's documents.
        self.documents = "documents" in configuration.include_data
        #: True when a completed envelope's bodies also carry its certificate of completion.
        self.certificate = configuration.include_certificate_of_completion
        self._account_fields: tuple[CustomField, ...] = ()
        if configuration.include_sender_account_as_custom_field:
            self._account_fields = (
                CustomField("AccountId", str(account.number), False),
                CustomField("AccountName", account.name, False),
                CustomField("AccountSite", account.site, False),
            )
        # Per envelope id: its certificate, its custom fields (neither changes once made).
        self._certificates: dict[str, Certificate] = {}
        self._fields: dict[str, tuple[CustomField, ...]] = {}

    @property
    def account_fields(self) -> bool:
        """True when bodies carry the sender's account as custom fields."""
        return bool(self._account_fields)

    def custom_fields(self, envelope: Envelope) -> tuple[CustomField, ...]:
        """The envelope's own custom fields, then the sender's account's."""
        fields = self._fields.get(envelope.id)
        if fields is None:
            own = (CustomField(name, value, True) for name, value in envelope.custom_fields)
            fields = remember(self._fields, envelope.id, (*own, *self._account_fields))
        return fields

    def certificate_of(self, snapshot: EnvelopeState) -> Certificate | None:
        """The certificate of completion a body about ``snapshot`` carries, if any."""
        if not (self.certificate and self.documents and snapshot.status == COMPLETED):
            return None
        key = snapshot.envelope.id
        certificate = self._certificates.get(key)
        if certificate is None:  # a completed envelope never changes again: one each
            pdf = self._certify(snapshot)
            certificate = Certificate(pdf, base64.b64encode(pdf).decode("ascii"))
            remember(self._certificates, key, certificate)
        return certificate

    def _certify(self, snapshot: EnvelopeState) -> bytes:
        envelope = snapshot.envelope
        utc = self._times.utc
        lines = [
            "Certificate of Completion",
            f"Envelope Id: {envelope.envelope_id}",
            f"Subject: {envelope.subject}",
            f"Status: {XML_STATUS[snapshot.status]}",
            f"Created: {utc(snapshot.created)}",
        ]
        assert snapshot.completed is not None
        lines.append(f"Completed: {utc(snapshot.completed)}")
        for state in snapshot.recipients:
            recipient = state.recipient
            lines.append(
                f"{recipient.type} {recipient.name} <{recipient.email}>: "
                f"{XML_STATUS[state.status]}"
            )
        return text_pdf(lines)
