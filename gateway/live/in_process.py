"""``InProcessBus``: the event bus of one process, with nothing to share.

For a gateway over a remote upstream without a state database: the events are
the ones this process publishes (its own writes, its polls), numbered here.
"""

from __future__ import annotations

import time

from gateway.live.bus import BusClosedError, Fanout, Subscription
from gateway.store.events import EventKind, LoggedEvent

__all__ = ["InProcessBus"]


class InProcessBus:
    def __init__(self) -> None:
        self._fanout = Fanout()
        self._seq = 0
        self._closed = False

    @property
    def subscribers(self) -> int:
        return self._fanout.count

    @property
    def received(self) -> int:
        return self._fanout.received

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._closed = True
        self._fanout.close_all()

    async def subscribe(self, topic: str, *, queue_size: int) -> Subscription:
        if self._closed:
            raise BusClosedError
        return self._fanout.add(topic, queue_size)

    async def publish(self, thread_id: str, kind: EventKind, obj: str, thread: str | None) -> None:
        self._seq += 1
        self._fanout.deliver(LoggedEvent(self._seq, thread_id, str(kind), obj, thread, time.time()))

    def subscribed_threads(self) -> list[str]:
        return self._fanout.topics()

    def poke(self) -> None:
        return None  # published events are delivered at once
