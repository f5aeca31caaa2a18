"""In-process listeners: deliver each attempt to real code and let its answer decide.

Theory of operation
-------------------
The listener models of :mod:`connect_sim.listeners` decide answers by rule.
The adapters here hand each attempt's exact body and headers (those of
:attr:`Attempt.body <connect_sim.Attempt.body>`) to the user's own code and
use what it answers: a :class:`Callable` calls a function, a :class:`Wsgi`
posts to a WSGI application (Flask, Django, ...) and an :class:`Asgi` to an
ASGI application (Starlette, FastAPI, ...), all in this process, with no
network.  A 2xx is a success; anything else, an exception included, is a
failure that the delivery algorithm retries like any other.  An exception
counts as a 500, and its traceback is kept in :attr:`Attempt.error
<connect_sim.Attempt.error>`, so that a test can show it.

The code runs while the simulation runs, in simulated time: it answers at
once unless a ``latency`` is given.  Each run opens a fresh session, but the
application or function is the caller's own object, so its state (a
database, a dict) carries over between runs unless the caller resets it.
"""

from __future__ import annotations

import asyncio
import io
import random
import sys
import traceback
from collections.abc import Callable as CallableType
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from .errors import ConfigurationError

# listeners is always loaded first (it imports this module)
from .listeners import _latency, check_listener
from .time import duration_ms

if TYPE_CHECKING:
    from .delivery.records import Attempt
    from .listeners import Response, Session

__all__ = ["Asgi", "Callable", "Degraded", "Wsgi"]

#: A function a :class:`Callable` listener calls: body and headers in, HTTP status out.
Handler = CallableType[[bytes, Mapping[str, str]], int]


def _path(value: object) -> str:
    if not isinstance(value, str) or not value.startswith("/"):
        raise ConfigurationError(f"path: expected a path starting with '/', got {value!r}")
    return value


def _callable(value: object) -> Any:
    if not callable(value):
        raise ConfigurationError(f"expected something callable, got {value!r}")
    return value


def _failed(attempt: Attempt, latency: int) -> Response:
    """A 500 for an exception in the user's code, its traceback kept in the attempt."""
    attempt.error = traceback.format_exc()
    return (500, latency)


def _status_of(value: object, attempt: Attempt, latency: int, what: str) -> Response:
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
        attempt.error = f"{what} returned {value!r}, not an HTTP status from 100 to 599"
        return (500, latency)
    return (value, latency)


@attrs.frozen
class Callable:
    """Calls ``fn(body, headers)`` for every attempt; its return value is the HTTP status.

    ``fn`` gets the exact body bytes and the request headers.  An exception
    counts as a 500 (the traceback goes to ``attempt.error``), and so does a
    return value that is not a status from 100 to 599.

    >>> import connect_sim as cs
    >>> seen = []
    >>> def handler(body, headers):
    ...     seen.append(cs.parse_message(body, headers["Content-Type"]).event)
    ...     return 200
    >>> sim = cs.Simulation()
    >>> sim.add_configuration(cs.Configuration(name="c"), listener=Callable(handler))
    >>> sim.send(sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com")]))
    >>> _ = sim.run()
    >>> seen
    ['recipient-sent', 'envelope-sent']
    """

    fn: Handler = attrs.field(converter=_callable)
    latency: timedelta = attrs.field(default=timedelta(0), converter=_latency)

    def session(self, rng: random.Random) -> Session:
        """A fresh session for one run (the function itself is shared)."""
        return _CallableSession(self.fn, duration_ms(self.latency, "latency"))


class _CallableSession:
    __slots__ = ("fn", "latency")
    simulated: ClassVar[bool] = False  # the user's code answers

    def __init__(self, fn: Handler, latency: int) -> None:
        self.fn = fn
        self.latency = latency

    def respond(self, attempt: Attempt) -> Response:
        try:
            status = self.fn(attempt.body, attempt.headers)
        except Exception:
            return _failed(attempt, self.latency)
        return _status_of(status, attempt, self.latency, "the listener function")


def _header_key(name: str) -> str:
    """``X-DocuSign-AccountId`` -> ``HTTP_X_DOCUSIGN_ACCOUNTID``, as WSGI names headers."""
    return "HTTP_" + name.upper().replace("-", "_")


@attrs.frozen
class _Application:
    """An application served in process: the app, the path it is posted to, a latency."""

    app: Any = attrs.field(converter=_callable)
    path: str = attrs.field(default="/connect", converter=_path)
    latency: timedelta = attrs.field(default=timedelta(0), converter=_latency)

    _opens: ClassVar[type[_AppSession]]

    def session(self, rng: random.Random) -> Session:
        """A fresh session for one run (the application itself is shared)."""
        return self._opens(self.app, self.path, duration_ms(self.latency, "latency"))


class _AppSession:
    __slots__ = ("app", "latency", "path")
    simulated: ClassVar[bool] = False  # the user's application answers

    def __init__(self, app: Any, path: str, latency: int) -> None:
        self.app = app
        self.path = path
        self.latency = latency

    def respond(self, attempt: Attempt) -> Response:
        raise NotImplementedError


