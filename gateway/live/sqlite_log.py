"""``SQLiteLogBus``: the event log in the store's SQLite file, for the workers of one machine.

Every process that has subscribers polls the log every ``poll_interval``
seconds (and at once when ``poke``d by a write of its own); an idle process
does not read at all. Reads run on a thread with their own read-only
connection (WAL: they never block the store's writer).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from pathlib import Path

from gateway.live.log_reader import LogBus
from gateway.store.events import EVENT_COLUMNS, EventKind, LoggedEvent

__all__ = ["SQLiteLogBus"]

BUSY_TIMEOUT_SECONDS = 5.0


class SQLiteLogBus(LogBus):
    def __init__(self, path: Path, *, poll_interval: float = 0.05) -> None:
        super().__init__()
        self._path = path
        self._poll_interval = poll_interval
        self._reader: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(
            self._path,
            timeout=BUSY_TIMEOUT_SECONDS,
            isolation_level=None,
            check_same_thread=False,
        )

    async def _open(self) -> None:
        self._reader = await asyncio.to_thread(self._connect)

    async def _close(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()

    async def _query(self, sql: str, params: tuple[object, ...]) -> list[tuple[object, ...]]:
        reader = self._reader
        if reader is None:
            raise RuntimeError("the bus is not open")
        async with self._lock:  # one connection, one thread at a time
            return await asyncio.to_thread(lambda: reader.execute(sql, params).fetchall())

    async def _head(self) -> int:
        rows = await self._query("SELECT coalesce(max(seq), 0) FROM thread_events", ())
        head: int = rows[0][0]  # type: ignore[assignment]
        return head

    async def _read_after(self, seq: int, limit: int) -> list[LoggedEvent]:
        rows = await self._query(
            f"SELECT {EVENT_COLUMNS} FROM thread_events WHERE seq > ? ORDER BY seq LIMIT ?",  # noqa: S608
            (seq, limit),
        )
        return [LoggedEvent(*row) for row in rows]  # type: ignore[arg-type]

    async def _wait_for_news(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._poll_interval):
                await self._wake.wait()
        self._wake.clear()

    async def _insert(self, thread_id: str, kind: EventKind, obj: str, thread: str | None) -> None:
        def insert() -> None:
            conn = self._connect()
            try:
                conn.execute(
                    "INSERT INTO thread_events (thread_id, kind, object, thread, committed_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (thread_id, str(kind), obj, thread, time.time()),
                )
            finally:
                conn.close()

        await asyncio.to_thread(insert)
