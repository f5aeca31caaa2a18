"""The renderers' memos, bounded so that a long run's memory stays flat.

A renderer remembers what it made for an envelope (its fixed fields, its
recipients' renderings, its certificate) and for an instant (its time stamps),
because the next body about the same envelope or instant needs the same
again.  Bodies are read roughly in time order, and an envelope's messages come
close together, so a memo of the last few thousand is as good as one of
everything, and one of everything grows with the run.  When a memo is full
it forgets everything at once: what is made again is the same, so the bytes
never change, and forgetting all (rather than the oldest) keeps it a plain
dict with no order to keep.
"""

from __future__ import annotations

from typing import Final, TypeVar

__all__ = ["MEMO_SIZE", "remember"]

#: How many envelopes (or instants) a renderer's memo holds before it starts afresh.
MEMO_SIZE: Final = 4096

K = TypeVar("K")
V = TypeVar("V")


def remember(memo: dict[K, V], key: K, value: V) -> V:
    """Put ``value`` in ``memo`` under ``key`` (forgetting everything first if it is full)."""
    if len(memo) >= MEMO_SIZE:
        memo.clear()
    memo[key] = value
    return value
