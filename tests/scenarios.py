"""Hypothesis strategies for whole scenarios, used by the property tests.

A scenario is plain data (envelopes, a timeline that the lifecycle allows,
configurations with listeners), so the same one can be built under both
delivery modes and checked against rules stated in the tests.

The listeners reach the hard cases of delivery: outages of up to twelve days
(longer than SIM's ten daily retries), answers that are no 2xx (3xx among
them), no answer at all, answers after the timeout, and a listener that
rejects every message of one envelope while the others succeed (so Aggregate
can use up its retries too).  Declines and voids carry reasons.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from hypothesis import strategies as st

import connect_sim as cs
from connect_sim.envelope import initial_state
from connect_sim.events import DEFAULT_EVENTS
from connect_sim.lifecycle import apply
from connect_sim.listeners import AlwaysOk, Flaky, Outage, Scripted

if TYPE_CHECKING:
    from connect_sim.delivery.records import Attempt

KINDS = [cs.Signer, cs.Signer, cs.CarbonCopy, cs.CertifiedDelivery, cs.Agent, cs.InPersonSigner]
STEPS = ["view", "sign", "sign", "decline", "void", "bounce", "fail_authentication",
         "resend", "resend_recipient", "correct"]  # fmt: skip
MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
#: Why a recipient declines or a sender voids: none given, empty, plain, XML-special, not ASCII.
REASONS = st.one_of(
    st.none(), st.sampled_from(["", "Wrong amount", "Expired", 'Prix < 100 € & "TVA"', "期限切れ"])
)
#: Failed answers: server errors, a client error, redirects (no 2xx, so failures too).
FAILURES = [500, 503, 404, 302, 301]


@dataclass
class Plan:
    """A scenario as data."""

    envelopes: list[tuple[str, list[cs.Recipient], int]] = field(default_factory=list)
    #: ``(time, action, envelope id, recipient id or None, reason or None)``, in the order given.
    actions: list[tuple[int, str, str, str | None, str | None]] = field(default_factory=list)
    configurations: list[tuple[cs.Configuration, object, str | None]] = field(default_factory=list)
    #: Per envelope id: its custom fields and documents, when a test gives it some.
    custom_fields: dict[str, dict[str, str]] = field(default_factory=dict)
    documents: dict[str, list[cs.Document]] = field(default_factory=dict)

    def build(self, mode: str, seed: int = 0) -> cs.Simulation:
        sim = cs.Simulation(mode=mode, seed=seed)
        made = {}
        for envelope_id, recipients, created in self.envelopes:
            made[envelope_id] = self.create(sim, envelope_id, recipients, created)
        for configuration, listener, scope in self.configurations:
            envelope = None if scope is None else made[scope]
            sim.add_configuration(
                configuration.for_mode(mode),
                listener=listener,
                envelope=envelope,  # type: ignore[arg-type]
            )
        for time, kind, envelope_id, recipient, reason in self.actions:
            sim.act(kind, made[envelope_id], recipient, at=timedelta(milliseconds=time),
                    reason=reason)  # fmt: skip
        return sim

    def create(
        self, sim: cs.Simulation, envelope_id: str, recipients: list[cs.Recipient], created: int
    ) -> cs.Envelope:
        """Create one of the plan's envelopes in ``sim``."""
        return sim.create_envelope(
            f"Subject {envelope_id}", recipients, id=envelope_id,
            at=timedelta(milliseconds=created),
            custom_fields=self.custom_fields.get(envelope_id),
            documents=self.documents.get(envelope_id, []),
        )  # fmt: skip


# Strategies drawn from in loops are made once: building one anew costs more than a draw.
RECIPIENT_COUNT = st.integers(1, 4)
KIND = st.sampled_from(KINDS)
ROUTING_ORDER = st.integers(1, 3)


@st.composite
def recipients(draw: st.DrawFn) -> list[cs.Recipient]:
    count = draw(RECIPIENT_COUNT)
    out = []
    for number in range(count):
        kind = draw(KIND)
        order = draw(ROUTING_ORDER)
        client = f"{1000 + number}" if kind is cs.Signer and draw(st.booleans()) else None
        out.append(kind(f"Person {number}", f"p{number}@example.com", order, f"r{number}",
                        client_user_id=client))  # fmt: skip
    return out


