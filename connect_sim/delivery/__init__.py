"""Delivery: a channel per configuration turns events into messages and attempts.

``ledger`` keeps a run's messages and attempts as columns, and ``records``
makes the views users read.  ``channel`` holds what both algorithms share
(one attempt at a time, timeouts, the failure log); ``sim`` and
``aggregate`` hold each algorithm's own rules.
"""

from __future__ import annotations

from .aggregate import AggregateChannel
from .channel import Channel
from .ledger import Ledger
from .records import Attempt, AttemptLog, Failure, Message, Skip
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
    "Skip",
]
