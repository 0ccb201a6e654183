"""``LiveHub``: the subscriptions of one process, on top of its ``EventBus``.

It owns what a stream needs beyond the bus: the limits (per connection, per
caller), the start of a ``threadEvents`` stream (the owner check, then the
resume seam), the viewer's filter, a credential's expiry, and the counters
``/metrics`` shows.

The resume seam (DESIGN §13): subscribe to the bus first, then read the
messages after ``after`` from the upstream, oldest first, and replay them;
then the live events, skipping each ``MessageCreated`` the replay already
sent. Every message committed before the subscription is in the replay
(``bus`` contract rule 1: the bus position only covers committed events);
every one committed after it is a live event; one committed in between is
in both and sent once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from gateway.live.bus import (
    ALL_THREADS,
    BusClosedError,
    EventBus,
    SlowConsumerError,
    Subscription,
)
from gateway.live.errors import CredentialExpiredError, SubscriptionLimitError
from gateway.store.events import EventKind, LoggedEvent
from gateway.upstream import ListMessagesParams, Upstream

__all__ = ["REPLAY_PAGE", "LiveAccess", "LiveHub", "LiveStats", "StreamItem"]

REPLAY_PAGE = 100
"""Messages read per upstream call while replaying."""

logger = logging.getLogger("gateway.live")
operation_log = logging.getLogger("gateway.operations")
"""The operation log (``gateway.schema.oplog``): one line at each subscription's start and end."""


@dataclass(frozen=True, slots=True)
class StreamItem:
    """One event for a stream: its kind, the object (parsed), the thread (parsed) if known."""

    kind: str
    object: dict[str, Any]
    thread: dict[str, Any] | None


@dataclass
class LiveStats:
    """What ``/metrics`` shows (process totals)."""

    bus: EventBus
    started: int = 0
    ended: int = 0
    delivered: int = 0
    replayed: int = 0
    slow_consumers: int = 0

    @property
    def active(self) -> int:
        return self.started - self.ended

    @property
    def received(self) -> int:
        return self.bus.received


@dataclass
class LiveAccess:
    """One connection's (WebSocket) or request's (SSE) access to live threads.

    ``subject`` and ``open_session`` are set once the caller is known (at
    ``connection_init`` on a WebSocket); ``open_session`` makes a fresh upstream
    session of that caller (owned, with isolation on) for each stream's start.
    """

    hub: LiveHub
    open_session: Callable[[], Upstream] | None = None
    subject: str | None = None
    expires_at: float | None = None
    streams: int = 0


class ThreadWatcher(Protocol):
    async def watch(self, thread_id: str, session: Upstream) -> None: ...


