"""The seed example of DESIGN.md section 6, exactly, in both modes."""

from __future__ import annotations

from datetime import timedelta

import connect_sim as cs

from builders import rows, seed_example

SEED_TABLE = [
    ("recipient-sent", "created", "sent", "created"),
    ("envelope-sent", "sent", "sent", "created"),
    ("recipient-delivered", "sent", "delivered", "created"),
    ("recipient-completed", "sent", "completed", "created"),
    ("recipient-completed", "sent", "completed", "completed"),
    ("envelope-completed", "completed", "completed", "completed"),
]


def test_sim_delivers_the_six_messages_of_the_table() -> None:
    sim, _ = seed_example("sim")
    received = sim.run().received("listener")
    assert rows(received) == SEED_TABLE
    assert [a.sequence for a in received] == [1, 2, 3, 4, 5, 6]
    assert [a.recipient.recipient_id if a.recipient else None for a in received] == [
        "sue", None, "sue", "sue", "charlie", None,
    ]  # fmt: skip
    # SIM: the generated time is the event's time.
    assert [a.generated for a in received] == [0, 0, 120_000, 140_000, 140_000, 140_000]


def test_aggregate_delivers_messages_2_and_6_with_status_at_send_time() -> None:
    sim, _ = seed_example("aggregate")
    received = sim.run().received("listener")
    assert rows(received) == [SEED_TABLE[1], SEED_TABLE[5]]
    assert [a.merged_events for a in received] == [
        ("recipient-sent", "envelope-sent"),
        (
            "recipient-delivered",
            "recipient-completed",
            "recipient-completed",
            "envelope-completed",
        ),
    ]
    # Sent one aggregation window after the first event of each burst, stamped then.
    assert [a.time for a in received] == [60_000, 180_000]
    assert [a.generated for a in received] == [60_000, 180_000]


def test_sue_signing_snapshot_shows_charlie_still_created() -> None:
    sim, _ = seed_example("sim")
    result = sim.run()
    signed = next(e for e in result.events if e.name == "recipient-completed")
    assert signed.recipient is not None and signed.recipient.recipient_id == "sue"
    assert signed.snapshot.recipient("charlie").status == "created"
    assert sim.state("e1").recipient("charlie").status == "completed"


def test_a_slower_sign_splits_the_aggregate_burst() -> None:
    # Sue signs more than a window after viewing: the view goes out on its own.
    sim = cs.Simulation(mode="aggregate", seed=1)
    sim.add_configuration(cs.Configuration(name="listener"))
    env = sim.create_envelope(
        "Please sign",
        [
            cs.Signer("Sue", "s@example.com", 1, "sue"),
            cs.CarbonCopy("Charlie", "c@x", 2, "charlie"),
        ],
    )
    sim.send(env, at=timedelta(0))
    sim.view(env, "sue", at=timedelta(minutes=2))
    sim.sign(env, "sue", at=timedelta(minutes=5))
    received = sim.run().received("listener")
    assert [a.event for a in received] == ["envelope-sent", "recipient-delivered",
                                           "envelope-completed"]  # fmt: skip
    assert received[1].snapshot.recipient("sue").status == "delivered"
