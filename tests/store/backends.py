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

from gateway.store import SQLiteStore, StoreBackend
from gateway.store.postgres import PostgresStore

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
