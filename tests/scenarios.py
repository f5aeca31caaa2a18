"""Hypothesis strategies for whole scenarios, used by the property tests.

A scenario is plain data (envelopes, a timeline that the lifecycle allows,
configurations with listeners), so the same one can be built under both
delivery modes and replayed independently of the simulator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from hypothesis import strategies as st

import connect_sim as cs
from connect_sim.envelope import initial_state
from connect_sim.events import DEFAULT_EVENTS
from connect_sim.lifecycle import apply
from connect_sim.listeners import AlwaysOk, Flaky, Outage, Scripted

KINDS = [cs.Signer, cs.Signer, cs.CarbonCopy, cs.CertifiedDelivery, cs.Agent, cs.InPersonSigner]
STEPS = ["view", "sign", "sign", "decline", "void", "bounce", "fail_authentication",
         "resend", "resend_recipient", "correct"]  # fmt: skip
MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR


@dataclass
class Plan:
    """A scenario as data."""

    envelopes: list[tuple[str, list[cs.Recipient], int]] = field(default_factory=list)
    actions: list[tuple[int, str, str, str | None]] = field(default_factory=list)
    configurations: list[tuple[cs.Configuration, object, str | None]] = field(default_factory=list)
    #: Per envelope id: its custom fields and documents, when a test gives it some.
    custom_fields: dict[str, dict[str, str]] = field(default_factory=dict)
    documents: dict[str, list[cs.Document]] = field(default_factory=dict)

    def build(self, mode: str, seed: int = 0) -> cs.Simulation:
        sim = cs.Simulation(mode=mode, seed=seed)
        made = {}
        for envelope_id, recipients, created in self.envelopes:
            made[envelope_id] = sim.create_envelope(
                f"Subject {envelope_id}", recipients, id=envelope_id,
                at=timedelta(milliseconds=created),
                custom_fields=self.custom_fields.get(envelope_id),
                documents=self.documents.get(envelope_id, []),
            )  # fmt: skip
        for configuration, listener, scope in self.configurations:
            envelope = None if scope is None else made[scope]
            sim.add_configuration(
                configuration.for_mode(mode),
                listener=listener,
                envelope=envelope,  # type: ignore[arg-type]
            )
        for time, kind, envelope_id, recipient in self.actions:
            sim.act(kind, made[envelope_id], recipient, at=timedelta(milliseconds=time))
        return sim


@st.composite
def recipients(draw: st.DrawFn) -> list[cs.Recipient]:
    count = draw(st.integers(1, 4))
    out = []
    for number in range(count):
        kind = draw(st.sampled_from(KINDS))
        order = draw(st.integers(1, 3))
        out.append(kind(f"Person {number}", f"p{number}@example.com", order, f"r{number}"))
    return out


@st.composite
def timeline(
    draw: st.DrawFn, envelope_id: str, people: list[cs.Recipient], created: int
) -> list[tuple[int, str, str, str | None]]:
    """Actions the lifecycle allows, found by replaying each candidate on the model."""
    envelope = cs.Envelope(envelope_id, "guid", "s", tuple(people))
    state = initial_state(envelope, created)
    time = created + draw(st.integers(0, 10 * MINUTE))
    actions: list[tuple[int, str, str, str | None]] = [(time, "send", envelope_id, None)]
    state = apply(state, "send", time)[-1][2]
    for _ in range(draw(st.integers(0, 8))):
        time += draw(st.sampled_from([0, 1_000, 20_000, 59_000, 60_000, 2 * MINUTE, HOUR, DAY]))
        kind = draw(st.sampled_from(STEPS))
        index = None
        if kind not in ("void", "resend", "correct"):
            index = draw(st.integers(0, len(people) - 1))
        try:
            emitted = apply(state, kind, time, index)
        except cs.InvalidAction:
            continue
        state = emitted[-1][2]
        who = None if index is None else people[index].recipient_id
        actions.append((time, kind, envelope_id, who))
    return actions


def listeners(answers_at_once: bool = False) -> st.SearchStrategy[object]:
    statuses = (
        st.sampled_from([500, 503, 404]) if answers_at_once else st.sampled_from([500, 503, None])
    )
    latency = (
        st.just(timedelta(0))
        if answers_at_once
        else st.sampled_from([timedelta(0), timedelta(seconds=5), timedelta(seconds=90)])
    )
    windows = st.lists(
        st.tuples(st.integers(0, 2 * DAY), st.integers(1, 2 * DAY)).map(
            lambda w: (timedelta(milliseconds=w[0]), timedelta(milliseconds=w[0] + w[1]))
        ),
        max_size=2,
    )
    return st.one_of(
        st.builds(AlwaysOk, latency=latency),
        st.builds(Outage, windows=windows, status=statuses, latency=latency),
        st.builds(Scripted, responses=st.lists(statuses, max_size=6), latency=latency),
    )


def unreliable(answers_at_once: bool) -> st.SearchStrategy[object]:
    """Listeners that may never recover: flaky ones, and one too slow to ever answer in time."""
    flaky = st.builds(Flaky, failure_rate=st.sampled_from([0.0, 0.1, 0.5]), seed=st.integers(0, 5))
    if answers_at_once:
        return flaky
    return st.one_of(flaky, st.just(AlwaysOk(latency=timedelta(seconds=150))))


SUBSETS = st.one_of(
    st.none(),
    st.lists(st.sampled_from(DEFAULT_EVENTS), min_size=1, max_size=4, unique=True),
)


@st.composite
def plans(
    draw: st.DrawFn,
    answers_at_once: bool = False,
    recovering: bool = False,
    anomalies: bool = False,
) -> Plan:
    """A scenario: 1-8 envelopes, 1-3 configurations (one may be envelope-level).

    ``recovering`` keeps listeners that end up answering 2xx (no Flaky);
    ``answers_at_once`` keeps every answer instant (no latency, no timeouts).
    """
    plan = Plan()
    for number in range(draw(st.integers(1, 8))):
        envelope_id = f"e{number + 1}"
        people = draw(recipients())
        created = draw(st.integers(0, HOUR))
        plan.envelopes.append((envelope_id, people, created))
        plan.actions.extend(draw(timeline(envelope_id, people, created)))
    for number in range(draw(st.integers(1, 3))):
        listener = draw(listeners(answers_at_once) if recovering else st.one_of(
            listeners(answers_at_once), unreliable(answers_at_once)))  # fmt: skip
        rates = {}
        if anomalies:
            rates = {"duplicate_rate": draw(st.sampled_from([0.0, 0.5])),
                     "drop_rate": draw(st.sampled_from([0.0, 0.2]))}  # fmt: skip
        configuration = cs.Configuration(
            name=f"c{number + 1}", events=draw(SUBSETS),
            require_acknowledgement=draw(st.booleans()) if not recovering else True, **rates,
        )  # fmt: skip
        scope = None
        if number == 1 and draw(st.booleans()):
            scope = plan.envelopes[0][0]
        plan.configurations.append((configuration, listener, scope))
    return plan
