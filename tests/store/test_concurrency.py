"""Concurrent writers neither lose nor duplicate a message."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx

from gateway.store import StoreBackend
from tests.store.backends import query
from tests.store.server import ServerProcess

WRITERS = 200


async def all_messages(http: httpx.AsyncClient, thread_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        page = (await http.get(f"/threads/{thread_id}/messages", params=params)).json()
        found.extend(page["data"])
        if not page["has_more"]:
            return found
        params["after"] = page["last_id"]


async def test_concurrent_creates_on_one_thread(server: ServerProcess) -> None:
    """200 clients post to one thread at once through uvicorn. (No spec hook here: the
    same responses are spec-checked in the other tests, and it would dominate the time.)"""
    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(
        base_url=f"{server.base_url}/v1", limits=limits, timeout=60
    ) as http:
        thread_id = (await http.post("/threads")).json()["id"]
        texts = [f"writer {i}" for i in range(WRITERS)]
        responses = await asyncio.gather(
            *(
                http.post(f"/threads/{thread_id}/messages", json={"role": "user", "content": t})
                for t in texts
            )
        )
        assert [r.status_code for r in responses] == [200] * WRITERS
        acknowledged = [r.json()["id"] for r in responses]
        assert len(set(acknowledged)) == WRITERS

        stored = await all_messages(http, thread_id)
    assert len(stored) == WRITERS
    assert {m["id"] for m in stored} == set(acknowledged)
    stored_texts = Counter(m["content"][0]["text"]["value"] for m in stored)
    assert stored_texts == Counter(texts), "every text exactly once"


async def test_creates_racing_a_thread_delete_leave_no_orphans(
    client: httpx.AsyncClient, store: StoreBackend
) -> None:
    thread_id = (await client.post("/threads")).json()["id"]
    creates = [
        client.post(f"/threads/{thread_id}/messages", json={"role": "user", "content": f"{i}"})
        for i in range(60)
    ]
    results = await asyncio.gather(
        *creates[:30], client.delete(f"/threads/{thread_id}"), *creates[30:]
    )
    deleted, created = results[30], results[:30] + results[31:]
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"id": thread_id, "object": "thread.deleted", "deleted": True}
    for response in created:
        assert response.status_code in (200, 404), response.text
        if response.status_code == 404:  # lost the race: the thread, not anything else
            assert response.json()["error"]["message"] == f"No thread found with id '{thread_id}'."

    orphans = await query(
        store, "SELECT count(*) FROM messages WHERE thread_id NOT IN (SELECT id FROM threads)"
    )
    assert orphans == [(0,)]
    assert (await client.get(f"/threads/{thread_id}")).status_code == 404


async def test_failures_in_a_group_commit_do_not_touch_neighbours(
    client: httpx.AsyncClient, store: StoreBackend
) -> None:
    """Valid and invalid writes interleaved: the valid ones all land, the others none."""
    thread_id = (await client.post("/threads")).json()["id"]
    requests = []
    for i in range(40):
        target = thread_id if i % 2 == 0 else "thread_doesnotexist"
        requests.append(
            client.post(f"/threads/{target}/messages", json={"role": "user", "content": str(i)})
        )
    results = await asyncio.gather(*requests)
    assert [r.status_code for r in results] == [200, 404] * 20
    stored = await all_messages(client, thread_id)
    assert sorted(int(m["content"][0]["text"]["value"]) for m in stored) == list(range(0, 40, 2))


async def test_message_deletes_racing_a_thread_delete_do_not_deadlock(
    client: httpx.AsyncClient, store: StoreBackend
) -> None:
    """Deleting messages while their thread is deleted: each request gets its answer (200,
    or 404), never a 500 from a deadlock (on PostgreSQL every message write locks the thread
    row first, as a thread delete does, so the two take their locks in the same order)."""
    rounds, per_thread = 40, 4
    statuses: Counter[int] = Counter()
    for _ in range(rounds):
        thread_id = (await client.post("/threads")).json()["id"]
        ids = [
            (
                await client.post(
                    f"/threads/{thread_id}/messages", json={"role": "user", "content": f"{i}"}
                )
            ).json()["id"]
            for i in range(per_thread)
        ]
        results = await asyncio.gather(
            *(client.delete(f"/threads/{thread_id}/messages/{mid}") for mid in ids[:2]),
            client.delete(f"/threads/{thread_id}"),
            *(client.delete(f"/threads/{thread_id}/messages/{mid}") for mid in ids[2:]),
        )
        assert results[2].status_code == 200, results[2].text
        for response in results[:2] + results[3:]:
            assert response.status_code in (200, 404), response.text
            statuses[response.status_code] += 1
    assert sum(statuses.values()) == rounds * per_thread
    assert await query(store, "SELECT count(*) FROM messages") == [(0,)]
