"""Deterministic identifiers: the GUIDs and numbers Connect shows, derived from names.

Connect identifies accounts, users, envelopes and recipients by GUID and
configurations by number.  The simulator derives each from the run's seed and
the scenario's names with a keyed hash, so that the same scenario and seed give
the same ids in any process, and different envelopes never share one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

__all__ = ["MAX_ID", "derived_guid", "derived_number", "guid_maker"]

#: The largest of DocuSign's numeric ids (configurations, documents): 32-bit signed integers.
MAX_ID = 2**31 - 1


#: The RFC 4122 variant (the top two bits of byte 8 set to 10), as the hex digit it makes.
_VARIANT = {f"{n:x}": f"{n & 0x3 | 0x8:x}" for n in range(16)}


def _digest(parts: tuple[object, ...]) -> bytes:
    text = ":".join([str(part) for part in parts])
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def derived_guid(*parts: object) -> str:
    """A version-4 UUID in text form, derived from ``parts``.

    >>> derived_guid(1, "e1") == derived_guid(1, "e1") != derived_guid(2, "e1")
    True
    >>> len(derived_guid("account"))
    36
    """
    return _guid(_digest(parts).hex())


def _guid(h: str) -> str:
    # Version 4 is the digit after the second dash; the variant, the one after the third.
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


def guid_maker(*prefix: object) -> Callable[[str], str]:
    """``derived_guid(*prefix, part)`` as a function of ``part``, for many parts.

    The prefix is hashed once and each call hashes only its part (half the
    time of :func:`derived_guid`: a simulation derives one GUID per envelope).

    >>> guid_maker(1)("e1") == derived_guid(1, "e1")
    True
    """
    start = hashlib.blake2b(digest_size=16)
    start.update("".join([f"{part}:" for part in prefix]).encode("utf-8", "surrogatepass"))

    def guid(part: str) -> str:
        h = start.copy()
        h.update(part.encode("utf-8", "surrogatepass"))
        return _guid(h.hexdigest())

    return guid


def derived_number(*parts: object, digits: int = 8) -> int:
    """A positive whole number of exactly ``digits`` digits, derived from ``parts``.

    >>> 10_000_000 <= derived_number("connect", "listener") < 100_000_000
    True
    """
    low = 10 ** (digits - 1)
    number: int = low + int.from_bytes(_digest(parts), "big") % (9 * low)
    return number
