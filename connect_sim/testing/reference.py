"""The reference listener: the simplest correct way to consume Connect messages.

Theory of operation
-------------------
Connect gives a listener no message id and no ordering it can rely on across
configurations and retries: under SIM one configuration's messages arrive in
order, but a second configuration's backlog may flush later; under
Aggregate a retry names an old event and carries newer content; duplicates
arrive.  What every message does carry is the envelope's status and the
moment it describes (``generatedDateTime``, or ``TimeGenerated``): under SIM
the event's time, with the state right after the event; under Aggregate the
sending time, with the state then.  Either way, a later moment means a state
at least as new.

So the listener keeps, per envelope, the status of the newest moment seen and
ignores anything older.  Several events can share one moment (a signature
completes the recipient and the envelope in the same millisecond); an
envelope's status only ever moves forward (created, sent, delivered, then one
of completed, declined or voided), so at equal moments the further status
wins.  Duplicates change nothing.  It checks the HMAC signature when given
keys, reads both formats with :func:`~connect_sim.parse_message`, answers 401
to a bad signature, 400 to a body that is not a Connect message and 200 to
everything else at once, also to messages it ignores: a 4xx only makes
Connect send them again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Final

from ..errors import ConfigurationError, PayloadError
from ..parsing import ConnectMessage, parse_message
from ..signing import check_keys, verify_hmac

__all__ = ["STATUS_RANK", "ReferenceListener"]

#: How far along an envelope status is; statuses only ever move to a higher rank.
STATUS_RANK: Final = {
    "created": 0,
    "sent": 1,
    "delivered": 2,
    "completed": 3,
    "declined": 3,
    "voided": 3,
}


class ReferenceListener:
    """A correct Connect listener, as a function of ``(body, headers) -> status``.

    Use it with :class:`~connect_sim.listeners.Callable`, compare your own
    listener's view with it, or read it as the specification of what a
    listener must do.

    Args:
        hmac_keys: when given (one key, or a list of them), a message must carry a
            signature by one of them.

    >>> import connect_sim as cs
    >>> reference = ReferenceListener()
    >>> sim = cs.Simulation(mode="aggregate")
    >>> listener = cs.listeners.Callable(reference)
    >>> sim.add_configuration(cs.Configuration(name="c"), listener=listener)
    >>> env = sim.create_envelope("Hi", [cs.Signer("Sue", "sue@example.com")])
    >>> sim.send(env)
    >>> _ = sim.run()
    >>> reference.status(env.envelope_id)
    'sent'
    """

    def __init__(self, hmac_keys: str | bytes | Iterable[str | bytes] | None = None) -> None:
        keys = None if hmac_keys is None else check_keys(hmac_keys, "hmac_keys")
        if keys == ():
            raise ConfigurationError(
                "hmac_keys: no keys given (give None to accept unsigned messages)"
            )
        self._keys = keys
        #: Per envelope GUID: the newest status seen.
        self.statuses: dict[str, str] = {}
        self._newest: dict[str, tuple[datetime, int]] = {}
        #: How many messages were accepted, and how many of those changed nothing.
        self.accepted = 0
        self.ignored = 0

    def __call__(self, body: bytes, headers: Mapping[str, str]) -> int:
        """Handle one delivery: verify, parse, keep the newest status; the HTTP status."""
        if self._keys is not None and not verify_hmac(body, headers, self._keys):
            return 401
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
        try:
            message = parse_message(body, content_type)
        except PayloadError:
            return 400
        self.accepted += 1
        if not self.take(message):
            self.ignored += 1
        return 200

    def take(self, message: ConnectMessage) -> bool:
        """Record a parsed message if it is newer than what is known; True if it was."""
        if message.status is None:  # a message without an envelope summary says no status
            return False
        moment = (message.generated, STATUS_RANK.get(message.status, 0))
        known = self._newest.get(message.envelope_id)
        if known is not None and moment <= known:
            return False
        self._newest[message.envelope_id] = moment
        self.statuses[message.envelope_id] = message.status
        return True

    def status(self, envelope_id: str) -> str | None:
        """The status this listener believes the envelope (by GUID) has, or ``None``."""
        return self.statuses.get(envelope_id)

    def __repr__(self) -> str:
        return f"<ReferenceListener knowing {len(self.statuses)} envelopes>"
