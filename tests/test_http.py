"""Real HTTP at both ends: the Http listener against servers started on 127.0.0.1, and the
capture listener (Receiver, ``connect-sim receive``) and ``connect-sim forward``.

Every server here binds 127.0.0.1 on a free port and is stopped again; every client call
has a timeout, so the suite never hangs."""

from __future__ import annotations

import contextlib
import http.server
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import connect_sim as cs
from connect_sim.cli import main
from connect_sim.listeners import Http, Scripted
from connect_sim.receive import Fail, Receiver

from builders import asgi_body, seed_example
from scenarios import Plan, plans

ROOT = Path(__file__).resolve().parent.parent
SEED = str(ROOT / "examples" / "sue_and_charlie.toml")


def trace(result: cs.Result) -> list[tuple[int, int | None, str]]:
    """What a listener model and a real server must agree on: (sequence, status, outcome)."""
    return [(a.sequence, a.status, a.outcome) for a in result.attempts]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the Http listener against the library's own receiver -----------------------------------


def test_every_message_arrives_byte_identical_with_its_headers_and_signature() -> None:
    with Receiver(hmac_keys=["listener-key"], basic_auth=("connect", "s3cret")) as receiver:
        sim, _ = seed_example("sim", Http(receiver.url), hmac_keys=["listener-key"],
                              username="connect", password="s3cret")  # fmt: skip
        result = sim.run()
        got = receiver.received
    assert len(got) == len(result.attempts) == 6
    for attempt, request in zip(result.attempts, got, strict=True):
        assert request.body == attempt.body
        for name, value in attempt.headers.items():
            expected = "Basic <hidden>" if name == "Authorization" else value
            assert request.headers[name] == expected, name
        assert (request.signature, request.auth, request.status) == ("ok", "ok", 200)
        assert request.message is not None and request.message.event == attempt.event
    assert [a.outcome for a in result.attempts] == ["delivered"] * 6
    assert "s3cret" not in repr(receiver) and "listener-key" not in repr(receiver)


def test_the_receiver_refuses_a_wrong_signature_and_wrong_credentials() -> None:
    with Receiver(hmac_keys=["right"], basic_auth=("connect", "pw")) as receiver:
        sim, _ = seed_example("sim", Http(receiver.url), hmac_keys=["wrong"],
                              username="connect", password="nope", max_retries=0)  # fmt: skip
        result = sim.run()
        got = receiver.received
    assert {(r.signature, r.auth, r.status) for r in got} == {("bad", "bad", 401)}
    assert result.attempts[0].status == 401 and result.attempts[0].outcome == "failed"
    assert all("nope" not in json.dumps(r.record()) for r in got)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None,
          max_examples=15)  # fmt: skip
@given(data=st.data())
def test_generated_scenarios_arrive_exactly_as_their_attempts(
    data: st.DataObject, receiver: Receiver
) -> None:
    plan: Plan = data.draw(plans(answers_at_once=True))
    plan.configurations = [(configuration, Http(receiver.url), scope)
                           for configuration, _, scope in plan.configurations]  # fmt: skip
    mode = data.draw(st.sampled_from(["sim", "aggregate"]))
    before = len(receiver.received)
    result = plan.build(mode).run()
    got = receiver.received[before:]
    assert [r.body for r in got] == [a.body for a in result.attempts]
    for attempt, request in zip(result.attempts, got, strict=True):
        assert request.headers["Content-Type"] == attempt.headers["Content-Type"]
        assert request.message is not None, request.problem
    assert all(a.outcome == "delivered" for a in result.attempts if not a.duplicate)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver() as started:
        yield started


# -- failures against plain servers, beside the equivalent listener model ------------------


class _Scripted(http.server.BaseHTTPRequestHandler):
    """A standard-library listener that answers each request from a list, then 200."""

    protocol_version = "HTTP/1.1"
    answers: ClassVar[list[int]] = []
    seen: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append(body)
        status = type(self).answers.pop(0) if type(self).answers else 200
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serving(
    handler: type[http.server.BaseHTTPRequestHandler], context: ssl.SSLContext | None = None
) -> Iterator[str]:
    """A standard-library server on 127.0.0.1 (TLS with ``context``), stopped again after.

    Yields its URL, ``http://127.0.0.1:PORT/connect`` (``https`` with a context).
    """
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    scheme = "http" if context is None else "https"
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}/connect"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def plain_server() -> Iterator[tuple[str, type[_Scripted]]]:
    handler = type("Handler", (_Scripted,), {"answers": [], "seen": []})
    with serving(handler) as url:
        yield url, handler


