"""The scheduler's order: actions added while it runs go where a stable sort would put them.

Actions added during a run wait on a heap of their own (see the scheduler's
theory of operation) instead of re-sorting the timeline; the order they run in
must be the one the simple rule gives: at each step, everything still to run,
sorted stably by instant, in the order given.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connect_sim.scheduler import Scheduler

# An action: (instant, name, instants of the actions it adds when it runs).
Plan = list[tuple[int, str, list[int]]]


@st.composite
def plans(draw: st.DrawFn) -> tuple[Plan, dict[str, list[int]]]:
    """Actions given before the run, and per action name, the instants it adds (not earlier)."""
    instants = st.integers(0, 6)
    first = draw(st.lists(instants, min_size=1, max_size=8))
    plan: Plan = []
    adds: dict[str, list[int]] = {}
    counter = 0

    def name() -> str:
        nonlocal counter
        counter += 1
        return f"a{counter}"

    frontier = [(time, name()) for time in first]
    for time, label in frontier:
        plan.append((time, label, []))
    # Some actions add others, at their own instant or later, up to three levels deep.
    level = [(time, label) for time, label, _ in plan]
    for _ in range(3):
        following = []
        for time, label in level:
            extra = draw(st.lists(st.integers(time, time + 4), max_size=2))
            adds[label] = extra
            following.extend((t, f"{label}>{i}") for i, t in enumerate(extra))
        level = following
    return plan, adds


def reference_order(plan: Plan, adds: dict[str, list[int]]) -> list[str]:
    """The rule, written plainly: re-sort everything pending, stably, after every step."""
    pending = [(time, label) for time, label, _ in plan]
    pending.sort(key=lambda item: item[0])
    order = []
    while pending:
        _, label = pending.pop(0)
        order.append(label)
        pending.extend((t, f"{label}>{i}") for i, t in enumerate(adds.get(label, [])))
        pending.sort(key=lambda item: item[0])
    return order


def scheduler_order(plan: Plan, adds: dict[str, list[int]], stop_every: int | None) -> list[str]:
    scheduler = Scheduler()
    order: list[str] = []

    def perform(action: tuple[int, str]) -> None:
        order.append(action[1])
        for i, t in enumerate(adds.get(action[1], [])):
            scheduler.add((t, f"{action[1]}>{i}"))

    for time, label, _ in plan:
        scheduler.add((time, label))
    if stop_every is None:
        scheduler.run(perform)
    else:  # stopped and started again: what is left on the heap is folded back in between
        until = 0
        while scheduler.next_time() is not None:
            scheduler.run(perform, until=until)
            until += stop_every
    return order


@given(plans(), st.one_of(st.none(), st.integers(1, 3)))
def test_actions_added_while_running_run_in_stable_sorted_order(
    drawn: tuple[Plan, dict[str, list[int]]], stop_every: int | None
) -> None:
    plan, adds = drawn
    assert scheduler_order(plan, adds, stop_every) == reference_order(plan, adds)


def test_a_late_action_waits_for_the_timers_of_an_earlier_instant_only() -> None:
    scheduler = Scheduler()
    seen: list[str] = []

    def perform(action: tuple[int, str]) -> None:
        seen.append(f"{action[1]}@{scheduler.now}")

    def timer(label: str) -> None:
        seen.append(f"{label}@{scheduler.now}")
        if label == "t1":  # a timer adding an action for its own instant and a later one
            scheduler.add((5, "late-now"))
            scheduler.add((6, "late-next"))

    scheduler.add((5, "given"))
    scheduler.add((6, "given-next"))
    scheduler.at(5, timer, "t1")
    scheduler.at(5, timer, "t2")
    scheduler.at(6, timer, "t3")
    scheduler.run(perform)
    # At 5: the action, then the timers; the action a timer added for 5 runs after them.
    # At 6: the action given before the run, then the late one, then the timer.
    assert seen == ["given@5", "t1@5", "t2@5", "late-now@5", "given-next@6", "late-next@6",
                    "t3@6"]  # fmt: skip
    assert len(scheduler) == 0


class Refused(Exception):
    pass


@pytest.mark.parametrize("late_at", [3, 1])  # a later instant (the heap), or its own (a deque)
def test_a_late_action_refused_is_met_again_by_the_next_run(late_at: int) -> None:
    scheduler = Scheduler()
    seen: list[str] = []
    refuse = {"late"}

    def perform(action: tuple[int, str]) -> None:
        if action[1] in refuse:
            raise Refused(action[1])
        seen.append(action[1])
        if action[1] == "first":
            scheduler.add((late_at, "late"))
            scheduler.add((late_at, "later"))

    scheduler.add((1, "first"))
    scheduler.add((3, "given"))
    with pytest.raises(Refused):
        scheduler.run(perform)
    scheduler.put_back()
    assert len(scheduler) == 3 - (late_at == 3) and scheduler.next_time() == late_at
    refuse.clear()
    scheduler.run(perform)
    expected = ["first", "given", "late", "later"]
    assert seen == (expected if late_at == 3 else ["first", "late", "later", "given"])


def test_an_action_added_between_callbacks_is_placed_before_the_clock_moves_on() -> None:
    # What runs between callbacks (a sink, in a simulation) may add actions at the clock;
    # they wait behind what was given before them and the clock never goes back.
    scheduler = Scheduler()
    seen: list[str] = []

    def perform(action: tuple[int, str]) -> None:
        seen.append(f"{action[1]}@{scheduler.now}")
        if action[1] == "B":
            scheduler.add((5, "D"))  # at its own instant

    def between() -> None:
        if seen[-1] == "A@1":
            scheduler.add((1, "X"))

    for action in ((1, "A"), (5, "B"), (5, "C")):
        scheduler.add(action)
    scheduler.run(perform, between=between)
    assert seen == ["A@1", "X@1", "B@5", "C@5", "D@5"]
