"""The store suite's backends, and SQL access to whatever a test's store keeps.

Every store test that asks for ``store``, ``client``, ``server``, ``sdk`` or
``http`` runs once per backend in ``BACKENDS`` (see ``conftest``). The few
assertions that look at the stored rows themselves (nothing stored by a bad
request, no orphans) go through ``query`` / ``query_at``, which take SQL with
``?`` placeholders that both SQLite and PostgreSQL understand once converted.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import psycopg

from gateway.store import SQLiteStore, StoreBackend, wire
from gateway.store.postgres import PostgresStore
from gateway.store.validation import ListQuery

BACKENDS = ("sqlite", "postgresql")

Rows = list[tuple[Any, ...]]


async def query(store: StoreBackend, sql: str, params: Sequence[object] = ()) -> Rows:
    """Run one statement on the store's own database (in a write transaction on SQLite)."""
    if isinstance(store, SQLiteStore):

        def run(conn: sqlite3.Connection) -> Rows:
            return conn.execute(sql, params).fetchall()

        return await store.database.write(run)
    assert isinstance(store, PostgresStore)
    async with store.pool.connection() as conn:
        cursor = await conn.execute(sql.replace("?", "%s"), params)
        return await cursor.fetchall() if cursor.description else []


def query_at(url: str, sql: str, params: Sequence[object] = ()) -> Rows:
    """Run one read on the store at ``url`` (a server process's), from outside."""
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(f"file:{url.removeprefix('sqlite:///')}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()
    with psycopg.connect(url) as pg:
        return pg.execute(sql.replace("?", "%s"), params).fetchall()


SNAPSHOT_QUERIES = (
    "SELECT id, metadata || tool_resources FROM threads ORDER BY seq",
    "SELECT id, thread_id, metadata FROM messages ORDER BY seq",
)
"""What "nothing was stored" compares: every thread and message, in order."""


async def snapshot(store: StoreBackend) -> list[Rows]:
    return [await query(store, sql) for sql in SNAPSHOT_QUERIES]


def snapshot_at(url: str) -> list[Rows]:
    return [query_at(url, sql) for sql in SNAPSHOT_QUERIES]


async def listing(store: StoreBackend) -> list[str]:
    """Everything a client can see in a store, as the API renders it, in order.

    Every thread, then its messages walked in pages of 7 ascending and of 5
    descending (so that cursors and ties are exercised), and one page by run.
    Two stores with equal listings are the same to any client.
    """
    seen: list[str] = []
    after = 0
    while page := await store.export_threads(after_seq=after, limit=50):
        for _, thread in page:
            seen.append(wire.thread_json(await store.get_thread(thread.id)))
            for order, size in (("asc", 7), ("desc", 5)):
                cursor: str | None = None
                while True:
                    query_ = ListQuery(limit=size, order=order, after=cursor)  # type: ignore[arg-type]
                    found = await store.list_messages(thread.id, query_)
                    seen.append(wire.page_json(found))
                    if not found.has_more:
                        break
                    cursor = found.rows[-1].id
            by_run = await store.list_messages(thread.id, ListQuery(limit=100, run_id="run_legacy"))
            seen.append(wire.page_json(by_run))
        after = page[-1][0]
    return seen
