"""Every recipe docs/testing-your-listener.md teaches fails for a broken listener, and says why.

The broken listeners: one that answers 401 to everything (it checks HMAC keys the
configuration does not send, or the wrong ones), one that answers 500, one whose
code raises, one that accepts everything and records nothing, and the two naive
ones of examples/naive_listeners.py (the event name in arrival order; the last
arrival wins).  The recipes: the five-minute test, the property test with
``drain`` and ``assert_converged``, and a ``ListenerStateMachine`` subclass.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.stateful import run_state_machine_as_test

import connect_sim as cs
from connect_sim.listeners import Callable, Listener
from connect_sim.testing import (
    TEST_HMAC_KEY,
    ListenerStateMachine,
    ReferenceListener,
    ScenarioPlan,
    assert_converged,
    assert_nothing_lost,
    assert_sim_order,
    drain,
)
from connect_sim.testing.strategies import scenarios

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
from naive_listeners import EventNameListener, LastArrivalListener


class Answers:
    """Answers every message with one status, and records nothing."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.statuses: dict[str, str] = {}

    def __call__(self, body: bytes, headers: Mapping[str, str]) -> int:
        return self.status


class WrongKey(ReferenceListener):
    """Checks signatures with a key the configuration does not sign with."""

    def __init__(self) -> None:
        super().__init__(hmac_keys="the production key")


class Raises(Answers):
    """Its code fails on every message (the adapter answers 500)."""

    def __init__(self) -> None:
        super().__init__(500)

    def __call__(self, body: bytes, headers: Mapping[str, str]) -> int:
        raise RuntimeError("database is down")


class RecordsNothing(Answers):
    """Accepts everything, keeps nothing."""

    def __init__(self) -> None:
        super().__init__(200)


REFUSED = r"0 of the \d+ deliveries that reached your listener were accepted"
WRONG = r"the listener is wrong about \d+ envelope\(s\)"
# listener -> what every recipe's failure must say; the modes where it is broken.
BROKEN: dict[str, tuple[type, str, tuple[str, ...]]] = {
    "always 401 (wrong key)": (WrongKey, REFUSED + r": every one got 401 [\s\S]*does your "
                               r"listener verify the signature", ("sim", "aggregate")),
    "always 500": (lambda: Answers(500), REFUSED + r": every one got 500 ",  # type: ignore[dict-item]
                   ("sim", "aggregate")),
    "raises": (Raises, r"Your listener's code failed: RuntimeError: database is down",
               ("sim", "aggregate")),
    "records nothing": (RecordsNothing, WRONG + r"[\s\S]*knows none of these envelopes",
                        ("sim", "aggregate")),
    "event name in arrival order": (EventNameListener, WRONG, ("sim", "aggregate")),
    "last arrival wins": (LastArrivalListener, WRONG + r"[\s\S]*the last arrival won", ("sim",)),
}  # fmt: skip
CASES = [(name, mode) for name, (_, _, modes) in BROKEN.items() for mode in modes]
# Failing is the point, not the smallest example: no shrinking (it changes the example the
# message is about, not what the message says).  Derandomized, so that a search that finds
# the bug finds it every time, not by luck.
FIND = settings(max_examples=1000, database=None, deadline=None, phases=[Phase.generate],
                derandomize=True, report_multiple_bugs=False,
                suppress_health_check=list(HealthCheck))  # fmt: skip


def test_the_five_minute_test_fails_and_says_the_listener_checks_keys_never_sent() -> None:
    # The first test of the docs, with a listener that checks HMAC but a configuration
    # that signs nothing: the commonest way to get every message refused.
    listener = ReferenceListener(hmac_keys="test-key")
    sim = cs.Simulation()
    sim.add_configuration(cs.Configuration(name="listener"), listener=Callable(listener))
    sue = cs.Signer("Sue Signer", "sue@example.com")
    envelope = sim.create_envelope("Please sign", [sue])
    sim.send(envelope)
    sim.sign(envelope, sue, at=timedelta(minutes=2))
    result = sim.run()
    assert listener.status(envelope.envelope_id) != "completed"  # the docs' own assertion fails
    for check in (assert_sim_order, assert_nothing_lost,
                  lambda r: assert_converged(r, listener.statuses)):  # fmt: skip
        with pytest.raises(AssertionError) as failure:
            check(result)
        text = str(failure.value)
        assert "0 of the 66 deliveries that reached your listener were accepted" in text  # 6 x 11
        assert ": every one got 401 (the first: #1 recipient-sent" in text
        assert "does your listener check HMAC keys the configuration does not send?" in text


@pytest.mark.parametrize(("name", "mode"), CASES)
def test_the_property_recipe_fails_for_a_broken_listener(name: str, mode: str) -> None:
    make, message, _ = BROKEN[name]

    @FIND
    @given(plan=scenarios(max_configurations=2))
    def test_converges(plan: ScenarioPlan) -> None:  # as the docs write it
        listener = make()
        result = drain(plan.build(mode, listener=Callable(listener)))
        assert_converged(result, listener.statuses)

    with pytest.raises(AssertionError, match=message):
        test_converges()


@pytest.mark.parametrize(("name", "mode"), CASES)
def test_the_state_machine_fails_for_a_broken_listener(name: str, mode: str) -> None:
    make, message, _ = BROKEN[name]

    class Machine(ListenerStateMachine):
        def listener(self) -> Listener:
            self.under_test = make()
            return Callable(self.under_test)

        def status_of(self, envelope_id: str) -> str | None:
            return self.under_test.statuses.get(envelope_id)  # type: ignore[no-any-return]

    Machine.mode = mode  # type: ignore[misc]
    with pytest.raises(AssertionError, match=message):
        run_state_machine_as_test(Machine, settings=FIND)


def test_a_listener_that_checks_the_test_key_passes_every_recipe() -> None:
    # The other side: the recipes' default key is the one a correct listener is given.
    class Machine(ListenerStateMachine):
        mode: ClassVar[str] = "aggregate"

        def listener(self) -> Listener:
            self.reference = ReferenceListener(hmac_keys=TEST_HMAC_KEY)
            return Callable(self.reference)

        def status_of(self, envelope_id: str) -> str | None:
            return self.reference.status(envelope_id)

    run_state_machine_as_test(Machine, settings=settings(max_examples=30, database=None,
                                                         deadline=None))  # fmt: skip

    @settings(max_examples=30, database=None, deadline=None)
    @given(plan=scenarios(max_configurations=2))
    def test_converges(plan: ScenarioPlan) -> None:
        reference = ReferenceListener(hmac_keys=TEST_HMAC_KEY)
        assert_converged(
            drain(plan.build("sim", listener=Callable(reference))), reference.statuses
        )

    test_converges()
