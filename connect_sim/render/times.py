"""Time stamps as each format writes them, from the simulator's integer milliseconds.

JSON writes UTC with seven fractional digits and ``Z``
(``2026-01-01T00:02:20.0000000Z``).  Legacy XML writes the account's local
time without a zone: three fractional digits for event times
(``2025-12-31T16:02:20.000``) and seven for ``TimeGenerated``.  A run uses the
same few instants over and over (every message repeats the envelope's created
and sent times), so each text is made once and remembered.
"""

from __future__ import annotations

from datetime import datetime, timedelta

__all__ = ["Timestamps"]


class Timestamps:
    """Formats instants of one run: ``start`` is what time 0 stands for (UTC)."""

    def __init__(self, start: datetime, utc_offset: timedelta) -> None:
        self._start = start
        self._local_start = start.replace(tzinfo=None) + utc_offset
        self._utc: dict[int, str] = {}
        self._local: dict[int, str] = {}

    def utc(self, ms: int) -> str:
        """``2026-01-01T00:02:20.0000000Z``: JSON's form."""
        text = self._utc.get(ms)
        if text is None:
            moment = self._start + timedelta(milliseconds=ms)
            text = self._utc[ms] = f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond:06d}0Z"
        return text

    def local(self, ms: int) -> str:
        """``2025-12-31T16:02:20.000``: legacy XML's form, in the account's time zone."""
        text = self._local.get(ms)
        if text is None:
            moment = self._local_start + timedelta(milliseconds=ms)
            text = self._local[ms] = f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}"
        return text

    def local_generated(self, ms: int) -> str:
        """``2025-12-31T16:02:20.0000000``: the XML ``TimeGenerated``, seven digits."""
        moment = self._local_start + timedelta(milliseconds=ms)
        return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond:06d}0"
