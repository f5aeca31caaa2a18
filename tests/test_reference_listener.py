"""The reference listener converges on any scenario; the naive ones are caught by the strategies."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, event, find, given, settings, target
from hypothesis import strategies as st

import connect_sim as cs
from connect_sim.listeners import Callable
from connect_sim.testing import (
    TEST_HMAC_KEY,
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


def run_with(plan: ScenarioPlan, mode: str, handler: object, **build: object) -> cs.Result:
    return drain(plan.build(mode, listener=Callable(handler), **build))  # type: ignore[arg-type]


def lost(result: cs.Result) -> bool:
    try:
        assert_nothing_lost(result)
    except AssertionError:
        return True
    return False


def hard_cases(result: cs.Result) -> list[str]:
    """The cases that are rare and matter: what a property must keep seeing."""
    cases = []
    if any(a.ok and a.number > 1 and not a.duplicate and result.mode(a.configuration) ==
           "aggregate" for a in result.attempts):  # fmt: skip
        cases.append("an Aggregate retry released by a later success was delivered")
    if any("retries exhausted" in f.reason for name in result.configurations
           for f in result.failures(name)):  # fmt: skip
        cases.append("a message used up its retries")
    if lost(result):
        cases.append("a message was lost (dropped, failed for good, or never released)")
    return cases


ANY_SCENARIO = st.one_of(
    scenarios(anomalies=True),
    scenarios(anomalies=True, recovering=False),  # flaky for good, too slow
)


@pytest.mark.parametrize("mode", ["sim", "aggregate"])
@given(plan=ANY_SCENARIO)
def test_the_reference_listener_converges_whatever_the_scenario(
    mode: str, plan: ScenarioPlan
) -> None:
    reference = ReferenceListener(hmac_keys=TEST_HMAC_KEY)  # every generated body is verified
    seen: set[bytes] = set()

    def handler(body: bytes, headers: Mapping[str, str]) -> int:
        seen.add(body)
        return reference(body, headers)

    result = run_with(plan, mode, handler)
    for case in hard_cases(result):
        event(case)
    # Steer towards long retry stories, where listeners go wrong.
    target(float(max((a.number for a in result.attempts), default=0)), label="longest retry")
    assert reference.accepted == sum(1 for a in result.attempts if a.reached_listener)
    assert_sim_order(result)
    # The listener knows the newest status of every body that reached it (one that took
    # too long reached it, though Connect counts it as failed): an oracle that reads only
    # the bodies it was given, not the helpers under test.
    assert reference.statuses == newest_shown([a for a in result.attempts if a.body in seen])
    assert_converged(result, reference.statuses)


@pytest.mark.parametrize("mode", ["sim", "aggregate"])
@given(plan=scenarios())
def test_the_reference_listener_checks_signatures(mode: str, plan: ScenarioPlan) -> None:
    reference = ReferenceListener(hmac_keys=["new key", KEY])  # in the middle of a rotation
    result = run_with(plan, mode, reference, hmac_keys=KEY)
    assert_converged(result, reference.statuses)
    forged = ReferenceListener(hmac_keys="another key")
    result = plan.build(mode, listener=Callable(forged), hmac_keys=KEY).run()
    assert forged.statuses == {}
    assert {a.status for a in result.attempts if a.reached_listener} <= {401}
    unsigned = plan.build(mode, listener=Callable(ReferenceListener(KEY)), hmac_keys=()).run()
    assert {a.status for a in unsigned.attempts if a.reached_listener} <= {401}


# Finding is the point, not the smallest example: no shrinking; derandomized, so a
# narrowing of the strategies that stops making a case fails here the same way every run.
SEARCH = settings(max_examples=3000, database=None, phases=[Phase.generate], derandomize=True,
                  suppress_health_check=list(HealthCheck))  # fmt: skip


@pytest.mark.parametrize(
    ("mode", "case"),
    [
        ("aggregate", "an Aggregate retry released by a later success was delivered"),
        ("sim", "a message used up its retries"),  # (rare under Aggregate: daily releases)
        ("sim", "a message was lost (dropped, failed for good, or never released)"),
    ],
)
def test_the_strategies_still_make_the_hard_cases(mode: str, case: str) -> None:
    def makes(plan: ScenarioPlan) -> bool:
        return case in hard_cases(run_with(plan, mode, ReferenceListener()))

    assert makes(find(scenarios(), makes, settings=SEARCH))


def caught(listener_type: type, mode: str, plan: ScenarioPlan) -> bool:
    """True when the documented recipe (drain, then assert_converged) fails this listener."""
    naive = listener_type()
    try:
        assert_converged(run_with(plan, mode, naive), naive.statuses)
    except AssertionError:
        return True
    return False


def test_the_strategies_catch_a_listener_that_trusts_event_names() -> None:
    plan = find(scenarios(max_configurations=1),
                lambda plan: caught(EventNameListener, "aggregate", plan), settings=SEARCH)  # fmt: skip
    assert caught(EventNameListener, "aggregate", plan)
    reference = ReferenceListener()
    assert_converged(run_with(plan, "aggregate", reference), reference.statuses)


def test_the_strategies_catch_a_listener_that_lets_the_last_arrival_win() -> None:
    # Under SIM.  (Under Aggregate every attempt carries the status at its own start, so
    # the last to arrive is also the newest: that listener is right there, by luck.)
    plan = find(scenarios(), lambda plan: caught(LastArrivalListener, "sim", plan),
                settings=SEARCH)  # fmt: skip
    assert len(plan.configurations) >= 2
    reference = ReferenceListener()
    assert_converged(run_with(plan, "sim", reference), reference.statuses)


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
    plan = find(scenarios(), lambda plan: len(plan.timeline) > 2 and any(
        step.reason for step in plan.timeline), settings=SEARCH)  # fmt: skip
    assert eval(repr(plan), namespace) == plan


@pytest.mark.parametrize("mode", ["sim", "aggregate"])
@given(plan=scenarios(administered=True))
def test_the_reference_listener_converges_through_pauses_deletes_and_republishes(
    mode: str, plan: ScenarioPlan
) -> None:
    # A republished current-state message is generated later than what it replaces, so the
    # newest status still wins; SIM's order holds for each queue (a synchronous republish
    # goes outside it); the invariants hold throughout.
    reference = ReferenceListener(hmac_keys=TEST_HMAC_KEY)
    result = run_with(plan, mode, reference)
    event(f"{sum(1 for r in result.republishes())} republish results")
    assert_sim_order(result)
    assert_converged(result, reference.statuses)
    result.simulation.check()


def test_administered_scenarios_do_administer() -> None:
    # The strategy reaches the cases it is for: a republish that withdraws, a skip, a delete.
    def republishes(plan: ScenarioPlan) -> bool:
        return any(r.withdrawn for r in plan.build("sim").run().republishes())

    def skips(plan: ScenarioPlan) -> bool:
        result = plan.build("sim").run()
        return any(result.skips(name) for name in result.configurations)

    for wanted in (republishes, skips):
        assert wanted(find(scenarios(administered=True), wanted, settings=SEARCH))
