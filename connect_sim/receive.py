"""A capture listener: a real HTTP server that receives Connect messages and says what came.

Theory of operation
-------------------
:class:`Receiver` is a standard-library ``ThreadingHTTPServer`` bound to
127.0.0.1 (unless told otherwise), one thread per connection, HTTP/1.1 with
keep-alive.  For each ``POST`` it reads the body (up to a bound), checks Basic
auth and the HMAC signatures (any of its keys), parses the body with
:func:`~connect_sim.parse_message`, decides its answer and keeps a
:class:`Received` record.  The answer: 401 when auth or the signature is
wrong, 400 when the body is not a Connect message, otherwise 200, unless a
:class:`Fail` rule says to misbehave (a status, a slow answer, a dropped
connection), which is how a team rehearses a listener that fails.

It is the edge of the library: it reads the wall clock (a request's arrival
time, the windows of a ``Fail`` rule), and nothing it does feeds back into a
simulation except the answers a listener would give.  Records never hold a
secret: the ``Authorization`` header is shown as ``Basic <hidden>``.
"""

from __future__ import annotations

import http.server
import json
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import attrs

from .errors import ConfigurationError, ConnectSimError
from .message import ConnectMessage
from .parsing import parse_message
from .signing import verify_hmac
from .time import parse_duration

__all__ = ["Fail", "Received", "Receiver"]

MAX_BODY = 32 * 1024 * 1024
"""The largest body the receiver reads; a longer one is answered 413."""


@attrs.frozen
class Fail:
    """A way to misbehave on purpose, for some requests: ``Fail.parse("503:first=3")``.

    ``what`` is an HTTP status to answer, ``drop`` (close the connection
    without answering) or ``slow`` (answer after ``delay_ms``).  Which requests:
    the ``first`` N, a ``share`` of them (seeded: ``seed``), those that arrive
    in a window of the receiver's own time (``start_ms`` to ``end_ms`` after it
    started), or every one.
    """

    what: str
    delay_ms: int = 0
    first: int | None = None
    share: float | None = None
    seed: int = 0
    start_ms: int | None = None
    end_ms: int | None = None

    @classmethod
    def parse(cls, spec: str) -> Fail:
        """A rule from its text, ``WHAT[:WHEN]``.

        ``WHAT``: a status (``503``), ``drop``, or ``slow=DURATION``
        (``slow=2s``).  ``WHEN``: ``first=N``, ``share=P`` (0 to 1, with an
        optional ``,seed=N``), ``from=DURATION,to=DURATION`` (either may be
        left out), or nothing for every request.  Raises ConfigurationError,
        naming the spec and what is wrong.
        """
        if not isinstance(spec, str):
            raise ConfigurationError(f"--fail: expected text such as '503:first=3', got {spec!r}")
        what, _, when = spec.strip().partition(":")
        options: dict[str, Any] = {}
        if what.startswith("slow="):
            options["delay_ms"] = _duration(spec, what[5:])
            what = "slow"
        elif not (
            what == "drop" or (what.isdigit() and len(what) == 3 and 100 <= int(what) <= 599)
        ):
            raise ConfigurationError(
                f"--fail {spec!r}: {what!r} is not a status (100 to 599), 'drop' or 'slow=2s'"
            )
        for part in filter(None, (p.strip() for p in when.split(","))):
            key, equals, value = part.partition("=")
            if not equals:
                raise ConfigurationError(f"--fail {spec!r}: {part!r} is not key=value")
            if key == "first":
                options["first"] = _count(spec, value)
            elif key == "share":
                options["share"] = _share(spec, value)
            elif key == "seed":
                options["seed"] = _count(spec, value)
            elif key == "from":
                options["start_ms"] = _duration(spec, value)
            elif key == "to":
                options["end_ms"] = _duration(spec, value)
            else:
                raise ConfigurationError(
                    f"--fail {spec!r}: unknown {key!r} (first, share, seed, from, to)"
                )
        chosen = [k for k in ("first", "share") if k in options]
        if len(chosen) > 1 or (chosen and ("start_ms" in options or "end_ms" in options)):
            raise ConfigurationError(f"--fail {spec!r}: choose one of first, share or from/to")
        if options.get("start_ms", 0) >= options.get("end_ms", 2**62):
            raise ConfigurationError(f"--fail {spec!r}: the window ends before it starts")
        return cls(what, **options)

    def applies(self, number: int, since_ms: int, draw: Callable[[], float]) -> bool:
        """Whether the ``number``-th request (from 1), ``since_ms`` after the start, is hit."""
        if self.first is not None:
            return number <= self.first
        if self.share is not None:
            return draw() < self.share
        if self.start_ms is not None and since_ms < self.start_ms:
            return False
        return not (self.end_ms is not None and since_ms >= self.end_ms)