class _WsgiSession(_AppSession):
    __slots__ = ()

    def environ(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": "POST",
            "SCRIPT_NAME": "",
            "PATH_INFO": self.path,
            "QUERY_STRING": "",
            "SERVER_NAME": "listener.example",
            "SERVER_PORT": "443",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_HOST": "listener.example",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in headers.items():
            if name.lower() == "content-type":
                environ["CONTENT_TYPE"] = value
            else:
                environ[_header_key(name)] = value
        return environ

    def respond(self, attempt: Attempt) -> Response:
        statuses: list[str] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            statuses.append(status)
            return lambda data: None  # the legacy write() callable; its output is ignored

        try:
            result: Iterable[bytes] = self.app(
                self.environ(attempt.body, attempt.headers), start_response
            )
            try:
                for _ in result:  # a server sends the body; here it is read and dropped
                    pass
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:
            return _failed(attempt, self.latency)
        if not statuses:
            attempt.error = "the WSGI application never called start_response"
            return (500, self.latency)
        code = statuses[-1].split(" ", 1)[0]
        return _status_of(
            int(code) if code.isdigit() else code, attempt, self.latency, "start_response"
        )


class _AsgiSession(_AppSession):
    __slots__ = ()

    def scope(self, headers: Mapping[str, str]) -> dict[str, Any]:
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "https",
            "path": self.path,
            "raw_path": self.path.encode("ascii", "replace"),
            "query_string": b"",
            "root_path": "",
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1"))
                        for k, v in headers.items()] + [(b"host", b"listener.example")],
            "client": ("127.0.0.1", 0),
            "server": ("listener.example", 443),
        }  # fmt: skip

    async def call(self, body: bytes, headers: Mapping[str, str]) -> list[int]:
        sent = False
        statuses: list[int] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message.get("type") == "http.response.start":
                statuses.append(message["status"])

        await self.app(self.scope(headers), receive, send)
        return statuses

    def respond(self, attempt: Attempt) -> Response:
        try:
            statuses = asyncio.run(self.call(attempt.body, attempt.headers))
        except Exception:
            return _failed(attempt, self.latency)
        if not statuses:
            attempt.error = "the ASGI application sent no http.response.start"
            return (500, self.latency)
        return _status_of(statuses[0], attempt, self.latency, "the ASGI application")


@attrs.frozen
class Wsgi(_Application):
    """Posts every attempt to a WSGI application, in process; its status decides.

    The request is ``POST path`` over ``https`` to host ``listener.example``,
    with the attempt's body and headers (PEP 3333 environ, ``wsgi.input``
    holding the body).  The response body is read and closed, as a server
    would.  A Flask or Django application works unchanged.
    """

    _opens = _WsgiSession


@attrs.frozen
class Asgi(_Application):
    """Posts every attempt to an ASGI application, in process; its status decides.

    The application gets an ``http`` scope (ASGI 3, ``POST path`` over
    ``https``, lower-case header names), one ``http.request`` message with the
    whole body, then ``http.disconnect``.  Each attempt runs to completion on
    an event loop of its own (``asyncio.run``), so call it from synchronous
    code.  A Starlette or FastAPI application works unchanged; lifespan
    events are not sent (start what the app needs yourself, as with
    Starlette's test client used without ``with``).
    """

    _opens = _AsgiSession


@attrs.frozen
class Degraded:
    """Your ``listener``, behind a ``behaviour`` that may fail an attempt before it arrives.

    ``behaviour`` is a listener model (:class:`~connect_sim.listeners.Outage`,
    :class:`~connect_sim.listeners.Flaky`, ...) standing for the network and
    the listener's availability: when it answers anything but a 2xx, that is
    the answer and ``listener`` never sees the attempt (the endpoint was down
    or unreachable); when it answers a 2xx, the attempt goes to ``listener``,
    whose answer counts, after both latencies.  This is how the strategies put
    outages in front of your real code.  An attempt the behaviour failed has
    ``reached_listener`` false, so that the testing helpers never blame your
    listener for it.
    """

    listener: Any = attrs.field()
    behaviour: Any = attrs.field()

    @listener.validator
    @behaviour.validator
    def _check(self, attribute: attrs.Attribute[Any], value: object) -> None:
        check_listener(value, f"Degraded {attribute.name}")

    def session(self, rng: random.Random) -> Session:
        """A fresh session of each, for one run."""
        return _DegradedSession(self.behaviour.session(rng), self.listener.session(rng))


class _DegradedSession:
    __slots__ = ("behaviour", "listener", "simulated", "timeout")
    # A real listener behind (an Http) measures its failures' times; so the wrapper says it
    # measures too, and gives the behaviour's "no answer" the timeout itself (see bind).
    measured: ClassVar[bool] = True

    def __init__(self, behaviour: Session, listener: Session) -> None:
        self.behaviour = behaviour
        self.listener = listener
        # Whoever answers once the behaviour lets an attempt through decides.
        self.simulated = getattr(listener, "simulated", False)
        self.timeout = 0  # set by bind, before the first attempt

    def bind(self, configuration: Any) -> None:
        """Pass the configuration on to the sessions that take it; keep its timeout."""
        self.timeout = configuration.timeout_ms
        for session in (self.behaviour, self.listener):
            if getattr(type(session), "bind", None) is not None:
                session.bind(configuration)  # type: ignore[attr-defined]

    def close(self) -> None:
        """Close what the sessions hold open (an Http listener's connection)."""
        for session in (self.behaviour, self.listener):
            if getattr(type(session), "close", None) is not None:
                session.close()  # type: ignore[attr-defined]

    def respond(self, attempt: Attempt) -> Response:
        status, latency = self.behaviour.respond(attempt)
        if status is None or not 200 <= status < 300:
            attempt.reached_listener = False  # the endpoint was down: the listener never saw it
            if status is None and not getattr(type(self.behaviour), "measured", False):
                latency = self.timeout  # a model's "no answer" lasts until the timeout
            return (status, latency)
        answer, more = self.listener.respond(attempt)
        if answer is None and not getattr(type(self.listener), "measured", False):
            more = self.timeout
        return (answer, latency + more)
