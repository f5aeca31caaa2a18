"""The library's exceptions: every error connect-sim raises on purpose is one of these."""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "ConnectSimError",
    "InvalidAction",
    "InvalidOperation",
    "PayloadError",
    "ScenarioError",
]


class ConnectSimError(Exception):
    """Base class of every error connect-sim raises for bad input or a bad request."""


class InvalidAction(ConnectSimError):
    """An action that the envelope's current state does not allow.

    The message names the envelope, the recipient (if any), the action and the
    current status. Raising it changes nothing: the envelope keeps its state.
    """

    def __init__(
        self,
        message: str,
        *,
        envelope: str,
        action: str,
        status: str,
        recipient: str | None = None,
    ) -> None:
        super().__init__(message)
        self.envelope = envelope
        self.action = action
        self.status = status
        self.recipient = recipient


class InvalidOperation(ConnectSimError):
    """An administrative action that the configuration's state does not allow.

    Pausing a paused configuration, resuming one that is not paused, deleting
    a failure the log does not hold, ...: found when the run reaches the
    action.  The message names the action, the instant and the problem;
    raising it changes nothing, and the run stops there with the action unrun.
    """

    def __init__(self, message: str, *, action: str, configuration: str | None) -> None:
        super().__init__(message)
        self.action = action
        self.configuration = configuration


class ConfigurationError(ConnectSimError, ValueError):
    """A configuration, listener or simulation parameter that makes no sense."""


class ScenarioError(ConnectSimError):
    """A scenario file that cannot be read: syntax, unknown keys, bad values, bad references.

    ``str(error)`` is one line that names the file, the place in it and the problem.
    """


class PayloadError(ConnectSimError, ValueError):
    """A Connect message body that cannot be parsed, or a model value that cannot be written.

    Raised by :func:`connect_sim.parse_message` for malformed or hostile input
    (invalid JSON or XML, a wrong root element, missing fields, entity tricks,
    oversized bodies) and by the renderers for text a format cannot carry.
    ``str(error)`` names the problem and where it is.
    """