@pytest.mark.parametrize("mode", ["sim", "aggregate"])
def test_a_listener_answering_503_for_a_while_retries_as_the_model_does(
    mode: str, plain_server: tuple[str, type[_Scripted]]
) -> None:
    url, handler = plain_server
    handler.answers = [200, 503, 503]
    real, _ = seed_example(mode, Http(url))
    model, _ = seed_example(mode, Scripted([200, 503, 503]))
    got, expected = real.run(), model.run()
    assert trace(got) == trace(expected)
    assert any(a.status == 503 and a.outcome == "retry" for a in got.attempts)
    assert len(handler.seen) == len(got.attempts)
    if mode == "sim":  # the 24-hour retries came as soon as the server answered
        assert got.end >= 86_400_000


def test_a_redirect_is_a_failure_and_is_never_followed(
    plain_server: tuple[str, type[_Scripted]],
) -> None:
    url, handler = plain_server
    handler.answers = [302]
    sim, _ = seed_example("sim", Http(url), max_retries=0)
    result = sim.run()
    assert (result.attempts[0].status, result.attempts[0].outcome) == (302, "failed")
    model, _ = seed_example("sim", Scripted([302]), max_retries=0)
    assert trace(result) == trace(model.run())
    assert len(handler.seen) == len(result.attempts)  # nothing went to /elsewhere


def test_dropped_connections_are_resets_retried_like_no_answer() -> None:
    with Receiver(fail=["drop:first=2"]) as receiver:
        real, _ = seed_example("sim", Http(receiver.url))
        got = real.run()
    model, _ = seed_example("sim", Scripted([None, None]))
    assert trace(got) == trace(model.run())
    assert [a.error_kind for a in got.attempts[:2]] == ["reset", "reset"]
    from connect_sim.report import trace_records

    assert [r["error_kind"] for r in trace_records(got)][:3] == ["reset", "reset", None]
    assert got.attempts[0].reached_listener  # it got there, and hung up
    assert got.attempts[0].end - got.attempts[0].time < 100_000  # not the timeout


def test_a_listener_that_hangs_past_the_timeout_is_a_timeout() -> None:
    with Receiver(fail=["slow=3s:first=1"]) as receiver:
        real, _ = seed_example("sim", Http(receiver.url, timeout="500ms"))
        got = real.run()
    model, _ = seed_example("sim", Scripted([None]))
    assert trace(got) == trace(model.run())
    first = got.attempts[0]
    assert first.error_kind == "timeout" and first.status is None
    assert "no answer in time" in (first.error or "")


def test_the_configurations_timeout_is_the_default() -> None:
    with Receiver(fail=["slow=2s:first=1"]) as receiver:
        sim, _ = seed_example("sim", Http(receiver.url), timeout="1s")
        result = sim.run()
    assert result.attempts[0].error_kind == "timeout"
    assert result.attempts[0].end - result.attempts[0].time == 1000  # capped at the timeout


def test_a_refused_connection_fails_at_once_and_never_reached_the_listener() -> None:
    url = f"http://127.0.0.1:{free_port()}/connect"  # nothing listens there
    sim, _ = seed_example("sim", Http(url), max_retries=1)
    result = sim.run()
    first = result.attempts[0]
    assert (first.status, first.error_kind, first.reached_listener) == (None, "refused", False)
    assert first.end - first.time < 100_000
    assert result.summary()["listener"]["failed"] >= 1  # failures, never an exception


@contextlib.contextmanager
def raw_server(
    answer: Callable[[socket.socket, threading.Event], None],
) -> Iterator[str]:
    """A bare TCP server on 127.0.0.1 that reads each request and calls ``answer(conn, done)``,
    until the block ends (``done`` is set then); yields its URL."""
    done = threading.Event()
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.1)

        def serve() -> None:
            while not done.is_set():  # every connection, until the test is over
                try:
                    conn, _ = server.accept()
                except TimeoutError:
                    continue
                with conn:
                    conn.settimeout(5)
                    conn.recv(65536)
                    answer(conn, done)

        thread = threading.Thread(target=serve)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.getsockname()[1]}/"
        finally:
            done.set()
            thread.join(timeout=15)


