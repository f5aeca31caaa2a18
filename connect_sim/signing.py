"""Message authentication: HMAC signatures and Basic-auth headers, both ways.

Connect signs a message with every active Connect key of the account: header
``X-DocuSign-Signature-N`` is the base64 of HMAC-SHA256 over the exact body
bytes, keyed with the N-th key's text, and ``X-Authorization-Digest`` says
``HMACSHA256``.  A listener recomputes the digest with the keys it knows and
accepts the message if any signature matches, which is what lets an account
rotate keys without downtime.  :func:`verify_hmac` is that check, usable in a
production listener; the simulator signs with :func:`hmac_signature`.
Sources: ``reference/connect-facts.md`` section 5.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Final

from .errors import PayloadError

__all__ = ["basic_authorization", "hmac_signature", "verify_hmac"]

DIGEST_HEADER: Final = "X-Authorization-Digest"
DIGEST_NAME: Final = "HMACSHA256"
SIGNATURE_PREFIX: Final = "X-DocuSign-Signature-"


def _key_bytes(key: str | bytes) -> bytes:
    if isinstance(key, bytes):
        return key
    if isinstance(key, str):
        return key.encode("utf-8")
    # Say what it is, never what it holds: it may be a secret of the wrong type.
    raise PayloadError(f"an HMAC key must be text or bytes, got a {type(key).__name__}")


def hmac_signature(body: bytes, key: str | bytes) -> str:
    """The base64 HMAC-SHA256 of ``body`` keyed with ``key``: one signature header's value.

    >>> hmac_signature(b"The quick brown fox jumps over the lazy dog", "key")
    '97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg='
    """
    digest = hmac.new(_key_bytes(key), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def basic_authorization(username: str, password: str) -> str:
    """The ``Authorization`` header value for HTTP Basic auth (RFC 7617, UTF-8)."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def verify_hmac(body: bytes, headers: Mapping[str, str], keys: Iterable[str | bytes]) -> bool:
    """True if any ``X-DocuSign-Signature-N`` header of ``headers`` signs ``body`` with any key.

    Use it in a listener before trusting a message.  ``body`` must be the raw
    request body, byte for byte; ``headers`` may use any letter case (WSGI
    and ASGI servers lower-case them), and may be any mapping-like object with
    ``items()``, such as Flask's ``request.headers``.  Every signature is compared with every
    key in constant time, without stopping at the first match, so timing says
    nothing about which key or how much of a signature matched.  A message
    without signatures, or whose ``X-Authorization-Digest`` names another
    algorithm, is not verified.

    >>> body = b'{"event":"envelope-sent"}'
    >>> headers = {"x-docusign-signature-1": hmac_signature(body, "new key")}
    >>> verify_hmac(body, headers, ["old key", "new key"])
    True
    >>> verify_hmac(body + b" ", headers, ["old key", "new key"])
    False
    """
    if not isinstance(body, bytes | bytearray | memoryview):
        raise PayloadError(f"verify_hmac: the body must be bytes, got a {type(body).__name__}")
    # Any object with items() will do: frameworks' header classes (Werkzeug's, Starlette's)
    # are not all registered as Mappings.
    if not callable(getattr(headers, "items", None)):
        raise PayloadError(
            f"verify_hmac: headers must be a mapping, got a {type(headers).__name__}"
        )
    secrets = [_key_bytes(key) for key in keys]
    if not secrets:
        raise PayloadError("verify_hmac: no keys given")
    signatures: list[bytes] = []
    prefix = SIGNATURE_PREFIX.lower()
    for name, value in headers.items():
        lowered = str(name).lower()
        if lowered == DIGEST_HEADER.lower() and str(value).strip().upper() != DIGEST_NAME:
            return False
        if lowered.startswith(prefix) and isinstance(value, str):
            signatures.append(value.strip().encode("ascii", "replace"))
    data = bytes(body)
    matched = False
    for secret in secrets:
        expected = base64.b64encode(hmac.new(secret, data, hashlib.sha256).digest())
        for signature in signatures:
            matched |= hmac.compare_digest(expected, signature)
    return matched
