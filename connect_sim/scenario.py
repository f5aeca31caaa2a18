"""Scenario files: a TOML description of an account, its envelopes and a timeline.

:func:`load_scenario` reads a file and its ``[simulation]`` table into a
:class:`Scenario`; :meth:`Scenario.build` checks the rest while it makes a fresh
:class:`~connect_sim.Simulation`, as often as needed (``compare`` builds one per
delivery mode).  Nothing is built twice just to check it.  Every problem is a
:class:`~connect_sim.ScenarioError` whose one-line message names the file, the
place (``configuration 'listener'``, ``action 3``) and what is wrong.  The
format is documented in ``docs/scenario-format.md``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final

from . import listeners
from .account import Account
from .configuration import MODES, Configuration
from .envelope import (
    Agent,
    CarbonCopy,
    CertifiedDelivery,
    Document,
    Editor,
    InPersonSigner,
    Intermediary,
    Recipient,
    Signer,
)
from .errors import ConnectSimError, ScenarioError
from .lifecycle import ACTIONS
from .simulation import Simulation
from .time import (
    DEFAULT_START,
    MAX_DURATION_MS,
    check_start,
    format_duration,
    parse_duration,
    parse_instant,
)
from .toml_values import show

__all__ = ["RECIPIENT_TYPES", "Scenario", "load_scenario", "parse_scenario"]

#: Recipient ``type`` values in scenario files.
RECIPIENT_TYPES: Mapping[str, type[Recipient]] = {
    "signer": Signer,
    "carbon_copy": CarbonCopy,
    "certified_delivery": CertifiedDelivery,
    "in_person_signer": InPersonSigner,
    "agent": Agent,
    "editor": Editor,
    "intermediary": Intermediary,
}

_TOP = {"simulation", "account", "configuration", "envelope", "action"}
_SIMULATION = {"start", "seed", "mode"}
_ACCOUNT = {"account_id", "user_id", "user_name", "email", "name", "number", "site",
            "time_zone", "utc_offset"}  # fmt: skip
_CONFIGURATION = {
    "name", "events", "envelope_events", "recipient_events", "format",
    "require_acknowledgement", "mode", "envelope", "listener", "retry_interval",
    "max_retries", "aggregation_window", "timeout", "duplicate_rate", "drop_rate",
    "include_data", "hmac_keys", "username", "password", "configuration_id",
    "include_envelope_summary", "include_certificate_of_completion",
    "include_sender_account_as_custom_field", "disable_after",
}  # fmt: skip
_DURATIONS = {"retry_interval", "aggregation_window", "timeout", "disable_after"}
_ENVELOPE = {"id", "subject", "created", "recipients", "custom_fields", "documents"}
_DOCUMENT = {"id", "name", "content"}
_RECIPIENT = {"id", "type", "name", "email", "routing_order", "client_user_id"}
_ACTION = {"at", "envelope", "do", "recipient", "reason", "configuration", "all", "failure_id",
           "synchronous", "content", "mode"}  # fmt: skip
#: The keys each administrative action takes, beside ``do`` and ``at``.
_OPERATION_KEYS: Final = {
    "pause": {"configuration"},
    "resume": {"configuration"},
    "enable": {"configuration"},
    "delete_failure": {"configuration", "envelope", "all", "failure_id"},
    "republish": {"envelope", "synchronous", "content"},
    "set_mode": {"mode"},
}
# kind -> (model, allowed keys, required keys)
_LISTENERS: Mapping[str, tuple[Callable[..., Any], set[str], tuple[str, ...]]] = {
    "always_ok": (listeners.AlwaysOk, {"status", "latency"}, ()),
    "outage": (listeners.Outage, {"windows", "status", "ok_status", "latency"}, ("windows",)),
    "flaky": (listeners.Flaky, {"failure_rate", "seed", "status", "latency"}, ("failure_rate",)),
    "scripted": (listeners.Scripted, {"responses", "then", "latency"}, ("responses",)),
    "http": (
        listeners.Http,
        {"url", "timeout", "ca_bundle", "client_cert", "client_key", "max_response_bytes"},
        ("url",),
    ),
}


class _Place:
    """Where in the file we are, for error messages."""

    def __init__(self, path: str) -> None:
        self.path = path

    def error(self, where: str, problem: str) -> ScenarioError:
        return ScenarioError(f"{self.path}: {where}: {problem}")

    def wrap(self, where: str, error: ConnectSimError) -> ScenarioError:
        """The library's error as a scenario error at ``where``, never placed twice."""
        if isinstance(error, ScenarioError):
            return error
        message = str(error)
        if message.startswith(f"{where}: "):  # the message names the place already
            return ScenarioError(f"{self.path}: {message}")
        return self.error(where, message)


