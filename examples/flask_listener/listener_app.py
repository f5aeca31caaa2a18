"""A small Flask Connect listener: verify, parse, keep each envelope's newest status.

This is the listener under test in ``test_listener_app.py``. It does what a
correct listener must (see docs/testing-your-listener.md): it checks the HMAC
signature over the raw body, reads JSON and XML alike, ignores messages older
than what it already knows, tolerates duplicates, and answers 200 at once.
Only Flask and connect-sim's parsing helpers are used; a real listener would
keep ``statuses`` in its database.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask, abort, request

import connect_sim as cs

RANK = {"created": 0, "sent": 1, "delivered": 2, "completed": 3, "declined": 3, "voided": 3}


def create_app(hmac_keys: list[str]) -> Flask:
    app = Flask(__name__)
    newest: dict[str, tuple[datetime, int, str]] = {}
    app.config["STATUSES"] = newest

    @app.post("/connect")
    def connect() -> tuple[str, int]:
        body = request.get_data()  # the raw bytes: the signature is over exactly these
        if not cs.verify_hmac(body, request.headers, hmac_keys):
            abort(401)
        try:
            message = cs.parse_message(body, request.content_type)
        except cs.PayloadError:
            abort(400)
        if message.status is not None:
            moment = (message.generated, RANK.get(message.status, 0), message.status)
            known = newest.get(message.envelope_id)
            if known is None or moment[:2] > known[:2]:
                newest[message.envelope_id] = moment
        return "", 200

    @app.get("/envelopes/<envelope_id>")
    def status(envelope_id: str) -> dict[str, str | None]:
        known = newest.get(envelope_id)
        return {"envelope_id": envelope_id, "status": None if known is None else known[2]}

    return app