def test_an_answer_that_is_not_http_is_a_protocol_error() -> None:
    def nonsense(conn: socket.socket, done: threading.Event) -> None:
        conn.sendall(b"SMTP ready\r\n\r\n")

    with raw_server(nonsense) as url:
        sim, _ = seed_example("sim", Http(url), max_retries=0)
        result = sim.run()
    assert {a.error_kind for a in result.attempts} == {"protocol"}
    assert result.attempts[0].error == f"protocol: BadStatusLine: SMTP ready ({url})"


def test_an_asgi_app_under_uvicorn_receives_what_the_attempts_carry() -> None:
    import uvicorn  # a test dependency: its absence is a failure, not a skip

    bodies: list[bytes] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        bodies.append(await asgi_body(receive))
        status = 503 if len(bodies) == 3 else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error",
                                           lifespan="off"))  # fmt: skip
    thread = threading.Thread(target=server.run)
    thread.start()
    try:
        for _ in range(100):  # at most 5 s for it to start
            if server.started:
                break
            threading.Event().wait(0.05)
        assert server.started, "uvicorn did not start"
        real, _ = seed_example("sim", Http(f"http://127.0.0.1:{port}/connect"))
        got = real.run()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    model, _ = seed_example("sim", Scripted([200, 200, 503]))
    assert trace(got) == trace(model.run())
    assert bodies == [a.body for a in got.attempts]


# -- the listener's arguments, and the scenario file -----------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"url": "ftp://127.0.0.1/x"}, "expected an http:// or https:// URL"),
        ({"url": "http:///connect"}, "names no host"),
        ({"url": "http://127.0.0.1:99999/"}, "url 'http://127.0.0.1:99999/'"),
        ({"url": "http://user:pw@127.0.0.1/"}, "has a user name or password"),
        ({"url": 8000}, "expected text"),
        ({"url": "http://127.0.0.1:8000/a space"}, "has a space, a control character"),
        ({"url": "http://127.0.0.1:8000/caf\u00e9"}, "non-ASCII"),
        ({"url": "http://127.0.0.1/", "ca_bundle": "ca.pem"}, "TLS options need an https://"),
        ({"url": "https://127.0.0.1/", "client_key": "k.pem"}, "client_key needs a client_cert"),
        ({"url": "https://127.0.0.1/", "ca_bundle": "/nonexistent/ca.pem"}, "TLS files"),
        ({"url": "http://127.0.0.1/", "timeout": "0s"}, "timeout must be positive"),
    ],
)
def test_bad_arguments_are_configuration_errors(kwargs: dict[str, Any], problem: str) -> None:
    with pytest.raises(cs.ConfigurationError, match=problem) as caught:
        Http(**kwargs).session(None)
    assert "pw" not in str(caught.value)


def test_a_scenario_file_names_an_http_listener(tmp_path: Path) -> None:
    from connect_sim.scenario import parse_scenario

    with Receiver() as receiver:
        text = (
            Path(SEED)
            .read_text(encoding="utf-8")
            .replace(
                'listener = { kind = "always_ok" }',
                f'listener = {{ kind = "http", url = "{receiver.url}", timeout = "5s" }}',
            )
        )
        result = parse_scenario(text, "http.toml").build().run()
        assert len(receiver.received) == len(result.attempts) == 6
    bad = text.replace('timeout = "5s"', "verify = false")
    with pytest.raises(cs.ScenarioError, match=r"http\.toml: configuration 'listener' listener"):
        parse_scenario(bad, "http.toml").build()


# -- the receiver's fail rules -------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("503:first=3", Fail("503", first=3)),
        ("500:share=0.25,seed=4", Fail("500", share=0.25, seed=4)),
        ("drop", Fail("drop")),
        ("slow=2s:first=1", Fail("slow", delay_ms=2000, first=1)),
        ("503:from=10s,to=1m", Fail("503", start_ms=10_000, end_ms=60_000)),
    ],
)
def test_fail_specs_parse(spec: str, expected: Fail) -> None:
    assert Fail.parse(spec) == expected


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("99:first=1", "is not a status"),
        ("503:first=x", "is not a whole number"),
        ("503:share=2", "is not from 0 to 1"),
        ("503:when=now", "unknown 'when'"),
        ("503:first", "is not key=value"),
        ("slow=soon", "is not a duration"),
        ("503:first=1,share=0.5", "choose one of"),
        ("503:from=1m,to=10s", "ends before it starts"),
    ],
)
def test_bad_fail_specs_say_what_is_wrong(spec: str, problem: str) -> None:
    with pytest.raises(cs.ConfigurationError, match=problem):
        Fail.parse(spec)


