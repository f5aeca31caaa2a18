"""connect-sim: a deterministic simulator of DocuSign Connect webhook delivery.

It models envelopes and recipients, Connect configurations and both delivery
algorithms, Send Individual Messages (SIM) and Aggregate Messages, with their
queues and 24-hour retries, in simulated time.
"""

from __future__ import annotations

from . import listeners, receive
from .account import Account
from .configuration import Configuration
from .delivery import Attempt, Failure, Message
from .envelope import (
    Agent,
    CarbonCopy,
    CertifiedDelivery,
    Document,
    Editor,
    Envelope,
    EnvelopeState,
    InPersonSigner,
    Intermediary,
    Recipient,
    RecipientState,
    Signer,
)
from .errors import (
    ConfigurationError,
    ConnectSimError,
    InvalidAction,
    InvalidOperation,
    PayloadError,
    ScenarioError,
)
from .events import Event
from .parsing import ConnectMessage, RecipientStatus, parse_message
from .result import Result
from .signing import hmac_signature, verify_hmac
from .simulation import Simulation

__all__ = [
    "Account",
    "Agent",
    "Attempt",
    "CarbonCopy",
    "CertifiedDelivery",
    "Configuration",
    "ConfigurationError",
    "ConnectMessage",
    "ConnectSimError",
    "Document",
    "Editor",
    "Envelope",
    "EnvelopeState",
    "Event",
    "Failure",
    "InPersonSigner",
    "Intermediary",
    "InvalidAction",
    "InvalidOperation",
    "Message",
    "PayloadError",
    "Recipient",
    "RecipientState",
    "RecipientStatus",
    "Result",
    "ScenarioError",
    "Signer",
    "Simulation",
    "hmac_signature",
    "listeners",
    "parse_message",
    "receive",
    "verify_hmac",
]

__version__ = "0.1.0"
