"""Rendering: the exact bytes and headers Connect would send for each delivery attempt.

A :class:`Renderer` belongs to one configuration.  It is asked lazily, by
:attr:`Attempt.body <connect_sim.Attempt.body>` and
:attr:`Attempt.headers <connect_sim.Attempt.headers>`, and each attempt keeps
what it was given, so a run costs nothing for bodies nobody reads and a body
is rendered at most once per attempt.  The same scenario and seed give the
same bytes in any process.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ..formats import JSON_CONTENT_TYPE, XML_CONTENT_TYPE
from ..signing import (
    DIGEST_HEADER,
    DIGEST_NAME,
    SIGNATURE_PREFIX,
    basic_authorization,
    hmac_signature,
)
from .json_body import JsonWriter
from .times import Timestamps
from .xml_body import XmlWriter

if TYPE_CHECKING:
    from ..account import Account
    from ..configuration import Configuration
    from ..delivery.records import Attempt

__all__ = ["Renderer"]


class Renderer:
    """Bodies and headers for one configuration's attempts.

    Args:
        configuration: the configuration (format, ``include_data``, keys, Basic auth).
        account: the account, with its ids resolved (see :meth:`Account.resolved`).
        start: the UTC instant simulated time 0 stands for.
    """

    __slots__ = ("_account_id", "_authorization", "_keys", "_writer", "content_type")

    def __init__(self, configuration: Configuration, account: Account, start: datetime) -> None:
        assert account.account_id is not None
        times = Timestamps(start, account.zone)
        self._writer: JsonWriter | XmlWriter
        if configuration.format == "json":
            self._writer = JsonWriter(configuration, account, times)
            self.content_type = JSON_CONTENT_TYPE
        else:
            self._writer = XmlWriter(configuration, account, times)
            self.content_type = XML_CONTENT_TYPE
        self._account_id = account.account_id
        self._keys = configuration.hmac_keys
        username, password = configuration.username, configuration.password
        self._authorization = (
            None
            if username is None or password is None
            else basic_authorization(username, password)
        )

    def body(self, attempt: Attempt) -> bytes:
        """The exact body bytes of the attempt."""
        return self._writer.body(attempt)

    def headers(self, body: bytes) -> dict[str, str]:
        """The request headers that go with ``body``: type, account, auth, signatures."""
        headers = {"Content-Type": self.content_type, "X-DocuSign-AccountId": self._account_id}
        if self._authorization is not None:
            headers["Authorization"] = self._authorization
        if self._keys:
            headers[DIGEST_HEADER] = DIGEST_NAME
            for number, key in enumerate(self._keys, start=1):
                headers[f"{SIGNATURE_PREFIX}{number}"] = hmac_signature(body, key)
        return headers

    def __repr__(self) -> str:
        # Deliberately says nothing about keys or credentials.
        return f"<Renderer {self.content_type}>"
