"""Time zones as Connect's legacy XML writes them: local times, an offset, a Windows name.

The XML body writes every time stamp in the account's local time, without a
zone, and says which zone in ``TimeZone`` (a Windows name such as
``Pacific Standard Time``) and ``TimeZoneOffset`` (whole hours, as DocuSign's
schema types it: an ``int``).  An account's zone is either a fixed offset
(``utc_offset="-08:00"``) or an IANA zone (``time_zone="America/Los_Angeles"``,
read with :mod:`zoneinfo`), whose offset follows daylight saving time: each
time stamp is local to the offset in force at its own instant, and
``TimeZoneOffset`` is the offset in force when the message was generated (as
DocuSign's sample message of 2020-03-28 writes ``-7`` for Pacific time).

Windows names come from the Unicode CLDR's ``windowsZones`` mapping (a fact
table, written out here for the zones accounts use most); an IANA zone it
does not list is written under its IANA name *(choice)*.  For a zone whose
offset is not a whole number of hours, ``TimeZoneOffset`` keeps the whole
hours and drops the rest, toward zero (+05:30 is ``5``, -03:30 is ``-3``),
as .NET's ``TimeSpan.Hours`` does *(choice: DocuSign's service is .NET, and
the schema leaves no room for minutes)*; the time stamps stay exact.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigurationError

__all__ = ["WINDOWS_NAMES", "Zone"]

#: IANA zone -> the Windows zone name DocuSign writes (CLDR ``windowsZones``).
WINDOWS_NAMES: Final = {
    "UTC": "UTC",
    "Etc/UTC": "UTC",
    "US/Hawaii": "Hawaiian Standard Time",
    "US/Alaska": "Alaskan Standard Time",
    "US/Pacific": "Pacific Standard Time",
    "US/Arizona": "US Mountain Standard Time",
    "US/Mountain": "Mountain Standard Time",
    "US/Central": "Central Standard Time",
    "US/Eastern": "Eastern Standard Time",
    "Canada/Newfoundland": "Newfoundland Standard Time",
    "GB": "GMT Standard Time",
    "Pacific/Honolulu": "Hawaiian Standard Time",
    "America/Anchorage": "Alaskan Standard Time",
    "America/Los_Angeles": "Pacific Standard Time",
    "America/Vancouver": "Pacific Standard Time",
    "America/Tijuana": "Pacific Standard Time (Mexico)",
    "America/Phoenix": "US Mountain Standard Time",
    "America/Denver": "Mountain Standard Time",
    "America/Edmonton": "Mountain Standard Time",
    "America/Chicago": "Central Standard Time",
    "America/Winnipeg": "Central Standard Time",
    "America/Mexico_City": "Central Standard Time (Mexico)",
    "America/Regina": "Canada Central Standard Time",
    "America/New_York": "Eastern Standard Time",
    "America/Toronto": "Eastern Standard Time",
    "America/Detroit": "Eastern Standard Time",
    "America/Bogota": "SA Pacific Standard Time",
    "America/Lima": "SA Pacific Standard Time",
    "America/Caracas": "Venezuela Standard Time",
    "America/Halifax": "Atlantic Standard Time",
    "America/Santiago": "Pacific SA Standard Time",
    "America/St_Johns": "Newfoundland Standard Time",
    "America/Sao_Paulo": "E. South America Standard Time",
    "America/Argentina/Buenos_Aires": "Argentina Standard Time",
    "America/Buenos_Aires": "Argentina Standard Time",
    "Atlantic/Reykjavik": "Greenwich Standard Time",
    "Europe/London": "GMT Standard Time",
    "Europe/Dublin": "GMT Standard Time",
    "Europe/Lisbon": "GMT Standard Time",
    "Africa/Casablanca": "Morocco Standard Time",
    "Africa/Lagos": "W. Central Africa Standard Time",
    "Europe/Berlin": "W. Europe Standard Time",
    "Europe/Amsterdam": "W. Europe Standard Time",
    "Europe/Rome": "W. Europe Standard Time",
    "Europe/Stockholm": "W. Europe Standard Time",
    "Europe/Vienna": "W. Europe Standard Time",
    "Europe/Zurich": "W. Europe Standard Time",
    "Europe/Oslo": "W. Europe Standard Time",
    "Europe/Paris": "Romance Standard Time",
    "Europe/Brussels": "Romance Standard Time",
    "Europe/Madrid": "Romance Standard Time",
    "Europe/Copenhagen": "Romance Standard Time",
    "Europe/Warsaw": "Central European Standard Time",
    "Europe/Zagreb": "Central European Standard Time",
    "Europe/Prague": "Central Europe Standard Time",
    "Europe/Budapest": "Central Europe Standard Time",
    "Europe/Athens": "GTB Standard Time",
    "Europe/Bucharest": "GTB Standard Time",
    "Europe/Helsinki": "FLE Standard Time",
    "Europe/Kiev": "FLE Standard Time",
    "Europe/Kyiv": "FLE Standard Time",
    "Europe/Istanbul": "Turkey Standard Time",
    "Europe/Moscow": "Russian Standard Time",
    "Africa/Cairo": "Egypt Standard Time",
    "Africa/Johannesburg": "South Africa Standard Time",
    "Africa/Nairobi": "E. Africa Standard Time",
    "Asia/Jerusalem": "Israel Standard Time",
    "Asia/Riyadh": "Arab Standard Time",
    "Asia/Dubai": "Arabian Standard Time",
    "Asia/Tehran": "Iran Standard Time",
    "Asia/Karachi": "Pakistan Standard Time",
    "Asia/Kolkata": "India Standard Time",
    "Asia/Calcutta": "India Standard Time",
    "Asia/Kathmandu": "Nepal Standard Time",
    "Asia/Dhaka": "Bangladesh Standard Time",
    "Asia/Bangkok": "SE Asia Standard Time",
    "Asia/Jakarta": "SE Asia Standard Time",
    "Asia/Singapore": "Singapore Standard Time",
    "Asia/Kuala_Lumpur": "Singapore Standard Time",
    "Asia/Manila": "Singapore Standard Time",
    "Asia/Shanghai": "China Standard Time",
    "Asia/Hong_Kong": "China Standard Time",
    "Asia/Taipei": "Taipei Standard Time",
    "Asia/Seoul": "Korea Standard Time",
    "Asia/Tokyo": "Tokyo Standard Time",
    "Australia/Perth": "W. Australia Standard Time",
    "Australia/Darwin": "AUS Central Standard Time",
    "Australia/Adelaide": "Cen. Australia Standard Time",
    "Australia/Brisbane": "E. Australia Standard Time",
    "Australia/Sydney": "AUS Eastern Standard Time",
    "Australia/Melbourne": "AUS Eastern Standard Time",
    "Pacific/Auckland": "New Zealand Standard Time",
}

_MS_PER_MINUTE: Final = 60_000


class Zone:
    """An account's time zone: the offset at each instant, and how XML names it.

    Args:
        name: an IANA zone (``"America/Los_Angeles"``), or, with ``offset``, the
            name XML writes for a fixed offset (``"Pacific Standard Time"``).
        offset: a fixed offset from UTC; ``None`` for an IANA zone.
    """

    __slots__ = ("_fixed_ms", "_zone", "windows_name")

    def __init__(self, name: str, offset: timedelta | None) -> None:
        self._zone: ZoneInfo | None = None
        self._fixed_ms = 0
        if offset is not None:
            self._fixed_ms = int(offset / timedelta(milliseconds=1))
            self.windows_name = name
            return
        try:
            self._zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError) as error:  # a folder, too long...
            raise ConfigurationError(
                f"account time_zone: {name[:60]!r} is not an IANA time zone this machine knows "
                f"({type(error).__name__}); give an IANA name such as 'America/Los_Angeles', "
                "or a fixed utc_offset with the name to write"
            ) from None
        self.windows_name = WINDOWS_NAMES.get(name, name)

    def offset_ms(self, moment: datetime) -> int:
        """The offset from UTC in force at ``moment`` (an aware datetime), in milliseconds."""
        zone = self._zone
        if zone is None:
            return self._fixed_ms
        offset = moment.astimezone(zone).utcoffset()
        assert offset is not None
        return int(offset / timedelta(milliseconds=1))

    def offset_hours(self, moment: datetime) -> int:
        """``TimeZoneOffset`` at ``moment``: whole hours of the offset, toward zero.

        >>> from datetime import UTC
        >>> Zone("India Standard Time", timedelta(hours=5, minutes=30)).offset_hours(
        ...     datetime(2026, 1, 1, tzinfo=UTC))
        5
        >>> Zone("America/St_Johns", None).offset_hours(datetime(2026, 1, 1, tzinfo=UTC))
        -3
        """
        minutes = self.offset_ms(moment) // _MS_PER_MINUTE
        return int(minutes / 60)  # int() truncates toward zero, as TimeSpan.Hours does
