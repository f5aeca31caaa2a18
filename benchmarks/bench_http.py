"""HTTP forwarding benchmark: messages per second posted to a local server, beside a floor.

A standard-library ``ThreadingHTTPServer`` on 127.0.0.1 answers every request
200 at once (it reads the body and nothing else).  Interleaved, best of
``--repeat``, the script times:

- ``connect-sim``: a SIM run of ``--envelopes`` envelopes (one signer each:
  sent, viewed, signed, so six messages an envelope) whose configuration's
  listener is ``Http(url)``: building, running, rendering every body and
  posting it, with its headers, over one kept-alive connection;
- ``floor``: ``http.client`` posting the same bodies with the same headers
  over one kept-alive connection, rendered beforehand: the cost of HTTP
  alone, with no model to run.

The ratio (connect-sim's rate over the floor's) says what the simulation
costs on top of the posting.  The server runs in this process, on a thread,
so both share its cost.  Usage:
python benchmarks/bench_http.py [--envelopes N] [--repeat R]
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import threading
import time
from datetime import timedelta
from typing import Any

import connect_sim as cs
from connect_sim.listeners import Http


class _Ok(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def build(envelopes: int, listener: object) -> cs.Simulation:
    sim = cs.Simulation(seed=1)
    sim.add_configuration(cs.Configuration(name="c", hmac_keys=["bench-key"]), listener=listener)
    for n in range(envelopes):
        at = timedelta(minutes=n)
        env = sim.create_envelope(f"Order {n}", [cs.Signer("Sue", "sue@example.com",
                                                           recipient_id="s")], at=at)  # fmt: skip
        sim.send(env, at=at)
        sim.view(env, "s", at=at + timedelta(seconds=20))
        sim.sign(env, "s", at=at + timedelta(seconds=40))
    return sim


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envelopes", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    url = f"http://127.0.0.1:{port}/connect"
    # The floor's bodies: the same messages, rendered once, beforehand.
    reference = build(args.envelopes, cs.listeners.AlwaysOk()).run()
    requests = [attempt.render() for attempt in reference.attempts]
    messages = len(requests)
    best = {"connect-sim": float("inf"), "floor": float("inf")}
    for _ in range(args.repeat):
        began = time.perf_counter()
        result = build(args.envelopes, Http(url)).run()
        best["connect-sim"] = min(best["connect-sim"], time.perf_counter() - began)
        assert len(result.attempts) == messages and all(a.status == 200 for a in result.attempts)
        began = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for body, headers in requests:
            connection.request("POST", "/connect", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            assert response.status == 200
        connection.close()
        best["floor"] = min(best["floor"], time.perf_counter() - began)
    server.shutdown()
    print(f"{args.envelopes} envelopes, {messages} messages posted to {host}:{port}")
    for name, seconds in best.items():
        print(f"  {name:12} {seconds:7.3f} s  {messages / seconds:9,.0f} messages/s")
    print(
        f"  connect-sim / floor (messages per second): {best['floor'] / best['connect-sim']:.2f}x"
    )


if __name__ == "__main__":
    main()
