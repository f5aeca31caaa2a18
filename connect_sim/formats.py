"""The wire vocabulary both sides share: content types, names and spellings of each format.

The renderers (:mod:`connect_sim.render`) write these names and the listener
side (:mod:`connect_sim.parsing`) reads them, so they live in one table.
Sources: ``reference/connect-facts.md`` sections 3 and 5 (DocuSign's Connect
2.0 sample payload, the legacy XML schema and sample messages, the eSignature
SDK models).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "API_VERSION",
    "BOUNCE_REASON",
    "JSON_CONTENT_TYPE",
    "JSON_RECIPIENT_LISTS",
    "XML_CONTENT_TYPE",
    "XML_NAMESPACE",
    "XML_STATUS",
    "status_from_xml",
]

JSON_CONTENT_TYPE: Final = "application/json"
XML_CONTENT_TYPE: Final = "text/xml; charset=utf-8"
API_VERSION: Final = "v2.1"
XML_NAMESPACE: Final = "http://www.docusign.net/API/3.0"
#: Why a bounced recipient is ``autoresponded`` (our wording; DocuSign's varies by mail server).
BOUNCE_REASON: Final = "The notification email could not be delivered"

#: JSON status (lower case) -> legacy XML status (capitalised, as the XML schema spells it).
XML_STATUS: Final = {
    "created": "Created",
    "sent": "Sent",
    "delivered": "Delivered",
    "signed": "Signed",
    "completed": "Completed",
    "declined": "Declined",
    "voided": "Voided",
    "autoresponded": "AutoResponded",
}

_FROM_XML: Final = {xml: json for json, xml in XML_STATUS.items()}

#: Recipient type (the XML ``Type``) -> the list that holds it in the JSON ``recipients``.
JSON_RECIPIENT_LISTS: Final = {
    "Signer": "signers",
    "Agent": "agents",
    "Editor": "editors",
    "Intermediary": "intermediaries",
    "CarbonCopy": "carbonCopies",
    "CertifiedDelivery": "certifiedDeliveries",
    "InPersonSigner": "inPersonSigners",
}


def status_from_xml(status: str) -> str:
    """The JSON spelling of a legacy XML status (``"AutoResponded"`` -> ``"autoresponded"``).

    An unknown status comes back lower-cased rather than refused: a listener
    should not fail on a status newer than this table.

    >>> status_from_xml("Completed")
    'completed'
    """
    return _FROM_XML.get(status) or status.lower()
