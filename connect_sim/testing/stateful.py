"""A Hypothesis state machine that drives your listener through Connect's worst days.

Subclass :class:`ListenerStateMachine`, say how to reach your listener and how
to ask it what it believes, and Hypothesis does the rest: it creates, sends,
views, signs, declines and voids envelopes, lets time pass (hours, days: long
enough for Connect's daily retries), and breaks and repairs the endpoints of
two configurations that feed your listener, in every order it can think of.
After every step your listener must have accepted everything that reached
it; whenever the queues have drained it must say every envelope's newest
status; at the end, with everything delivered, every envelope's true status.
Messages are signed with :data:`~connect_sim.testing.TEST_HMAC_KEY`.

    class TestMyListener(ListenerStateMachine):
        mode = "aggregate"

        def listener(self):
            self.app = make_app()                  # a fresh app per example
            return Wsgi(self.app)

        def status_of(self, envelope_id):
            return self.app.db.status(envelope_id)  # None if it never heard of it

    TestMyListener.TestCase.settings = settings(max_examples=50)
    test_my_listener = TestMyListener.TestCase
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from ..configuration import Configuration
from ..envelope import CREATED, Envelope, Recipient
from ..errors import InvalidAction
from ..lifecycle import apply
from ..listeners import Degraded, Listener
from ..result import Result
from ..simulation import Simulation
from .assertions import assert_converged, assert_nothing_lost
from .diagnosis import refusal_report, refusals
from .plans import TEST_HMAC_KEY
from .running import drain, nothing_pending
from .strategies import recipients

if TYPE_CHECKING:
    from ..delivery.records import Attempt

__all__ = ["ListenerStateMachine"]

_WAITS = (timedelta(seconds=1), timedelta(seconds=59), timedelta(minutes=2), timedelta(hours=1),
          timedelta(days=1, minutes=1), timedelta(days=3))  # fmt: skip


class _Switch:
    """An endpoint's availability: a behaviour the machine turns off and on."""

    def __init__(self) -> None:
        self.down = False

    def session(self, rng: random.Random) -> _Switch:
        return self

    def respond(self, attempt: Attempt) -> tuple[int | None, int]:
        return (503, 0) if self.down else (200, 0)


