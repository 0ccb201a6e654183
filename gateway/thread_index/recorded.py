"""``RecordedThreadIndex``: over a remote upstream, the threads as this gateway saw them.

The upstream has no list of threads (the Assistants API never had one for API
keys), so the index holds what went through this gateway (every replica writing
to one state database): threads it created, changed, read or whose messages it
listed or posted, written by ``ThreadRecorder``. What it cannot know: threads
created elsewhere and never read through the gateway, messages posted elsewhere
since it last listed them, threads deleted elsewhere until it next reads them
(a 404 then removes them), and the activity left after a message is deleted
(it keeps the later time). Pages carry ids and times only; metadata comes from
the upstream through the thread loader.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.store.thread_index import ThreadIndexTable
from gateway.thread_index._paging import read_page
from gateway.thread_index.source import ThreadPage, ThreadPageQuery

__all__ = ["RecordedThreadIndex"]


class RecordedThreadIndex:
    def __init__(self, table: ThreadIndexTable) -> None:
        self._table = table

    @property
    def exact(self) -> bool:
        return False

    async def page(self, query: ThreadPageQuery) -> ThreadPage:
        return await read_page(self._table, query, with_threads=False)

    async def last_activity(self, thread_ids: Sequence[str]) -> dict[str, int]:
        return await self._table.last_activity(thread_ids)
