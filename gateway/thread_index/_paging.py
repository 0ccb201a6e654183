"""One page of ``ThreadPageQuery`` through a ``ThreadIndexTable`` (shared by both sources)."""

from __future__ import annotations

from gateway.store.thread_index import IndexQuery, ThreadIndexTable
from gateway.thread_index.source import ThreadPage, ThreadPageQuery

__all__ = ["read_page"]


async def read_page(
    table: ThreadIndexTable, query: ThreadPageQuery, *, with_threads: bool
) -> ThreadPage:
    """A backward page scans against the requested order from the cursor, then reverses.

    ``pageInfo`` as Relay defines it, exactly: the side the page moved towards
    has more when the scan found more; the side it came from has more when a row
    lies at or before the cursor.
    """
    found = await table.page(
        IndexQuery(
            owner=query.owner,
            sort=query.sort,
            descending=query.descending != query.backward,
            cursor=query.cursor,
            limit=query.limit,
            with_threads=with_threads,
        )
    )
    if query.backward:
        return ThreadPage(found.rows[::-1], found.has_before, found.has_more)
    return ThreadPage(found.rows, found.has_more, found.has_before)
