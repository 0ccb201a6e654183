"""``PostgresLogBus``: the event log in PostgreSQL, woken by LISTEN/NOTIFY, for every replica.

The store's writes NOTIFY ``EVENT_LOG_CHANNEL`` at commit (payload: the new
``seq``, a wake-up only). The reader holds one connection that LISTENs (and
another for its reads, so a new subscription never waits for a wake-up); a
notification, or ``SAFETY_POLL_SECONDS`` without one, makes it read the log
past its cursor. Notifications are lost while the connection is down; the
log is not: after a reconnect the reader reads on from its cursor.
"""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg

from gateway.live.log_reader import LogBus
from gateway.store.events import (
    EVENT_COLUMNS,
    EVENT_LOG_CHANNEL,
    EVENT_LOG_LOCK,
    EventKind,
    LoggedEvent,
)

__all__ = ["SAFETY_POLL_SECONDS", "PostgresLogBus"]

SAFETY_POLL_SECONDS = 1.0
CONNECT_TIMEOUT_SECONDS = 10


class PostgresLogBus(LogBus):
    def __init__(self, conninfo: str) -> None:
        super().__init__()
        self._conninfo = conninfo
        self._listener: psycopg.AsyncConnection[Any] | None = None
        self._reader: psycopg.AsyncConnection[Any] | None = None
        self._read_lock = asyncio.Lock()

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(
            self._conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
        )

    async def _listening(self) -> psycopg.AsyncConnection[Any]:
        if self._listener is None or self._listener.closed:
            conn = await self._connect()
            await conn.execute(f"LISTEN {EVENT_LOG_CHANNEL}")
            self._listener = conn
            self._wake.set()  # notifications may have been missed: read the log
        return self._listener

    async def _open(self) -> None:
        await self._listening()

    async def _close(self) -> None:
        for conn in (self._listener, self._reader):
            if conn is not None:
                await conn.close()
        self._listener = self._reader = None

    async def _rows(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        async with self._read_lock:
            try:
                if self._reader is None or self._reader.closed:
                    self._reader = await self._connect()
                return await (await self._reader.execute(sql, params)).fetchall()
            except psycopg.OperationalError:
                if self._reader is not None:
                    await self._reader.close()
                self._reader = None
                raise

    async def _head(self) -> int:
        rows = await self._rows("SELECT coalesce(max(seq), 0) FROM thread_events", ())
        return int(rows[0][0])

    async def _read_after(self, seq: int, limit: int) -> list[LoggedEvent]:
        rows = await self._rows(
            f"SELECT {EVENT_COLUMNS} FROM thread_events WHERE seq > %s ORDER BY seq LIMIT %s",  # noqa: S608
            (seq, limit),
        )
        return [LoggedEvent(int(r[0]), r[1], r[2], r[3], r[4], float(r[5])) for r in rows]

    async def _wait_for_news(self) -> None:
        if self._wake.is_set():
            self._wake.clear()
            return
        conn = await self._listening()
        try:
            async for _ in conn.notifies(timeout=SAFETY_POLL_SECONDS, stop_after=1):
                break
        except psycopg.OperationalError:
            await conn.close()
            self._listener = None
            raise

    async def _insert(self, thread_id: str, kind: EventKind, obj: str, thread: str | None) -> None:
        async with (
            await psycopg.AsyncConnection.connect(
                self._conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
            ) as conn,
            conn.transaction(),
        ):
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (EVENT_LOG_LOCK,))
            await conn.execute(
                "WITH event AS (INSERT INTO thread_events "
                "(thread_id, kind, object, thread, committed_at) "
                "VALUES (%s, %s, %s, %s, extract(epoch FROM clock_timestamp())) RETURNING seq) "
                "SELECT pg_notify(%s, seq::text) FROM event",
                (thread_id, str(kind), obj, thread, EVENT_LOG_CHANNEL),
            )
