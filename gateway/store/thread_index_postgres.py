"""The thread index on PostgreSQL: ``ThreadIndexTable`` over the store's connection pool.

Imported by ``postgres`` only (psycopg is the optional extra). Every value is
a bound parameter; the shared SQL's ``?`` become ``%s``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from gateway.store.thread_index import (
    IndexEntry,
    IndexPage,
    IndexQuery,
    before_sql,
    indexed_thread,
    page_sql,
)

__all__ = ["PostgresThreadIndex"]

Pool = AsyncConnectionPool[psycopg.AsyncConnection[tuple[Any, ...]]]

_RECOMPUTE_OWNERS = (
    "UPDATE thread_index SET owner = (SELECT t.metadata::jsonb ->> %s FROM threads AS t "
    "WHERE t.id = thread_index.thread_id)"
)
_RECORD = (
    "INSERT INTO thread_index (thread_id, owner, created_at, last_activity_at) "
    "VALUES (%s, %s, %s, %s) ON CONFLICT (thread_id) DO UPDATE SET owner = EXCLUDED.owner, "
    "created_at = EXCLUDED.created_at, "
    "last_activity_at = GREATEST(thread_index.last_activity_at, EXCLUDED.last_activity_at)"
)
_RECORD_ACTIVITY = (
    "UPDATE thread_index SET last_activity_at = GREATEST(last_activity_at, %s) WHERE thread_id = %s"
)


def _pg(sql: str) -> str:
    return sql.replace("?", "%s")


class PostgresThreadIndex:
    """The ``thread_index`` table of one PostgreSQL store."""

    def __init__(self, pool: Callable[[], Pool]) -> None:
        self._pool = pool

    async def adopt_owner_key(self, key: str | None) -> None:
        async with self._pool().connection() as conn, conn.transaction():
            stored = await (
                await conn.execute("SELECT owner_key FROM thread_index_owner_key FOR UPDATE")
            ).fetchone()
            if stored is not None and stored[0] == key:
                return
            await conn.execute("UPDATE thread_index_owner_key SET owner_key = %s", (key,))
            await conn.execute(_RECOMPUTE_OWNERS, (key,))

    async def page(self, query: IndexQuery) -> IndexPage:
        sql, params = page_sql(query)
        probe = before_sql(query)
        async with self._pool().connection() as conn:
            fetched = await (await conn.execute(_pg(sql), params)).fetchall()
            has_before = False
            if probe is not None:
                found = await (await conn.execute(_pg(probe[0]), probe[1])).fetchone()
                has_before = bool(found[0]) if found is not None else False
        rows = [indexed_thread(row, query.with_threads) for row in fetched]
        has_more = len(rows) > query.limit
        del rows[query.limit :]
        return IndexPage(tuple(rows), has_more, has_before)

    async def last_activity(self, thread_ids: Sequence[str]) -> dict[str, int]:
        if not thread_ids:
            return {}
        async with self._pool().connection() as conn:
            found = await (
                await conn.execute(
                    "SELECT thread_id, last_activity_at FROM thread_index "
                    "WHERE thread_id = ANY(%s)",
                    (list(thread_ids),),
                )
            ).fetchall()
        return {str(thread_id): int(at) for thread_id, at in found}

    async def record(self, entries: Sequence[IndexEntry]) -> None:
        if not entries:
            return
        async with self._pool().connection() as conn, conn.cursor() as cursor:
            await cursor.executemany(
                _RECORD,
                [
                    (e.thread_id, e.owner, e.created_at, e.last_activity_at)
                    for e in sorted(entries, key=lambda e: e.thread_id)
                ],
            )

    async def record_activity(self, activity: Sequence[tuple[str, int]]) -> None:
        if not activity:
            return
        async with self._pool().connection() as conn, conn.cursor() as cursor:
            await cursor.executemany(
                _RECORD_ACTIVITY, [(at, thread_id) for thread_id, at in sorted(activity)]
            )

    async def forget(self, thread_ids: Sequence[str], *, owner: str | None = None) -> None:
        if not thread_ids:
            return
        async with self._pool().connection() as conn:
            if owner is None:
                await conn.execute(
                    "DELETE FROM thread_index WHERE thread_id = ANY(%s)", (list(thread_ids),)
                )
            else:
                await conn.execute(
                    "DELETE FROM thread_index WHERE thread_id = ANY(%s) AND owner = %s",
                    (list(thread_ids), owner),
                )
