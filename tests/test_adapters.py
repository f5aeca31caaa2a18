"""In-process listeners: a function, a WSGI app and an ASGI app decide delivery by their answers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any
from wsgiref.validate import validator

import pytest

import connect_sim as cs
from connect_sim.listeners import Asgi, Degraded, Outage, Wsgi
from connect_sim.listeners import Callable as CallableListener

from builders import asgi_body

KEY = "wsgi-test-key"


def one_envelope(listener: object, **config: Any) -> cs.Simulation:
    sim = cs.Simulation(seed=5)
    sim.add_configuration(cs.Configuration(name="c", **config), listener=listener)  # type: ignore[arg-type]
    env = sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com")], id="e1")
    sim.send(env)
    sim.sign(env, "1", at=timedelta(minutes=5))
    return sim


def test_a_function_gets_the_exact_body_and_headers_and_its_status_decides() -> None:
    seen: list[tuple[bytes, dict[str, str]]] = []
    answers = iter([200, 503])

    def handler(body: bytes, headers: Mapping[str, str]) -> int:
        seen.append((body, dict(headers)))
        return next(answers, 200)

    result = one_envelope(CallableListener(handler), hmac_keys=[KEY]).run()
    attempts = result.attempts
    assert [(body, headers) for body, headers in seen] == [(a.body, a.headers) for a in attempts]
    assert [a.status for a in attempts][:2] == [200, 503]
    assert attempts[1].outcome == "retry"  # a real failure: SIM blocks and retries a day later
    assert attempts[2].time - attempts[1].end == 86_400_000
    assert all(cs.verify_hmac(body, headers, [KEY]) for body, headers in seen)


def test_an_exception_is_a_500_with_its_traceback_kept() -> None:
    calls = []

    def handler(body: bytes, headers: Mapping[str, str]) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise KeyError("envelopeSummary")
        return 200

    result = one_envelope(CallableListener(handler)).run()
    first = result.attempts[0]
    assert (first.status, first.outcome) == (500, "retry")
    assert first.error is not None
    assert "KeyError: 'envelopeSummary'" in first.error and "Traceback" in first.error
    assert result.attempts[1].error is None and result.attempts[1].ok


def test_a_return_value_that_is_no_status_is_a_500_that_says_why() -> None:
    result = one_envelope(CallableListener(lambda body, headers: "OK")).run()  # type: ignore[arg-type, return-value]
    first = result.attempts[0]
    assert first.status == 500
    assert first.error == "the listener function returned 'OK', not an HTTP status from 100 to 599"


def make_wsgi_app(log: list[dict[str, Any]]) -> Callable[..., Iterable[bytes]]:
    """A plain WSGI application: checks the signature, parses, answers like a listener."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        headers = {k[5:].replace("_", "-"): v for k, v in environ.items() if k.startswith("HTTP_")}
        headers["CONTENT-TYPE"] = environ["CONTENT_TYPE"]
        log.append({"path": environ["PATH_INFO"], "method": environ["REQUEST_METHOD"],
                    "ok": cs.verify_hmac(body, headers, [KEY]),
                    "event": cs.parse_message(body, environ["CONTENT_TYPE"]).event})  # fmt: skip
        status = "200 OK" if log[-1]["ok"] else "401 Unauthorized"
        start_response(status, [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    return app


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_wsgi_app_receives_a_valid_request(fmt: str) -> None:
    log: list[dict[str, Any]] = []
    # wsgiref's validator checks both sides: our environ and calls, and the app's answers.
    app = validator(make_wsgi_app(log))
    result = one_envelope(Wsgi(app, path="/hooks/docusign"), hmac_keys=[KEY], format=fmt).run()
    assert all(a.ok for a in result.attempts) and len(log) == len(result.attempts) == 6
    assert {entry["path"] for entry in log} == {"/hooks/docusign"}
    assert {entry["method"] for entry in log} == {"POST"}
    assert all(entry["ok"] for entry in log)
    expected = [a.event for a in result.attempts] if fmt == "json" else [None] * 6
    assert [entry["event"] for entry in log] == expected


def test_a_wsgi_status_decides_and_a_crash_is_a_500() -> None:
    def refusing(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("412 Precondition Failed", [])
        return []

    first = one_envelope(Wsgi(refusing)).run().attempts[0]
    assert (first.status, first.outcome) == (412, "retry")

    def crashing(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        raise RuntimeError("database is locked")

    first = one_envelope(Wsgi(crashing)).run().attempts[0]
    assert first.status == 500 and first.error is not None
    assert "RuntimeError: database is locked" in first.error


class AsgiApp:
    """A plain ASGI application, as Starlette and FastAPI apps look to a server."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[tuple[str, str | None]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http" and scope["method"] == "POST"
        body = await asgi_body(receive)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        parsed = cs.parse_message(body, headers["content-type"])
        self.received.append((scope["path"], parsed.status))
        await send({"type": "http.response.start", "status": self.status,
                    "headers": [(b"content-type", b"text/plain")]})  # fmt: skip
        await send({"type": "http.response.body", "body": b"ok"})


def test_an_asgi_app_receives_each_message_and_its_status_decides() -> None:
    app = AsgiApp()
    result = one_envelope(Asgi(app, path="/connect")).run()
    assert all(a.ok for a in result.attempts)
    assert app.received == [("/connect", a.snapshot.status) for a in result.attempts]
    assert app.received[-1] == ("/connect", "completed")
    refusing = AsgiApp(status=503)
    first = one_envelope(Asgi(refusing)).run().attempts[0]
    assert (first.status, first.outcome) == (503, "retry")


def test_degraded_keeps_failed_attempts_away_from_the_listener() -> None:
    calls: list[int] = []

    def handler(body: bytes, headers: Mapping[str, str]) -> int:
        calls.append(1)
        return 200

    outage = Outage(windows=[(timedelta(0), timedelta(hours=1))], status=503)
    result = one_envelope(Degraded(CallableListener(handler), outage)).run()
    assert [a.status for a in result.attempts[:2]] == [503, 200]
    assert len(calls) == len(result.attempts) - 1  # the 503 never reached the handler


def test_adapters_refuse_nonsense_with_the_library_error() -> None:
    with pytest.raises(cs.ConfigurationError, match="expected something callable, got 42"):
        CallableListener(42)  # type: ignore[arg-type]
    with pytest.raises(cs.ConfigurationError, match="path: expected a path starting with '/'"):
        Wsgi(make_wsgi_app([]), path="connect")
    with pytest.raises(cs.ConfigurationError, match="Degraded behaviour: expected a listener"):
        Degraded(CallableListener(lambda body, headers: 200), "down")
