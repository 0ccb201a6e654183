"""One bus suite, every implementation (``gateway.live.bus`` contract).

``bus`` is parametrized over the in-process bus and the two log buses (the
SQLite file, PostgreSQL). The log buses are also fed by real store writes,
made through a store with its own connections (as another process would).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.live import (
    ALL_THREADS,
    BusClosedError,
    EventBus,
    InProcessBus,
    SlowConsumerError,
    SQLiteLogBus,
    Subscription,
)
from gateway.live.postgres_log import PostgresLogBus
from gateway.store import SQLiteStore, StoreBackend
from gateway.store.events import EventKind, LoggedEvent
from gateway.store.postgres import PostgresStore
from gateway.store.validation import MessageChanges, NewMessage, NewThread, ThreadChanges
from tests.store.postgres import PostgresServer, create_database, drop_database

KINDS = ("in-process", "sqlite", "postgresql")
HANG = 10.0


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
async def store(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[StoreBackend | None]:
    """The store whose log the bus reads (none for the in-process bus)."""
    if kind == "in-process":
        yield None
        return
    if kind == "sqlite":
        backend: StoreBackend = SQLiteStore(tmp_path / "store.sqlite3")
        await backend.open()
        yield backend
        await backend.close()
        return
    postgres: PostgresServer = request.getfixturevalue("postgres_server")
    url = create_database(postgres)
    backend = PostgresStore(url, location="test")
    await backend.open()
    request.node.database_url = url
    yield backend
    await backend.close()
    drop_database(postgres, url)


def new_bus(store: StoreBackend | None, request: pytest.FixtureRequest) -> EventBus:
    if store is None:
        return InProcessBus()
    if isinstance(store, SQLiteStore):
        return SQLiteLogBus(store.database.path, poll_interval=0.02)
    return PostgresLogBus(request.node.database_url)


@pytest.fixture
async def bus(
    store: StoreBackend | None, request: pytest.FixtureRequest
) -> AsyncIterator[EventBus]:
    made = new_bus(store, request)
    await made.start()
    yield made
    await made.close()


async def take(subscription: Subscription, count: int) -> list[LoggedEvent]:
    got: list[LoggedEvent] = []
    async with asyncio.timeout(HANG):
        async for event in subscription:
            got.append(event)
            if len(got) == count:
                return got
    return got


async def publish_n(bus: EventBus, thread_id: str, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        await bus.publish(thread_id, EventKind.MESSAGE_CREATED, json.dumps({"n": i}), None)


async def test_a_topic_receives_its_events_once_in_order(bus: EventBus) -> None:
    mine = await bus.subscribe("thread_a", queue_size=100)
    everything = await bus.subscribe(ALL_THREADS, queue_size=100)
    other = await bus.subscribe("thread_b", queue_size=100)
    await publish_n(bus, "thread_a", 20)
    await publish_n(bus, "thread_c", 1)
    got = await take(mine, 20)
    assert [json.loads(e.object)["n"] for e in got] == list(range(20))
    seqs = [e.seq for e in got]
    assert seqs == sorted(seqs) and len(set(seqs)) == 20
    assert len(await take(everything, 21)) == 21
    assert bus.subscribers == 3
    other.close()
    mine.close()
    assert bus.subscribers == 1
    everything.close()


async def test_events_before_subscribing_are_not_delivered(bus: EventBus) -> None:
    await publish_n(bus, "thread_a", 3)
    late = await bus.subscribe("thread_a", queue_size=100)
    await publish_n(bus, "thread_a", 2, start=3)
    got = await take(late, 2)
    assert [json.loads(e.object)["n"] for e in got] == [3, 4]
    late.close()


async def test_a_slow_consumer_is_cut_off_and_a_fast_one_keeps_up(bus: EventBus) -> None:
    slow = await bus.subscribe("thread_a", queue_size=3)
    fast = await bus.subscribe("thread_a", queue_size=100)
    fast_got: list[LoggedEvent] = []

    async def drain() -> None:
        fast_got.extend(await take(fast, 10))

    reader = asyncio.create_task(drain())
    await publish_n(bus, "thread_a", 10)
    await reader
    assert len(fast_got) == 10
    with pytest.raises(SlowConsumerError):
        async with asyncio.timeout(HANG):
            async for _ in slow:
                pass
    assert slow.overflowed
    fast.close()
    assert bus.subscribers == 0


async def test_close_ends_every_subscription(bus: EventBus) -> None:
    subscription = await bus.subscribe("thread_a", queue_size=10)
    await bus.close()
    with pytest.raises(BusClosedError):
        async with asyncio.timeout(HANG):
            await subscription.__anext__()
    with pytest.raises(BusClosedError):
        await bus.subscribe("thread_a", queue_size=10)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_store_writes_are_events_in_commit_order(
    bus: EventBus, store: StoreBackend | None, request: pytest.FixtureRequest
) -> None:
    assert store is not None
    thread = await store.create_thread(NewThread(messages=(), metadata={}, tool_resources={}))
    watching = await bus.subscribe(thread.id, queue_size=100)
    viewer = await bus.subscribe(ALL_THREADS, queue_size=100)
    second = new_bus(store, request)  # another process on the same database
    await second.start()
    try:
        elsewhere = await second.subscribe(thread.id, queue_size=100)
        made = [
            await store.create_message(
                thread.id,
                NewMessage(
                    role="user",
                    content=[{"type": "text", "text": f"m{i}"}],
                    attachments=[],
                    metadata={},
                ),
            )
            for i in range(5)
        ]
        await store.modify_message(thread.id, made[0].id, MessageChanges(metadata={"k": "v"}))
        await store.delete_message(thread.id, made[1].id)
        await store.modify_thread(
            thread.id, ThreadChanges(metadata={"t": "1"}, tool_resources=None)
        )
        await store.delete_thread(thread.id)
        expected = [EventKind.MESSAGE_CREATED] * 5 + [
            EventKind.MESSAGE_UPDATED,
            EventKind.MESSAGE_DELETED,
            EventKind.THREAD_UPDATED,
            EventKind.THREAD_DELETED,
        ]
        for subscription in (watching, elsewhere, viewer):
            got = await take(subscription, len(expected))
            assert [e.kind for e in got] == [str(k) for k in expected]
            assert [json.loads(e.object)["id"] for e in got[:5]] == [m.id for m in made]
            assert json.loads(got[5].object)["metadata"] == {"k": "v"}
            assert json.loads(got[6].object) == {"id": made[1].id, "thread_id": thread.id}
            assert got[-1].thread is not None
            assert json.loads(got[-1].thread)["metadata"] == {"t": "1"}
    finally:
        await second.close()
