"""Hypothesis strategies for scenarios that are valid by construction.

Every strategy shrinks towards small, readable cases: one recipient, few
steps, short delays, listeners that only fail a little.  Timelines are valid
by construction: each candidate action is tried on the lifecycle model
(:func:`connect_sim.lifecycle.apply`) and kept only if the envelope's state
allows it, so a generated scenario never stops on an
:class:`~connect_sim.InvalidAction`.  Generated objects print as Python that
rebuilds them (see :mod:`connect_sim.testing.plans`).

>>> from hypothesis import given
>>> @given(scenarios())
... def test_my_listener(plan):
...     plan.build("aggregate", listener=Callable(my_handler)).run()
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from hypothesis import strategies as st

from ..configuration import Configuration
from ..envelope import (
    Agent,
    CarbonCopy,
    CertifiedDelivery,
    InPersonSigner,
    Recipient,
    Signer,
    initial_state,
)
from ..envelope import Envelope as _Envelope
from ..errors import InvalidAction
from ..events import DEFAULT_EVENTS
from ..lifecycle import apply
from ..listeners import AlwaysOk, Flaky, Listener, Outage, Scripted
from .plans import AdminStep, ConfigurationPlan, EnvelopePlan, ScenarioPlan, Step

__all__ = [
    "admin_steps",
    "configurations",
    "envelopes",
    "listener_behaviours",
    "recipients",
    "scenarios",
    "timelines",
]

# Signers first: a failing example shrinks towards the plainest recipient.
_KINDS: Final = (Signer, CarbonCopy, Signer, CertifiedDelivery, Agent, InPersonSigner)
_NAMES: Final = {Signer: "Sue Signer", CarbonCopy: "Charlie Copy",
                  CertifiedDelivery: "Dee Delivery", Agent: "Ann Agent",
                  InPersonSigner: "Ian Inperson"}  # fmt: skip
# Delays between steps, shortest first so that shrinking makes them short: at once, within
# Aggregate's window, just past it, human pace, and across Connect's daily retries.
_DELAYS: Final = tuple(
    timedelta(seconds=s) for s in (0, 1, 20, 59, 60, 120, 600, 3_600, 86_400, 90_000, 3 * 86_400)
)
_STEPS: Final = ("sign", "view", "decline", "void", "bounce", "resend", "resend_recipient",
                 "fail_authentication", "correct")  # fmt: skip
_ENVELOPE_STEPS: Final = frozenset({"void", "resend", "correct"})
# Reasons a decline or a void may give: none (the default text), plain, and text that
# JSON and XML must escape.
_REASONS: Final = (None, "Wrong amount", 'Signer said: "not <today> & not here"', "Ünïcødé 签名")


@st.composite
def recipients(draw: st.DrawFn, max_size: int = 4) -> tuple[Recipient, ...]:
    """One to ``max_size`` recipients of mixed types, routing orders 1 to 3, ids ``"1"``, ...

    Signers are sometimes embedded (a ``client_user_id``).
    """
    count = draw(st.integers(1, max_size))
    out: list[Recipient] = []
    for number in range(1, count + 1):
        kind = draw(st.sampled_from(_KINDS))
        order = draw(st.integers(1, 3))
        name = _NAMES[kind]
        if any(person.name == name for person in out):
            name = f"{name} {number}"
        email = name.lower().replace(" ", ".") + "@example.com"
        # Some signers sign embedded, in the sender's own application.
        client = f"{1000 + number}" if kind is Signer and draw(st.booleans()) else None
        out.append(kind(name=name, email=email, routing_order=order, recipient_id=str(number),
                        client_user_id=client))  # fmt: skip
    return tuple(out)


@st.composite
def envelopes(draw: st.DrawFn, id: str = "e1", max_recipients: int = 4) -> EnvelopePlan:
    """An envelope to create, with recipients and a creation time in the first hour."""
    created = draw(st.sampled_from(_DELAYS[:8]))
    people: tuple[Recipient, ...] = draw(recipients(max_recipients))
    return EnvelopePlan(id=id, recipients=people, created=created)


@st.composite
def timelines(draw: st.DrawFn, envelope: EnvelopePlan, max_steps: int = 8) -> tuple[Step, ...]:
    """A send, then up to ``max_steps`` actions the lifecycle allows, at realistic delays."""
    model = _Envelope(envelope.id, "guid", envelope.subject, tuple(envelope.recipients))
    ms = timedelta(milliseconds=1)
    time = envelope.created + draw(st.sampled_from(_DELAYS[:7]))
    state = apply(initial_state(model, envelope.created // ms), "send", time // ms)[-1][2]
    steps = [Step(at=time, action="send", envelope=envelope.id)]
    for _ in range(draw(st.integers(0, max_steps))):
        time += draw(st.sampled_from(_DELAYS))
        action = draw(st.sampled_from(_STEPS))
        index = None
        if action not in _ENVELOPE_STEPS:
            index = draw(st.integers(0, len(envelope.recipients) - 1))
        try:
            emitted = apply(state, action, time // ms, index)
        except InvalidAction:
            continue  # not allowed now: drawn, but not part of the timeline
        state = emitted[-1][2]
        who = None if index is None else envelope.recipients[index].recipient_id
        reason = draw(st.sampled_from(_REASONS)) if action in ("decline", "void") else None
        steps.append(
            Step(at=time, action=action, envelope=envelope.id, recipient=who, reason=reason)
        )
    return tuple(steps)


# Failures: unavailable, an error, no answer, not found, and a redirect (never followed).
_STATUSES: Final = st.sampled_from([503, 500, None, 404, 307])
# Outage lengths: within the hour, across a retry, or days (past ten, SIM's and
# Aggregate's ten retries run out).
_OUTAGES: Final = st.one_of(
    st.sampled_from(_DELAYS[3:10]), st.integers(1, 12).map(lambda days: timedelta(days=days))
)
_LATENCIES: Final = st.sampled_from([timedelta(0), timedelta(seconds=2), timedelta(seconds=30)])


def listener_behaviours(recovering: bool = True) -> st.SearchStrategy[Listener]:
    """Listener behaviours: always up, outages, scripted failures, flaky rates, latencies.

    With ``recovering`` (the default) every behaviour ends up answering 2xx,
    or fails at random at a modest rate (10 or 30 %); outages last from a
    minute to twelve days, so that Connect's ten retries sometimes run out.
    Without, a behaviour may also fail for good (a listener that always
    fails, or one slower than the 100 s timeout).  Failures answer 503, 500,
    404, a 307 redirect (a failure: Connect follows none) or nothing at all.
    """
    windows = st.lists(
        st.tuples(st.sampled_from(_DELAYS[:9]), _OUTAGES).map(lambda w: (w[0], w[0] + w[1])),
        min_size=1,
        max_size=2,
    )
    behaviours = st.one_of(
        st.builds(AlwaysOk, latency=_LATENCIES),
        st.builds(Outage, windows=windows, status=_STATUSES, latency=_LATENCIES),
        st.builds(Scripted, responses=st.lists(_STATUSES, min_size=1, max_size=6),
                  latency=_LATENCIES),
        st.builds(Flaky, failure_rate=st.sampled_from([0.1, 0.3]), seed=st.integers(0, 9),
                  status=_STATUSES, latency=_LATENCIES),
    )  # fmt: skip
    if recovering:
        return behaviours
    return st.one_of(
        behaviours,
        st.builds(Flaky, failure_rate=st.just(1.0), seed=st.integers(0, 9), status=_STATUSES),
        st.just(AlwaysOk(latency=timedelta(seconds=150))),
    )


@st.composite
def configurations(
    draw: st.DrawFn, name: str = "listener", anomalies: bool = False, all_events: bool = False
) -> Configuration:
    """A configuration: its events, format, acknowledgement and (optionally) anomalies.

    No HMAC keys: a generated object prints as Python, and keys never print.
    Give your test key to :meth:`ScenarioPlan.build` instead.

    With ``all_events`` it subscribes to every envelope and recipient status
    (what a listener that tracks statuses needs); otherwise it may take a
    subset.  ``anomalies`` turns on Aggregate's duplicates and drops.
    """
    events = None
    if not all_events and draw(st.booleans()):
        events = draw(st.lists(st.sampled_from(DEFAULT_EVENTS), min_size=1, max_size=5,
                               unique=True))  # fmt: skip
    duplicates = draw(st.sampled_from([0.0, 0.5])) if anomalies else 0.0
    drops = draw(st.sampled_from([0.0, 0.2])) if anomalies else 0.0
    format = draw(st.sampled_from(["json", "xml"]))
    include = draw(st.sampled_from([(), ("recipients",), ("recipients", "custom_fields"),
                                    ("documents",)]))  # fmt: skip
    return Configuration(
        name=name,
        events=events,
        format=format,
        include_data=include,
        require_acknowledgement=True if all_events else draw(st.booleans()),
        duplicate_rate=duplicates,
        drop_rate=drops,
        include_certificate_of_completion="documents" in include and draw(st.booleans()),
        include_sender_account_as_custom_field=draw(st.booleans()),
    )


@st.composite
def admin_steps(draw: st.DrawFn, names: list[str], max_steps: int = 4) -> tuple[AdminStep, ...]:
    """What an administrator does: pauses (each resumed), deleted failures, republishes, switches.

    Every pause of a configuration is followed by its resume, so a scenario
    that recovers still drains; a republish republishes whatever the failure
    logs hold at its instant (nothing, if they are empty), synchronously or
    not, with the current state or the original message; a switch sets the
    account's mode (SIM or Aggregate) from then on.  Instants are within
    the first few days, where the timelines' actions are.
    """
    steps = []
    for _ in range(draw(st.integers(0, max_steps))):
        at = sum(draw(st.lists(st.sampled_from(_DELAYS), min_size=1, max_size=3)), timedelta(0))
        kind = draw(st.sampled_from(["republish", "pause", "delete_failure", "set_mode"]))
        if kind == "set_mode":
            steps.append(
                AdminStep(at, "set_mode", mode=draw(st.sampled_from(["sim", "aggregate"])))
            )
            continue
        if kind == "republish":
            steps.append(
                AdminStep(
                    at,
                    "republish",
                    synchronous=draw(st.booleans()),
                    content=draw(st.sampled_from(["current", "original"])),
                )
            )
            continue
        name = draw(st.sampled_from(names))
        if kind == "delete_failure":
            steps.append(AdminStep(at, "delete_failure", name))
            continue
        steps.append(AdminStep(at, "pause", name))
        steps.append(AdminStep(at + draw(st.sampled_from(_DELAYS)), "resume", name))
    # Pauses of one configuration must not overlap: keep those that start after the last
    # one's resume (a pause of a paused configuration is an error).
    kept: list[AdminStep] = []
    resumed: dict[str, timedelta] = {}
    pairs = iter(steps)
    for step in pairs:
        if step.action != "pause":
            kept.append(step)
            continue
        resume = next(pairs)
        assert step.configuration is not None
        if step.at > resumed.get(step.configuration, timedelta(-1)):
            kept.extend((step, resume))
            resumed[step.configuration] = resume.at
    return tuple(sorted(kept, key=lambda step: step.at))


@st.composite
def scenarios(
    draw: st.DrawFn,
    max_envelopes: int = 4,
    max_configurations: int = 3,
    recovering: bool = True,
    anomalies: bool = False,
    all_events: bool = False,
    administered: bool = False,
) -> ScenarioPlan:
    """A whole scenario: envelopes with valid timelines and configurations with behaviours.

    Configurations after the first may be envelope-level (for the first
    envelope), so that several queues feed one listener, and any may
    subscribe to a few events only (unless ``all_events``): the cases where
    a listener that lets the last arrival win goes wrong.  With
    ``administered`` an administrator acts too (:func:`admin_steps`: pauses,
    deleted failures, republishes).  Build it with :meth:`ScenarioPlan.build`
    under either delivery algorithm.
    """
    plans = []
    steps: list[Step] = []
    for number in range(1, draw(st.integers(1, max_envelopes)) + 1):
        envelope = draw(envelopes(id=f"e{number}"))
        plans.append(envelope)
        steps.extend(draw(timelines(envelope)))
    steps.sort(key=lambda step: step.at)  # stable: each envelope's own order is kept
    configured = []
    for number in range(1, draw(st.integers(1, max_configurations)) + 1):
        configuration = draw(configurations(f"c{number}", anomalies, all_events))
        scope = None
        if number > 1 and draw(st.booleans()):
            scope = plans[0].id
        behaviour = draw(listener_behaviours(recovering))
        configured.append(ConfigurationPlan(configuration, behaviour, scope))
    admin: tuple[AdminStep, ...] = ()
    if administered:
        admin = draw(admin_steps([plan.configuration.name for plan in configured]))
    return ScenarioPlan(envelopes=plans, timeline=steps, configurations=configured,
                        seed=draw(st.integers(0, 3)), admin=admin)  # fmt: skip
