"""``Thread.lastActivityAt`` for threads not read from the index: one index query per batch.

A thread from ``viewer.threads`` carries its last activity; one from
``thread(id:)``, ``node(id:)``, a mutation or ``Message.thread`` asks the index
here (all such threads of one tick in one query, never upstream). A thread the
index does not hold (created elsewhere, over a remote upstream) had no activity
the gateway saw but its creation: ``createdAt``.
"""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from gateway.schema.cycles import weakly_bound
from gateway.thread_index import ThreadIndex

__all__ = ["ThreadActivity"]


class ThreadActivity:
    def __init__(self, index: ThreadIndex | None) -> None:
        self._index = index
        # Batched, not cached: a mutation later in the operation may move the activity.
        self._loader: DataLoader[str, int | None] = DataLoader(
            weakly_bound(self._load), cache=False
        )

    async def _load(self, thread_ids: list[str]) -> list[int | None]:
        assert self._index is not None
        found = await self._index.last_activity(thread_ids)
        return [found.get(thread_id) for thread_id in thread_ids]

    async def of(self, thread_id: str, created_at: int) -> int:
        """The later of ``created_at`` and the index's last activity of the thread."""
        if self._index is None:
            return created_at
        known = await self._loader.load(thread_id)
        return max(created_at, known) if known is not None else created_at