def _duration(spec: str, text: str) -> int:
    try:
        return parse_duration(text)
    except ConnectSimError:
        raise ConfigurationError(
            f"--fail {spec!r}: {text!r} is not a duration like '2s'"
        ) from None


def _count(spec: str, text: str) -> int:
    if not text.isdigit():
        raise ConfigurationError(f"--fail {spec!r}: {text!r} is not a whole number")
    return int(text)


def _share(spec: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise ConfigurationError(f"--fail {spec!r}: share {text!r} is not from 0 to 1")
    return value


@attrs.frozen
class Received:
    """One request the receiver got, and what it answered.

    ``headers`` are as they came, but ``Authorization`` shows ``Basic <hidden>``;
    ``message`` is the parsed body, or ``None`` with ``problem`` saying why;
    ``signature`` and ``auth`` are ``ok``, ``bad`` or ``unchecked`` (no key or
    no credentials given to the receiver); ``status`` is the answer (``None``
    for a dropped connection), sent after ``delay_ms`` (a ``slow`` rule).
    """

    number: int
    time: datetime
    path: str
    headers: dict[str, str]
    body: bytes
    message: ConnectMessage | None
    problem: str | None
    signature: str
    auth: str
    status: int | None
    delay_ms: int = 0

    def line(self) -> str:
        """One line for a terminal: time, event, envelope, status, signature, answer."""
        message = self.message
        if message is None:
            what = f"not a Connect message ({self.problem})"
        else:
            what = f"{message.event or 'xml'} {message.envelope_id} {message.status}"
        answer = "dropped" if self.status is None else str(self.status)
        if self.delay_ms:
            answer += f" after {self.delay_ms} ms"
        return (f"{self.time.strftime('%H:%M:%S.%f')[:-3]} #{self.number} {what} "
                f"signature {self.signature}, auth {self.auth} -> {answer}")  # fmt: skip

    def record(self) -> dict[str, Any]:
        """The JSON line ``--log`` appends for it."""
        message = self.message
        parsed = None
        if message is not None:
            parsed = attrs.asdict(message, recurse=True)
            parsed["generated"] = message.generated.isoformat()
        return {
            "number": self.number, "time": self.time.isoformat(), "path": self.path,
            "headers": self.headers, "signature": self.signature, "auth": self.auth,
            "status": self.status, "delay_ms": self.delay_ms, "message": parsed,
            "problem": self.problem,
        }  # fmt: skip


class Receiver:
    """A capture listener on a real port (see the module); a context manager for tests.

    >>> import connect_sim as cs
    >>> from connect_sim.listeners import Http
    >>> sim = cs.Simulation()
    >>> with Receiver() as receiver:
    ...     sim.add_configuration(cs.Configuration(name="c"), listener=Http(receiver.url))
    ...     sim.send(sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com")]))
    ...     result = sim.run()
    >>> [(r.message.event, r.status) for r in receiver.received]
    [('recipient-sent', 200), ('envelope-sent', 200)]

    Args:
        port: 0 (the default) for a free one; ``url`` says which.
        host: where to listen, 127.0.0.1 unless told otherwise.
        path: the path the URL names (any path is answered).
        hmac_keys: accept a message signed with any of them; none: unchecked.
        basic_auth: ``(user, password)`` to require; ``None``: unchecked.
        fail: :class:`Fail` rules (or their text), the first that applies wins.
        log: a file to append one JSON line per request to.
        echo: called with each request's :meth:`Received.line`.
    """

    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        path: str = "/connect",
        hmac_keys: Iterable[str | bytes] = (),
        basic_auth: tuple[str, str] | None = None,
        fail: Sequence[Fail | str] = (),
        log: str | Path | None = None,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ConfigurationError(f"port: expected a number from 0 to 65535, got {port!r}")
        self.host, self.port, self.path = host, port, path
        self.hmac_keys = [k for k in hmac_keys]
        if any(not k for k in self.hmac_keys):
            raise ConfigurationError("hmac_keys: a key is empty")
        self._auth = basic_auth
        self.rules = [rule if isinstance(rule, Fail) else Fail.parse(rule) for rule in fail]
        self._log_path = None if log is None else Path(log)
        self._echo = echo
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._count = 0
        # Each share rule draws from its own generator, seeded by its own seed.
        self._draws = [random.Random(rule.seed).random for rule in self.rules]
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._started = 0.0
        self._log: IO[str] | None = None

    def __repr__(self) -> str:  # never the keys or the password
        return f"Receiver(url={self.url!r})" if self._server else "Receiver(stopped)"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/connect`` once started."""
        if self._server is None:
            raise ConfigurationError("the receiver is not started")
        host, port = self._server.server_address[:2]
        shown = host.decode() if isinstance(host, bytes) else host
        return f"http://{shown}:{port}{self.path}"

    @property
    def received(self) -> list[Received]:
        """What came so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._received)

    def start(self) -> Receiver:
        """Bind and serve in a background thread; a port in use is a ConfigurationError."""
        if self._server is not None:
            return self
        try:
            server = http.server.ThreadingHTTPServer((self.host, self.port), _handler(self))
        except OSError as error:
            reason = error.strerror or str(error)
            raise ConfigurationError(
                f"cannot listen on {self.host}:{self.port}: {reason}"
            ) from None
        server.daemon_threads = True
        if self._log_path is not None:
            try:
                self._log = self._log_path.open("a", encoding="utf-8")
            except OSError as error:
                server.server_close()
                raise ConfigurationError(f"--log {self._log_path}: {error.strerror}") from None
        self._server = server
        self._started = time.monotonic()
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="connect-sim receiver", daemon=True)  # fmt: skip
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the port (waits at most a few seconds)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:  # a handler thread still answering writes under the lock too
            log, self._log = self._log, None
        if log is not None:
            log.close()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve(self, body: bytes, headers: dict[str, str], path: str) -> tuple[int | None, int]:
        """Decide the answer to one request and keep its record: ``(status or None, delay ms)``."""
        arrived = datetime.now(UTC)
        with self._lock:
            self._count += 1
            number = self._count
            since = round((time.monotonic() - self._started) * 1000)
            rule = next((r for r, draw in zip(self.rules, self._draws, strict=True)
                         if r.applies(number, since, draw)), None)  # fmt: skip
        auth = self._check_auth(headers)
        signature = "unchecked"
        if self.hmac_keys:
            signature = "ok" if verify_hmac(body, headers, self.hmac_keys) else "bad"
        message, problem = None, None
        try:
            message = parse_message(body, headers.get("Content-Type"))
        except ConnectSimError as error:
            problem = str(error)
        status: int | None = 200
        if auth == "bad" or signature == "bad":
            status = 401
        elif message is None:
            status = 400
        delay = 0
        if rule is not None:
            if rule.what == "drop":
                status = None
            elif rule.what == "slow":
                delay = rule.delay_ms
            else:
                status = int(rule.what)
        shown = {k: ("Basic <hidden>" if k.lower() == "authorization" else v)
                 for k, v in headers.items()}  # fmt: skip
        record = Received(number, arrived, path, shown, body, message, problem, signature, auth,
                          status, delay)  # fmt: skip
        with self._lock:
            self._received.append(record)
            if self._log is not None:
                self._log.write(json.dumps(record.record(), ensure_ascii=False) + "\n")
                self._log.flush()
        if self._echo is not None:
            self._echo(record.line())
        return status, delay

    def _check_auth(self, headers: dict[str, str]) -> str:
        if self._auth is None:
            return "unchecked"
        import base64
        import hmac

        user, password = self._auth
        expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        given = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        return "ok" if hmac.compare_digest(given.encode(), expected.encode()) else "bad"


def _handler(receiver: Receiver) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "connect-sim-receive"

        def do_POST(self) -> None:  # the name http.server calls
            length = self.headers.get("Content-Length", "")
            if not length.isdigit() or int(length) > MAX_BODY:
                self._answer(411 if not length.isdigit() else 413, close=True)
                return
            body = self.rfile.read(int(length))
            status, delay = receiver.serve(body, dict(self.headers.items()), self.path)
            if delay:
                time.sleep(delay / 1000)
            if status is None:  # drop: close without a word
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self._answer(status)

        def _answer(self, status: int, close: bool = False) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # each request has its own line (echo), not http.server's

    return Handler
