"""``EmbeddedThreadIndex``: the exact index of the embedded store.

The store's triggers keep it in every write's own transaction (REST ``/v1``
writes, other workers and replicas included), and a page joins the stored
threads, so a sidebar page is one query and no upstream call.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.store.thread_index import ThreadIndexTable
from gateway.thread_index._paging import read_page
from gateway.thread_index.source import ThreadPage, ThreadPageQuery

__all__ = ["EmbeddedThreadIndex"]


class EmbeddedThreadIndex:
    def __init__(self, table: ThreadIndexTable) -> None:
        self._table = table

    @property
    def exact(self) -> bool:
        return True

    async def page(self, query: ThreadPageQuery) -> ThreadPage:
        return await read_page(self._table, query, with_threads=True)

    async def last_activity(self, thread_ids: Sequence[str]) -> dict[str, int]:
        return await self._table.last_activity(thread_ids)
