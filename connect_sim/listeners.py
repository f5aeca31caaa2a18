"""Listener models: what the customer's endpoint answers to each delivery attempt.

A listener is an immutable description (``Flaky(failure_rate=0.01, seed=7)``);
each run opens a fresh :class:`Session` from it, which holds whatever the
answers depend on (a seeded random generator, a position in a script).  So a
listener object can be reused across simulations and every run starts alike.

A session's :meth:`~Session.respond` gets the attempt and returns
``(status, latency_ms)``: the HTTP status, or ``None`` for no answer at all,
and how long the answer takes.  The delivery queue turns that into success
(2xx within the configuration's timeout) or failure.

:class:`Callable`, :class:`Wsgi` and :class:`Asgi` (from
:mod:`connect_sim.adapters`) are listeners too: they deliver to real code in
this process and use its answer; :class:`Http` (from :mod:`connect_sim.remote`)
posts to a URL over real HTTP.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar, Protocol

import attrs

from .errors import ConfigurationError
from .time import duration, duration_ms

if TYPE_CHECKING:
    from .delivery.records import Attempt

__all__ = ["AlwaysOk", "Asgi", "Callable", "Degraded", "Flaky", "Http", "Listener", "Outage",
           "Scripted", "Session", "Wsgi", "check_listener"]  # fmt: skip

#: An answer: HTTP status (``None`` when the listener never answers) and latency in ms.
Response = tuple[int | None, int]


class Session(Protocol):
    """One run's view of a listener.

    A session of one of connect-sim's listener models also says ``simulated =
    True``: its failures are the scenario's, not a listener's bug (see
    :mod:`connect_sim.testing.diagnosis`).  A session without the attribute
    runs code under test.

    A session whose answers never depend on the attempt may also have an
    ``answer()`` method (defined on its class), taking nothing and returning what ``respond`` would
    (the next answer, in the same order): the queue then asks that, and makes
    no :class:`~connect_sim.Attempt` for it.  :class:`AlwaysOk`, :class:`Flaky`
    and :class:`Scripted` sessions have one; it is what lets a run of a million
    envelopes deliver most messages without making an object for them.
    """

    def respond(self, attempt: Attempt) -> Response:
        """Answer one delivery attempt: ``(status or None, latency in ms)``."""


class Listener(Protocol):
    """Anything that can open a :class:`Session` for a run."""

    def session(self, rng: random.Random) -> Session:
        """A fresh session; ``rng`` is the simulation's, for listeners given no seed."""


def check_listener(value: object, what: str) -> Listener:
    """``value`` if it is a listener (has ``session(rng)``); a ConfigurationError otherwise.

    A listener class given instead of an instance (``AlwaysOk`` for ``AlwaysOk()``)
    is the commonest slip, and is named as such.
    """
    if isinstance(value, type):
        if callable(getattr(value, "session", None)):
            raise ConfigurationError(
                f"{what}: got the class {value.__name__}, not a listener: "
                f"write {value.__name__}(...) to make one"
            )
    elif callable(getattr(value, "session", None)):
        return value  # type: ignore[return-value]  # has session(): a Listener by protocol
    raise ConfigurationError(
        f"{what}: expected a listener such as AlwaysOk() or Callable(fn), got {value!r}"
    )


def _http_status(value: object, what: str, answer: bool = False) -> int | None:
    """An HTTP status from 100 to 599, or ``None`` (no answer at all) unless ``answer``."""
    if value is None and not answer:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
        expected = "an HTTP status from 100 to 599" + ("" if answer else ' or None ("timeout")')
        raise ConfigurationError(f"{what}: expected {expected}, got {value!r}")
    return value


def _status(value: object) -> int | None:
    return _http_status(value, "status")


def _then(value: object) -> int | None:
    return _http_status(value, "then")


def _ok_status(value: object) -> int:
    # The answer outside an outage: "no answer" there would make it an outage for ever.
    status = _http_status(value, "ok_status", answer=True)
    assert status is not None
    return status


def _latency(value: timedelta | str) -> timedelta:
    return duration(value, "latency")