class ListenerStateMachine(RuleBasedStateMachine):
    """Rules that drive a listener; invariants that it accepts and converges. Subclass it.

    Implement :meth:`listener` (your listener as a connect-sim listener, such
    as ``Callable(handler)`` or ``Wsgi(app)``) and :meth:`status_of` (what your
    listener believes an envelope's status is, by envelope GUID).  Set
    ``mode`` to ``"aggregate"`` for the other algorithm, and
    ``configurations`` for other formats, events or keys.
    """

    #: The delivery algorithm the machine runs.
    mode: ClassVar[str] = "sim"
    #: The configurations that deliver to your listener, each behind its own switch, so
    #: that one queue can fall a day behind the other.  The first subscribes to every
    #: status; the second only to ``envelope-sent``, like an envelope's own notification,
    #: so its late messages are stale.  Both sign with :data:`TEST_HMAC_KEY`.  Their
    #: retries outlast any outage the machine makes (Connect's ten would put long outages
    #: in the failure log, and a listener cannot know what it was never sent).
    configurations: ClassVar[tuple[Configuration, ...]] = (
        Configuration(name="listener", include_data=["recipients"], max_retries=1000,
                      hmac_keys=[TEST_HMAC_KEY]),
        Configuration(name="sent-only", events=["envelope-sent"], format="xml",
                      max_retries=1000, hmac_keys=[TEST_HMAC_KEY]),
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.switches = [_Switch() for _ in self.configurations]
        self.simulation = Simulation(mode=self.mode, seed=0)
        self._checked = 0  # attempts the refusal check has seen
        self.envelopes: list[Envelope] = []
        #: Set once a check has failed: the teardown then leaves the example as it is.
        self.failed = False

    def listener(self) -> Listener:
        """Your listener, fresh for each example (called once per example)."""
        raise NotImplementedError("ListenerStateMachine: define listener()")

    def status_of(self, envelope_id: str) -> str | None:
        """What your listener believes the envelope's status is (``None``: never heard)."""
        raise NotImplementedError("ListenerStateMachine: define status_of(envelope_id)")

    # -- driving ------------------------------------------------------------------

    @initialize()
    def connect(self) -> None:
        """Point every configuration at the listener, each through its own switch."""
        listener = self.listener()
        for configuration, switch in zip(self.configurations, self.switches, strict=True):
            self.simulation.add_configuration(
                configuration.for_mode(self.mode), listener=Degraded(listener, switch)
            )

    def _now(self) -> timedelta:
        return timedelta(milliseconds=self.simulation.now)

    def _play(self) -> None:
        self.simulation.run(until=self._now())

    @rule(people=recipients(max_size=3))
    def create(self, people: tuple[Recipient, ...]) -> None:
        """The sender makes a draft."""
        number = len(self.envelopes) + 1
        envelope = self.simulation.create_envelope(
            f"Envelope {number}", list(people), id=f"e{number}", at=self._now()
        )
        self.envelopes.append(envelope)
        self._play()

    @precondition(lambda self: bool(self.envelopes))
    @rule(data=st.data())
    def send(self, data: st.DataObject) -> None:
        """The sender sends a draft."""
        drafts = [e for e in self.envelopes if self.simulation.state(e).status == CREATED]
        if drafts:
            self._try("send", data.draw(st.sampled_from(drafts)), None)

    @precondition(lambda self: bool(self.envelopes))
    @rule(data=st.data(), action=st.sampled_from(["view", "sign", "decline"]))
    def recipient_acts(self, data: st.DataObject, action: str) -> None:
        """A recipient views, signs or declines (if the envelope's state allows it)."""
        envelope = data.draw(st.sampled_from(self.envelopes))
        index = data.draw(st.integers(0, len(envelope.recipients) - 1))
        self._try(action, envelope, index)

    @precondition(lambda self: bool(self.envelopes))
    @rule(data=st.data())
    def void(self, data: st.DataObject) -> None:
        """The sender voids an envelope in progress."""
        self._try("void", data.draw(st.sampled_from(self.envelopes)), None)

    def _try(self, action: str, envelope: Envelope, index: int | None) -> None:
        # Only what the lifecycle allows now: a listener is not tested on impossible input.
        try:
            apply(self.simulation.state(envelope), action, self.simulation.now, index)
        except InvalidAction:
            return
        who = None if index is None else envelope.recipients[index].recipient_id
        self.simulation.act(action, envelope, who, at=self._now())
        self._play()

    @rule(wait=st.sampled_from(_WAITS))
    def wait(self, wait: timedelta) -> None:
        """Time passes: Aggregate windows close, daily retries come due."""
        self.simulation.run(until=self._now() + wait)

    @rule(data=st.data())
    def break_listener(self, data: st.DataObject) -> None:
        """One configuration's endpoint goes down: attempts get 503, never reaching your code."""
        data.draw(st.sampled_from(self.switches)).down = True

    @rule(data=st.data())
    def repair_listener(self, data: st.DataObject) -> None:
        """An endpoint comes back (queued messages wait for their retries)."""
        data.draw(st.sampled_from(self.switches)).down = False

    # -- checking -----------------------------------------------------------------

    @invariant()
    def accepts_every_message(self) -> None:
        """Your listener answered 2xx to every message that reached it."""
        # This runs after every step: look at each attempt once, and build the whole
        # report (over every attempt) only when a new one was refused.
        checked, self._checked = self._checked, len(self.simulation.attempts)
        if self.simulation._channels and refusals(Result(self.simulation), since=checked):
            report = refusal_report(Result(self.simulation))
            if report is not None:
                self.failed = True
                raise AssertionError(report)

    @invariant()
    def converged_once_drained(self) -> None:
        """With nothing left to deliver, the listener knows every envelope's status."""
        result = Result(self.simulation)
        if self.envelopes and nothing_pending(result):
            self.failed = True  # until the check passes
            assert_converged(result, self.status_of)
            self.failed = False

    def teardown(self) -> None:
        """Repair every endpoint, deliver everything that is left, and check the truth.

        Aggregate retries a failed message only after a later message succeeds,
        a day or more after the failure: :func:`~connect_sim.testing.drain`
        sends that later traffic.  Then every message must have been delivered
        and your listener must know every envelope's true status.  Nothing of
        this runs after a failed check: the example has failed already.
        """
        if self.failed or not self.simulation._channels:
            return
        for switch in self.switches:
            switch.down = False
        # A day first: every waiting retry comes due in it, so a listener that refuses
        # them fails here, not after a thousand days of retries.
        self.simulation.run(until=self._now() + timedelta(days=1, minutes=1))
        self.accepts_every_message()
        result = drain(self.simulation)
        self.accepts_every_message()
        assert_nothing_lost(result)
        assert_converged(result, self.status_of)
