"""What a Connect message says, whichever format it came in: the listener side's records.

:class:`ConnectMessage` and :class:`RecipientStatus` are what
:func:`~connect_sim.parse_message` gives; the readers of both formats
(:mod:`connect_sim.json_reading`, :mod:`connect_sim.parsing` for XML) build them
with the value checks kept here, which both formats share: a routing order and
a time stamp, JSON's in UTC or XML's local to an offset.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

import attrs

from .errors import PayloadError

__all__ = ["ConnectMessage", "RecipientStatus", "routing_order", "timestamp"]

# 2026-01-01T00:02:20, then an optional fraction of up to 7 digits, then Z or nothing.
# ASCII digits only: int() would read the fraction's Arabic-Indic or fullwidth digits.
_STAMP: Final = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,7}))?(Z?)", re.ASCII)


@attrs.frozen
class RecipientStatus:
    """One recipient's status as a message reports it.

    Attributes:
        type: ``Signer``, ``CarbonCopy``, ``CertifiedDelivery``, ``Agent``, ...
        name: the recipient's name.
        email: the recipient's email.
        routing_order: its routing order.
        status: lower case (``sent``, ``delivered``, ``completed``, ...).
        recipient_id_guid: the recipient's GUID (both formats carry it).
        recipient_id: the envelope-local id (``"1"``); only JSON carries it.
    """

    type: str
    name: str
    email: str
    routing_order: int
    status: str
    recipient_id_guid: str
    recipient_id: str | None = None


@attrs.frozen
class ConnectMessage:
    """What a Connect message says, whichever format it came in.

    Attributes:
        format: ``"json"`` or ``"xml"``.
        envelope_id: the envelope's GUID.
        status: the envelope's status, lower case; ``None`` when a JSON
            message carries no envelope summary.
        generated: when Connect generated the message (UTC).  Under SIM the
            event's time; under Aggregate the sending time.  Listeners use it
            to ignore stale messages.
        recipients: every recipient's status, in the message's order (JSON
            carries them only when the configuration includes recipients).
        event: the JSON ``event`` (``"recipient-completed"``); ``None`` for XML,
            which names no event.
        recipient_id: the JSON ``data.recipientId`` of a recipient event.
        retry_count: the JSON ``retryCount``; ``None`` for XML.
        configuration_id: the JSON ``configurationId``; ``None`` for XML.
        account_id: the JSON ``data.accountId``; ``None`` for XML (use the
            ``X-DocuSign-AccountId`` header).
        subject: the envelope's email subject, when the message carries it.
        custom_fields: the envelope's text custom fields, ``(name, value)`` in order.
    """

    format: str
    envelope_id: str
    status: str | None
    generated: datetime
    recipients: tuple[RecipientStatus, ...] = ()
    event: str | None = None
    recipient_id: str | None = None
    retry_count: int | None = None
    configuration_id: int | None = None
    account_id: str | None = None
    subject: str | None = None
    custom_fields: tuple[tuple[str, str], ...] = ()


def routing_order(text: str, where: str) -> int:
    """A routing order: a whole number from 1 to 999 in ASCII digits."""
    text = text.strip()
    if not (text.isascii() and text.isdigit() and 1 <= len(text) <= 3 and int(text) >= 1):
        raise PayloadError(f"{where} must be a number from 1 to 999, got {text[:40]!r}")
    return int(text)


def timestamp(text: str, where: str, offset: timedelta | None = None) -> datetime:
    """A JSON (``...Z``) or XML (zone-less, local at ``offset``) time stamp, as UTC."""
    match = _STAMP.fullmatch(text.strip())
    if match is None:
        raise PayloadError(f"{where}: not a time stamp: {text[:60]!r}")
    whole, fraction, zone = match.groups()
    if bool(zone) == (offset is not None):
        expected = "a zone-less local time" if offset is not None else "a UTC time ending in Z"
        raise PayloadError(f"{where}: expected {expected}, got {text[:60]!r}")
    micro = int((fraction or "0").ljust(7, "0")) // 10
    try:
        moment = datetime.fromisoformat(whole).replace(microsecond=micro)
        moment -= offset or timedelta(0)
    except (ValueError, OverflowError):
        raise PayloadError(f"{where}: not a real date and time: {text[:60]!r}") from None
    return moment.replace(tzinfo=UTC)