def _windows(value: object) -> tuple[tuple[timedelta, timedelta], ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ConfigurationError(f"outage windows: expected a list of (start, end), got {value!r}")
    windows = []
    for window in value:
        if not isinstance(window, Sequence) or isinstance(window, str) or len(window) != 2:
            raise ConfigurationError(f"outage window: expected (start, end), got {window!r}")
        start = duration_ms(window[0], "outage window start")
        end = duration_ms(window[1], "outage window end")
        if end <= start:
            raise ConfigurationError(
                f"outage window {window!r}: the end must come after the start"
            )
        windows.append((timedelta(milliseconds=start), timedelta(milliseconds=end)))
    return tuple(windows)


class _Fixed:
    """A session whose answer never changes."""

    __slots__ = ("response",)
    simulated: ClassVar[bool] = True  # a model: its failures are the scenario's

    def __init__(self, response: Response) -> None:
        self.response = response

    def respond(self, attempt: Attempt) -> Response:
        return self.response

    def answer(self) -> Response:
        """The answer, which does not depend on the attempt (see :class:`Session`)."""
        return self.response


@attrs.frozen
class AlwaysOk:
    """Answers every attempt with ``status`` (200) after ``latency`` (none)."""

    status: int = attrs.field(default=200, converter=_status)
    latency: timedelta = attrs.field(default=timedelta(0), converter=_latency)

    def session(self, rng: random.Random) -> Session:
        """A fresh session for one run."""
        return _Fixed((self.status, duration_ms(self.latency, "latency")))


@attrs.frozen
class Outage:
    """Down during the given windows, fine otherwise.

    Every attempt that *starts* inside a window ``[start, end)`` (offsets from
    the scenario start) gets ``status`` (503), or no answer at all when
    ``status`` is ``None`` (the attempt then times out).  Outside the windows it
    answers ``ok_status`` (200).
    """

    windows: tuple[tuple[timedelta, timedelta], ...] = attrs.field(converter=_windows)
    status: int | None = attrs.field(default=503, converter=_status)
    ok_status: int = attrs.field(default=200, converter=_ok_status)
    latency: timedelta = attrs.field(default=timedelta(0), converter=_latency)

    def session(self, rng: random.Random) -> Session:
        """A fresh session for one run."""
        return _OutageSession(self)


class _OutageSession:
    __slots__ = ("down", "latency", "ok", "windows")
    simulated: ClassVar[bool] = True  # a model: its failures are the scenario's

    def __init__(self, spec: Outage) -> None:
        self.windows = [(duration_ms(a, "start"), duration_ms(b, "end")) for a, b in spec.windows]
        self.down = spec.status
        self.ok = spec.ok_status
        self.latency = duration_ms(spec.latency, "latency")

    def respond(self, attempt: Attempt) -> Response:
        time = attempt.time
        for start, end in self.windows:
            if start <= time < end:
                return (self.down, self.latency)
        return (self.ok, self.latency)


@attrs.frozen
class Flaky:
    """Fails each attempt with probability ``failure_rate``, independently, seeded.

    A failure answers ``status`` (500), or nothing when ``status`` is ``None``.
    Without a ``seed`` the draws come from the simulation's own seeded generator.
    """

    failure_rate: float = attrs.field()
    seed: int | None = attrs.field(default=None)
    status: int | None = attrs.field(default=500, converter=_status)
    latency: timedelta = attrs.field(default=timedelta(0), converter=_latency)

    @failure_rate.validator
    def _check_rate(self, attribute: attrs.Attribute[float], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ConfigurationError(
                f"failure_rate: expected a probability from 0 to 1, got {value!r}"
            )

    @seed.validator
    def _check_seed(self, attribute: attrs.Attribute[int | None], value: object) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigurationError(f"seed: expected a whole number or None, got {value!r}")

    def session(self, rng: random.Random) -> Session:
        """A fresh session for one run: its own generator, or the simulation's ``rng``."""
        own = rng if self.seed is None else random.Random(self.seed)
        return _FlakySession(self, own)


class _FlakySession:
    __slots__ = ("latency", "rate", "rng", "status")
    simulated: ClassVar[bool] = True  # a model: its failures are the scenario's

    def __init__(self, spec: Flaky, rng: random.Random) -> None:
        self.rate = spec.failure_rate
        self.status = spec.status
        self.latency = duration_ms(spec.latency, "latency")
        self.rng = rng

    def respond(self, attempt: Attempt) -> Response:
        return self.answer()

    def answer(self) -> Response:
        """The next answer, which does not depend on the attempt (see :class:`Session`)."""
        if self.rng.random() < self.rate:
            return (self.status, self.latency)
        return (200, self.latency)


def _responses(value: object) -> tuple[int | None, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ConfigurationError(f"scripted responses: expected a list of statuses, got {value!r}")
    return tuple(
        _http_status(v, f"scripted response {number}") for number, v in enumerate(value, start=1)
    )


@attrs.frozen
class Scripted:
    """Answers the run's attempts in turn with ``responses``, then ``then`` (200) forever.

    ``None`` in the list means no answer (the attempt times out).

    >>> Scripted([503, None, 200])
    Scripted(responses=(503, None, 200), then=200, latency=datetime.timedelta(0))
    """

    responses: tuple[int | None, ...] = attrs.field(converter=_responses)
    then: int | None = attrs.field(default=200, converter=_then)
    latency: timedelta = attrs.field(default=timedelta(0), converter=_latency)

    def session(self, rng: random.Random) -> Session:
        """A fresh session for one run, at the start of the script."""
        return _ScriptedSession(self)


class _ScriptedSession:
    __slots__ = ("latency", "next", "responses", "then")
    simulated: ClassVar[bool] = True  # a model: its failures are the scenario's

    def __init__(self, spec: Scripted) -> None:
        self.responses = spec.responses
        self.then = spec.then
        self.latency = duration_ms(spec.latency, "latency")
        self.next = 0

    def respond(self, attempt: Attempt) -> Response:
        return self.answer()

    def answer(self) -> Response:
        """The next answer, which does not depend on the attempt (see :class:`Session`)."""
        index = self.next
        self.next = index + 1
        status = self.responses[index] if index < len(self.responses) else self.then
        return (status, self.latency)


# The in-process adapters are listeners like the models above; they live in their own
# module (they run the user's code) and are offered here, where listeners are looked for.
from .adapters import Asgi, Callable, Degraded, Wsgi  # noqa: E402
from .remote import Http  # noqa: E402  (a listener at a URL, over real HTTP)
