"""Small builders the example tests share."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import connect_sim as cs
from connect_sim.listeners import Listener

MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def seed_example(
    mode: str = "sim", listener: Listener | None = None, **config: object
) -> tuple[cs.Simulation, cs.Envelope]:
    """The Sue Signer / Charlie Copy example of DESIGN.md section 6, ready to run."""
    sim = cs.Simulation(mode=mode, seed=1)
    sim.add_configuration(cs.Configuration(name="listener", **config), listener=listener)  # type: ignore[arg-type]
    sue = cs.Signer(
        name="Sue Signer", email="sue@example.com", routing_order=1, recipient_id="sue"
    )
    charlie = cs.CarbonCopy(
        name="Charlie Copy", email="charlie@example.com", routing_order=2, recipient_id="charlie"
    )
    env = sim.create_envelope(subject="Please sign", recipients=[sue, charlie], id="e1")
    sim.send(env, at=timedelta(0))
    sim.view(env, "sue", at=timedelta(minutes=2))
    sim.sign(env, "sue", at=timedelta(minutes=2, seconds=20))
    return sim, env


def rows(attempts: list[cs.Attempt]) -> list[tuple[str, str, str, str]]:
    """(event, envelope, sue, charlie) for each attempt, as the seed table has them."""
    out = []
    for attempt in attempts:
        snap = attempt.snapshot
        out.append(
            (attempt.event, snap.status, snap.recipient("sue").status,
             snap.recipient("charlie").status)
        )  # fmt: skip
    return out


def one_signer(
    mode: str = "sim", listener: Listener | None = None, envelopes: int = 1, **config: object
) -> tuple[cs.Simulation, list[cs.Envelope]]:
    """Envelopes with a single signer each, not yet sent."""
    sim = cs.Simulation(mode=mode, seed=3)
    sim.add_configuration(cs.Configuration(name="c", **config), listener=listener)  # type: ignore[arg-type]
    made = [
        sim.create_envelope(
            subject=f"Envelope {i}", recipients=[cs.Signer("Sam", "sam@example.com",
                                                           recipient_id="sam")], id=f"e{i}",
        )
        for i in range(1, envelopes + 1)
    ]  # fmt: skip
    return sim, made


async def asgi_body(receive: Any) -> bytes:
    """The whole body of an ASGI request, from its ``http.request`` messages."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body
