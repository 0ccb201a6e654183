"""``ThreadIndexTable``: the thread index in the state database, whatever backend keeps it.

The table and the triggers that keep it on the embedded store are in
``thread_index_schema``; this module holds the values both backends speak and
the keyset SQL they share (written with ``?`` placeholders, as ``pagination``).

A page is ordered by ``(sort key, thread_id)``: the sort key is ``created_at`` or
``last_activity_at``, the thread id breaks ties, so the order is total and a
cursor (the last row's key and id) names a position that stays meaningful
whatever is inserted or deleted meanwhile. A page is one range scan of one
index (``thread_index_by_*``) bounded by the cursor, plus, when a cursor is
given, one probe of the other side of it (for ``pageInfo``), both in one read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from gateway.store.rows import ThreadRow

__all__ = [
    "IndexEntry",
    "IndexPage",
    "IndexQuery",
    "IndexedThread",
    "SortKey",
    "ThreadIndexTable",
    "before_sql",
    "indexed_thread",
    "page_sql",
]

SortKey = Literal["created_at", "last_activity_at"]


@dataclass(frozen=True, slots=True)
class IndexQuery:
    """One page of the index, in scan order (the caller reverses a backward page)."""

    owner: str | None
    """Only the threads of this owner; ``None``: every thread."""
    sort: SortKey
    descending: bool
    """The direction of the scan (a backward page scans against the requested order)."""
    cursor: tuple[int, str] | None
    """``(sort key, thread id)``: rows strictly past it, in the scan's direction."""
    limit: int
    with_threads: bool = False
    """Join the embedded store's ``threads`` rows (exact mode: no upstream call for them)."""


@dataclass(frozen=True, slots=True)
class IndexedThread:
    thread_id: str
    created_at: int
    last_activity_at: int
    thread: ThreadRow | None = None
    """The stored thread, when the query asked for it (and the store has it)."""


@dataclass(frozen=True, slots=True)
class IndexPage:
    rows: tuple[IndexedThread, ...]
    """In scan order."""
    has_more: bool
    """Rows lie past the page in the scan's direction."""
    has_before: bool
    """Rows lie at or before the cursor (always false without one)."""


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """A thread as the gateway saw it over a remote upstream (``recorded``)."""

    thread_id: str
    owner: str | None
    created_at: int
    last_activity_at: int


class ThreadIndexTable(Protocol):
    """The index's operations; ``SQLiteStore.thread_index`` and ``PostgresStore.thread_index``."""

    async def adopt_owner_key(self, key: str | None) -> None:
        """Make ``key`` the one the triggers read owners under; recompute owners if it changed."""
        ...

    async def page(self, query: IndexQuery) -> IndexPage: ...

    async def last_activity(self, thread_ids: Sequence[str]) -> dict[str, int]:
        """The last activity of those of ``thread_ids`` the index holds."""
        ...

    async def record(self, entries: Sequence[IndexEntry]) -> None:
        """Insert or refresh rows; a row's last activity never moves back."""
        ...

    async def record_activity(self, activity: Sequence[tuple[str, int]]) -> None:
        """Move known threads' last activity forward to the times given."""
        ...

    async def forget(self, thread_ids: Sequence[str], *, owner: str | None = None) -> None:
        """Remove those rows; with ``owner``, only those of that owner (a passthrough
        caller's 404 says nothing of what another key can read)."""
        ...


_COLUMNS = "i.thread_id, i.created_at, i.last_activity_at"
_THREAD_COLUMNS = ", t.id, t.created_at, t.metadata, t.tool_resources"


def _filters(query: IndexQuery, comparison: str, inclusive: bool) -> tuple[list[str], list[object]]:
    where: list[str] = []
    params: list[object] = []
    if query.owner is not None:
        where.append("i.owner = ?")
        params.append(query.owner)
    if query.cursor is not None:
        # A row-value comparison, so both databases bound the index range by it (an
        # OR of the two columns would be a filter over the scan instead).
        operator = comparison + ("=" if inclusive else "")
        where.append(f"(i.{query.sort}, i.thread_id) {operator} (?, ?)")
        params.extend(query.cursor)
    return where, params


def page_sql(query: IndexQuery) -> tuple[str, list[object]]:
    """The page's statement and parameters: ``limit + 1`` rows, to know ``has_more``."""
    where, params = _filters(query, "<" if query.descending else ">", inclusive=False)
    direction = "DESC" if query.descending else "ASC"
    columns = _COLUMNS + (_THREAD_COLUMNS if query.with_threads else "")
    join = " LEFT JOIN threads AS t ON t.id = i.thread_id" if query.with_threads else ""
    sql = (
        f"SELECT {columns} FROM thread_index AS i{join}"  # noqa: S608 (constants only)
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + f" ORDER BY i.{query.sort} {direction}, i.thread_id {direction} LIMIT ?"
    )
    params.append(query.limit + 1)
    return sql, params


def before_sql(query: IndexQuery) -> tuple[str, list[object]] | None:
    """Whether a row lies at or before the cursor: ``None`` without a cursor."""
    if query.cursor is None:
        return None
    where, params = _filters(query, ">" if query.descending else "<", inclusive=True)
    sql = f"SELECT EXISTS (SELECT 1 FROM thread_index AS i WHERE {' AND '.join(where)})"  # noqa: S608
    return sql, params


def indexed_thread(row: Sequence[Any], with_threads: bool) -> IndexedThread:
    """A fetched row of ``page_sql``."""
    thread = None
    if with_threads and row[3] is not None:
        thread = ThreadRow(str(row[3]), int(row[4]), str(row[5]), str(row[6]))
    return IndexedThread(str(row[0]), int(row[1]), int(row[2]), thread)