class LiveHub:
    def __init__(
        self,
        bus: EventBus,
        *,
        per_connection: int,
        per_caller: int,
        queue_size: int,
        owner_key: str | None,
        on_lag: Callable[[float], None] | None = None,
    ) -> None:
        self.bus = bus
        self._per_connection = per_connection
        self._per_caller = per_caller
        self._queue_size = queue_size
        self._owner_key = owner_key
        self._callers: Counter[str] = Counter()
        self._on_lag = on_lag
        self.stats = LiveStats(bus)
        # Over a remote upstream: the poller, told of each new thread stream (remote.py).
        self.poller: ThreadWatcher | None = None

    @asynccontextmanager
    async def slot(self, access: LiveAccess, field_name: str) -> AsyncIterator[None]:
        """Hold one subscription slot of the connection and the caller, or refuse."""
        caller = access.subject or "-"
        if access.streams >= self._per_connection:
            raise SubscriptionLimitError("connection", self._per_connection)
        if self._callers[caller] >= self._per_caller:
            raise SubscriptionLimitError("caller", self._per_caller)
        access.streams += 1
        self._callers[caller] += 1
        self.stats.started += 1
        began = time.monotonic()
        outcome = "complete"
        try:
            yield
        except SlowConsumerError:
            outcome = "slow-consumer"
            raise
        except BaseException as exc:
            outcome = type(exc).__name__
            raise
        finally:
            access.streams -= 1
            self._callers[caller] -= 1
            if not self._callers[caller]:
                del self._callers[caller]
            self.stats.ended += 1
            operation_log.info(
                "subscription end field=%s caller=%s outcome=%s seconds=%.3f",
                field_name,
                caller,
                outcome,
                time.monotonic() - began,
            )

    @staticmethod
    def _started(field_name: str, access: LiveAccess) -> None:
        """The start line, once the stream is subscribed to the bus (a write committed
        after it is an event of the stream: tests wait for this line before writing)."""
        operation_log.info(
            "subscription start field=%s caller=%s pid=%d",
            field_name,
            access.subject or "-",
            os.getpid(),
        )

    def _cut_off_when_behind(self, subscription: Subscription) -> None:
        """On overflow, cancel the task consuming the stream: it may be stuck sending to a
        client that stopped reading, where it would never see the end of its queue."""
        consumer = asyncio.current_task()

        def cut_off() -> None:
            self.stats.slow_consumers += 1
            operation_log.info("subscription cut off: slow consumer (queue full)")
            if consumer is not None:
                consumer.cancel()

        subscription.on_overflow = cut_off

    async def _events(
        self, subscription: Subscription, expires_at: float | None
    ) -> AsyncGenerator[LoggedEvent, None]:
        """The subscription's events until the bus closes or the credential expires."""
        self._cut_off_when_behind(subscription)
        try:
            while True:
                try:
                    if expires_at is None:
                        event = await subscription.__anext__()
                    else:
                        remaining = expires_at - time.time()
                        if remaining <= 0:
                            raise CredentialExpiredError
                        async with asyncio.timeout(remaining):
                            event = await subscription.__anext__()
                except TimeoutError:
                    raise CredentialExpiredError from None
                except SlowConsumerError:
                    raise
                except BusClosedError:
                    return
                yield event
        finally:
            subscription.close()

    def _delivered(self, event: LoggedEvent) -> None:
        self.stats.delivered += 1
        lag = max(0.0, time.time() - event.committed_at)
        if self._on_lag is not None:
            self._on_lag(lag)

    async def thread_events(
        self, access: LiveAccess, thread_id: str, after: str | None
    ) -> AsyncGenerator[StreamItem, None]:
        """The ``threadEvents`` stream: owner check, replay after ``after``, then live."""
        if access.open_session is None:
            raise RuntimeError("the caller is not known")
        await access.open_session().get_thread(thread_id)  # FORBIDDEN / NOT_FOUND first
        subscription = await self.bus.subscribe(thread_id, queue_size=self._queue_size)
        live = self._events(subscription, access.expires_at)
        try:
            if self.poller is not None:
                await self.poller.watch(thread_id, access.open_session())
            self._started("threadEvents", access)
            replayed: set[str] = set()
            if after is not None:
                cursor = after
                while True:
                    params: ListMessagesParams = {
                        "after": cursor,
                        "order": "asc",
                        "limit": REPLAY_PAGE,
                    }
                    page = await access.open_session().list_messages(thread_id, params)
                    for message in page["data"]:
                        replayed.add(message["id"])
                        self.stats.replayed += 1
                        yield StreamItem(str(EventKind.MESSAGE_CREATED), dict(message), None)
                    if not page["has_more"] or not page["data"]:
                        break
                    cursor = page["data"][-1]["id"]
            async for event in live:
                obj = json.loads(event.object)
                if event.kind == EventKind.MESSAGE_CREATED and obj.get("id") in replayed:
                    replayed.discard(obj["id"])
                    continue
                self._delivered(event)
                yield StreamItem(event.kind, obj, _parsed(event.thread))
                if event.kind == EventKind.THREAD_DELETED:
                    return
        finally:
            subscription.close()
            await live.aclose()

    async def viewer_events(self, access: LiveAccess) -> AsyncGenerator[StreamItem, None]:
        """The ``viewerThreadEvents`` stream: the caller's threads created, updated, deleted."""
        subscription = await self.bus.subscribe(ALL_THREADS, queue_size=self._queue_size)
        live = self._events(subscription, access.expires_at)
        try:
            self._started("viewerThreadEvents", access)
            async for event in live:
                thread = _parsed(event.thread)
                if thread is None or not self._visible(thread, access.subject):
                    continue
                if event.kind in (EventKind.THREAD_CREATED, EventKind.THREAD_UPDATED):
                    item = StreamItem(event.kind, thread, thread)
                elif event.kind == EventKind.MESSAGE_CREATED:  # activity: lastActivityAt moved
                    item = StreamItem(str(EventKind.THREAD_UPDATED), thread, thread)
                elif event.kind == EventKind.THREAD_DELETED:
                    item = StreamItem(event.kind, json.loads(event.object), thread)
                else:
                    continue
                self._delivered(event)
                yield item
        finally:
            subscription.close()
            await live.aclose()

    def _visible(self, thread: dict[str, Any], subject: str | None) -> bool:
        if self._owner_key is None:
            return True
        metadata = thread.get("metadata") or {}
        return subject is not None and metadata.get(self._owner_key) == subject


def _parsed(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    value = json.loads(text)
    return value if isinstance(value, dict) else None
