"""The assertions of connect_sim.testing fail with a table of the messages concerned."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connect_sim.listeners import Outage
from connect_sim.testing import assert_converged, assert_nothing_lost, assert_sim_order

from builders import seed_example


def test_sim_order_names_the_message_that_arrived_late() -> None:
    sim, _ = seed_example("sim")
    result = sim.run()
    assert_sim_order(result)
    result.channel("listener").delivered.reverse()  # as if the queue had broken its promise
    with pytest.raises(AssertionError) as error:
        assert_sim_order(result)
    lines = str(error.value).splitlines()
    assert lines[0] == "5 SIM message(s) arrived out of order:"
    assert lines[1].split() == [
        "#",
        "configuration",
        "event",
        "envelope",
        "at",
        "what",
        "happened",
    ]
    assert lines[3].split() == ["5", "listener", "recipient-completed", "(charlie)", "e1", "2m20s",
                                "arrived", "after", "#6"]  # fmt: skip


def test_nothing_lost_shows_what_became_of_each_lost_message() -> None:
    down = Outage(windows=[(timedelta(0), timedelta(days=30))], status=503)
    sim, _ = seed_example("aggregate", listener=down, max_retries=2)
    result = sim.run()
    with pytest.raises(AssertionError) as error:
        assert_nothing_lost(result)
    text = str(error.value)
    assert text.startswith("2 message(s) never delivered:")
    assert "envelope-sent" in text and "envelope-completed" in text
    assert "retry" in text  # failed, waiting for a later success that never comes


def test_converged_shows_the_truth_beside_what_the_listener_says() -> None:
    sim, env = seed_example("sim")
    result = sim.run()
    assert_converged(result, {env.envelope_id: "completed"})
    with pytest.raises(AssertionError) as error:
        assert_converged(result, lambda guid: "sent")
    lines = str(error.value).splitlines()
    assert lines[0] == "the listener is wrong about 1 envelope(s):"
    assert lines[3].split()[0] == "e1" and lines[3].split()[2:5] == [
        "completed", "sent", "#6"
    ]  # fmt: skip
