"""Configuration: one Connect subscription, with its own delivery queue.

A configuration says which events become messages (its filter), how they are
written (format), whether Connect waits for an acknowledgement, which delivery
algorithm it uses and the timings of that algorithm.  Every timing has the
default DocuSign documents; ``docs/concepts.md`` names the source of each.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

import attrs

from .errors import ConfigurationError
from .events import normalize_events
from .ids import MAX_ID, derived_number
from .signing import check_keys
from .text import check_text
from .time import duration_ms

__all__ = ["FORMATS", "INCLUDE_DATA", "MAX_CONFIGURATION_ID", "MODES", "Configuration"]

#: Delivery algorithms: Send Individual Messages and Aggregate Messages.
MODES: Final = ("sim", "aggregate")
#: Message formats: Connect 2.0 JSON and the legacy XML.
FORMATS: Final = ("json", "xml")
#: What a configuration may ask the envelope summary to carry (``eventData.includeData``).
INCLUDE_DATA: Final = (
    "attachments", "custom_fields", "documents", "extensions", "folders",
    "payment_tabs", "powerform", "prefill_tabs", "recipients", "tabs",
)  # fmt: skip
#: The largest ``configurationId``: DocuSign's configuration ids are 32-bit signed integers.
MAX_CONFIGURATION_ID: Final = MAX_ID


#: The configuration's yes-or-no options.
_FLAGS: Final = (
    "require_acknowledgement", "include_envelope_summary", "include_certificate_of_completion",
    "include_sender_account_as_custom_field",
)  # fmt: skip


def _names(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigurationError(f"expected a list of event names, got {value!r}")
    return tuple(value)


def _legacy_names(value: object) -> tuple[str, ...]:
    return _names(value) or ()


def _include(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigurationError(f"include_data: expected a list of names, got {value!r}")
    for name in value:
        if name not in INCLUDE_DATA:
            known = ", ".join(INCLUDE_DATA)
            raise ConfigurationError(
                f"include_data: unknown option {name!r}; expected some of {known}"
            )
    # One order whatever order they were given in, without repeats.
    return tuple(name for name in INCLUDE_DATA if name in value)


def _keys(value: object) -> tuple[str, ...]:
    # Text only: Connect's keys are text, and configurations are data that files hold.
    # One key given alone is that key (never its characters, one key each); errors name
    # keys by position and type, never by value: they are secrets, even when wrong.
    return check_keys(value, "hmac_keys", text_only=True)  # type: ignore[return-value]


def _hidden_keys(keys: tuple[str, ...]) -> str:
    return f"<{len(keys)} hidden>" if keys else "()"


def _hidden(secret: str | None) -> str:
    return "None" if secret is None else "<hidden>"


@attrs.frozen
class Configuration:
    """One Connect subscription (a "configuration"), account-level unless added for an envelope.

    Args:
        name: how results, traces and reports refer to it; unique in a simulation.
        events: JSON SIM event names it subscribes to (``"envelope-sent"``, ...).
        envelope_events: legacy envelope trigger names (``"Sent"``, ``"Completed"``, ...).
        recipient_events: legacy recipient trigger names (``"Delivered"``, ...).
            With none of the three, every envelope and recipient status.
        format: ``"json"`` (Connect 2.0) or ``"xml"`` (legacy).
        require_acknowledgement: Connect waits for a 2xx and retries failures;
            when off, a failed message goes straight to the failure log.
        mode: ``"sim"`` or ``"aggregate"``; ``None`` takes the simulation's
            (the account setting).
        retry_interval: how long after a failed attempt it is retried (24 h).
        max_retries: retries after the first attempt before the failure log (10).
        aggregation_window: how long Aggregate collects events into one message (60 s).
        timeout: an attempt without an answer by then fails (100 s).
        duplicate_rate: Aggregate only: chance that a delivered message is sent
            again at once (an anomaly DocuSign describes; off by default).
        drop_rate: Aggregate only: chance that a message is lost instead of sent
            (recorded in the failure log, never silent; off by default).
        include_data: what the envelope summary carries besides the envelope's
            own fields: some of ``recipients``, ``custom_fields``, ``documents``,
            ``tabs``, ``attachments``, ``extensions``, ``folders``,
            ``payment_tabs``, ``powerform``, ``prefill_tabs``.
        hmac_keys: Connect keys that sign every message, one
            ``X-DocuSign-Signature-N`` header each, in this order.  Secret:
            never shown in a repr, a trace or an error.
        username: with ``password``, sent as an ``Authorization: Basic`` header.
        password: the Basic-auth password; secret like the keys.
        configuration_id: the number messages carry as ``configurationId``
            (default: derived from the name, eight digits).
        include_envelope_summary: JSON only: ``data`` carries the
            ``envelopeSummary`` (default); without it, only the account,
            user, envelope and recipient ids, as Connect sends them then.
        include_certificate_of_completion: with ``documents`` included, a
            completed envelope's messages also carry its certificate of
            completion (DocuSign's ``includeCertificateOfCompletion``).
        include_sender_account_as_custom_field: messages carry the sender's
            account as three more custom fields, ``AccountId``,
            ``AccountName`` and ``AccountSite`` (DocuSign's
            ``includeSenderAccountasCustomField``).
        disable_after: disable the configuration when every attempt has failed
            for this long (DocuSign disables configurations that keep failing;
            14 days is the one figure found, from a third party).  ``None``
            (default): never.  See ``docs/operations.md``.
    """

    name: str = attrs.field()
    events: tuple[str, ...] | None = attrs.field(default=None, converter=_names)
    envelope_events: tuple[str, ...] = attrs.field(default=(), converter=_legacy_names)
    recipient_events: tuple[str, ...] = attrs.field(default=(), converter=_legacy_names)
    format: str = "json"
    require_acknowledgement: bool = True
    mode: str | None = None
    retry_interval: timedelta = timedelta(days=1)
    max_retries: int = 10
    aggregation_window: timedelta = timedelta(seconds=60)
    timeout: timedelta = timedelta(seconds=100)
    duplicate_rate: float = 0.0
    drop_rate: float = 0.0
    include_data: tuple[str, ...] = attrs.field(default=(), converter=_include)
    hmac_keys: tuple[str, ...] = attrs.field(default=(), converter=_keys, repr=_hidden_keys)
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=_hidden)
    configuration_id: int | None = None
    include_envelope_summary: bool = True
    include_certificate_of_completion: bool = False
    include_sender_account_as_custom_field: bool = False
    disable_after: timedelta | None = None
    subscribed: tuple[str, ...] = attrs.field(init=False, repr=False, eq=False)

    @name.validator
    def _check_name(self, attribute: attrs.Attribute[str], value: object) -> None:
        check_text(value, "configuration name")

    def __attrs_post_init__(self) -> None:
        where = f"configuration {self.name!r}"
        try:
            subscribed = normalize_events(self.events, self.envelope_events, self.recipient_events)
        except ConfigurationError as error:
            raise ConfigurationError(f"{where}: {error}") from None
        object.__setattr__(self, "subscribed", subscribed)
        # Durations may come as timedelta, "24h" or whole milliseconds; keep timedelta.
        for field in ("retry_interval", "aggregation_window", "timeout"):
            ms = duration_ms(getattr(self, field), f"{where}: {field}")
            object.__setattr__(self, field, timedelta(milliseconds=ms))
        if self.format not in FORMATS:
            raise ConfigurationError(
                f"{where}: format must be one of {FORMATS}, got {self.format!r}"
            )
        if self.mode is not None and self.mode not in MODES:
            raise ConfigurationError(f"{where}: mode must be one of {MODES}, got {self.mode!r}")
        for flag in _FLAGS:
            value = getattr(self, flag)
            if not isinstance(value, bool):
                raise ConfigurationError(f"{where}: {flag} must be true or false, got {value!r}")
        if not self.include_envelope_summary:
            if self.format != "json":
                raise ConfigurationError(
                    f"{where}: include_envelope_summary applies to JSON; the XML format always "
                    "carries the envelope's status"
                )
            extras = [name for name, on in (
                ("include_data", bool(self.include_data)),
                ("include_sender_account_as_custom_field",
                 self.include_sender_account_as_custom_field),
            ) if on]  # fmt: skip
            if extras:
                raise ConfigurationError(
                    f"{where}: {extras[0]} says what the envelope summary carries, and "
                    "include_envelope_summary is off"
                )
        if self.include_certificate_of_completion and "documents" not in self.include_data:
            raise ConfigurationError(
                f"{where}: include_certificate_of_completion needs documents included "
                '(include_data=["documents", ...]): the certificate is a document'
            )
        if (
            isinstance(self.max_retries, bool)
            or not isinstance(self.max_retries, int)
            or not (0 <= self.max_retries <= 1000)
        ):
            raise ConfigurationError(
                f"{where}: max_retries must be a whole number from 0 to 1000, "
                f"got {self.max_retries!r}"
            )
        for field in ("duplicate_rate", "drop_rate"):
            rate = getattr(self, field)
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
                raise ConfigurationError(
                    f"{where}: {field}: expected a probability from 0 to 1, got {rate!r}"
                )
        if self.mode is not None:
            self.check_mode(self.mode)
        if (self.username is None) != (self.password is None):
            raise ConfigurationError(f"{where}: give both username and password, or neither")
        if self.username is not None:
            check_text(self.username, f"{where}: username")
            if ":" in self.username:
                raise ConfigurationError(f"{where}: username: Basic auth forbids ':' in it")
        if self.password is not None:
            check_text(self.password, f"{where}: password", empty=True, secret=True)
        number = self.configuration_id
        if number is None:
            object.__setattr__(
                self, "configuration_id", derived_number("configuration", self.name)
            )
        elif (
            isinstance(number, bool)
            or not isinstance(number, int)
            or not 1 <= number <= MAX_CONFIGURATION_ID
        ):
            raise ConfigurationError(
                f"{where}: configuration_id must be a whole number from 1 to "
                f"{MAX_CONFIGURATION_ID} (DocuSign's ids are 32-bit), got {number!r}"
            )
        if self.timeout <= timedelta(0):
            raise ConfigurationError(f"{where}: timeout must be positive")
        if self.retry_interval <= timedelta(0):
            raise ConfigurationError(f"{where}: retry_interval must be positive")
        if self.disable_after is not None:
            ms = duration_ms(self.disable_after, f"{where}: disable_after")
            if ms <= 0:
                raise ConfigurationError(f"{where}: disable_after must be positive, or None")
            object.__setattr__(self, "disable_after", timedelta(milliseconds=ms))

    @property
    def has_anomalies(self) -> bool:
        """True when Aggregate's duplicate or drop anomaly is switched on."""
        return bool(self.duplicate_rate or self.drop_rate)

    def check_mode(self, mode: str, whose: str = "its own") -> None:
        """Refuse to run under ``mode`` (``whose`` mode it is) what only Aggregate has."""
        if mode == "sim" and self.has_anomalies:
            raise ConfigurationError(
                f"configuration {self.name!r}: duplicate_rate and drop_rate are anomalies of "
                f"Aggregate, and it runs under SIM ({whose} mode); set mode to 'aggregate' "
                "or leave them at 0"
            )

    def for_mode(self, mode: str) -> Configuration:
        """This configuration with its delivery mode forced to ``mode``.

        What-if runs (``connect-sim run --mode``, ``compare``) and plans built
        under either algorithm use it.  The configuration's own ``mode`` is
        cleared, so the simulation's applies; under SIM, Aggregate's anomaly
        rates are cleared too, since SIM has no such anomalies.
        """
        if mode not in MODES:
            raise ConfigurationError(f"mode must be one of {MODES}, got {mode!r}")
        if mode == "sim":
            return attrs.evolve(self, mode=None, duplicate_rate=0.0, drop_rate=0.0)
        return attrs.evolve(self, mode=None)

    # Integer milliseconds for the delivery algorithms' hot paths.
    @property
    def retry_interval_ms(self) -> int:
        """``retry_interval`` in milliseconds."""
        return duration_ms(self.retry_interval, "retry_interval")

    @property
    def aggregation_window_ms(self) -> int:
        """``aggregation_window`` in milliseconds."""
        return duration_ms(self.aggregation_window, "aggregation_window")

    @property
    def disable_after_ms(self) -> int | None:
        """``disable_after`` in milliseconds, or ``None``."""
        if self.disable_after is None:
            return None
        return duration_ms(self.disable_after, "disable_after")

    @property
    def timeout_ms(self) -> int:
        """``timeout`` in milliseconds."""
        return duration_ms(self.timeout, "timeout")
