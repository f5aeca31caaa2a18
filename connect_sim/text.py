"""Checks for the text a scenario puts into messages: names, subjects, reasons, fields.

Every such text ends up in a message body, so it must at least be valid
Unicode that UTF-8 can encode (a lone surrogate is not).  What a format
cannot carry beyond that (XML 1.0 and control characters) is the renderer's
business: the same text is fine in JSON.
"""

from __future__ import annotations

from .errors import ConfigurationError

__all__ = ["check_text"]


def check_text(value: object, what: str, *, empty: bool = False, secret: bool = False) -> str:
    """Return ``value`` if it is text UTF-8 can encode; otherwise raise ConfigurationError.

    Unless ``empty`` is true the text must also hold something besides white space.
    With ``secret`` (a password, a key) the error says what is wrong and never
    what the text holds.

    >>> check_text("Sue", "n")
    'Sue'
    >>> check_text("\\ud800", "n")
    Traceback (most recent call last):
    ...
    connect_sim.errors.ConfigurationError: n: '\\ud800' is not valid Unicode text (a lone ...
    """
    if not isinstance(value, str) or not (empty or value.strip()):
        expected = "text" if empty else "non-empty text"
        got = f"a {type(value).__name__}" if secret else repr(value)
        raise ConfigurationError(f"{what}: expected {expected}, got {got}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            if secret:
                raise ConfigurationError(
                    f"{what} is not valid Unicode text (it holds a lone surrogate)"
                ) from None
            raise ConfigurationError(
                f"{what}: {value!r} is not valid Unicode text "
                f"(a lone surrogate at position {error.start})"
            ) from None
    return value
