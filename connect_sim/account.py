"""Account: who sends the envelopes, and the facts every message carries about them.

A Connect message names the account (``accountId``), the sending user
(``userId``, ``sender``) and, in the legacy XML, the account's time zone, in
which its time stamps are written (:mod:`connect_sim.zones`).  A configuration
may add the account's number, name and site as custom fields.  None of this
changes during a run.  Ids left out are derived from the simulation's seed
(:mod:`connect_sim.ids`).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final

import attrs

from .errors import ConfigurationError
from .ids import derived_guid, derived_number
from .text import check_text
from .zones import Zone

__all__ = ["Account"]

_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
_MAX_OFFSET: Final = timedelta(hours=14)


def _offset(value: object) -> timedelta | None:
    """A UTC offset from a timedelta or text such as ``"-08:00"``; ``None`` for none given."""
    if value is None:
        return None
    given = value  # errors show what was given, never the timedelta made of it
    if isinstance(value, str):
        match = _OFFSET.match(value.strip())
        if match is None:
            raise ConfigurationError(
                f"account utc_offset: expected text such as '-08:00' or '+05:30', got {value!r}"
            )
        sign, hours, minutes = match.groups()
        value = timedelta(hours=int(hours), minutes=int(minutes)) * (-1 if sign == "-" else 1)
    if not isinstance(value, timedelta):
        raise ConfigurationError(
            f"account utc_offset: expected a timedelta or text such as '-08:00', got {value!r}"
        )
    if value % timedelta(minutes=1) or abs(value) > _MAX_OFFSET:
        raise ConfigurationError(
            f"account utc_offset: expected whole minutes within 14 hours of UTC, got {given!r}"
        )
    return value


@attrs.frozen
class Account:
    """The DocuSign account a simulation plays, and its sending user.

    Args:
        account_id: the account GUID (default: derived from the seed).
        user_id: the sending user's GUID (default: derived from the seed).
        user_name: the sender's name, as ``sender.userName`` and the XML ``UserName``.
        email: the sender's email.
        name: the account's name (the ``AccountName`` custom field).
        number: the account's number, which DocuSign shows as the ``AccountId``
            custom field (default: seven digits derived from the seed).
        site: the DocuSign site the account lives on (``AccountSite``; ``demo``
            for a developer account).
        time_zone: an IANA zone (``"America/Los_Angeles"``), whose offset
            follows daylight saving time; or, with ``utc_offset``, the name the
            XML ``TimeZone`` writes for a fixed offset.  Default ``"UTC"``.
        utc_offset: a fixed offset from UTC (a timedelta or text such as
            ``"-08:00"``); leave it out with an IANA zone.  Legacy XML writes
            its time stamps in the account's local time, without a zone, and
            the offset in ``TimeZoneOffset``.

    >>> Account(time_zone="Pacific Standard Time", utc_offset="-08:00").utc_offset
    datetime.timedelta(days=-1, seconds=57600)
    >>> Account(time_zone="America/Los_Angeles").zone.windows_name
    'Pacific Standard Time'
    """

    account_id: str | None = None
    user_id: str | None = None
    user_name: str = "Sam Sender"
    email: str = "sam.sender@example.com"
    name: str = "Example Corp"
    number: int | None = None
    site: str = "demo"
    time_zone: str = "UTC"
    utc_offset: timedelta | None = attrs.field(default=None, converter=_offset)
    zone: Zone = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        for field in ("account_id", "user_id"):
            value = getattr(self, field)
            if value is not None:
                check_text(value, f"account {field}")
        for field in ("user_name", "email", "name", "site", "time_zone"):
            check_text(getattr(self, field), f"account {field}")
        number = self.number
        if number is not None and (
            isinstance(number, bool) or not isinstance(number, int) or not 1 <= number < 10**12
        ):
            raise ConfigurationError(
                f"account number: expected a whole number from 1 to 12 digits, got {number!r}"
            )
        # A name with no offset is an IANA zone, except the plain UTC of the default.
        offset = self.utc_offset
        if offset is None and self.time_zone == "UTC":
            offset = timedelta(0)
        object.__setattr__(self, "zone", Zone(self.time_zone, offset))

    def resolved(self, seed: int) -> Account:
        """This account with every id it leaves out derived from ``seed``."""
        return attrs.evolve(
            self,
            account_id=self.account_id or derived_guid(seed, "account"),
            user_id=self.user_id or derived_guid(seed, "user"),
            number=self.number or derived_number(seed, "account number", digits=7),
        )
