"""How a scenario error shows a value: as TOML, the way the user wrote it, secrets hidden.

A scenario file is TOML, so an error about one of its values shows that value
in TOML's own spelling (``["5h", "1h"]``, ``true``, ``1979-05-27``), never as a
Python object (``datetime.date(1979, 5, 27)``).  Values under a secret key
(``password``, ``hmac_keys``) show as ``<hidden>`` wherever they sit, however
malformed the table around them.  Long or deeply nested values are cut short,
so an error stays one readable line whatever the file holds.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time
from typing import Final

__all__ = ["SECRET_KEYS", "show"]

#: Keys whose values are secrets: never shown in an error.
SECRET_KEYS: Final = frozenset({"password", "hmac_keys"})

_BARE_KEY: Final = re.compile(r"[A-Za-z0-9_-]+")
_MAX_DEPTH: Final = 4
_MAX_ITEMS: Final = 6
_MAX_LENGTH: Final = 120


def show(value: object, key: str | None = None) -> str:
    """``value`` (found under ``key``, if given) as TOML text: secrets hidden, one line.

    >>> show({"name": "c", "password": "pw", "windows": [["5h", "1h"]], "on": True})
    '{ name = "c", password = <hidden>, windows = [["5h", "1h"]], on = true }'
    >>> show(["k1", "k2"], key="hmac_keys")
    '<hidden>'
    >>> show(date(1979, 5, 27))
    '1979-05-27'
    """
    if key in SECRET_KEYS:
        return "<hidden>"
    text = _show(value, 0)
    if len(text) > _MAX_LENGTH:
        text = text[: _MAX_LENGTH - 1] + "…"
    return text


def _show(value: object, depth: int) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # TOML's basic strings escape as JSON does; keep the text readable, not \u-escaped.
        return json.dumps(value[:_MAX_LENGTH], ensure_ascii=False)
    if isinstance(value, int | float):
        return repr(value) if not isinstance(value, float) or value == value else "nan"
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        if depth >= _MAX_DEPTH:
            return "[…]"
        items = [_show(item, depth + 1) for item in value[:_MAX_ITEMS]]
        if len(value) > _MAX_ITEMS:
            items.append("…")
        return "[" + ", ".join(items) + "]"
    if isinstance(value, dict):
        if depth >= _MAX_DEPTH:
            return "{ … }"
        entries = []
        for number, (key, item) in enumerate(value.items()):
            if number == _MAX_ITEMS:
                entries.append("…")
                break
            name = str(key)
            shown = "<hidden>" if name in SECRET_KEYS else _show(item, depth + 1)
            label = name if _BARE_KEY.fullmatch(name) else json.dumps(name, ensure_ascii=False)
            entries.append(f"{label} = {shown}")
        return "{ " + ", ".join(entries) + " }" if entries else "{}"
    return f"<{type(value).__name__}>"  # nothing TOML makes; say what, not what it holds
