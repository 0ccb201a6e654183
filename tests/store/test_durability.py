"""Durability: every acknowledged write survives ``kill -9`` of the server.

A real server process takes a burst of parallel writes (creates, updates,
deletes); as soon as the last one is acknowledged it is SIGKILLed, so no
shutdown code runs. A new process on the same file must show every
acknowledged write, exactly as it was acknowledged.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import httpx

from tests.store.server import ServerProcess

THREADS = 10
MESSAGES = 200


async def write_burst(base_url: str) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as http:
        threads = await asyncio.gather(
            *(
                http.post(
                    "/threads",
                    json={
                        "metadata": {"n": str(i)},
                        "messages": [{"role": "user", "content": f"first of {i}"}],
                    },
                )
                for i in range(THREADS)
            )
        )
        thread_ids = [response.json()["id"] for response in threads]
        creates = await asyncio.gather(
            *(
                http.post(
                    f"/threads/{thread_ids[i % THREADS]}/messages",
                    json={
                        "role": "assistant" if i % 2 else "user",
                        "content": [{"type": "text", "text": f"message {i} ✓"}],
                        "metadata": {"i": str(i)},
                    },
                )
                for i in range(MESSAGES)
            )
        )
        assert [response.status_code for response in creates] == [200] * MESSAGES
        messages = {response.json()["id"]: response.json() for response in creates}
        # Then updates and deletes, also in parallel.
        victims = list(messages)[:10]
        changed = list(messages)[10:20]
        results = await asyncio.gather(
            *(http.delete(f"/threads/{messages[m]['thread_id']}/messages/{m}") for m in victims),
            *(
                http.post(
                    f"/threads/{messages[m]['thread_id']}/messages/{m}",
                    json={"metadata": {"changed": "yes"}},
                )
                for m in changed
            ),
            http.post(f"/threads/{thread_ids[0]}", json={"metadata": {"renamed": "yes"}}),
        )
        assert all(response.status_code == 200 for response in results)
    for message_id in victims:
        del messages[message_id]
    for message_id in changed:
        messages[message_id]["metadata"] = {"changed": "yes"}
    return {"thread_ids": thread_ids, "messages": messages}


def read_all(base_url: str, thread_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100, "order": "asc"}
    with httpx.Client(base_url=base_url) as http:
        while True:
            page = http.get(f"/threads/{thread_id}/messages", params=params).json()
            found.extend(page["data"])
            if not page["has_more"]:
                return found
            params["after"] = page["last_id"]


def test_acknowledged_writes_survive_kill_9(tmp_path: Path, store_url: str) -> None:
    """On each backend: the SQLite file, or a PostgreSQL database of the test's own."""
    store = tmp_path / "data" / "messages.sqlite3"
    first = ServerProcess(store, tmp_path, store_url=store_url)
    try:
        acknowledged = asyncio.run(write_burst(f"{first.base_url}/v1"))
    finally:
        first.kill()
    assert first.process.returncode == -signal.SIGKILL

    second = ServerProcess(store, tmp_path, store_url=store_url)
    try:
        base = f"{second.base_url}/v1"
        stored: dict[str, dict[str, Any]] = {}
        for thread_id in acknowledged["thread_ids"]:
            for message in read_all(base, thread_id):
                stored[message["id"]] = message
        renamed = httpx.get(f"{base}/threads/{acknowledged['thread_ids'][0]}").json()
    finally:
        second.stop()

    created_with_threads = {
        mid: m for mid, m in stored.items() if mid not in acknowledged["messages"]
    }
    assert len(created_with_threads) == THREADS, "one initial message per thread, no deleted ones"
    for message_id, message in acknowledged["messages"].items():
        assert stored[message_id] == message
    assert len(stored) == THREADS + MESSAGES - 10
    assert renamed["metadata"] == {"renamed": "yes"}
