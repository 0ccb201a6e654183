"""Two real gateway processes on one store (one SQLite file, or one PostgreSQL
database: two replicas): 200 concurrent creates on one thread split across both,
exactly 200 stored, all distinct, one order seen from both; a write through one
is read through the other at once; ``kill -9`` of one in a burst loses nothing
it acknowledged."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import httpx

from tests.store.server import ServerProcess

WRITES = 200


async def walk(http: httpx.AsyncClient, base: str, thread_id: str) -> list[str]:
    ids: list[str] = []
    params: dict[str, Any] = {"limit": 100, "order": "asc"}
    while True:
        page = (await http.get(f"{base}/v1/threads/{thread_id}/messages", params=params)).json()
        ids.extend(message["id"] for message in page["data"])
        if not page["has_more"]:
            return ids
        params["after"] = page["last_id"]


async def burst(one: ServerProcess, two: ServerProcess) -> None:
    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:
        thread_id = (await http.post(f"{one.base_url}/v1/threads")).json()["id"]
        responses = await asyncio.gather(
            *(
                http.post(
                    f"{(one if i % 2 else two).base_url}/v1/threads/{thread_id}/messages",
                    json={"role": "user", "content": f"write {i}"},
                )
                for i in range(WRITES)
            )
        )
        assert [r.status_code for r in responses] == [200] * WRITES
        acknowledged = {r.json()["id"] for r in responses}
        assert len(acknowledged) == WRITES, "all distinct"
        seen_one = await walk(http, one.base_url, thread_id)
        seen_two = await walk(http, two.base_url, thread_id)
        assert set(seen_one) == acknowledged and len(seen_one) == WRITES
        assert seen_one == seen_two, "one order, through either process"

        written = await http.post(
            f"{two.base_url}/v1/threads/{thread_id}/messages",
            json={"role": "user", "content": "then"},
        )
        read = await http.get(
            f"{one.base_url}/v1/threads/{thread_id}/messages/{written.json()['id']}"
        )
        assert read.status_code == 200 and read.json() == written.json()


async def killed_in_a_burst(victim: ServerProcess, survivor: ServerProcess) -> None:
    async with httpx.AsyncClient(timeout=60) as http:
        thread_id = (await http.post(f"{survivor.base_url}/v1/threads")).json()["id"]
        acknowledged: set[str] = set()
        by_victim: list[str] = []

        async def write(server: ServerProcess, i: int) -> None:
            try:
                response = await http.post(
                    f"{server.base_url}/v1/threads/{thread_id}/messages",
                    json={"role": "user", "content": f"w{i}"},
                )
            except httpx.TransportError:
                return  # the killed process's unanswered writes
            if response.status_code == 200:
                acknowledged.add(response.json()["id"])
                if server is victim:
                    by_victim.append(response.json()["id"])

        tasks = [
            asyncio.ensure_future(write(victim if i % 2 else survivor, i)) for i in range(WRITES)
        ]
        deadline = asyncio.get_running_loop().time() + 30
        while len(by_victim) < 10 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.005)
        victim.kill()  # mid-burst: it has acknowledged some writes, others are in flight
        await asyncio.gather(*tasks)
        assert victim.process.returncode == -signal.SIGKILL
        assert len(by_victim) >= 10, "the victim acknowledged writes before it died"
        stored = set(await walk(http, survivor.base_url, thread_id))
        assert acknowledged <= stored, "every acknowledged write is there"


def test_two_processes_on_one_store(tmp_path: Path, store_url: str) -> None:
    store = tmp_path / "data" / "messages.sqlite3"
    one = ServerProcess(store, tmp_path, store_url=store_url)
    two = ServerProcess(store, tmp_path, store_url=store_url)
    try:
        asyncio.run(burst(one, two))
        asyncio.run(killed_in_a_burst(two, one))
    finally:
        one.stop()
        two.stop()
