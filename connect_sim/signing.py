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

from .errors import ConfigurationError, PayloadError
from .text import check_text

__all__ = ["basic_authorization", "check_keys", "hmac_signature", "verify_hmac"]

DIGEST_HEADER: Final = "X-Authorization-Digest"
DIGEST_NAME: Final = "HMACSHA256"
SIGNATURE_PREFIX: Final = "X-DocuSign-Signature-"
DIGEST_LOWER: Final = DIGEST_HEADER.lower()


def _one_key(key: object, what: str, text_only: bool = False) -> str | bytes:
    """One key, checked: non-empty text UTF-8 can encode, or (unless ``text_only``) bytes."""
    # Say what it is, never what it holds: it is a secret, even when it is wrong.
    if isinstance(key, bytes | bytearray | memoryview) and not text_only:
        data: str | bytes = bytes(key)
    elif isinstance(key, str):
        data = check_text(key, what, empty=True, secret=True)
    else:
        kinds = "text" if text_only else "text or bytes"
        raise ConfigurationError(f"{what} must be {kinds}, got a {type(key).__name__}")
    if not data:
        raise ConfigurationError(f"{what} is empty: an empty key signs nothing")
    return data


def _key_bytes(key: str | bytes) -> bytes:
    return key.encode("utf-8") if isinstance(key, str) else key


def check_keys(value: object, what: str, *, text_only: bool = False) -> tuple[str | bytes, ...]:
    """HMAC keys as given by a caller: one key (text or bytes), or an iterable of keys.

    A single ``str`` or ``bytes`` is one key, never a sequence of one-character
    keys.  Every key must be non-empty text UTF-8 can encode, or (unless
    ``text_only``) non-empty bytes.  Anything else raises
    :class:`~connect_sim.ConfigurationError` naming the key by position and
    type, never by value.  The result may be empty (the caller decides whether
    no key at all makes sense).

    >>> check_keys("one key", "keys")
    ('one key',)
    >>> check_keys(["old", b"new"], "keys")
    ('old', b'new')
    """
    if isinstance(value, str | bytes | bytearray | memoryview):
        if text_only and not isinstance(value, str):
            raise ConfigurationError(f"{what}: keys are text here, got bytes")
        return (_one_key(value, what, text_only),)
    if isinstance(value, Mapping) or not isinstance(value, Iterable):
        kind = "a key (text)" if text_only else "a key (text or bytes)"
        raise ConfigurationError(
            f"{what}: expected {kind} or a list of keys, got a {type(value).__name__}"
        )
    return tuple(
        _one_key(key, f"{what}: key {number}", text_only)
        for number, key in enumerate(value, start=1)
    )


def _body(body: object, what: str) -> bytes:
    if not isinstance(body, bytes | bytearray | memoryview):
        raise PayloadError(f"{what}: the body must be bytes, got a {type(body).__name__}")
    return bytes(body)


def hmac_signature(body: bytes, key: str | bytes) -> str:
    """The base64 HMAC-SHA256 of ``body`` keyed with ``key``: one signature header's value.

    ``key`` is one key, text (keyed with its UTF-8 bytes) or bytes; an empty
    key, or one that is neither, raises :class:`~connect_sim.ConfigurationError`.

    >>> hmac_signature(b"The quick brown fox jumps over the lazy dog", "key")
    '97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg='
    """
    secret = _key_bytes(_one_key(key, "hmac_signature: the key"))
    digest = hmac.new(secret, _body(body, "hmac_signature"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def basic_authorization(username: str, password: str) -> str:
    """The ``Authorization`` header value for HTTP Basic auth (RFC 7617, UTF-8)."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def verify_hmac(
    body: bytes, headers: Mapping[str, str], keys: str | bytes | Iterable[str | bytes]
) -> bool:
    """True if any ``X-DocuSign-Signature-N`` header of ``headers`` signs ``body`` with any key.

    Use it in a listener before trusting a message.  ``body`` must be the raw
    request body, byte for byte; ``headers`` may use any letter case (WSGI
    and ASGI servers lower-case them), and may be any mapping-like object with
    ``items()``, such as Flask's ``request.headers``.  ``keys`` is one key
    (text or bytes) or a list of them: every key the listener accepts, so that
    keys can rotate.  Every signature is compared with every key in constant
    time, without stopping at the first match, so timing says nothing about
    which key or how much of a signature matched.  A message without
    signatures, or whose ``X-Authorization-Digest`` names another algorithm,
    is not verified.

    Bad request data (a body that is not bytes, headers that are not a
    mapping of names to values) raises :class:`~connect_sim.PayloadError`;
    bad keys (none, an empty one, one that is neither text nor bytes) raise
    :class:`~connect_sim.ConfigurationError`: the listener's own mistake,
    which it must not answer as if the request were at fault.

    >>> body = b'{"event":"envelope-sent"}'
    >>> headers = {"x-docusign-signature-1": hmac_signature(body, "new key")}
    >>> verify_hmac(body, headers, ["old key", "new key"])
    True
    >>> verify_hmac(body + b" ", headers, ["old key", "new key"])
    False
    >>> verify_hmac(body, headers, "new key")  # one key, given alone
    True
    """
    data = _body(body, "verify_hmac")
    # Any object with items() will do: frameworks' header classes (Werkzeug's, Starlette's)
    # are not all registered as Mappings.
    if not callable(getattr(headers, "items", None)):
        raise PayloadError(
            f"verify_hmac: headers must be a mapping, got a {type(headers).__name__}"
        )
    secrets = [_key_bytes(key) for key in check_keys(keys, "verify_hmac: keys")]
    if not secrets:
        raise ConfigurationError("verify_hmac: no keys given")
    signatures: list[bytes] = []
    prefix = SIGNATURE_PREFIX.lower()
    digest_named = True
    items = headers.items()
    if not isinstance(items, Iterable):
        raise PayloadError(f"verify_hmac: headers.items() gave a {type(items).__name__}")
    for item in items:
        if not isinstance(item, tuple | list) or len(item) != 2:
            raise PayloadError(
                "verify_hmac: headers.items() must give (name, value) pairs, "
                f"got a {type(item).__name__}"
            )
        name, value = item
        if not isinstance(name, str) or not isinstance(value, str):
            continue  # not a header a server would give; it cannot be a signature
        lowered = name.lower()
        if lowered == DIGEST_LOWER and value.strip().upper() != DIGEST_NAME:
            digest_named = False
        elif lowered.startswith(prefix):
            signatures.append(value.strip().encode("ascii", "replace"))
    matched = False
    for secret in secrets:
        expected = base64.b64encode(hmac.new(secret, data, hashlib.sha256).digest())
        for signature in signatures:
            matched |= hmac.compare_digest(expected, signature)
    return matched and digest_named
