"""``messages-gateway serve --workers 2`` on the embedded SQLite store: one port, one truth.

Real processes and sockets: a supervisor and two workers on one store file.
Which worker answered a request is read from ``/proc`` (``connections``), so the
tests know that both workers took writes, instead of assuming it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.messages import (
    Tracer,
    create_graphql,
    create_rest,
    created_id,
    list_graphql,
    list_rest,
    open_client,
)
from tests.store.server import ServerProcess

WRITES = 200
# Fresh-connection rounds until both workers answered: at most this many, within this long.
ROUNDS = 20
ROUNDS_SECONDS = 30.0


async def until_both_answered(
    tracer: Tracer, server: ServerProcess, burst: Callable[[httpx.AsyncClient], Awaitable[None]]
) -> None:
    """Run ``burst`` on new connections until both workers answered one of ``tracer``'s.

    Which worker accepts a connection on the one shared socket is the kernel's choice: a
    loaded machine can let one worker accept a whole pool. Each round opens a new pool,
    bounded in rounds and time; the caller then asserts that both workers answered.
    """
    deadline = time.monotonic() + ROUNDS_SECONDS
    for _ in range(ROUNDS):
        if tracer.seen() == set(tracer.workers) or time.monotonic() > deadline:
            return
        async with open_client(server) as fresh:
            await burst(fresh)


@pytest.fixture
def two_workers(tmp_path: Path) -> Any:
    server = ServerProcess(tmp_path / "data" / "messages.sqlite3", tmp_path, workers=2)
    yield server
    server.kill()


async def test_two_workers_take_concurrent_creates_on_one_thread_in_one_order(
    two_workers: ServerProcess,
) -> None:
    writers = Tracer(two_workers)
    assert len(writers.workers) == 2
    async with open_client(two_workers) as http:
        thread_id = (await http.post("/v1/threads")).json()["id"]
        texts: list[str] = []
        acknowledged: list[str] = []

        async def write_all_at_once(client: httpx.AsyncClient, count: int) -> None:
            """Half through the store's REST API, half through GraphQL, all at once."""
            batch = [f"writer {len(texts) + i}" for i in range(count)]
            texts.extend(batch)
            responses = await asyncio.gather(
                *(
                    (create_rest if i % 2 else create_graphql)(client, thread_id, text, writers)
                    for i, text in enumerate(batch)
                )
            )
            acknowledged.extend(created_id(response) for response in responses)

        await write_all_at_once(http, WRITES)
        await until_both_answered(writers, two_workers, lambda fresh: write_all_at_once(fresh, 16))
        assert writers.seen() == set(writers.workers), writers.answered
        assert len(texts) >= WRITES
        assert len(set(acknowledged)) == len(texts)

        stored = await list_rest(http, thread_id)
        assert len(stored) == len(texts)
        assert {message["id"] for message in stored} == set(acknowledged)
        assert Counter(m["content"][0]["text"]["value"] for m in stored) == Counter(texts)
        order = [message["id"] for message in stored]
        created = [message["created_at"] for message in stored]
        assert created == sorted(created)

        # The same order from every worker, every time, both ways and through GraphQL.
        readers = Tracer(two_workers)
        listings: list[list[dict[str, Any]]] = []

        async def list_all_at_once(client: httpx.AsyncClient, count: int) -> None:
            listings.extend(
                await asyncio.gather(
                    *(list_rest(client, thread_id, tracer=readers) for _ in range(count))
                )
            )

        await list_all_at_once(http, 16)
        await until_both_answered(readers, two_workers, lambda fresh: list_all_at_once(fresh, 4))
        assert readers.seen() == set(readers.workers), readers.answered
        assert len(listings) >= 16
        for listing in listings:
            assert [message["id"] for message in listing] == order
        descending = await list_rest(http, thread_id, order="desc")
        assert [message["id"] for message in descending] == order[::-1]
        assert await list_graphql(http, thread_id) == order


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, exited but not yet reaped, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_for(condition: Any, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


async def test_kill_9_of_a_worker_during_a_burst_loses_no_acknowledged_write(
    two_workers: ServerProcess, tmp_path: Path
) -> None:
    workers = two_workers.worker_pids()
    assert len(workers) == 2
    # The victim is the worker that took the most of the first writes: which worker
    # accepts a connection is the kernel's choice, so a fixed pick may have taken none.
    victim = survivor = 0
    before_kill = Tracer(two_workers)
    acknowledged: dict[str, str] = {}  # text -> id
    failed: list[str] = []
    acknowledged_after_kill = 0
    killed = asyncio.Event()
    in_flight = asyncio.Semaphore(32)

    async with open_client(two_workers) as http:
        thread_id = (await http.post("/v1/threads")).json()["id"]

        async def write(text: str) -> None:
            nonlocal acknowledged_after_kill, victim, survivor
            async with in_flight:
                try:
                    response = await create_rest(http, thread_id, text)
                    if not killed.is_set():
                        before_kill.trace(response)
                except httpx.TransportError:  # in flight on the worker when it died
                    failed.append(text)
                    return
            acknowledged[text] = created_id(response)  # anything but a 200 is a defect
            acknowledged_after_kill += killed.is_set()
            if len(acknowledged) == 100 and not killed.is_set():
                victim = max(workers, key=lambda pid: before_kill.answered[pid])
                survivor = next(pid for pid in workers if pid != victim)
                os.kill(victim, signal.SIGKILL)
                killed.set()

        await asyncio.gather(*(write(f"burst {i}") for i in range(WRITES * 2)))
    assert killed.is_set()
    assert before_kill.answered[victim] > 0, "the victim was taking writes"
    assert acknowledged_after_kill > 0, "the burst went on after the kill"
    assert len(acknowledged) + len(failed) == WRITES * 2

    # The supervisor replaces the dead worker.
    wait_for(
        lambda: len(two_workers.worker_pids()) == 2 and victim not in two_workers.worker_pids(),
        "a replacement worker",
    )
    assert survivor in two_workers.worker_pids()

    # Then everything dies at once; a fresh process on the file sees every acknowledged write.
    two_workers.kill()
    fresh = ServerProcess(two_workers.store_path, tmp_path)
    try:
        async with open_client(fresh) as http:
            stored = await list_rest(http, thread_id)
    finally:
        fresh.stop()
    stored_ids = {m["content"][0]["text"]["value"]: m["id"] for m in stored}
    assert len(stored_ids) == len(stored), "no message stored twice"
    for text, message_id in acknowledged.items():
        assert stored_ids.get(text) == message_id, f"acknowledged {text!r} is missing"
    # What was not acknowledged may or may not have been committed before the kill.
    assert set(stored_ids) <= set(acknowledged) | set(failed)


def test_workers_stop_when_their_supervisor_is_killed(two_workers: ServerProcess) -> None:
    workers = two_workers.worker_pids()
    assert len(workers) == 2
    two_workers.process.send_signal(signal.SIGKILL)
    two_workers.process.wait(timeout=10)
    wait_for(lambda: not any(alive(pid) for pid in workers), "the workers to stop")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{two_workers.base_url}/healthz", timeout=5)
