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

from typing import TYPE_CHECKING, NamedTuple

from ..envelope import COMPLETED, EnvelopeState
from ..formats import XML_STATUS
from ..pdf import text_pdf

if TYPE_CHECKING:
    from ..account import Account
    from ..configuration import Configuration
    from .times import Timestamps

__all__ = ["CustomField", "Extras"]


class CustomField(NamedTuple):
    """A text custom field as a body shows it; ``show`` is False for the sender's fields."""

    name: str
    value: str
    show: bool


class Extras:
    """For one configuration: which documents, certificate and custom fields bodies carry."""

    __slots__ = ("_account_fields", "_certificates", "_times", "certificate", "documents")

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
        self._certificates: dict[str, bytes] = {}

    @property
    def account_fields(self) -> bool:
        """True when bodies carry the sender's account as custom fields."""
        return bool(self._account_fields)

    def custom_fields(self, snapshot: EnvelopeState) -> list[CustomField]:
        """The envelope's own custom fields, then the sender's account's."""
        own = [CustomField(name, value, True) for name, value in snapshot.envelope.custom_fields]
        return own + list(self._account_fields)

    def certificate_of(self, snapshot: EnvelopeState) -> bytes | None:
        """The certificate of completion a body about ``snapshot`` carries, if any."""
        if not (self.certificate and self.documents and snapshot.status == COMPLETED):
            return None
        key = snapshot.envelope.id
        pdf = self._certificates.get(key)
        if pdf is None:  # a completed envelope never changes again: one certificate each
            pdf = self._certificates[key] = self._certify(snapshot)
        return pdf

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
