"""``ThreadIndex``: what ``viewer.threads`` asks of the thread index, whichever source.

A page query is in the caller's terms (its owner filter, the requested order,
forward or backward from a cursor); the answer is in the requested order, with
what ``pageInfo`` needs. ``exact`` says whether the pages carry the threads
themselves (the embedded store: nothing to ask the upstream) or only ids and
times (a remote upstream: metadata comes through the thread loader).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from gateway.store.thread_index import IndexedThread, SortKey

__all__ = ["SORT_KEYS", "ThreadIndex", "ThreadPage", "ThreadPageQuery"]

SORT_KEYS: tuple[SortKey, ...] = ("created_at", "last_activity_at")


@dataclass(frozen=True, slots=True)
class ThreadPageQuery:
    owner: str | None
    """Only this owner's threads; ``None``: every thread the index holds."""
    sort: SortKey
    descending: bool
    """The requested order."""
    backward: bool
    """``last``/``before``: the page just before ``cursor`` in that order."""
    cursor: tuple[int, str] | None
    limit: int


@dataclass(frozen=True, slots=True)
class ThreadPage:
    rows: tuple[IndexedThread, ...]
    """In the requested order."""
    has_next_page: bool
    has_previous_page: bool


class ThreadIndex(Protocol):
    @property
    def exact(self) -> bool: ...

    async def page(self, query: ThreadPageQuery) -> ThreadPage: ...

    async def last_activity(self, thread_ids: Sequence[str]) -> dict[str, int]: ...
