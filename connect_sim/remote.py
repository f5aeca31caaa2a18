"""A listener at a URL: every attempt is a real HTTP ``POST``, and the real answer decides.

Theory of operation
-------------------
:class:`Http` posts each attempt's exact body bytes and headers (those of
:meth:`Attempt.render <connect_sim.Attempt.render>`: Content-Type,
X-DocuSign-AccountId, the HMAC signatures, Basic auth) to its URL with the
standard library's :mod:`http.client`, over one kept-alive connection per
configuration and run.  A 2xx is a success; any other status (a 3xx too:
redirects are never followed) is a failure with that status.  Anything that
keeps an answer from coming is a failure with no status and an *error kind*
on the attempt (:attr:`Attempt.error_kind <connect_sim.Attempt.error_kind>`),
never an exception out of the run:

- ``refused``: no connection could be made (nothing listens there, no route,
  a name that does not resolve);
- ``reset``: the connection was reset or closed before the answer came;
- ``timeout``: no answer within the timeout (the configuration's, 100 s by
  default, in real seconds);
- ``tls``: the TLS handshake failed (an untrusted certificate, say);
- ``protocol``: what came back is not HTTP.

Time stays virtual.  The measured response time (a monotonic clock, at the
edge: nothing inside the model reads a clock) becomes the attempt's latency
in simulated time, so while an attempt is in flight the simulation runs at
wall speed, and between attempts it jumps to the next event: a 24-hour retry
comes as soon as the listener has answered.  A run against a real server is
therefore not byte-identical from one process to the next (its latencies are
measured), though its bodies, order and retries are the scenario's.

A connection the server closed while idle (keep-alive timeouts are short)
is found out before the next request (its socket reads as ready while
nothing was asked), and a new one is opened: each attempt is one request,
never sent twice.  Response bodies are read up to
``max_response_bytes`` and discarded; a longer one closes the connection.
"""

from __future__ import annotations

import contextlib
import http.client
import select
import socket
import ssl
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

import attrs

from .errors import ConfigurationError
from .time import duration, duration_ms

if TYPE_CHECKING:
    from .configuration import Configuration
    from .delivery.records import Attempt
    from .listeners import Response

__all__ = ["ERROR_KINDS", "Http", "reachable"]

ERROR_KINDS = ("refused", "reset", "timeout", "tls", "protocol")
"""The kinds of failure with no status that an :class:`Http` listener records."""


def _url(value: object) -> str:
    if not isinstance(value, str):
        raise ConfigurationError(f"url: expected text such as 'http://127.0.0.1:8000/connect', "
                                 f"got {value!r}")  # fmt: skip
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as error:
        raise ConfigurationError(f"url {value!r}: {error}") from None
    if parts.scheme not in ("http", "https"):
        raise ConfigurationError(f"url {value!r}: expected an http:// or https:// URL")
    if not parts.hostname:
        raise ConfigurationError(f"url {value!r}: names no host")
    if parts.username is not None or parts.password is not None:
        # Credentials in a URL end up in logs; Connect sends Basic auth from the configuration.
        raise ConfigurationError(
            "url: has a user name or password in it; give the configuration a username "
            "and password instead"
        )
    if parts.fragment:
        raise ConfigurationError(f"url {value!r}: a fragment (#...) is never sent")
    if not value.isascii() or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
        # http.client refuses these in a request line; say so now, not on every attempt
        raise ConfigurationError(
            f"url {value!r}: has a space, a control character or a non-ASCII character "
            "(percent-encode it)"
        )
    del port
    return value


def _file(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | Path) or not str(value).strip():
        raise ConfigurationError(f"expected a file's path, got {value!r}")
    return str(value)


def _timeout(value: timedelta | str | None) -> timedelta | None:
    if value is None:
        return None
    span = duration(value, "timeout")
    if span <= timedelta(0):
        raise ConfigurationError(f"timeout must be positive, got {value!r}")
    return span


def _bound(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(f"max_response_bytes: expected a whole number, got {value!r}")
    return value


@attrs.frozen
class Http:
    """Posts every attempt to ``url`` for real; the real answer decides (see the module).

    Args:
        url: ``http://`` or ``https://``, any host the user names (loopback and
            private addresses included; nothing is sent anywhere else).
        timeout: how long to wait for an answer, in real time; ``None`` (the
            default) takes the configuration's ``timeout`` (100 s unless set).
        ca_bundle: a PEM file of the certificate authorities to trust for
            ``https://`` (the system's by default).
        client_cert, client_key: a PEM certificate (and its key, when not in
            the same file) to present: Connect supports mutual TLS.
        max_response_bytes: read at most this much of an answer's body (64 KiB).

    >>> Http("http://127.0.0.1:8000/connect").url
    'http://127.0.0.1:8000/connect'
    """

    url: str = attrs.field(converter=_url)
    timeout: timedelta | None = attrs.field(default=None, converter=_timeout)
    ca_bundle: str | None = attrs.field(default=None, converter=_file)
    client_cert: str | None = attrs.field(default=None, converter=_file)
    client_key: str | None = attrs.field(default=None, converter=_file)
    max_response_bytes: int = attrs.field(default=65_536, converter=_bound)

    def __attrs_post_init__(self) -> None:
        if self.client_key is not None and self.client_cert is None:
            raise ConfigurationError("client_key needs a client_cert")
        if urlsplit(self.url).scheme == "http" and (
            self.ca_bundle or self.client_cert
        ):  # a TLS option on a plain URL is a mistake, not something to ignore
            raise ConfigurationError(f"url {self.url!r}: TLS options need an https:// URL")

    def session(self, rng: object) -> _HttpSession:
        """A fresh session for one run: one connection, opened at the first attempt."""
        return _HttpSession(self)


def reachable(url: str, seconds: float = 5.0) -> str | None:
    """``None`` if a connection to ``url``'s host and port can be made now; else why not.

    ``connect-sim forward`` asks this before a run, so that a URL nothing listens
    at is bad input (one line, exit 2); during a run the same is a failure.
    """
    parts = urlsplit(_url(url))
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=seconds).close()
    except OSError as error:
        return f"cannot connect: {_kind(error)[1]}"
    return None


