"""Clients of a real gateway's messages, over REST (``/v1``) and GraphQL, for e2e tests.

``Tracer`` records which worker process answered each response (see ``connections``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx

from tests.e2e.connections import serving_pid
from tests.store.server import ServerProcess

__all__ = [
    "Tracer",
    "create_graphql",
    "create_rest",
    "created_id",
    "list_graphql",
    "list_rest",
    "open_client",
]

CREATE_MESSAGE = """mutation Create($input: CreateMessageInput!) {
  createMessage(input: $input) { message { id text } userErrors { message } }
}"""
MESSAGES_PAGE = """query Page($t: ID!, $after: String) {
  messages(threadId: $t, first: 100, after: $after, order: ASC) {
    nodes { id } pageInfo { hasNextPage endCursor }
  }
}"""


def open_client(server: ServerProcess) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    return httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=60)


class Tracer:
    """Which worker answered each response, traced through ``/proc`` as it arrives.

    A connection is served by one worker for its whole life, so each connection is
    traced once, on its first response: reading ``/proc`` for every response would
    block the client's event loop long enough for pooled connections to idle out.
    """

    def __init__(self, server: ServerProcess) -> None:
        self.port = server.port
        self.workers = server.worker_pids()
        self.answered: Counter[int | None] = Counter()
        # id(stream) -> (stream, pid); holding the stream keeps its id from being reused.
        self._connections: dict[int, tuple[object, int | None]] = {}

    def trace(self, response: httpx.Response) -> httpx.Response:
        stream = response.extensions["network_stream"]
        known = self._connections.get(id(stream))
        if known is None:
            known = (stream, serving_pid(self.port, response, self.workers))
            self._connections[id(stream)] = known
        self.answered[known[1]] += 1
        return response

    def seen(self) -> set[int]:
        """The workers that answered at least one traced response."""
        return {pid for pid in self.answered if pid is not None}


async def create_rest(
    http: httpx.AsyncClient, thread_id: str, text: str, tracer: Tracer | None = None
) -> httpx.Response:
    response = await http.post(
        f"/v1/threads/{thread_id}/messages", json={"role": "user", "content": text}
    )
    return tracer.trace(response) if tracer is not None else response


async def create_graphql(
    http: httpx.AsyncClient, thread_id: str, text: str, tracer: Tracer | None = None
) -> httpx.Response:
    variables = {"input": {"threadId": thread_id, "text": text}}
    response = await http.post("/graphql", json={"query": CREATE_MESSAGE, "variables": variables})
    return tracer.trace(response) if tracer is not None else response


def created_id(response: httpx.Response) -> str:
    """The id of the message a create acknowledged (REST or GraphQL)."""
    assert response.status_code == 200, response.text
    body = response.json()
    if "data" not in body:
        message_id: str = body["id"]
        return message_id
    assert "errors" not in body, body
    payload = body["data"]["createMessage"]
    assert payload["userErrors"] == [], payload
    message_id = payload["message"]["id"]
    return message_id


async def list_rest(
    http: httpx.AsyncClient, thread_id: str, order: str = "asc", tracer: Tracer | None = None
) -> list[dict[str, Any]]:
    """Every message of the thread, walking pages of 100."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100, "order": order}
    while True:
        response = await http.get(f"/v1/threads/{thread_id}/messages", params=params)
        assert response.status_code == 200, response.text
        if tracer is not None:
            tracer.trace(response)
        page = response.json()
        found.extend(page["data"])
        if not page["has_more"]:
            return found
        params["after"] = page["last_id"]


async def list_graphql(http: httpx.AsyncClient, thread_id: str) -> list[str]:
    ids: list[str] = []
    after: str | None = None
    while True:
        response = await http.post(
            "/graphql", json={"query": MESSAGES_PAGE, "variables": {"t": thread_id, "after": after}}
        )
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        connection = body["data"]["messages"]
        ids.extend(node["id"] for node in connection["nodes"])
        if not connection["pageInfo"]["hasNextPage"]:
            return ids
        after = connection["pageInfo"]["endCursor"]