RECIPIENTS = recipients()


SEND_DELAY = st.integers(0, 10 * MINUTE)
STEP_COUNT = st.integers(0, 8)
GAPS = st.sampled_from([0, 1_000, 20_000, 59_000, 60_000, 2 * MINUTE, HOUR, DAY, 3 * DAY])
STEP = st.sampled_from(STEPS)
WHO = [st.integers(0, last) for last in range(4)]  # by the index of the last recipient


def timeline(
    draw: st.DrawFn, envelope_id: str, people: list[cs.Recipient], created: int
) -> list[tuple[int, str, str, str | None, str | None]]:
    """Actions the lifecycle allows, found by replaying each candidate on the model."""
    envelope = cs.Envelope(envelope_id, "guid", "s", tuple(people))
    state = initial_state(envelope, created)
    time = created + draw(SEND_DELAY)
    actions: list[tuple[int, str, str, str | None, str | None]] = [
        (time, "send", envelope_id, None, None)
    ]
    state = apply(state, "send", time)[-1][2]
    for _ in range(draw(STEP_COUNT)):
        time += draw(GAPS)
        kind = draw(STEP)
        index = None
        if kind not in ("void", "resend", "correct"):
            index = draw(WHO[len(people) - 1])
        reason = draw(REASONS) if kind in ("decline", "void") else None
        try:
            emitted = apply(state, kind, time, index, reason)
        except cs.InvalidAction:
            continue
        state = emitted[-1][2]
        who = None if index is None else people[index].recipient_id
        actions.append((time, kind, envelope_id, who, reason))
    return actions


