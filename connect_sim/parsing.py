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

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from .errors import ConfigurationError, PayloadError
from .formats import XML_NAMESPACE, status_from_xml
from .json_reading import read_json
from .message import ConnectMessage, RecipientStatus, routing_order, timestamp
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
        return read_json(body, max_depth, max_items)
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
    generated = timestamp(_text(status_element, "TimeGenerated", where), "TimeGenerated", offset)
    recipients = []
    statuses = status_element.first("RecipientStatuses")
    if statuses is not None:
        for number, person in enumerate(statuses.all("RecipientStatus")):
            place = f"RecipientStatuses/RecipientStatus[{number}]"
            order = routing_order(
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


# Whole hours (-8, +2: what DocuSign and the renderer write) or decimal ones (5.5, 5.75: what
# a hand-written message may hold), in ASCII; float() alone would also take 1_0, inf, 1e1.
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
