"""Delivery: a channel per configuration turns events into messages and attempts.

``channel`` holds what both algorithms share (one attempt at a time, timeouts,
the failure log); ``sim`` and ``aggregate`` hold each algorithm's own rules.
"""

from __future__ import annotations

from .aggregate import AggregateChannel
from .channel import Channel
from .records import Attempt, AttemptLog, Failure, Ledger, Message
from .sim import SimChannel

__all__ = [
    "AggregateChannel",
    "Attempt",
    "AttemptLog",
    "Channel",
    "Failure",
    "Ledger",
    "Message",
    "SimChannel",
]