def _table(place: _Place, where: str, value: object, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise place.error(where, f"expected a table, got {show(value)}")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise place.error(
            where, f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
        )
    for key, item in value.items():
        if key not in _TIME_KEYS and _holds_time(item):
            raise place.error(where, f"{key}: a TOML date or time is not a value here, "
                                     f"got {show(item, key)}")  # fmt: skip
    return value


#: Keys whose values may be TOML date-times (instants); no other key takes one.
_TIME_KEYS: Final = frozenset({"start", "created", "at", "windows"})


def _holds_time(value: object, depth: int = 0) -> bool:
    if isinstance(value, datetime | date | time):
        return True
    if depth < 8 and isinstance(value, list):
        return any(_holds_time(item, depth + 1) for item in value)
    return False


def _list_of_tables(place: _Place, data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise place.error(key, f"use [[{key}]] tables, one per {key}")
    return value


def _entries(
    place: _Place, where: str, table: dict[str, Any], key: str, noun: str, allowed: set[str]
) -> list[tuple[str, dict[str, Any]]]:
    """The tables in ``table[key]``, each with its place (``envelope 'e1' recipient 2``)."""
    items = table.get(key, [])
    if not isinstance(items, list):
        raise place.error(where, f"{key} must be a list of tables")
    entries = []
    for number, item in enumerate(items, start=1):
        spot = f"{where} {noun} {number}"
        entries.append((spot, _table(place, spot, item, allowed)))
    return entries


def _text(
    place: _Place, where: str, table: dict[str, Any], key: str, required: bool = True
) -> Any:
    if key not in table:
        if required:
            raise place.error(where, f"missing key {key!r}")
        return None
    value = table[key]
    if not isinstance(value, str) or not value.strip():
        raise place.error(where, f"{key} must be non-empty text, got {show(value)}")
    return value


def _when(place: _Place, where: str, value: object, start: datetime) -> timedelta:
    """An offset (``"2m20s"``) or an ISO time (text or a TOML date-time) -> offset from start."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise place.error(where, f"give the time {value.isoformat()} a zone, such as Z")
        moment = value
    elif isinstance(value, str):
        try:
            if "T" in value:
                moment = parse_instant(value)
            else:
                return timedelta(milliseconds=parse_duration(value))
        except ConnectSimError as error:
            raise place.wrap(where, error) from None
    else:
        raise place.error(
            where, f"expected an offset like '2m20s' or an ISO time, got {show(value)}"
        )
    offset = moment - start
    if offset < timedelta(0):
        raise place.error(where, f"{moment.isoformat()} is before the simulation start")
    if offset > timedelta(milliseconds=MAX_DURATION_MS):
        raise place.error(
            where,
            f"{moment.isoformat()} is more than {format_duration(MAX_DURATION_MS)} "
            "(about a century) after the simulation start",
        )
    return offset


class Scenario:
    """A scenario file read and its settings checked, ready to build simulations from."""

    def __init__(self, path: str, data: dict[str, Any]) -> None:
        self.path = path
        self._data = data
        self._built_once = False  # build(once=True) let go of the tables
        place = _Place(path)
        _table(place, "top level", data, _TOP)
        settings = _table(place, "[simulation]", data.get("simulation", {}), _SIMULATION)
        self.seed = settings.get("seed", 0)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise place.error(
                "[simulation]", f"seed must be a whole number, got {show(self.seed)}"
            )
        self.mode = settings.get("mode", "sim")
        if self.mode not in MODES:
            raise place.error(
                "[simulation]", f"mode must be one of {MODES}, got {show(self.mode)}"
            )
        start = settings.get("start", DEFAULT_START)
        if not isinstance(start, str | datetime):
            raise place.error(
                "[simulation] start", f"expected an ISO time with a zone, got {show(start)}"
            )
        where = "[simulation] start"
        try:
            self.start = check_start(
                parse_instant(start) if isinstance(start, str) else start, where
            )
        except ConnectSimError as error:
            raise place.wrap(where, error) from None
        account = _table(place, "[account]", data.get("account", {}), _ACCOUNT)
        try:
            self.account = Account(**account)
        except ConnectSimError as error:
            raise place.wrap("[account]", error) from None

    def build(
        self,
        mode: str | None = None,
        seed: int | None = None,
        *,
        listener: listeners.Listener | None = None,
        hmac_key: str | None = None,
        once: bool = False,
    ) -> Simulation:
        """A fresh simulation of the scenario; a problem in the file raises ScenarioError.

        ``mode`` forces every configuration to one delivery algorithm for the
        whole run (what-if runs and ``compare``), so the file's ``set_mode``
        actions are checked and left out; ``seed`` replaces the file's seed.
        ``listener`` replaces every configuration's (``connect-sim forward``
        posts to one URL), and ``hmac_key`` signs with that key every
        configuration that names no ``hmac_keys`` of its own.

        ``once`` lets go of each envelope's and action's table as soon as it is
        built, so that a large file's tables (about 1.3 KB an envelope) do not
        stay alive beside the simulation made of them; the scenario cannot be
        built again (a :class:`~connect_sim.errors.ScenarioError` says so).
        ``connect-sim run`` and ``forward`` build once.
        """
        place = _Place(self.path)
        if self._built_once:
            raise ScenarioError(
                f"{self.path}: built once already (build(once=True) let go of its tables); "
                "load the file again to build it again"
            )
        self._built_once = once
        data = self._data
        if mode is not None and mode not in MODES:
            raise ScenarioError(f"mode must be one of {MODES}, got {mode!r}")
        sim = Simulation(
            mode=mode or self.mode, seed=self.seed if seed is None else seed, start=self.start,
            account=self.account,
        )  # fmt: skip
        envelopes = _list_of_tables(place, data, "envelope")
        configurations = _list_of_tables(place, data, "configuration")
        for key, tables, missing in (
            ("envelope", envelopes, "nothing would happen"),
            ("configuration", configurations, "nothing would be delivered"),
        ):
            if not tables:
                raise place.error("top level", f"no [[{key}]]: {missing}")
        for number, raw in enumerate(envelopes, start=1):
            if once:
                envelopes[number - 1] = None  # the list lets go; raw is the last holder
            self._envelope(place, sim, number, raw)
        for number, raw in enumerate(configurations, start=1):
            self._configuration(place, sim, number, raw, forced=mode is not None,
                                listener=listener, hmac_key=hmac_key)  # fmt: skip
        actions = _list_of_tables(place, data, "action")
        for number, raw in enumerate(actions, start=1):
            if once:
                actions[number - 1] = None
            self._action(place, sim, number, raw, forced=mode is not None)
        return sim

    def _envelope(self, place: _Place, sim: Simulation, number: int, raw: object) -> None:
        where = _named(f"envelope {number}", "envelope", raw, "id")
        table = _table(place, where, raw, _ENVELOPE)
        envelope_id = _text(place, where, table, "id")
        subject = table.get("subject", "")
        if not isinstance(subject, str):
            raise place.error(where, f"subject must be text, got {show(subject)}")
        created = _when(place, f"{where} created", table.get("created", "0"), self.start)
        recipients = []
        for spot, entry in _entries(place, where, table, "recipients", "recipient", _RECIPIENT):
            kind = _text(place, spot, entry, "type")
            if kind not in RECIPIENT_TYPES:
                raise place.error(
                    spot, f"unknown type {show(kind)} (types: {', '.join(RECIPIENT_TYPES)})"
                )
            try:
                recipients.append(
                    RECIPIENT_TYPES[kind](
                        name=entry.get("name", ""),
                        email=entry.get("email", ""),
                        routing_order=entry.get("routing_order", 1),
                        recipient_id=_text(place, spot, entry, "id", required=False),
                        client_user_id=entry.get("client_user_id"),
                    )
                )
            except ConnectSimError as error:
                raise place.wrap(spot, error) from None
        fields = table.get("custom_fields", {})
        if not isinstance(fields, dict):
            raise place.error(where, 'custom_fields must be a table, such as { Region = "EMEA" }')
        documents = []
        for spot, entry in _entries(place, where, table, "documents", "document", _DOCUMENT):
            try:
                documents.append(
                    Document(
                        name=_text(place, spot, entry, "name"),
                        content=entry.get("content", ""),
                        document_id=_text(place, spot, entry, "id", required=False),
                    )
                )
            except ConnectSimError as error:
                raise place.wrap(spot, error) from None
        try:
            sim.create_envelope(
                subject, recipients, id=envelope_id, at=created, custom_fields=fields,
                documents=documents,
            )  # fmt: skip
        except ConnectSimError as error:
            raise place.wrap(where, error) from None

    def _configuration(
        self, place: _Place, sim: Simulation, number: int, raw: object, forced: bool,
        listener: listeners.Listener | None = None, hmac_key: str | None = None,
    ) -> None:  # fmt: skip
        where = _named(f"configuration {number}", "configuration", raw, "name")
        table = _table(place, where, raw, _CONFIGURATION)
        _text(place, where, table, "name")
        options = {k: v for k, v in table.items() if k not in ("envelope", "listener")}
        if hmac_key is not None and not options.get("hmac_keys"):
            options["hmac_keys"] = [hmac_key]
        for key in _DURATIONS & set(options):
            if not isinstance(options[key], str):
                raise place.error(
                    where, f"{key} must be a duration like '24h', got {show(options[key])}"
                )
        envelope = None
        try:
            if "envelope" in table:
                envelope = sim.envelope(_text(place, where, table, "envelope"))
            own = self._listener(place, f"{where} listener", table.get("listener"))
            if listener is None:
                listener = own
        except ConnectSimError as error:
            raise place.wrap(where, error) from None
        try:
            configuration = Configuration(**options)
            if forced:
                configuration = configuration.for_mode(sim.mode)
            sim.add_configuration(configuration, listener=listener, envelope=envelope)
        except ConnectSimError as error:
            raise place.wrap(where, error) from None

    def _listener(self, place: _Place, where: str, raw: object) -> listeners.Listener | None:
        if raw is None:
            return None
        if not isinstance(raw, dict) or "kind" not in raw:
            raise place.error(
                where, 'expected a table with a kind, such as { kind = "always_ok" }'
            )
        kind = raw["kind"]
        if not isinstance(kind, str) or kind not in _LISTENERS:
            raise place.error(where, f"unknown kind {show(kind)} (kinds: {', '.join(_LISTENERS)})")
        factory, allowed, required = _LISTENERS[kind]
        options = _table(place, where, {k: v for k, v in raw.items() if k != "kind"}, allowed)
        for key in required:
            if key not in options:
                raise place.error(where, f"missing key {key!r} for kind {kind!r}")
        options = {key: _no_answer(value) if key in _MAY_NOT_ANSWER else value
                   for key, value in options.items()}  # fmt: skip
        if "windows" in options:
            windows = options["windows"]
            if not isinstance(windows, list):
                raise place.error(
                    where, f"windows must be a list of [start, end], got {show(windows)}"
                )
            options["windows"] = [self._window(place, where, window) for window in windows]
        return factory(**options)  # type: ignore[no-any-return]

    def _window(self, place: _Place, where: str, window: object) -> tuple[timedelta, timedelta]:
        """An outage window ``[start, end]`` of offsets or ISO times, checked as written."""
        if not isinstance(window, list) or len(window) != 2:
            raise place.error(where, f"an outage window is [start, end], got {show(window)}")
        begin, end = (_when(place, where, point, self.start) for point in window)
        if end <= begin:
            raise place.error(
                where, f"outage window {show(window)}: the end must come after the start"
            )
        return begin, end

    def _action(
        self, place: _Place, sim: Simulation, number: int, raw: object, forced: bool
    ) -> None:
        where = f"action {number}"
        table = _table(place, where, raw, _ACTION)
        kind = _text(place, where, table, "do")
        if "at" not in table:
            raise place.error(where, "missing key 'at'")
        at = _when(place, f"{where} at", table["at"], self.start)
        if kind in _OPERATION_KEYS:
            self._operation(place, sim, where, kind, table, at, forced)
            return
        envelope_actions = [a for a in ACTIONS if a != "resend_recipient"]
        if kind not in envelope_actions:  # before any key is checked: the name is the mistake
            raise place.error(
                where, f"unknown action {kind!r}; expected one of "
                f"{', '.join(envelope_actions)} (envelope actions) or "
                f"{', '.join(_OPERATION_KEYS)} (administrative actions)",
            )  # fmt: skip
        for key in ("configuration", "all", "failure_id", "synchronous", "content", "mode"):
            if key in table:
                raise place.error(where, f"{key!r} is for administrative actions, not {kind!r}")
        try:
            envelope = sim.envelope(_text(place, where, table, "envelope"))
            sim.act(
                kind, envelope, _text(place, where, table, "recipient", required=False), at=at,
                reason=_text(place, where, table, "reason", required=False),
                source=f"{self.path}: {where}",
            )  # fmt: skip
        except ConnectSimError as error:
            raise place.wrap(where, error) from None

    def _operation(
        self, place: _Place, sim: Simulation, where: str, kind: str, table: dict[str, Any],
        at: timedelta, forced: bool,
    ) -> None:  # fmt: skip
        allowed = _OPERATION_KEYS[kind]
        for key in sorted(set(table) - allowed - {"do", "at"}):
            keys = ", ".join(repr(k) for k in sorted(allowed))
            raise place.error(where, f"{kind} takes {keys}, not {key!r}")
        source = f"{self.path}: {where}"
        try:
            if kind == "set_mode":
                mode = _text(place, where, table, "mode")
                if forced:  # the forced mode holds for the whole run
                    if mode not in MODES:
                        raise place.error(  # the words set_mode itself would use
                            where,
                            f"set_mode: mode must be one of {', '.join(MODES)}, got {mode!r}",
                        )
                    return
                sim.set_mode(mode, at=at, source=source)
                return
            if kind == "republish":
                synchronous = table.get("synchronous", False)
                if not isinstance(synchronous, bool):
                    raise place.error(
                        where, f"synchronous must be true or false, got {show(synchronous)}"
                    )
                named = table.get("envelope")
                if (
                    isinstance(named, list)
                    and named
                    and all(isinstance(item, str) and item.strip() for item in named)
                ):  # several envelopes at once, as the console allows
                    envelopes: str | list[str] = named
                else:
                    envelopes = _text(place, where, table, "envelope")
                sim.republish(
                    envelopes, at=at, synchronous=synchronous,
                    content=table.get("content", "current"), source=source,
                )  # fmt: skip
                return
            if kind == "delete_failure":
                everything = table.get("all", False)
                if not isinstance(everything, bool):
                    raise place.error(where, f"all must be true or false, got {show(everything)}")
                sim.delete_failure(
                    _text(place, where, table, "configuration", required=False),
                    _text(place, where, table, "envelope", required=False), at=at,
                    failure_id=_text(place, where, table, "failure_id", required=False),
                    all=everything, source=source,
                )  # fmt: skip
                return
            name = _text(place, where, table, "configuration")
            act = {"pause": sim.pause, "resume": sim.resume, "enable": sim.enable}[kind]
            act(name, at=at, source=source)
        except ConnectSimError as error:
            if isinstance(error, ScenarioError):
                raise
            raise place.wrap(where, error) from None


def _named(fallback: str, noun: str, raw: object, key: str) -> str:
    """``configuration 'listener'`` when the table names itself, else ``configuration 2``."""
    if isinstance(raw, dict) and isinstance(raw.get(key), str) and raw[key].strip():
        return f"{noun} {raw[key]!r}"
    return fallback


#: Listener keys where ``"timeout"`` (no answer at all) is a possible value.
_MAY_NOT_ANSWER: Final = frozenset({"status", "responses", "then"})


def _no_answer(value: object) -> object:
    """TOML has no null: ``"timeout"`` stands for "no answer" in statuses and scripts."""
    if value == "timeout":
        return None
    if isinstance(value, list):
        return [None if item == "timeout" else item for item in value]
    return value


def _share_texts(data: dict[str, Any], memo: dict[str, str]) -> None:
    """Make every repeated text of ``data`` one object, in place (keys and values).

    The parser makes a new string for every key and value it reads, so a file
    of 200,000 envelopes and 600,000 actions held about 800 MB, most of it the
    same few keys (``at``, ``envelope``, ``do``) and values (``"sign"``, a
    recipient's name) again and again.  ``memo`` holds the texts seen so far;
    the tables stay the same objects, in the same order (a walk with a stack,
    so no nesting the parser accepts is too deep for it).
    """
    share = memo.setdefault
    stack: list[dict[str, Any] | list[Any]] = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            items = [(share(key, key), share(item, item) if type(item) is str else item)
                     for key, item in value.items()]  # fmt: skip
            value.clear()
            value.update(items)
            stack.extend(item for _, item in items if isinstance(item, dict | list))
        else:
            for index, item in enumerate(value):
                if type(item) is str:
                    value[index] = share(item, item)
                elif isinstance(item, dict | list):
                    stack.append(item)


# A top-level [[envelope]] or [[action]] header, alone on its line: where _read cuts,
# into pieces of at most _PIECE such tables (fewer calls of the parser, little held).
_PIECE: Final = 256
_CUT: Final = re.compile(r"^\[\[(envelope|action)\]\][ \t]*(?:#[^\n]*)?\r?$", re.MULTILINE)


def _read(text: str) -> dict[str, Any]:
    """The TOML document ``text``, as ``tomllib.loads`` reads it, read piece by piece.

    Theory of operation: a large scenario file is mostly ``[[envelope]]`` and
    ``[[action]]`` tables, and parsing it whole holds every table's strings at
    once (947 MB at the peak for a 100 MB file) before any could be shared.
    So the text is cut before such header lines (every :data:`_PIECE` of
    them, and where the key changes), and each piece is parsed alone and its
    texts shared (:func:`_share_texts`) before the next is read: the peak is
    what the shared tables hold (440 MB for that file).  The pieces give the
    whole document's tables exactly when every piece parses, each piece
    after the first holds only the array its headers add to (one key, a
    list: a ``[envelope.x]`` or ``[[envelope.recipients]]`` inside it belongs
    to its last table, as in the whole file), and the first piece does not
    hold that key (a static ``action = [...]`` or an ``[action]`` table there
    makes the whole file an error).  A cut inside a multi-line string leaves
    that string unclosed in its piece, which fails to parse.  Whenever a
    rule does not hold, the whole text is parsed instead, so a file the
    pieces cannot read gives tomllib's own result or error, with its line
    numbers.
    """
    # Where each piece begins, and its key: up to _PIECE headers of one key in a row.
    cuts: list[tuple[int, str]] = []
    count = 0
    for match in _CUT.finditer(text):
        key = match.group(1)
        if not cuts or cuts[-1][1] != key or count == _PIECE:
            cuts.append((match.start(), key))
            count = 0
        count += 1
    memo: dict[str, str] = {}
    if cuts:
        try:
            data = tomllib.loads(text[: cuts[0][0]])
            _share_texts(data, memo)
            first = set(data)
            ends = [begin for begin, _ in cuts[1:]] + [len(text)]
            for (begin, key), end in zip(cuts, ends, strict=True):
                if key in first:  # before the piece is parsed: the whole file is wrong first
                    raise ValueError("the key is the first piece's")
                piece = tomllib.loads(text[begin:end])
                tables = piece.get(key)
                if len(piece) != 1 or not isinstance(tables, list):
                    raise ValueError("not a piece of the array it starts")
                _share_texts(piece, memo)
                data.setdefault(key, []).extend(tables)
            return data
        except (tomllib.TOMLDecodeError, ValueError, RecursionError):
            memo.clear()  # and read it whole, for tomllib's own answer (or error)
    data = tomllib.loads(text)
    _share_texts(data, memo)
    return data


def parse_scenario(text: str, path: str = "<scenario>") -> Scenario:
    """Check a scenario given as TOML text."""
    try:
        data = _read(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{path}: TOML syntax error: {error}") from None
    except RecursionError:  # arrays or tables nested thousands deep
        raise ScenarioError(f"{path}: TOML nested too deeply to read") from None
    return Scenario(path, data)


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario file (call :meth:`Scenario.build` to check and use the rest)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{path}: cannot read the file: {error}") from None
    return parse_scenario(text, str(path))
