"""Time stamps as each format writes them, from the simulator's integer milliseconds.

JSON writes UTC with seven fractional digits and ``Z``
(``2026-01-01T00:02:20.0000000Z``).  Legacy XML writes the account's local
time without a zone, local to the offset in force at that instant
(:mod:`connect_sim.zones`), and writes fractions of a second as DocuSign's
sample messages do: trailing zeros dropped (``23:56:54.59``,
``23:56:33.873``) and none at all on a whole second (``23:56:54``).  A run
uses the same few instants over and over (every message repeats the
envelope's created and sent times), so each text is made once and remembered.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .memo import remember

if TYPE_CHECKING:
    from ..zones import Zone

__all__ = ["Timestamps"]


class Timestamps:
    """Formats instants of one run: ``start`` is what time 0 stands for (UTC)."""

    def __init__(self, start: datetime, zone: Zone) -> None:
        self._start = start
        self._zone = zone
        self._utc: dict[int, str] = {}
        self._local: dict[int, str] = {}
        self._hours: dict[int, int] = {}

    def utc(self, ms: int) -> str:
        """``2026-01-01T00:02:20.0000000Z``: JSON's form."""
        text = self._utc.get(ms)
        if text is None:
            moment = self._start + timedelta(milliseconds=ms)
            text = remember(
                self._utc, ms, f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond:06d}0Z"
            )
        return text

    def local(self, ms: int) -> str:
        """``2025-12-31T16:02:20.5``: legacy XML's form, in the account's zone at that instant."""
        text = self._local.get(ms)
        if text is None:
            moment = self._start + timedelta(milliseconds=ms)
            local = moment.replace(tzinfo=None) + timedelta(
                milliseconds=self._zone.offset_ms(moment)
            )
            text = f"{local:%Y-%m-%dT%H:%M:%S}"
            fraction = f"{local.microsecond // 1000:03d}".rstrip("0")
            if fraction:
                text += "." + fraction
            remember(self._local, ms, text)
        return text

    def offset_hours(self, ms: int) -> int:
        """The ``TimeZoneOffset`` of a message generated at ``ms``."""
        hours = self._hours.get(ms)
        if hours is None:
            hours = remember(
                self._hours, ms, self._zone.offset_hours(self._start + timedelta(milliseconds=ms))
            )
        return hours
