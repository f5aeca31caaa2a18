"""The listener side: turn a Connect body, JSON or XML, into one typed message.

:func:`parse_message` is meant for a listener's production code as much as
for tests: one code path reads both the Connect 2.0 JSON and the legacy XML
format and gives a :class:`ConnectMessage` with the facts a listener acts on.
It trusts nothing: the body may be truncated, hostile or not from DocuSign at
all.  Everything wrong with it raises :class:`~connect_sim.PayloadError` with
a message that says what and where; no other exception escapes.  A keyword
argument that makes no sense (``max_bytes="x"``) is the caller's mistake, not
the request's, and raises :class:`~connect_sim.ConfigurationError` instead.

Theory of operation
-------------------
A hostile body must cost no more than a small multiple of its size, whatever
it holds, so every cost is bounded before it is paid:

- bodies above ``max_bytes`` are refused unread;
- the number of values is bounded before anything is built, by counting
  bytes at C speed (JSON: ``[``, ``{`` and ``,``; XML: ``<`` and ``=``, see
  :mod:`connect_sim.xml_reading`), which over-counts but never under-counts;
- nesting is bounded by ``max_depth``: XML as the elements open, JSON after
  decoding (the decoder's own recursion guard, at the interpreter's recursion
  limit, stops far deeper bodies first, so decoding never recurses without
  bound);
- JSON integers longer than 40 characters are refused as they are met:
  converting one costs time growing with the square of its length;
- XML is streamed through ``defusedxml``'s expat parser, with document type
  declarations forbidden (so entity expansion and external entities are
  refused before they do anything), and only the elements read here are
  kept: a document's base64 content is never held.

JSON is decoded whole by the standard library's C decoder: within the bounds
that is the cheapest way, and the fields read here are a few.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import attrs

from .errors import ConfigurationError, PayloadError
from .formats import JSON_RECIPIENT_LISTS, XML_NAMESPACE, status_from_xml
from .xml_reading import Schema, Shape, read_xml

if TYPE_CHECKING:
    from .xml_reading import Element

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_DEPTH",
    "MAX_ITEMS",
    "ConnectMessage",
    "RecipientStatus",
    "parse_message",
]

#: The largest body :func:`parse_message` reads unless told otherwise (documents included
#: in a message make it large; anything beyond this is refused, not parsed).
MAX_BODY_BYTES: Final = 32 * 1024 * 1024

#: The deepest nesting :func:`parse_message` reads unless told otherwise: XML elements
#: (the root is 1) or JSON objects and arrays open at once.  Connect's deepest is under 10.
MAX_DEPTH: Final = 64

#: The most values :func:`parse_message` reads unless told otherwise: XML elements or JSON
#: values (and a tenth as many XML attributes).  A Connect message has a few thousand at
#: most, even with many recipients and tabs.
MAX_ITEMS: Final = 200_000

_JSON_TYPES: Final = {key: kind for kind, key in JSON_RECIPIENT_LISTS.items()}
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


def parse_message(
    body: bytes,
    content_type: str | None = None,
    *,
    max_bytes: int = MAX_BODY_BYTES,
    max_depth: int = MAX_DEPTH,
    max_items: int = MAX_ITEMS,
) -> ConnectMessage:
    """Parse a Connect message body, JSON or legacy XML, into a :class:`ConnectMessage`.

    Any body within the limits is parsed in time and memory proportional to its
    size (see ``docs/payloads.md`` for measured figures); past a limit it is
    refused, unread or as soon as the limit is passed.

    Args:
        body: the raw request body.
        content_type: the request's ``Content-Type``; ``application/json`` or
            ``text/xml``/``application/xml`` (parameters such as ``charset``
            are ignored).  ``None`` decides by the body's first character.
        max_bytes: refuse larger bodies without reading them
            (:data:`MAX_BODY_BYTES`, 32 MiB, by default).
        max_depth: refuse bodies nested deeper: XML elements (the root is 1)
            or JSON objects and arrays open at once (:data:`MAX_DEPTH`, 64).
        max_items: refuse bodies with more XML elements or JSON values
            (:data:`MAX_ITEMS`, 200,000), or with more than a tenth as many
            XML attributes (each costs expat about ten times an element).

    Raises:
        PayloadError: the body is not a Connect message, or passes a limit
            (the message gives the reason).
        ConfigurationError: a limit is not a positive integer.

    >>> body = (b'{"event":"envelope-sent","uri":"/x","retryCount":0,"configurationId":1,'
    ...         b'"apiVersion":"v2.1","generatedDateTime":"2026-01-01T00:00:00.0000000Z",'
    ...         b'"data":{"accountId":"a","envelopeId":"e","envelopeSummary":{"status":"sent"}}}')
    >>> message = parse_message(body, "application/json")
    >>> message.event, message.status, message.generated.isoformat()
    ('envelope-sent', 'sent', '2026-01-01T00:00:00+00:00')
    """
    # The caller's mistakes first: they are not the request's fault, whatever the body.
    _check_limit(max_bytes, "max_bytes")
    _check_limit(max_depth, "max_depth")
    _check_limit(max_items, "max_items")
    if isinstance(body, bytearray | memoryview):
        body = bytes(body)
    if not isinstance(body, bytes):
        raise PayloadError(f"the body must be bytes, got a {type(body).__name__}")
    if len(body) > max_bytes:
        raise PayloadError(f"the body is {len(body)} bytes, more than the limit of {max_bytes}")
    kind = _kind(body, content_type)
    if kind == "json":
        return _parse_json(body, max_depth, max_items)
    return _parse_xml(body, max_depth, max_items)


def _check_limit(value: object, name: str) -> None:
    # bool is an int to Python, but max_bytes=True is a mistake, not a limit of 1.
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        shown = repr(value)
        shown = shown if len(shown) <= 60 else f"{shown[:57]}..."
        raise ConfigurationError(
            f"parse_message {name}: expected a positive integer, got {shown} "
            f"({type(value).__name__})"
        )


# Leading bytes that say nothing about the format: a UTF-8 byte order mark, white space.
_LEADING: Final = re.compile(rb"[\xef\xbb\xbf \t\r\n]*")


def _kind(body: bytes, content_type: str | None) -> str:
    if content_type is not None:
        if not isinstance(content_type, str):
            raise PayloadError(
                f"content_type must be text or None, got a {type(content_type).__name__}"
            )
        media = content_type.split(";", 1)[0].strip().lower()
        if media == "application/json" or media.endswith("+json"):
            return "json"
        if media in ("text/xml", "application/xml") or media.endswith("+xml"):
            return "xml"
        raise PayloadError(
            f"content type {content_type[:80]!r} is neither JSON nor XML "
            "(expected application/json or text/xml)"
        )
    # A match, not lstrip(): lstrip would copy the whole body to look at one byte.
    leading = _LEADING.match(body)
    at = leading.end() if leading is not None else 0
    start = body[at : at + 1]
    if start == b"{":
        return "json"
    if start == b"<":
        return "xml"
    raise PayloadError("the body is neither JSON nor XML (it starts with neither '{' nor '<')")


# -- JSON -------------------------------------------------------------------------


def _field(obj: dict[str, Any], key: str, kind: type, where: str, required: bool = True) -> Any:
    value = obj.get(key)
    if value is None:
        if required:
            raise PayloadError(f"JSON message: {where}{key} is missing")
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise PayloadError(
            f"JSON message: {where}{key} must be {_KIND_NAMES[kind]}, got {type(value).__name__}"
        )
    return value


_KIND_NAMES: Final = {str: "a string", int: "an integer", dict: "an object", list: "an array"}


def _parse_json(body: bytes, max_depth: int, max_items: int) -> ConnectMessage:
    # Every value but the top one is the first of its array or object or follows a comma,
    # so this bounds the values (and the keys) before the decoder builds any; brackets and
    # commas inside strings only over-count.
    containers = body.count(b"[") + body.count(b"{")
    values = containers + body.count(b",") + 1
    if values > max_items:
        raise PayloadError(
            f"JSON message: too many values: up to {values} by its brackets and commas, "
            f"more than the limit of {max_items}"
        )
    try:
        document = json.loads(body.decode("utf-8-sig"), parse_int=_json_int)
    except PayloadError:
        raise
    except UnicodeDecodeError as error:
        raise PayloadError(f"JSON message: not UTF-8 (byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise PayloadError(
            f"JSON message: invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    except RecursionError:
        # The C decoder's own guard: nesting near the interpreter's recursion limit.
        raise PayloadError("JSON message: nested too deeply to decode (RecursionError)") from None
    except ValueError as error:
        raise PayloadError(f"JSON message: cannot be decoded ({type(error).__name__})") from None
    if not isinstance(document, dict):
        raise PayloadError(
            f"JSON message: the top level must be an object, got {type(document).__name__}"
        )
    if containers > max_depth:  # fewer containers cannot nest deeper: no need to look
        _check_json_depth(document, max_depth)
    event = _field(document, "event", str, "")
    retry_count = _field(document, "retryCount", int, "")
    configuration_id = _field(document, "configurationId", int, "", required=False)
    generated = _timestamp(_field(document, "generatedDateTime", str, ""), "generatedDateTime")
    data = _field(document, "data", dict, "")
    envelope_id = _field(data, "envelopeId", str, "data.")
    if not envelope_id.strip():
        raise PayloadError("JSON message: data.envelopeId is empty")
    recipient_id = _field(data, "recipientId", str, "data.", required=False)
    account_id = _field(data, "accountId", str, "data.", required=False)
    summary = _field(data, "envelopeSummary", dict, "data.", required=False)
    status = subject = None
    recipients: tuple[RecipientStatus, ...] = ()
    custom: tuple[tuple[str, str], ...] = ()
    if summary is not None:
        where = "data.envelopeSummary."
        status = _field(summary, "status", str, where)
        subject = _field(summary, "emailSubject", str, where, required=False)
        lists = _field(summary, "recipients", dict, where, required=False)
        if lists is not None:
            recipients = _json_recipients(lists)
        fields = _field(summary, "customFields", dict, where, required=False)
        if fields is not None:
            custom = _json_custom_fields(fields)
    return ConnectMessage(
        format="json", envelope_id=envelope_id, status=status, generated=generated,
        recipients=recipients, event=event, recipient_id=recipient_id, retry_count=retry_count,
        configuration_id=configuration_id, account_id=account_id, subject=subject,
        custom_fields=custom,
    )  # fmt: skip


# Longer integers are refused: converting one costs time growing with the square of its
# length (Python stops at 4,300 digits).  Connect's integers are ids and counts.
_MAX_INT_CHARS: Final = 40


def _json_int(text: str) -> int:
    if len(text) > _MAX_INT_CHARS:
        raise PayloadError(
            f"JSON message: an integer of {len(text)} characters, more than the limit of "
            f"{_MAX_INT_CHARS}"
        )
    return int(text)


def _check_json_depth(document: dict[str, Any], max_depth: int) -> None:
    """Refuse objects and arrays nested more than ``max_depth`` deep (the top one is 1)."""
    level: list[Any] = [document]
    depth = 1
    while level:  # one level at a time, so no recursion, and each value is seen once
        if depth > max_depth:
            raise PayloadError(f"JSON message: nested more than {max_depth} deep")
        inner = []
        for container in level:
            for value in container.values() if isinstance(container, dict) else container:
                if isinstance(value, dict | list):
                    inner.append(value)
        level = inner
        depth += 1


def _json_recipients(lists: dict[str, Any]) -> tuple[RecipientStatus, ...]:
    out = []
    for key, kind in _JSON_TYPES.items():
        where = f"data.envelopeSummary.recipients.{key}"
        people = _field(lists, key, list, "data.envelopeSummary.recipients.", required=False)
        for number, person in enumerate(people or ()):
            place = f"{where}[{number}]."
            if not isinstance(person, dict):
                raise PayloadError(f"JSON message: {where}[{number}] must be an object")
            order = _routing_order(
                _field(person, "routingOrder", str, place), f"JSON message: {place}routingOrder"
            )
            out.append(
                RecipientStatus(
                    type=kind,
                    name=_field(person, "name", str, place),
                    email=_field(person, "email", str, place),
                    routing_order=order,
                    status=_field(person, "status", str, place),
                    recipient_id_guid=_field(person, "recipientIdGuid", str, place),
                    recipient_id=_field(person, "recipientId", str, place),
                )
            )
    return tuple(out)


def _json_custom_fields(fields: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    where = "data.envelopeSummary.customFields."
    out = []
    for number, field in enumerate(_field(fields, "textCustomFields", list, where, False) or ()):
        place = f"{where}textCustomFields[{number}]."
        if not isinstance(field, dict):
            raise PayloadError(f"JSON message: {place[:-1]} must be an object")
        value = _field(field, "value", str, place, required=False)
        out.append((_field(field, "name", str, place), value or ""))
    return tuple(out)


def _routing_order(text: str, where: str) -> int:
    """A routing order: a whole number from 1 to 999 in ASCII digits."""
    text = text.strip()
    if not (text.isascii() and text.isdigit() and 1 <= len(text) <= 3 and int(text) >= 1):
        raise PayloadError(f"{where} must be a number from 1 to 999, got {text[:40]!r}")
    return int(text)


def _timestamp(text: str, where: str, offset: timedelta | None = None) -> datetime:
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


# -- XML --------------------------------------------------------------------------

_LEAF: Final = Shape(text=True)
# What the XML parser reads, and nothing else: whatever else a message holds goes by unkept.
_MESSAGE: Final = Schema(
    XML_NAMESPACE,
    "DocuSignEnvelopeInformation",
    Shape({
        "TimeZoneOffset": _LEAF,
        "EnvelopeStatus": Shape({
            "TimeGenerated": _LEAF, "EnvelopeID": _LEAF, "Status": _LEAF, "Subject": _LEAF,
            "RecipientStatuses": Shape({
                "RecipientStatus": Shape(
                    dict.fromkeys(
                        ("Type", "UserName", "Email", "RoutingOrder", "Status", "RecipientId"),
                        _LEAF,
                    ),
                    repeated=True,
                ),
            }),
            "CustomFields": Shape({
                "CustomField": Shape({"Name": _LEAF, "Value": _LEAF}, repeated=True),
            }),
        }),
    }),
)  # fmt: skip


def _parse_xml(body: bytes, max_depth: int, max_items: int) -> ConnectMessage:
    root = read_xml(body, _MESSAGE, max_depth=max_depth, max_items=max_items)
    offset = _xml_offset(root)
    status_element = _child(root, "EnvelopeStatus", "DocuSignEnvelopeInformation")
    where = "EnvelopeStatus"
    generated = _timestamp(_text(status_element, "TimeGenerated", where), "TimeGenerated", offset)
    recipients = []
    statuses = status_element.first("RecipientStatuses")
    if statuses is not None:
        for number, person in enumerate(statuses.all("RecipientStatus")):
            place = f"RecipientStatuses/RecipientStatus[{number}]"
            order = _routing_order(
                _text(person, "RoutingOrder", place), f"XML message: {place}/RoutingOrder"
            )
            recipients.append(
                RecipientStatus(
                    type=_text(person, "Type", place),
                    name=_text(person, "UserName", place),
                    email=_text(person, "Email", place),
                    routing_order=order,
                    status=status_from_xml(_text(person, "Status", place)),
                    recipient_id_guid=_text(person, "RecipientId", place),
                )
            )
    custom = []
    fields = status_element.first("CustomFields")
    if fields is not None:
        for number, field in enumerate(fields.all("CustomField")):
            place = f"CustomFields/CustomField[{number}]"
            custom.append((_text(field, "Name", place), _optional_text(field, "Value") or ""))
    return ConnectMessage(
        format="xml", envelope_id=_text(status_element, "EnvelopeID", where),
        status=status_from_xml(_text(status_element, "Status", where)), generated=generated,
        recipients=tuple(recipients), subject=_optional_text(status_element, "Subject"),
        custom_fields=tuple(custom),
    )  # fmt: skip


def _child(parent: Element, name: str, where: str) -> Element:
    child = parent.first(name)
    if child is None:
        raise PayloadError(f"XML message: {where}/{name} is missing")
    return child


def _text(parent: Element, name: str, where: str) -> str:
    text = _child(parent, name, where).text
    if text is None or not text.strip():
        raise PayloadError(f"XML message: {where}/{name} is empty")
    return text


def _optional_text(parent: Element, name: str) -> str | None:
    child = parent.first(name)
    return None if child is None else child.text or ""


# Whole hours (-8, +2) or decimal ones (5.5, 5.75, -0.0166667: what the renderer writes for
# any whole number of minutes), in ASCII; float() alone would also take 1_0, inf, nan, 1e1.
_OFFSET: Final = re.compile(r"[+-]?[0-9]{1,2}(?:\.[0-9]{1,9})?")


def _xml_offset(root: Element) -> timedelta:
    """The account's UTC offset from ``TimeZoneOffset`` (hours, maybe fractional); 0 if absent."""
    element = root.first("TimeZoneOffset")
    text = None if element is None else element.text
    if text is None:
        return timedelta(0)
    text = text.strip(" \t\r\n")  # XML's white space, not Unicode's
    if _OFFSET.fullmatch(text) is None:
        raise PayloadError(
            f"XML message: TimeZoneOffset is not a number of hours such as -8 or 5.5: "
            f"{text[:40]!r}"
        )
    hours = float(text)
    if not -14 <= hours <= 14:
        raise PayloadError(f"XML message: TimeZoneOffset {text[:40]!r} is not a UTC offset")
    return timedelta(minutes=round(hours * 60))
