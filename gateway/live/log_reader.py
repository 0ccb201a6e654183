"""``LogBus``: an event bus whose truth is the state database's event log.

One reader task per process follows the log (``seq`` above its cursor, in
order) and fans each event out to this process's subscriptions. It runs only
while there are subscribers: with none, the cursor is dropped, and the first
new subscription sets it to the log's head (``subscribe`` awaits that read), so
every event at or below the cursor was committed before ``subscribe``
returned (``bus`` contract rule 1). How the reader learns that there is
something new is the subclass's: a bounded poll (SQLite), a NOTIFY
(PostgreSQL).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod

from gateway.live.bus import BusClosedError, Fanout, Subscription
from gateway.store.events import EventKind, LoggedEvent

__all__ = ["READ_BATCH", "LogBus"]

READ_BATCH = 500
"""Events read from the log per query."""

logger = logging.getLogger("gateway.live")


class LogBus(ABC):
    def __init__(self) -> None:
        self._fanout = Fanout()
        self._cursor: int | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.read_errors = 0

    @property
    def subscribers(self) -> int:
        return self._fanout.count

    @property
    def received(self) -> int:
        return self._fanout.received

    @property
    def cursor(self) -> int | None:
        return self._cursor

    # --- what a subclass provides --------------------------------------------------

    @abstractmethod
    async def _head(self) -> int:
        """The highest ``seq`` in the log (0 when empty)."""

    @abstractmethod
    async def _read_after(self, seq: int, limit: int) -> list[LoggedEvent]:
        """Up to ``limit`` events past ``seq``, in order."""

    @abstractmethod
    async def _wait_for_news(self) -> None:
        """Return when the log may have grown (a poll tick, a NOTIFY, a reconnect)."""

    @abstractmethod
    async def _insert(self, thread_id: str, kind: EventKind, obj: str, thread: str | None) -> None:
        """Append one event to the log (a committed transaction of its own)."""

    async def _open(self) -> None:
        return None

    async def _close(self) -> None:
        return None

    # --- the bus ----------------------------------------------------------------------

    async def start(self) -> None:
        await self._open()
        self._task = asyncio.create_task(self._follow(), name="event-log-reader")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._fanout.close_all()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._close()

    async def subscribe(self, topic: str, *, queue_size: int) -> Subscription:
        if self._closed:
            raise BusClosedError
        if self._cursor is None:
            head = await self._head()
            if self._cursor is None:
                self._cursor = head
        subscription = self._fanout.add(topic, queue_size)
        self._wake.set()
        return subscription

    async def publish(self, thread_id: str, kind: EventKind, obj: str, thread: str | None) -> None:
        await self._insert(thread_id, kind, obj, thread)
        self._wake.set()

    def subscribed_threads(self) -> list[str]:
        return self._fanout.topics()

    def poke(self) -> None:
        """Read the log now (a local write just committed)."""
        self._wake.set()

    async def _follow(self) -> None:
        while True:
            if self._fanout.count == 0:
                self._cursor = None
                self._wake.clear()
                await self._wake.wait()
                continue
            try:
                await self._drain()
                await self._wait_for_news()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: retry, keep the cursor
                self.read_errors += 1
                logger.warning("reading the event log failed: %s", type(exc).__name__)
                await asyncio.sleep(0.5)

    async def _drain(self) -> None:
        while self._cursor is not None and self._fanout.count:
            events = await self._read_after(self._cursor, READ_BATCH)
            for event in events:
                if self._cursor is not None and event.seq > self._cursor:
                    self._cursor = event.seq
                    self._fanout.deliver(event)
            if len(events) < READ_BATCH:
                return