def _tls_context(spec: Http) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(cafile=spec.ca_bundle)
        if spec.client_cert is not None:
            context.load_cert_chain(spec.client_cert, spec.client_key)
    except (OSError, ssl.SSLError) as error:
        raise ConfigurationError(f"TLS files for {spec.url!r}: {error}") from None
    return context


class _HttpSession:
    """One run's connection to the URL (see the module's theory of operation)."""

    __slots__ = ("connection", "context", "host", "limit", "path", "port", "secure", "timeout",
                 "url")  # fmt: skip
    simulated: ClassVar[bool] = False  # real code answers
    #: The answer's latency is how long it took, a failure without a status included
    #: (a refused connection fails at once, not after the timeout).
    measured: ClassVar[bool] = True

    def __init__(self, spec: Http) -> None:
        parts = urlsplit(spec.url)
        self.url = spec.url
        self.secure = parts.scheme == "https"
        self.host = parts.hostname or ""
        self.port = parts.port
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.context = _tls_context(spec) if self.secure else None
        self.timeout = None if spec.timeout is None else duration_ms(spec.timeout, "timeout")
        self.limit = spec.max_response_bytes
        self.connection: http.client.HTTPConnection | None = None

    def bind(self, configuration: Configuration) -> None:
        """Take the configuration's timeout unless the listener has its own."""
        if self.timeout is None:
            self.timeout = configuration.timeout_ms

    def _connect(self) -> http.client.HTTPConnection:
        seconds = (self.timeout or 100_000) / 1000
        if self.secure:
            return http.client.HTTPSConnection(
                self.host, self.port, timeout=seconds, context=self.context
            )
        return http.client.HTTPConnection(self.host, self.port, timeout=seconds)

    def respond(self, attempt: Attempt) -> Response:
        body, headers = attempt.render()
        if self.connection is not None and _stale(self.connection):
            self.close()  # the server closed it while idle: a new one, not a failure
        began = time.perf_counter()
        connecting = self.connection is None
        watchdog: threading.Timer | None = None
        expired = threading.Event()
        try:
            connection = self.connection
            if connection is None:  # its own phase: a failure here never reached the listener
                connection = self.connection = self._connect()
                connection.connect()
                connecting = False
            # The timeout bounds the whole answer, not each read of it (a server that
            # dribbles a byte at a time): at the deadline the socket is shut.
            sock = connection.sock
            watchdog = threading.Timer((self.timeout or 100_000) / 1000, _expire, (sock, expired))
            watchdog.daemon = True
            watchdog.start()
            status = self._post(body, headers)
        except Exception as error:  # any failure to get an answer is an attempt's failure
            self.close()
            kind, detail = _kind(error)
            if expired.is_set():
                kind, detail = "timeout", "no answer in time"
            elif connecting and kind not in ("tls",):
                kind = "refused"  # no connection was made, whatever the reason
                detail = "no connection in time" if isinstance(error, TimeoutError) else detail
            attempt.error_kind = kind
            attempt.error = f"{kind}: {detail} ({self.url})"
            if kind in ("refused", "tls"):
                attempt.reached_listener = False  # nothing got to the listener's code
            return (None, _elapsed(began))
        finally:
            if watchdog is not None:
                watchdog.cancel()
        return (status, _elapsed(began))

    def _post(self, body: bytes, headers: dict[str, str]) -> int:
        connection = self.connection
        assert connection is not None
        connection.request("POST", self.path, body=body, headers=headers)
        response = connection.getresponse()
        left = response.read(self.limit + 1)
        if len(left) > self.limit or response.will_close:
            self.close()  # not read to its end, or the server said so: not reusable
        return response.status

    def close(self) -> None:
        """Close the connection (the next attempt opens a new one)."""
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _expire(sock: socket.socket | None, expired: threading.Event) -> None:
    """The deadline of an answer has passed: shut the socket, so that the read ends."""
    expired.set()
    if sock is not None:
        with contextlib.suppress(OSError):  # closed already
            sock.shutdown(socket.SHUT_RDWR)


def _stale(connection: http.client.HTTPConnection) -> bool:
    """True when an idle connection has something to read: the server closed it."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _elapsed(began: float) -> int:
    return max(0, round((time.perf_counter() - began) * 1000))


def _kind(error: Exception) -> tuple[str, str]:
    """The error kind of a failure to get an answer, and what happened, in words."""
    if isinstance(error, ssl.SSLError | ssl.CertificateError):
        return "tls", str(error)
    if isinstance(error, TimeoutError | socket.timeout):
        return "timeout", "no answer in time"
    if isinstance(error, http.client.RemoteDisconnected):
        return "reset", "the server closed the connection without answering"
    if isinstance(error, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return "reset", error.strerror or str(error)
    if isinstance(error, http.client.IncompleteRead):
        return "reset", "the answer broke off"
    if isinstance(error, http.client.HTTPException):  # what came, on one line and short
        return "protocol", f"{type(error).__name__}: {' '.join(str(error).split())[:120]}"
    if isinstance(error, ConnectionRefusedError):
        return "refused", "connection refused"
    if isinstance(error, socket.gaierror):
        return "refused", f"cannot resolve the host ({error.strerror})"
    if isinstance(error, OSError):
        return "refused", error.strerror or str(error)
    return "protocol", f"{type(error).__name__}: {str(error)[:120]}"
