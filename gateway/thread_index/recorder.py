"""``ThreadRecorder``: what the gateway learnt from the upstream, written to the index.

Used over a remote upstream only (the embedded store's index is kept by its own
triggers). The loaders call it with the upstream's answers, never resolvers:
threads returned (created, modified, read) are recorded with their owner (the
metadata value under ``OWNER_METADATA_KEY``), a 404 or a delete forgets a
thread, a listed page or a created message moves its thread's last activity
forward. A failure to record is logged and swallowed: the index is a
by-product, and the caller's operation has already happened upstream.

Without gateway authentication the caller's bearer is forwarded as its upstream
key, and callers with different keys may see different threads: each request
then records through ``for_holder`` (its key's holder, ``gateway.auth``), so
every row it writes is that holder's and ``viewer.threads`` lists a caller only
its own key's rows, and a 404 or a delete forgets only its own key's row. A
thread read with two keys is listed under the last one.

A sighting the index already holds is not written again: every recorder of an app
shares one ``memo.IndexMemo`` of what this process wrote (see there for the
staleness it allows), and only the entries it says are needed reach the table.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from gateway.store.thread_index import IndexEntry, ThreadIndexTable
from gateway.thread_index.memo import IndexMemo
from gateway.upstream import ThreadObject

__all__ = ["ThreadRecorder"]

logger = logging.getLogger("gateway.thread_index")


class ThreadRecorder:
    def __init__(
        self,
        table: ThreadIndexTable,
        owner_key: str | None,
        *,
        holder: str | None = None,
        memo: IndexMemo | None = None,
    ) -> None:
        self._table = table
        self._owner_key = owner_key
        self._holder = holder
        self._memo = memo if memo is not None else IndexMemo()

    def for_holder(self, holder: str) -> ThreadRecorder:
        """A recorder whose every row is ``holder``'s, whatever the thread's metadata
        (sharing this one's memo: the rows are in the same table)."""
        return ThreadRecorder(self._table, None, holder=holder, memo=self._memo)

    def _owner(self, thread: ThreadObject) -> str | None:
        if self._holder is not None:
            return self._holder
        if self._owner_key is None:
            return None
        owner = (thread.get("metadata") or {}).get(self._owner_key)
        return owner if isinstance(owner, str) else None

    async def threads_seen(self, threads: Sequence[ThreadObject]) -> None:
        entries = self._memo.unrecorded(
            [
                IndexEntry(t["id"], self._owner(t), int(t["created_at"]), int(t["created_at"]))
                for t in threads
            ]
        )
        if not entries:
            return
        try:
            await self._memo.record(entries, self._table.record)
        except Exception as exc:
            logger.warning("could not record %d threads in the index: %r", len(entries), exc)

    async def activity_seen(self, activity: Sequence[tuple[str, int]]) -> None:
        needed = self._memo.unrecorded_activity(activity)
        if not needed:
            return
        try:
            await self._memo.record_activity(needed, self._table.record_activity)
        except Exception as exc:
            logger.warning("could not record thread activity in the index: %r", exc)

    async def threads_gone(self, thread_ids: Sequence[str]) -> None:
        try:
            await self._memo.forget(thread_ids, self._holder, self._forget)
        except Exception as exc:
            logger.warning("could not remove threads from the index: %r", exc)

    async def _forget(self, thread_ids: Sequence[str]) -> None:
        await self._table.forget(thread_ids, owner=self._holder)
