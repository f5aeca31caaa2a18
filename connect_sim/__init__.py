"""connect-sim: a deterministic simulator of DocuSign Connect webhook delivery.

It models envelopes and recipients, Connect configurations and both delivery
algorithms, Send Individual Messages (SIM) and Aggregate Messages, with their
queues and 24-hour retries, in simulated time.
"""

from __future__ import annotations

from . import listeners
from .configuration import Configuration
from .delivery import Attempt, Failure, Message
from .envelope import (
    Agent,
    CarbonCopy,
    CertifiedDelivery,
    Editor,
    Envelope,
    EnvelopeState,
    InPersonSigner,
    Intermediary,
    Recipient,
    RecipientState,
    Signer,
)
from .errors import ConfigurationError, ConnectSimError, InvalidAction, ScenarioError
from .events import Event
from .result import Result
from .simulation import Simulation

__all__ = [
    "Agent",
    "Attempt",
    "CarbonCopy",
    "CertifiedDelivery",
    "Configuration",
    "ConfigurationError",
    "ConnectSimError",
    "Editor",
    "Envelope",
    "EnvelopeState",
    "Event",
    "Failure",
    "InPersonSigner",
    "Intermediary",
    "InvalidAction",
    "Message",
    "Recipient",
    "RecipientState",
    "Result",
    "ScenarioError",
    "Signer",
    "Simulation",
    "listeners",
]

__version__ = "0.1.0"
