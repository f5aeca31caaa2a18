"""Simulated time: integer milliseconds since the scenario start.

Inside the simulator every instant and every duration is an ``int`` of
milliseconds; integers compare and add exactly and cost nothing to hash.  They
become :class:`datetime.datetime` or text only at the edges: in the Python API
(``timedelta`` in, ``datetime`` out), in scenario files (``"2m20s"`` or an ISO
time) and in reports.

Bounds, so that every instant a run can reach is one a message can write (a
four-digit year, in any account's time zone): a duration or an offset from
the start is at most :data:`MAX_DURATION_MS` (36,500 days, about a century);
the start lies in ``[EARLIEST_START, LATEST_START)`` (1900 to 8999); and a run
simulates at most :data:`HORIZON_MS` (292,000 days, about eight centuries):
whatever falls due later stays pending.  A ``timedelta`` finer than a
millisecond is rounded to the nearest one (half a millisecond rounds up).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from .errors import ConfigurationError

__all__ = [
    "DEFAULT_START",
    "EARLIEST_START",
    "HORIZON_MS",
    "LATEST_START",
    "MAX_DURATION_MS",
    "MS_PER_DAY",
    "MS_PER_HOUR",
    "MS_PER_MINUTE",
    "MS_PER_SECOND",
    "check_start",
    "duration",
    "duration_ms",
    "format_duration",
    "format_instant",
    "parse_duration",
    "parse_instant",
]

MS_PER_SECOND = 1_000
MS_PER_MINUTE = 60 * MS_PER_SECOND
MS_PER_HOUR = 60 * MS_PER_MINUTE
MS_PER_DAY = 24 * MS_PER_HOUR

#: The wall-clock instant that simulated time 0 stands for, unless a scenario says otherwise.
DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
#: The earliest start a simulation may have.
EARLIEST_START = datetime(1900, 1, 1, tzinfo=UTC)
#: Every start is before this instant.
LATEST_START = datetime(9000, 1, 1, tzinfo=UTC)
#: The longest duration, and the furthest offset from the start, anything may name.
MAX_DURATION_MS = 36_500 * MS_PER_DAY
#: How far a run goes at most: work due later than this stays pending.
HORIZON_MS = 8 * MAX_DURATION_MS

_NO_TIME = timedelta(0)
_LONGEST = timedelta(milliseconds=MAX_DURATION_MS)
_ONE_MS = timedelta(milliseconds=1)
_HALF_MS = timedelta(microseconds=500)
_UNITS = {"d": MS_PER_DAY, "h": MS_PER_HOUR, "m": MS_PER_MINUTE, "s": MS_PER_SECOND, "ms": 1}
_PART = re.compile(r"(\d+)(ms|d|h|m|s)")
#: More digits than any duration up to MAX_DURATION_MS needs (it is 13 digits in ms).
_MAX_DIGITS = 13


def _too_long(what: str, shown: str) -> ConfigurationError:
    return ConfigurationError(
        f"{what}{shown} is longer than the longest duration allowed "
        f"({MAX_DURATION_MS // MS_PER_DAY}d, about a century)"
    )


def parse_duration(text: str) -> int:
    """Parse a duration such as ``"2m20s"``, ``"1d12h"``, ``"250ms"`` or ``"0"`` into milliseconds.

    Units are ``d``, ``h``, ``m``, ``s`` and ``ms``, each at most once, largest first.

    >>> parse_duration("2m20s")
    140000
    >>> parse_duration("1d")
    86400000
    """
    text = text.strip()
    if text == "0":
        return 0
    pos = 0
    total = 0
    seen: list[str] = []
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        unit = match.group(2)
        if seen and list(_UNITS).index(unit) <= list(_UNITS).index(seen[-1]):
            raise ConfigurationError(
                f"bad duration {text!r}: units must each appear once, largest first"
            )
        seen.append(unit)
        digits = match.group(1)
        if len(digits) > _MAX_DIGITS:  # int() of thousands of digits is slow, then refused
            raise _too_long("duration ", repr(text[:40]))
        total += int(digits) * _UNITS[unit]
        pos = match.end()
    if pos != len(text) or not seen:
        raise ConfigurationError(
            f"bad duration {text[:40]!r}: expected a number and a unit, "
            "like '90s', '2m20s' or '1d'"
        )
    if total > MAX_DURATION_MS:
        raise _too_long("duration ", repr(text))
    return total


def duration_ms(value: timedelta | str, what: str) -> int:
    """Convert a duration given as ``timedelta`` or text like ``"2m20s"`` to milliseconds.

    ``what`` names the parameter in the error raised for a negative, too long or
    otherwise meaningless value.  A bare number is refused: it has no unit.  A
    ``timedelta`` is rounded to the nearest millisecond (half rounds up).

    >>> duration_ms(timedelta(microseconds=1500), "latency")
    2
    """
    if type(value) is timedelta and _NO_TIME <= value <= _LONGEST:
        # The common case: the rule below, on the parts (whole seconds are whole ms).
        return value.days * 86_400_000 + value.seconds * 1000 + (value.microseconds + 500) // 1000
    if isinstance(value, timedelta):
        micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
        ms = (micros + 500) // 1000
        if ms > MAX_DURATION_MS:
            raise _too_long(f"{what}: ", format_duration(ms))
    elif isinstance(value, str):
        try:
            ms = parse_duration(value)
        except ConfigurationError as error:
            raise ConfigurationError(f"{what}: {error}") from None
    else:
        hint = " (a bare number has no unit)" if isinstance(value, int | float) else ""
        raise ConfigurationError(
            f"{what}: expected a timedelta or a duration like '2m20s', got {value!r}{hint}"
        )
    if ms < 0:
        raise ConfigurationError(f"{what}: a duration cannot be negative, got {value!r}")
    return ms


def format_duration(ms: int) -> str:
    """Render milliseconds the way :func:`parse_duration` reads them.

    >>> format_duration(140000)
    '2m20s'
    >>> format_duration(0)
    '0s'
    """
    if ms == 0:
        return "0s"
    parts = []
    rest = ms
    for unit, size in _UNITS.items():
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 time with a zone (``2026-01-01T09:00:00Z``) into an aware datetime."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigurationError(
            f"bad time {text!r}: expected ISO 8601 like '2026-01-01T09:00:00Z'"
        ) from None
    if value.tzinfo is None:
        raise ConfigurationError(f"bad time {text!r}: give a zone, for example 'Z' for UTC")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00:00-05:00 is past the last year datetime has
        raise ConfigurationError(f"bad time {text!r}: past the year 9999") from None


def check_start(start: object, what: str = "start") -> datetime:
    """``start`` as UTC, if it is an aware datetime in ``[EARLIEST_START, LATEST_START)``."""
    if not isinstance(start, datetime) or start.tzinfo is None:
        raise ConfigurationError(f"{what}: expected a datetime with a time zone, got {start!r}")
    try:
        utc = start.astimezone(UTC)
    except OverflowError:
        utc = LATEST_START
    if not EARLIEST_START <= utc < LATEST_START:
        raise ConfigurationError(
            f"{what}: {start.isoformat()} is outside the years a simulation may start in "
            f"({EARLIEST_START.year} to {LATEST_START.year - 1}), so that every time stamp "
            "of a run can be written"
        )
    return utc


def format_instant(start: datetime, ms: int) -> str:
    """Render the instant ``ms`` after ``start`` as ISO 8601 UTC with milliseconds.

    >>> format_instant(DEFAULT_START, 140000)
    '2026-01-01T00:02:20.000Z'
    """
    moment = start + timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def duration(value: timedelta | str, what: str) -> timedelta:
    """``value`` as a whole-millisecond ``timedelta`` (an attrs converter for durations).

    >>> duration("2s", "latency")
    datetime.timedelta(seconds=2)
    """
    return timedelta(milliseconds=duration_ms(value, what))
