"""Two separate ``messages-gateway serve`` processes ("replicas") on one SQLite file.

On one machine they share the file as workers do: what one writes, the other
reads at once, and their concurrent writes make one list in one order.
They are started together on a file that does not exist yet, so that both
race to create it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.messages import create_graphql, created_id, list_graphql, list_rest
from tests.store.server import ServerProcess

WRITES = 200
CHAT = """query Chat($t: ID!) {
  thread(id: $t) { id metadata messages(last: 1) { nodes { id text } } }
}"""


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    store = tmp_path / "data" / "messages.sqlite3"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with ThreadPoolExecutor(2) as pool:
        starting = [pool.submit(ServerProcess, store, tmp_path / name) for name in ("a", "b")]
        started = [future.result() for future in starting]
    try:
        yield started[0], started[1]
    finally:
        for server in started:
            server.kill()


def test_a_write_through_one_replica_is_read_through_the_other_at_once(
    replicas: tuple[ServerProcess, ServerProcess],
) -> None:
    one, other = replicas
    with httpx.Client(timeout=30) as http:
        for writer, reader in ((one, other), (other, one), (one, other)):
            thread = http.post(f"{writer.base_url}/v1/threads", json={"metadata": {"k": "v"}})
            thread_id = thread.json()["id"]
            message = http.post(
                f"{writer.base_url}/v1/threads/{thread_id}/messages",
                json={"role": "user", "content": f"from {writer.port}"},
            ).json()
            # No wait, no retry: the very next request, on the other process.
            seen = http.get(f"{reader.base_url}/v1/threads/{thread_id}/messages/{message['id']}")
            assert seen.status_code == 200
            assert seen.json() == message
            chat = http.post(
                f"{reader.base_url}/graphql", json={"query": CHAT, "variables": {"t": thread_id}}
            ).json()
            assert chat == {
                "data": {
                    "thread": {
                        "id": thread_id,
                        "metadata": {"k": "v"},
                        "messages": {
                            "nodes": [{"id": message["id"], "text": f"from {writer.port}"}]
                        },
                    }
                }
            }
            deleted = http.delete(f"{writer.base_url}/v1/threads/{thread_id}")
            assert deleted.json()["deleted"] is True
            gone = http.get(f"{reader.base_url}/v1/threads/{thread_id}")
            assert gone.status_code == 404


async def test_concurrent_creates_split_across_replicas_make_one_list_in_one_order(
    replicas: tuple[ServerProcess, ServerProcess],
) -> None:
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    clients = [
        httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=60)
        for server in replicas
    ]
    try:
        thread_id = (await clients[0].post("/v1/threads")).json()["id"]
        texts = [f"replica writer {i}" for i in range(WRITES)]

        async def create(i: int, text: str) -> httpx.Response:
            http = clients[i % 2]
            if i % 4 < 2:
                return await http.post(
                    f"/v1/threads/{thread_id}/messages", json={"role": "user", "content": text}
                )
            return await create_graphql(http, thread_id, text)

        responses = await asyncio.gather(*(create(i, text) for i, text in enumerate(texts)))
        acknowledged = [created_id(response) for response in responses]
        assert len(set(acknowledged)) == WRITES

        listings: list[list[dict[str, Any]]] = await asyncio.gather(
            *(list_rest(clients[n % 2], thread_id) for n in range(6))
        )
        order = [message["id"] for message in listings[0]]
        assert len(order) == WRITES
        assert set(order) == set(acknowledged)
        texts_stored = Counter(m["content"][0]["text"]["value"] for m in listings[0])
        assert texts_stored == Counter(texts)
        for listing in listings:
            assert [message["id"] for message in listing] == order
        for http in clients:
            assert await list_graphql(http, thread_id) == order
            descending = await list_rest(http, thread_id, order="desc")
            assert [message["id"] for message in descending] == order[::-1]
    finally:
        for http in clients:
            await http.aclose()
