"""``LiveHub`` over the in-process bus: limits, the viewer's filter, slow consumers."""

from __future__ import annotations

import asyncio
import json

import pytest

from gateway.live import InProcessBus, SlowConsumerError
from gateway.live.errors import SubscriptionLimitError
from gateway.live.hub import LiveAccess, LiveHub, StreamItem
from gateway.store.events import EventKind

HANG = 10.0


def hub(**overrides: object) -> LiveHub:
    options: dict[str, object] = {
        "per_connection": 2,
        "per_caller": 3,
        "queue_size": 4,
        "owner_key": "owner",
    }
    options.update(overrides)
    return LiveHub(InProcessBus(), **options)  # type: ignore[arg-type]


def thread(thread_id: str, owner: str) -> str:
    return json.dumps(
        {"id": thread_id, "object": "thread", "created_at": 1, "metadata": {"owner": owner}}
    )


async def test_limits_per_connection_and_per_caller() -> None:
    live = hub()
    first, second = LiveAccess(live, subject="ann"), LiveAccess(live, subject="ann")
    async with live.slot(first, "viewerThreadEvents"), live.slot(first, "viewerThreadEvents"):
        with pytest.raises(SubscriptionLimitError, match="connection"):
            async with live.slot(first, "viewerThreadEvents"):
                pass  # pragma: no cover
        async with live.slot(second, "viewerThreadEvents"):
            with pytest.raises(SubscriptionLimitError, match="caller"):
                async with live.slot(second, "viewerThreadEvents"):
                    pass  # pragma: no cover
            assert live.stats.active == 3
    assert live.stats.active == 0
    assert (first.streams, second.streams) == (0, 0)


async def test_the_viewer_sees_only_their_threads_and_a_slow_one_is_cut_off() -> None:
    live = hub()
    fast = live.viewer_events(LiveAccess(live, subject="ann"))
    slow = live.viewer_events(LiveAccess(live, subject="ann"))
    got: list[StreamItem] = []

    async def read_fast() -> None:
        async with asyncio.timeout(HANG):
            async for item in fast:
                got.append(item)
                if len(got) == 10:
                    return

    # Both subscribe on their first step; the slow one is never read again.
    fast_reader = asyncio.create_task(read_fast())
    slow_first = asyncio.create_task(anext(slow))
    await asyncio.sleep(0)
    while live.bus.subscribers < 2:
        await asyncio.sleep(0.01)
    await live.bus.publish(
        "t_bob", EventKind.THREAD_CREATED, thread("t_bob", "bob"), thread("t_bob", "bob")
    )
    for i in range(10):
        text = thread(f"t_{i}", "ann")
        await live.bus.publish(f"t_{i}", EventKind.THREAD_CREATED, text, text)
        await asyncio.sleep(0.01)  # a fast reader: it drains between two events
    await fast_reader
    assert [item.object["id"] for item in got] == [f"t_{i}" for i in range(10)]
    with pytest.raises(SlowConsumerError):  # ten events behind, with room for four
        async with asyncio.timeout(HANG):
            await slow_first
            async for _ in slow:
                pass
    assert live.stats.slow_consumers == 1
    await fast.aclose()
