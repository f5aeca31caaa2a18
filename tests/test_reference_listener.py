"""The reference listener converges on any scenario; the naive ones are caught by the strategies."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, event, find, given, settings
from hypothesis import strategies as st

import connect_sim as cs
from connect_sim.listeners import Callable
from connect_sim.testing import (
    ReferenceListener,
    ScenarioPlan,
    assert_converged,
    assert_nothing_lost,
    assert_sim_order,
    drain,
)
from connect_sim.testing.reference import STATUS_RANK
from connect_sim.testing.strategies import scenarios

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
from naive_listeners import EventNameListener, LastArrivalListener

KEY = "connect-key-1"


def newest_shown(attempts: list[cs.Attempt]) -> dict[str, str]:
    """Per envelope GUID, the status of the newest moment these attempts showed.

    Read from the model (snapshots and generated times), not from the bodies.
    """
    best: dict[str, tuple[int, int, str]] = {}
    for attempt in attempts:
        status = attempt.snapshot.status
        moment = (attempt.generated, STATUS_RANK[status], status)
        guid = attempt.envelope.envelope_id
        if guid not in best or moment[:2] > best[guid][:2]:
            best[guid] = moment
    return {guid: moment[2] for guid, moment in best.items()}


def newest_delivered(result: cs.Result) -> dict[str, str]:
    """The newest status any delivered message showed: what a listener must know when
    nothing was lost."""
    return newest_shown([attempt for attempt in result.attempts if attempt.ok])


def run_with(plan: ScenarioPlan, mode: str, handler: object) -> cs.Result:
    return drain(plan.build(mode, listener=Callable(handler)))  # type: ignore[arg-type]


ANY_SCENARIO = st.one_of(
    scenarios(max_configurations=3, anomalies=True),
    scenarios(max_configurations=3, anomalies=True, recovering=False),  # flaky for good, too slow
)


@pytest.mark.parametrize("mode", ["sim", "aggregate"])
@given(plan=ANY_SCENARIO)
def test_the_reference_listener_converges_whatever_the_scenario(
    mode: str, plan: ScenarioPlan
) -> None:
    reference = ReferenceListener()
    seen: set[bytes] = set()

    def handler(body: bytes, headers: Mapping[str, str]) -> int:
        seen.add(body)
        return reference(body, headers)

    result = run_with(plan, mode, handler)
    assert_sim_order(result)
    # Always: the listener knows the newest status of every message that reached it (one
    # that took too long reached it, though Connect counts it as failed).
    assert reference.statuses == newest_shown([a for a in result.attempts if a.body in seen])
    # And when nothing was lost, that is the truth.
    if lost(result):
        event("a message was lost (dropped, failed for good, or never released)")
        return
    assert reference.statuses == newest_delivered(result)
    assert_converged(result, reference.statuses)


def lost(result: cs.Result) -> bool:
    try:
        assert_nothing_lost(result)
    except AssertionError:
        return True
    return False


@pytest.mark.parametrize("mode", ["sim", "aggregate"])
@given(plan=scenarios(max_configurations=2))
def test_the_reference_listener_checks_signatures(mode: str, plan: ScenarioPlan) -> None:
    reference = ReferenceListener(hmac_keys=["new key", KEY])  # in the middle of a rotation
    result = drain(plan.build(mode, listener=Callable(reference), hmac_keys=[KEY]))
    assert reference.statuses == newest_delivered(result)
    if not lost(result):
        assert_converged(result, reference.statuses)
    forged = ReferenceListener(hmac_keys=["another key"])
    result = plan.build(mode, listener=Callable(forged), hmac_keys=[KEY]).run()
    assert forged.statuses == {}
    assert {a.status for a in result.attempts} <= {401, 404, 500, 503, None}


def caught(listener_type: type, mode: str, plan: ScenarioPlan) -> bool:
    """True when a listener of this type ends up wrong where the reference is right."""
    naive = listener_type()
    result = run_with(plan, mode, naive)
    best = newest_delivered(result)
    return any(naive.statuses.get(guid) != status for guid, status in best.items())


# Finding is the point, not the smallest example: no shrinking.
SEARCH = settings(max_examples=3000, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))  # fmt: skip


def test_the_strategies_catch_a_listener_that_trusts_event_names() -> None:
    plan = find(scenarios(max_configurations=1),
                lambda plan: caught(EventNameListener, "aggregate", plan), settings=SEARCH)  # fmt: skip
    assert caught(EventNameListener, "aggregate", plan)
    reference = ReferenceListener()
    assert_converged(run_with(plan, "aggregate", reference), reference.statuses)


def test_the_strategies_catch_a_listener_that_lets_the_last_arrival_win() -> None:
    plan = find(scenarios(max_configurations=2, all_events=False),
                lambda plan: caught(LastArrivalListener, "sim", plan), settings=SEARCH)  # fmt: skip
    assert len(plan.configurations) == 2
    reference = ReferenceListener()
    result = run_with(plan, "sim", reference)
    assert reference.statuses == newest_delivered(result)


def test_the_cautionary_tales_in_examples_tell_true_stories() -> None:
    import naive_listeners

    for story in (naive_listeners.aggregate_retry_story, naive_listeners.two_queues_story):
        truth, naive, reference = story()
        assert naive != truth and reference == truth


def test_generated_plans_print_as_python_that_rebuilds_them() -> None:
    # The imports connect_sim.testing.plans documents for pasting a failing example.
    namespace: dict[str, object] = {}
    exec(
        "import datetime\nfrom connect_sim import *\nfrom connect_sim.listeners import *\n"
        "from connect_sim.testing import *",
        namespace,
    )
    plan = find(scenarios(max_configurations=2), lambda plan: len(plan.timeline) > 2,
                settings=settings(database=None))  # fmt: skip
    assert eval(repr(plan), namespace) == plan
