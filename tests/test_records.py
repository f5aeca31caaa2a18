"""Messages and attempts as a user reads them, now that the run keeps them as ledger rows."""

from __future__ import annotations

from datetime import timedelta

import pytest

import connect_sim as cs


class Watching:
    """A listener of the user's own: answers 200 after 5 ms and notes what it saw."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, bool, int, int]] = []

    def session(self, rng: object) -> Watching:
        return self

    def respond(self, attempt: cs.Attempt) -> tuple[int, int]:
        message = attempt.message
        self.seen.append((attempt.number, attempt.duplicate, message.attempts, message.last_end))
        return (200, 5)


def watched(mode: str, **settings: object) -> tuple[Watching, cs.Result]:
    listener = Watching()
    sim = cs.Simulation(mode=mode, seed=1)
    sim.add_configuration(cs.Configuration(name="c", **settings), listener=listener)  # type: ignore[arg-type]
    env = sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com")])
    sim.send(env, at=timedelta(seconds=1))
    sim.sign(env, "1", at=timedelta(minutes=1))
    return listener, sim.run()


def test_a_listener_sees_the_message_as_it_was_before_the_answer() -> None:
    listener, result = watched("sim")
    # The attempt counts itself; the last end is the previous attempt's (none yet).
    assert listener.seen[0] == (1, False, 1, 0)
    assert [m.last_end for m in result.messages("c")] == [a.end for a in result.attempts]


def test_last_end_is_the_latest_attempt_s_a_duplicate_s_too() -> None:
    listener, result = watched("aggregate", duplicate_rate=1.0)
    duplicates = [a for a in result.attempts if a.duplicate]
    assert duplicates, "the scenario must make a duplicate"
    for duplicate in duplicates:
        latest = [a for a in result.attempts if a.message == duplicate.message][-1]
        assert duplicate.message.last_end == latest.end
    assert any(duplicate for _, duplicate, _, _ in listener.seen)


def test_logs_and_rows_compare_as_lists_do() -> None:
    _, result = watched("sim")
    sim = result.simulation
    assert sim.attempts == result.attempts == list(result.attempts)
    assert result.attempts == tuple(result.attempts)  # as the docstring says: a tuple too
    assert sim.events == result.events == list(sim.events)
    assert sim.attempts != [] and result.received("c")[-1] == result.attempts[-1]
    assert result.received("c")[1:] == list(result.received("c"))[1:]
    assert cs.Simulation().attempts == [] and cs.Simulation().events == []
    with pytest.raises(IndexError):
        result.attempts[len(result.attempts)]


class Forwarding:
    """A user's session that wraps another and forwards every attribute it lacks."""

    def __init__(self) -> None:
        self.inner = cs.listeners.AlwaysOk().session(None)  # type: ignore[arg-type]
        self.bodies: list[bytes] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def respond(self, attempt: cs.Attempt) -> tuple[int | None, int]:
        self.bodies.append(attempt.body)
        return self.inner.respond(attempt)


class NamedAnswer:
    """A session with an attribute that happens to be called ``answer``."""

    answer = 200

    def respond(self, attempt: cs.Attempt) -> tuple[int, int]:
        return (200, 0)


@pytest.mark.parametrize("session", [Forwarding, NamedAnswer])
def test_only_a_session_s_class_promises_answers_that_need_no_attempt(session: type) -> None:
    made = session()

    class Listener:
        def session(self, rng: object) -> object:
            return made

    sim = cs.Simulation(seed=1)
    sim.add_configuration(cs.Configuration(name="c"), listener=Listener())  # type: ignore[arg-type]
    env = sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com")])
    sim.send(env)
    assert len(sim.run().received("c")) == 2
    if isinstance(made, Forwarding):
        assert len(made.bodies) == 2  # handed every attempt, as it asked


@pytest.mark.parametrize(
    "answer", [(0, 0), (40000, 0), (200, 2.5), (200, -1), ("200", 0), (True, 0), (200, None)]
)
def test_a_session_answering_nonsense_gets_the_library_s_error(answer: object) -> None:
    class Nonsense:
        def session(self, rng: object) -> Nonsense:
            return self

        def respond(self, attempt: cs.Attempt) -> object:
            return answer

    sim = cs.Simulation(seed=1)
    sim.add_configuration(cs.Configuration(name="c"), listener=Nonsense())  # type: ignore[arg-type]
    env = sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com")])
    sim.send(env)
    with pytest.raises(cs.ConfigurationError, match=r"configuration 'c': its listener answered"):
        sim.run()


def test_an_answer_that_raises_leaves_the_message_s_last_end_as_it_was() -> None:
    # The run stops at a listener's error; what it shows of the message is what the
    # listener saw: the attempt counted, its last end the attempt before's.
    class FailsThenRaises:
        def __init__(self) -> None:
            self.calls = 0

        def session(self, rng: object) -> FailsThenRaises:
            return self

        def respond(self, attempt: cs.Attempt) -> tuple[int, int]:
            self.calls += 1
            if self.calls == 1:
                return (500, 250)
            raise RuntimeError("the listener's bug")

    sim = cs.Simulation(seed=1)
    sim.add_configuration(cs.Configuration(name="c", retry_interval="1m"), FailsThenRaises())  # type: ignore[arg-type]
    sim.send(sim.create_envelope("S", [cs.Signer("A", "a@example.com")]))
    with pytest.raises(RuntimeError, match="the listener's bug"):
        sim.run()
    message = sim.attempts[-1].message
    assert [(a.number, a.time) for a in sim.attempts] == [(1, 0), (2, 60_250)]
    assert (message.attempts, message.last_end) == (2, 250)
