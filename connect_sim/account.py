"""Account: who sends the envelopes, and the facts every message carries about them.

A Connect message names the account (``accountId``), the sending user
(``userId``, ``sender``) and, in the legacy XML, the account's time zone, in
which its time stamps are written.  None of this changes during a run.  Ids
left out are derived from the simulation's seed (:mod:`connect_sim.ids`).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final

import attrs

from .errors import ConfigurationError
from .ids import derived_guid
from .text import check_text

__all__ = ["Account"]

_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
_MAX_OFFSET: Final = timedelta(hours=14)


def _offset(value: object) -> timedelta:
    """A UTC offset from a timedelta or text such as ``"-08:00"``."""
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
            f"account utc_offset: expected whole minutes within 14 hours of UTC, got {value!r}"
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
        time_zone: the account's time-zone name, as the XML ``TimeZone`` writes it.
        utc_offset: the account's offset from UTC; legacy XML writes its time
            stamps in this local time, without a zone, and says the offset in
            ``TimeZoneOffset``.  A timedelta or text such as ``"-08:00"``.

    >>> Account(time_zone="Pacific Standard Time", utc_offset="-08:00").utc_offset
    datetime.timedelta(days=-1, seconds=57600)
    """

    account_id: str | None = None
    user_id: str | None = None
    user_name: str = "Sam Sender"
    email: str = "sam.sender@example.com"
    time_zone: str = "UTC"
    utc_offset: timedelta = attrs.field(default=timedelta(0), converter=_offset)

    def __attrs_post_init__(self) -> None:
        for field in ("account_id", "user_id"):
            value = getattr(self, field)
            if value is not None:
                check_text(value, f"account {field}")
        for field in ("user_name", "email", "time_zone"):
            check_text(getattr(self, field), f"account {field}")

    def resolved(self, seed: int) -> Account:
        """This account with every id it leaves out derived from ``seed``."""
        return attrs.evolve(
            self,
            account_id=self.account_id or derived_guid(seed, "account"),
            user_id=self.user_id or derived_guid(seed, "user"),
        )