def test_each_share_rule_draws_from_its_own_seed() -> None:
    def answers(seed: int) -> list[int | None]:
        receiver = Receiver(fail=["503:first=1", f"500:share=0.5,seed={seed}"])
        return [receiver.serve(b"x", {}, "/")[0] for _ in range(40)]

    assert answers(1) == answers(1) and answers(1) != answers(2)


def test_the_timeout_bounds_the_whole_answer_not_each_read() -> None:
    import time

    def dribble(conn: socket.socket, done: threading.Event) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":  # one every 0.2 s
            if done.is_set():
                return
            try:
                conn.sendall(bytes([byte]))
            except OSError:
                return
            time.sleep(0.2)

    with raw_server(dribble) as url:
        sim, _ = seed_example("sim", Http(url, timeout="1s"), max_retries=0)
        began = time.monotonic()
        first = sim.run(until=timedelta(seconds=1)).attempts[0]
        waited = time.monotonic() - began
        sim.close()
    assert (first.status, first.error_kind) == (None, "timeout")
    assert waited < 5  # one timeout, not one per byte (the whole answer would take 8 s)


def test_a_share_of_failures_is_seeded_and_the_log_hides_credentials(tmp_path: Path) -> None:
    def statuses() -> list[int | None]:
        with Receiver(fail=["500:share=0.5,seed=3"], log=tmp_path / "log.jsonl") as receiver:
            sim, _ = seed_example("sim", Http(receiver.url), username="u", password="hunter2",
                                  max_retries=0)  # fmt: skip
            sim.run()
            return [r.status for r in receiver.received]

    first = statuses()
    assert first == statuses() and 500 in first and 200 in first
    lines = (tmp_path / "log.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 * len(first)
    record = json.loads(lines[0])
    assert record["headers"]["Authorization"] == "Basic <hidden>"
    assert "hunter2" not in "".join(lines)
    assert record["message"]["event"] == "recipient-sent"


# -- the commands ---------------------------------------------------------------------------


def only_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1, captured.err
    assert "Traceback" not in captured.err
    return captured.err


def test_forward_posts_the_scenario_to_a_receiver_and_writes_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    with Receiver() as receiver:
        out = tmp_path / "out"
        assert main(["forward", SEED, "--to", receiver.url, "--out", str(out)]) == 0
        first = capsys.readouterr()
        key = first.out.split()[4]
        assert main(["forward", SEED, "--to", receiver.url]) == 0
        second = capsys.readouterr()
        got = receiver.received
    assert second.out.split()[4] == key and key.startswith("csk_")  # kept across runs
    assert (tmp_path / "config" / "connect-sim" / "forward-hmac-key").stat().st_mode & 0o077 == 0
    assert all(cs.verify_hmac(r.body, r.headers, key) for r in got)
    lines = first.err.splitlines()
    assert len(lines) == 6 and lines[0].split()[1:6] == [
        "listener", "recipient-sent", "e1", "200", "delivered",
    ]  # fmt: skip
    assert "run ended at 2026-01-01T00:02:2" in first.out  # 2m20s and the measured latencies
    trace_lines = (out / "trace.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(trace_lines) == 6
    bodies = [(out / json.loads(line)["body"]).read_bytes() for line in trace_lines]
    assert bodies == [r.body for r in got[:6]]
    assert "interrupted" not in json.loads((out / "summary.json").read_text(encoding="utf-8"))


def test_forward_against_nothing_a_bad_url_or_a_bad_pace_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    url = f"http://127.0.0.1:{free_port()}/connect"
    assert main(["forward", SEED, "--to", url]) == 2
    assert only_error_line(capsys) == f"error: --to {url}: cannot connect: connection refused\n"
    assert main(["forward", SEED, "--to", "localhost:8000"]) == 2
    assert "expected an http:// or https:// URL" in only_error_line(capsys)
    with Receiver() as receiver:
        assert main(["forward", SEED, "--to", receiver.url, "--pace", "0"]) == 2
        assert "--pace must be positive" in only_error_line(capsys)
        assert main(["forward", SEED, "--to", receiver.url, "--pace", "60",
                     "--max-wait", "-1"]) == 2  # fmt: skip
        assert "--max-wait must be positive" in only_error_line(capsys)
        assert main(["forward", SEED, "--to", receiver.url, "--bodies", "jsonl"]) == 2
        assert "--bodies says how --out lays out the bodies" in only_error_line(capsys)


def test_forward_at_a_pace_waits_between_steps_but_jumps_idle_stretches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connect_sim.forward import forward

    waits: list[float] = []
    monkeypatch.setattr("connect_sim.forward.time.sleep", waits.append)
    with Receiver() as receiver:
        sim, _ = seed_example("sim", Http(receiver.url))
        result, interrupted = forward(sim, echo=lambda line: None, pace=60.0, max_wait=0.5)
    assert not interrupted and len(result.attempts) == 6
    # 2 minutes to Sue's view at 60x is 2 s of waiting, but never more than 0.5 s at once.
    assert waits and max(waits) <= 0.5


def test_forward_stopped_early_says_so_and_keeps_what_was_attempted() -> None:
    from connect_sim.forward import forward

    with Receiver() as receiver:
        sim, _ = seed_example("sim", Http(receiver.url))
        lines: list[str] = []
        result, interrupted = forward(sim, echo=lines.append, stop=lambda: len(lines) >= 2)
    assert interrupted and len(result.attempts) == len(lines) == 2


def test_a_stopped_forward_settles_the_attempt_whose_answer_came_and_posts_nothing_more() -> None:
    from connect_sim.forward import forward

    # Each answer takes 0.2 s: when the stop comes, the second attempt has been answered but
    # its end is still ahead in simulated time.
    with Receiver(fail=["slow=200ms"]) as receiver:
        sim, _ = seed_example("sim", Http(receiver.url))
        lines: list[str] = []
        result, interrupted = forward(sim, echo=lines.append, stop=lambda: len(lines) >= 1)
        got = receiver.received
    assert interrupted and len(got) == len(result.attempts) == len(lines) == 2
    assert [(a.status, a.outcome) for a in result.attempts] == [(200, "delivered")] * 2
    assert result.summary()["listener"]["delivered"] == 2


def test_forward_stops_at_an_action_the_real_answers_made_impossible(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The maintenance window's republish needs a failure that a listener answering 200
    # never gives: the run stops there, says why in one line, and keeps what was attempted.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    scenario = str(ROOT / "examples" / "maintenance_window.toml")
    out = tmp_path / "out"
    with Receiver() as receiver:
        assert main(["forward", scenario, "--to", receiver.url, "--out", str(out)]) == 2
        posted = len(receiver.received)
    error = capsys.readouterr().err.splitlines()[-1]
    assert error.startswith("error: ") and "no failure log holds envelope 'order-1001'" in error
    assert error.endswith(f"(the run stopped there; what was attempted is in {out})")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["interrupted"] is True
    assert summary["configurations"]["orders"]["attempts"] == posted > 0


def test_receive_in_use_port_and_bad_fail_spec_are_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with Receiver() as receiver:
        port = receiver.url.rsplit(":", 1)[1].split("/")[0]
        assert main(["receive", "--port", port]) == 2
        assert f"error: cannot listen on 127.0.0.1:{port}:" in only_error_line(capsys)
    assert main(["receive", "--port", "0", "--fail", "often"]) == 2
    assert "--fail 'often'" in only_error_line(capsys)
    assert main(["receive", "--port", "0", "--basic-auth", "nocolon"]) == 2
    assert "user:password" in only_error_line(capsys)


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])
def test_receive_runs_until_ctrl_c_or_sigterm(stop: str) -> None:
    import signal
    import subprocess
    import sys
    import time

    port = free_port()
    command = [sys.executable, "-m", "connect_sim.cli", "receive", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    try:
        for _ in range(100):  # at most 10 s to come up
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        sim, _ = seed_example("sim", Http(f"http://127.0.0.1:{port}/connect"))
        assert [a.status for a in sim.run().attempts] == [200] * 6
        process.send_signal(getattr(signal, stop))
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert out.splitlines()[-1] == "stopped after 6 requests"
    assert sum(" -> 200" in line for line in out.splitlines()) == 6


def test_https_with_a_ca_bundle_and_an_untrusted_certificate(tmp_path: Path) -> None:
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("no openssl to make a certificate with")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    handler = type("Handler", (_Scripted,), {"answers": [], "seen": []})
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with serving(handler, context) as url:
        trusted, _ = seed_example("sim", Http(url, ca_bundle=str(cert)))
        assert [a.status for a in trusted.run().attempts] == [200] * 6
        untrusted, _ = seed_example("sim", Http(url), max_retries=0)
        first = untrusted.run().attempts[0]
    assert (first.error_kind, first.reached_listener) == ("tls", False)
    assert "CERTIFICATE_VERIFY_FAILED" in (first.error or "")
    assert len(handler.seen) == 6  # the untrusted attempts never got there


def test_mutual_tls_presents_the_client_certificate(tmp_path: Path) -> None:
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("no openssl to make certificates with")
    made = {}
    for name, subject in (("server", "/CN=127.0.0.1"), ("client", "/CN=connect")):
        cert, key = tmp_path / f"{name}.pem", tmp_path / f"{name}-key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", subject, "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        made[name] = (cert, key)
    handler = type("Handler", (_Scripted,), {"answers": [], "seen": []})
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*made["server"])
    context.verify_mode = ssl.CERT_REQUIRED  # Connect's side must show its certificate
    context.load_verify_locations(made["client"][0])
    ca = str(made["server"][0])
    with serving(handler, context) as url:
        shown, _ = seed_example("sim", Http(url, ca_bundle=ca, client_cert=str(made["client"][0]),
                                            client_key=str(made["client"][1])))  # fmt: skip
        assert [a.status for a in shown.run().attempts] == [200] * 6
        hidden, _ = seed_example("sim", Http(url, ca_bundle=ca), max_retries=0)
        first = hidden.run().attempts[0]
    assert first.status is None and first.error_kind in ("tls", "reset")
    assert len(handler.seen) == 6  # without the certificate nothing got through


def test_forward_stops_cleanly_on_ctrl_c_and_writes_what_was_attempted(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    # Each answer takes 0.3 s, so the run is still going when Ctrl-C comes after the first line.
    with Receiver(fail=["slow=300ms"]) as receiver:
        out = tmp_path / "out"
        command = [sys.executable, "-m", "connect_sim.cli", "forward", SEED, "--to", receiver.url,
                   "--out", str(out)]  # fmt: skip
        env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, env=env)  # fmt: skip
        try:
            assert process.stderr is not None
            first = process.stderr.readline()  # the first attempt's line
            process.send_signal(signal.SIGINT)
            out_text, err_text = process.communicate(timeout=30)
        finally:
            process.kill()
    assert "recipient-sent" in first and process.returncode == 0, err_text
    assert "run interrupted at" in out_text and "Traceback" not in err_text
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    attempted = summary["configurations"]["listener"]["attempts"]
    assert summary["interrupted"] is True and 1 <= attempted < 6
    assert len((out / "trace.jsonl").read_text(encoding="utf-8").splitlines()) == attempted


def test_forward_shows_a_progress_line_on_a_terminal_only() -> None:
    import io

    from connect_sim.cli import _Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    with Receiver() as receiver:
        sim, _ = seed_example("sim", Http(receiver.url))
        result = sim.run()
    shown, plain = Terminal(), io.StringIO()
    for stream in (shown, plain):
        progress = _Progress(stream)
        progress.line("a line")
        progress.update(result)
        progress.clear()
    assert "listener [####################] 6 delivered, 0 waiting, 0 failed" in shown.getvalue()
    assert plain.getvalue() == "a line\n"


def test_a_long_answer_is_read_up_to_the_bound_and_the_connection_renewed() -> None:
    ports: list[int] = []

    class Talkative(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            ports.append(self.client_address[1])  # which connection it came on
            text = b"x" * (100_000 if len(ports) == 1 else 10)
            self.send_response(200)
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serving(Talkative) as url:
        sim, _ = seed_example("sim", Http(url, max_response_bytes=1000))
        result = sim.run()
    assert [a.status for a in result.attempts] == [200] * 6
    # The first answer was cut off: its connection was closed and a new one made; the
    # short answers after it shared one kept-alive connection.
    assert ports[0] != ports[1] and len(set(ports[1:])) == 1


def test_an_http_listener_behind_an_outage_keeps_both_kinds_of_failure_time() -> None:
    from connect_sim.listeners import Degraded, Outage

    # Down (no answer) for the first hour: a model's failure, lasting the timeout. Then the
    # real listener, which is not there at all: refused at once.
    url = f"http://127.0.0.1:{free_port()}/connect"
    listener = Degraded(Http(url), Outage(windows=[(timedelta(0), timedelta(hours=1))],
                                          status=None))  # fmt: skip
    sim, _ = seed_example("sim", listener, max_retries=1)
    first, second = sim.run().attempts[:2]
    assert (first.end - first.time, first.error_kind, first.reached_listener) == (
        100_000, None, False,
    )  # fmt: skip
    assert second.error_kind == "refused" and second.end - second.time < 100_000
