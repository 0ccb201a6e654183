"""The thread index on the SQLite file: ``ThreadIndexTable`` over ``Database``.

Reads run on the reader threads, writes on the single writer (group commit),
like every other operation of the store (see ``database``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from functools import partial

from gateway.store.database import Database
from gateway.store.thread_index import (
    IndexEntry,
    IndexPage,
    IndexQuery,
    before_sql,
    indexed_thread,
    page_sql,
)

__all__ = ["SQLiteThreadIndex"]

_RECOMPUTE_OWNERS = (
    "UPDATE thread_index SET owner = (SELECT j.value FROM threads AS t, json_each(t.metadata) AS j "
    "WHERE t.id = thread_index.thread_id AND j.key = ?)"
)
_RECORD = (
    "INSERT INTO thread_index (thread_id, owner, created_at, last_activity_at) "
    "VALUES (?, ?, ?, ?) ON CONFLICT (thread_id) DO UPDATE SET owner = excluded.owner, "
    "created_at = excluded.created_at, "
    "last_activity_at = max(thread_index.last_activity_at, excluded.last_activity_at)"
)
_RECORD_ACTIVITY = (
    "UPDATE thread_index SET last_activity_at = max(last_activity_at, ?) WHERE thread_id = ?"
)


def _adopt_owner_key(conn: sqlite3.Connection, key: str | None) -> None:
    stored = conn.execute("SELECT owner_key FROM thread_index_owner_key").fetchone()[0]
    if stored == key:
        return
    conn.execute("UPDATE thread_index_owner_key SET owner_key = ?", (key,))
    conn.execute(_RECOMPUTE_OWNERS, (key,))


def _page(conn: sqlite3.Connection, query: IndexQuery) -> IndexPage:
    sql, params = page_sql(query)
    rows = [indexed_thread(row, query.with_threads) for row in conn.execute(sql, params)]
    has_more = len(rows) > query.limit
    del rows[query.limit :]
    probe = before_sql(query)
    has_before = bool(conn.execute(*probe).fetchone()[0]) if probe is not None else False
    return IndexPage(tuple(rows), has_more, has_before)


def _last_activity(conn: sqlite3.Connection, thread_ids: Sequence[str]) -> dict[str, int]:
    marks = ", ".join("?" * len(thread_ids))
    found = conn.execute(
        f"SELECT thread_id, last_activity_at FROM thread_index WHERE thread_id IN ({marks})",  # noqa: S608
        tuple(thread_ids),
    )
    return {str(thread_id): int(at) for thread_id, at in found}


def _record(conn: sqlite3.Connection, entries: Sequence[IndexEntry]) -> None:
    conn.executemany(
        _RECORD,
        [(e.thread_id, e.owner, e.created_at, e.last_activity_at) for e in entries],
    )


def _record_activity(conn: sqlite3.Connection, activity: Sequence[tuple[str, int]]) -> None:
    conn.executemany(_RECORD_ACTIVITY, [(at, thread_id) for thread_id, at in activity])


def _forget(conn: sqlite3.Connection, thread_ids: Sequence[str], owner: str | None) -> None:
    if owner is None:
        conn.executemany(
            "DELETE FROM thread_index WHERE thread_id = ?",
            [(thread_id,) for thread_id in thread_ids],
        )
        return
    conn.executemany(
        "DELETE FROM thread_index WHERE thread_id = ? AND owner = ?",
        [(thread_id, owner) for thread_id in thread_ids],
    )


class SQLiteThreadIndex:
    """The ``thread_index`` table of one store file."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def adopt_owner_key(self, key: str | None) -> None:
        await self._database.write(partial(_adopt_owner_key, key=key))

    async def page(self, query: IndexQuery) -> IndexPage:
        return await self._database.read(partial(_page, query=query))

    async def last_activity(self, thread_ids: Sequence[str]) -> dict[str, int]:
        if not thread_ids:
            return {}
        return await self._database.read(partial(_last_activity, thread_ids=thread_ids))

    async def record(self, entries: Sequence[IndexEntry]) -> None:
        if entries:
            await self._database.write(partial(_record, entries=entries))

    async def record_activity(self, activity: Sequence[tuple[str, int]]) -> None:
        if activity:
            await self._database.write(partial(_record_activity, activity=activity))

    async def forget(self, thread_ids: Sequence[str], *, owner: str | None = None) -> None:
        if thread_ids:
            await self._database.write(partial(_forget, thread_ids=thread_ids, owner=owner))
