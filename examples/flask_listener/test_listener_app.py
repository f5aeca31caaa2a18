"""The Flask listener's own tests: connect-sim's fixture, strategies and state machine."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from listener_app import create_app

import connect_sim as cs
from connect_sim.listeners import Listener, Wsgi
from connect_sim.testing import (
    TEST_HMAC_KEY,
    ListenerStateMachine,
    ScenarioPlan,
    assert_converged,
    assert_nothing_lost,
    drain,
)
from connect_sim.testing.strategies import scenarios

# The key connect-sim's recipes sign with unless told otherwise: the listener's test key.
KEYS = [TEST_HMAC_KEY]


def status_in(app, envelope_id):  # what the app says, through its own HTTP API
    return app.test_client().get(f"/envelopes/{envelope_id}").get_json()["status"]


@pytest.mark.both_delivery_modes
def test_sue_and_charlie(connect_sim):
    app = create_app(KEYS)
    connect_sim.add_configuration(
        cs.Configuration(name="listener", hmac_keys=KEYS), listener=Wsgi(app)
    )
    sue = cs.Signer("Sue Signer", "sue@example.com", routing_order=1)
    charlie = cs.CarbonCopy("Charlie Copy", "charlie@example.com", routing_order=2)
    envelope = connect_sim.create_envelope("Please sign", [sue, charlie])
    connect_sim.send(envelope)
    connect_sim.sign(envelope, sue, at=timedelta(minutes=2))
    result = connect_sim.run()
    assert_nothing_lost(result)
    assert status_in(app, envelope.envelope_id) == "completed"


def test_unsigned_messages_are_refused(connect_sim):
    app = create_app(KEYS)
    connect_sim.add_configuration(cs.Configuration(name="listener"), listener=Wsgi(app))
    connect_sim.send(connect_sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com")]))
    result = connect_sim.run()
    assert {attempt.status for attempt in result.attempts} == {401}


@pytest.mark.parametrize("mode", ["sim", "aggregate"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=scenarios(anomalies=True))
def test_converges_on_any_scenario(mode: str, plan: ScenarioPlan) -> None:
    app = create_app(KEYS)
    result = drain(plan.build(mode, listener=Wsgi(app)))  # signed with TEST_HMAC_KEY
    # The newest status of whatever reached the app, for every envelope; a failure says
    # what the app refused or got wrong.
    assert_converged(result, lambda envelope_id: status_in(app, envelope_id))


class FlaskListenerMachine(ListenerStateMachine):
    mode: ClassVar[str] = "aggregate"  # two configurations (JSON and XML), signed with KEYS

    def listener(self) -> Listener:
        self.app = create_app(KEYS)
        return Wsgi(self.app)

    def status_of(self, envelope_id: str) -> str | None:
        return status_in(self.app, envelope_id)


FlaskListenerMachine.TestCase.settings = settings(max_examples=30, deadline=None)
TestFlaskListenerMachine = FlaskListenerMachine.TestCase
