"""Reading a Connect 2.0 JSON body into a :class:`~connect_sim.message.ConnectMessage`.

The body is decoded whole by the standard library's C decoder, once its size
is known to be bounded: every value but the top one is the first of its array
or object or follows a comma, so counting ``[``, ``{`` and ``,`` bounds the
values before the decoder builds any (commas inside strings only over-count).
Nesting is checked after decoding; integers longer than 40 characters are
refused as they are met.  Everything wrong is a :class:`~connect_sim.PayloadError`
naming the field's path.
"""

from __future__ import annotations

import json
from typing import Any, Final

from .errors import PayloadError
from .formats import JSON_RECIPIENT_LISTS
from .message import ConnectMessage, RecipientStatus, routing_order, timestamp

__all__ = ["read_json"]

_JSON_TYPES: Final = {key: kind for kind, key in JSON_RECIPIENT_LISTS.items()}


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


def read_json(body: bytes, max_depth: int, max_items: int) -> ConnectMessage:
    """The message a JSON body says, within the bounds; PayloadError for anything else.

    ``body`` is at most ``max_bytes`` already (:func:`~connect_sim.parse_message`
    checked); at most ``max_items`` values and ``max_depth`` levels are read.
    """
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
    generated = timestamp(_field(document, "generatedDateTime", str, ""), "generatedDateTime")
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
            order = routing_order(
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
