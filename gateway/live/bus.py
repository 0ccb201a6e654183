"""The event bus seam: publish a thread's events, subscribe to them by topic.

A topic is a thread id, or ``ALL_THREADS`` (every thread: the viewer's stream).
Three implementations pass one test suite (``tests/live/test_bus.py``):

- ``InProcessBus`` (``in_process``): one process; events published here are
  numbered and fanned out at once (remote upstream without a state database);
- ``SQLiteLogBus`` (``sqlite_log``): the store file's event log, read by every
  process of the machine with a bounded poll while it has subscribers;
- ``PostgresLogBus`` (``postgres_log``): the database's event log, read when a
  NOTIFY wakes the reader (and on reconnect, from the last ``seq`` seen).

Contract (every implementation):

1. A subscription receives every event of its topic with a ``seq`` above the
   bus's position when it subscribed, once, in ``seq`` (= commit) order; every
   event at or below that position was committed before ``subscribe`` returned,
   so a read of the store made afterwards sees it (the seam of a resume).
2. A subscription's queue is bounded: a subscriber that falls
   ``queue_size`` events behind is cut off (``SlowConsumerError``), so memory
   never grows with a stalled client.
3. ``close`` ends every subscription (``BusClosedError`` to its reader).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from gateway.store.events import EventKind, LoggedEvent

__all__ = [
    "ALL_THREADS",
    "BusClosedError",
    "EventBus",
    "Fanout",
    "SlowConsumerError",
    "Subscription",
]

ALL_THREADS = "*"


class SlowConsumerError(Exception):
    """The subscriber did not keep up: its bounded queue overflowed."""


class BusClosedError(Exception):
    """The bus closed (shutdown) while the subscription was open."""


_CLOSED = object()


class Subscription:
    """One subscriber's bounded queue of events; iterate it, then ``close`` it."""

    def __init__(self, fanout: Fanout, topic: str, queue_size: int) -> None:
        self._fanout = fanout
        self.topic = topic
        self._queue: asyncio.Queue[LoggedEvent | object] = asyncio.Queue(queue_size + 1)
        self._limit = queue_size
        self.overflowed = False
        self.closed = False
        # Called once on overflow: a consumer stuck in a send never reads the end marker,
        # so whoever owns it is told at once (the live hub cancels the stream).
        self.on_overflow: Callable[[], None] | None = None

    def offer(self, item: LoggedEvent | object) -> None:
        """Enqueue without waiting; past the bound the subscription is cut off."""
        if self.closed or self.overflowed:
            return
        if item is not _CLOSED and self._queue.qsize() >= self._limit:
            self.overflowed = True
            self._fanout.remove(self)
            self._queue.put_nowait(_CLOSED)
            if self.on_overflow is not None:
                self.on_overflow()
            return
        self._queue.put_nowait(item)

    def __aiter__(self) -> AsyncIterator[LoggedEvent]:
        return self

    async def __anext__(self) -> LoggedEvent:
        item = await self._queue.get()
        if item is _CLOSED:
            if self.overflowed:
                raise SlowConsumerError
            raise BusClosedError
        assert isinstance(item, LoggedEvent)
        return item

    def close(self) -> None:
        """Stop receiving (idempotent)."""
        if not self.closed:
            self.closed = True
            self._fanout.remove(self)


class Fanout:
    """The subscriptions of one process, by topic; ``deliver`` runs on the event loop."""

    def __init__(self) -> None:
        self._by_topic: dict[str, set[Subscription]] = {}
        self.count = 0
        self.received = 0  # events handed to ``deliver``

    def add(self, topic: str, queue_size: int) -> Subscription:
        subscription = Subscription(self, topic, queue_size)
        self._by_topic.setdefault(topic, set()).add(subscription)
        self.count += 1
        return subscription

    def remove(self, subscription: Subscription) -> None:
        subscribers = self._by_topic.get(subscription.topic)
        if subscribers is not None and subscription in subscribers:
            subscribers.discard(subscription)
            self.count -= 1
            if not subscribers:
                del self._by_topic[subscription.topic]

    def topics(self) -> list[str]:
        return [topic for topic in self._by_topic if topic != ALL_THREADS]

    def deliver(self, event: LoggedEvent) -> int:
        """Hand ``event`` to its thread's subscribers and to every-thread ones; how many."""
        self.received += 1
        delivered = 0
        for topic in (event.thread_id, ALL_THREADS):
            for subscription in list(self._by_topic.get(topic, ())):
                subscription.offer(event)
                delivered += 1
        return delivered

    def close_all(self) -> None:
        for subscribers in list(self._by_topic.values()):
            for subscription in list(subscribers):
                subscription.offer(_CLOSED)
                self.remove(subscription)


class EventBus(Protocol):
    """Where events of threads meet their subscribers, in this process and beyond."""

    @property
    def subscribers(self) -> int:
        """Open subscriptions in this process."""
        ...

    @property
    def received(self) -> int:
        """Events this bus has handed to its subscriptions' fan-out (published or read)."""
        ...

    async def start(self) -> None: ...

    async def close(self) -> None:
        """End every subscription, then stop (idempotent)."""
        ...

    async def subscribe(self, topic: str, *, queue_size: int) -> Subscription:
        """Receive the events of ``topic`` from now on (contract rule 1)."""
        ...

    async def publish(self, thread_id: str, kind: EventKind, obj: str, thread: str | None) -> None:
        """Record a change made outside the embedded store (a remote upstream's)."""
        ...

    def subscribed_threads(self) -> list[str]:
        """The thread ids with subscribers in this process (for polling a remote upstream)."""
        ...

    def poke(self) -> None:
        """A write of this process committed: look for its events now (if there is a log)."""
        ...