@dataclass(frozen=True)
class RejectsEnvelope:
    """A listener with a bug on one envelope (a poison message): it answers ``status``
    (``None``: nothing) to every attempt about ``envelope_id`` and 200 to the rest."""

    envelope_id: str
    status: int | None = 500
    latency: timedelta = timedelta(0)

    def session(self, rng: random.Random) -> RejectsEnvelope:
        return self  # it keeps no state

    def respond(self, attempt: Attempt) -> tuple[int | None, int]:
        status = self.status if attempt.envelope.id == self.envelope_id else 200
        return (status, self.latency // timedelta(milliseconds=1))


@functools.cache
def statuses(answers_at_once: bool) -> st.SearchStrategy[int | None]:
    """Failed answers; ``None`` (no answer, so a timeout) unless every answer is instant."""
    return st.sampled_from(FAILURES if answers_at_once else [*FAILURES, None])


@functools.cache
def latencies(answers_at_once: bool) -> st.SearchStrategy[timedelta]:
    if answers_at_once:
        return st.just(timedelta(0))
    return st.sampled_from([timedelta(0), timedelta(seconds=5), timedelta(seconds=90)])


@functools.cache
def outage_windows(max_days: int) -> st.SearchStrategy[list[tuple[timedelta, timedelta]]]:
    """Up to two windows, each starting in the first two days and lasting a number of whole
    days (up to ``max_days``) and a bit more."""
    return st.lists(
        st.tuples(st.integers(0, 2 * DAY), st.integers(0, max_days), st.integers(1, DAY)).map(
            lambda w: (
                timedelta(milliseconds=w[0]),
                timedelta(milliseconds=w[0] + w[1] * DAY + w[2]),
            )
        ),
        max_size=2,
    )


@functools.cache
def listeners(
    answers_at_once: bool = False, recovering: bool = False
) -> st.SearchStrategy[object]:
    """Listeners that answer 2xx in the end: outages, scripted failures, and none.

    ``recovering`` keeps outages short enough (at most five days and a bit, from the first
    two days) for SIM's ten daily retries to outlast them; otherwise they last up to twelve
    days, and a message can use up its retries.
    """
    latency = latencies(answers_at_once)
    failed = statuses(answers_at_once)
    windows = outage_windows(4 if recovering else 11)
    return st.one_of(
        st.builds(AlwaysOk, latency=latency),
        st.builds(Outage, windows=windows, status=failed, latency=latency),
        st.builds(Scripted, responses=st.lists(failed, max_size=6), latency=latency),
    )


@functools.cache
def unreliable(answers_at_once: bool) -> st.SearchStrategy[object]:
    """Listeners that may never recover: flaky ones, and (unless answers are instant) one too
    slow to ever answer in time."""
    flaky = st.builds(Flaky, failure_rate=st.sampled_from([0.0, 0.1, 0.5]),
                      seed=st.integers(0, 5), status=statuses(answers_at_once),
                      latency=latencies(answers_at_once))  # fmt: skip
    if answers_at_once:
        return flaky
    return st.one_of(flaky, st.just(AlwaysOk(latency=timedelta(seconds=150))))


@functools.cache
def poison(answers_at_once: bool) -> st.SearchStrategy[RejectsEnvelope]:
    """A listener that rejects every message about the first envelope and takes the others."""
    return st.builds(RejectsEnvelope, envelope_id=st.just("e1"),
                     status=statuses(answers_at_once), latency=latencies(answers_at_once))  # fmt: skip


@functools.cache
def any_listener(answers_at_once: bool, recovering: bool) -> st.SearchStrategy[object]:
    if recovering:
        return listeners(answers_at_once, recovering=True)
    return st.one_of(
        listeners(answers_at_once), unreliable(answers_at_once), poison(answers_at_once)
    )


SUBSETS = st.one_of(
    st.none(),
    st.lists(st.sampled_from(DEFAULT_EVENTS), min_size=1, max_size=4, unique=True),
)
ENVELOPE_COUNT = st.integers(1, 8)
CONFIGURATION_COUNT = st.integers(1, 3)
DAY_OF_CREATION = st.one_of(st.just(0), st.integers(1, 12))
TIME_OF_DAY = st.integers(0, HOUR)
INTERVALS = st.sampled_from([DAY, DAY, DAY, HOUR]).map(lambda ms: timedelta(milliseconds=ms))
RETRIES = st.sampled_from([10, 10, 10, 2, 1, 0])
ACKNOWLEDGED = st.sampled_from([True, True, True, False])  # mostly on, as Connect's default
DUPLICATE_RATES = st.sampled_from([0.0, 0.5])
DROP_RATES = st.sampled_from([0.0, 0.2])


@st.composite
def plans(
    draw: st.DrawFn,
    answers_at_once: bool = False,
    recovering: bool = False,
    anomalies: bool = False,
) -> Plan:
    """A scenario: 1-8 envelopes, 1-3 configurations (one may be envelope-level).

    ``recovering`` keeps listeners that end up answering 2xx, before SIM's retries run out
    (no Flaky, no poison envelope, outages of at most five days and a bit);
    ``answers_at_once`` keeps every answer instant (no latency, no timeouts).
    """
    plan = Plan()
    for number in range(draw(ENVELOPE_COUNT)):
        envelope_id = f"e{number + 1}"
        people = draw(RECIPIENTS)
        # The first envelope opens the run; the others come the same day or up to 12 days on.
        day = 0 if number == 0 else draw(DAY_OF_CREATION)
        created = day * DAY + draw(TIME_OF_DAY)
        plan.envelopes.append((envelope_id, people, created))
        plan.actions.extend(timeline(draw, envelope_id, people, created))
    for number in range(draw(CONFIGURATION_COUNT)):
        listener = draw(any_listener(answers_at_once, recovering))
        rates: dict[str, object] = {}
        if not recovering:  # Connect's figures mostly, sometimes others: they are parameters
            rates = {"retry_interval": draw(INTERVALS), "max_retries": draw(RETRIES)}
        if anomalies:
            rates |= {"duplicate_rate": draw(DUPLICATE_RATES), "drop_rate": draw(DROP_RATES)}
        configuration = cs.Configuration(
            name=f"c{number + 1}", events=draw(SUBSETS),
            require_acknowledgement=draw(ACKNOWLEDGED) if not recovering else True, **rates,
        )  # fmt: skip
        scope = None
        if number == 1 and draw(st.booleans()):
            scope = plan.envelopes[0][0]
        plan.configurations.append((configuration, listener, scope))
    return plan
