"""A served operation leaves no cyclic garbage: everything it allocated is freed by
reference counting when it ends (``gateway/schema/cycles.py`` says why it matters).

The app runs in remote mode over a real loopback upstream (``FaultStub``, through the
default aiohttp transport) and is driven as uvicorn drives it, by ASGI calls (a
client library on this side would bring cycles of its own). With the collector
off, one operation runs; ``gc.collect()`` then reports how many unreachable
objects it had to free: it must be none.
"""

from __future__ import annotations

import collections
import gc
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI

from gateway.app import create_app
from tests.conftest import SettingsFactory
from tests.resilience.stub import FaultStub, Seen, respond
from tests.schema.wire import MESSAGE_ID, THREAD_ID, list_json, message_json, thread_json

AUTH = (b"authorization", b"Bearer sk-caller-cycles")

CHAT = """query Chat($id: ID!) {
  thread(id: $id) {
    id createdAt metadata
    messages(last: 20, order: ASC) {
      nodes { id role createdAt text content { __typename ... on TextContent { value } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}"""

OPERATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "chat": (CHAT, {"id": THREAD_ID}),
    "sidebar": (
        "query($ids: [ID!]!) { threads(ids: $ids) { id messages(first: 1) { nodes { text } } } }",
        {"ids": [THREAD_ID, "thread_" + "b" * 24]},
    ),
    "aliases": (
        "query($t: ID!, $m: ID!) { a: message(threadId: $t, id: $m) { id } "
        "b: message(threadId: $t, id: $m) { text } }",
        {"t": THREAD_ID, "m": MESSAGE_ID},
    ),
    "createMessage": (
        'mutation($t: ID!) { createMessage(input: {threadId: $t, text: "hi"}) '
        "{ message { id text } userErrors { code } } }",
        {"t": THREAD_ID},
    ),
}


def _upstream(seen: Seen) -> Any:
    path = seen.path.split("?", 1)[0]
    if path.endswith("/messages") and seen.method == "GET":
        thread = path.split("/")[3]
        return respond(200, list_json([message_json(f"msg_{n:024d}", thread) for n in range(20)]))
    if path.endswith("/messages"):
        return respond(200, message_json())
    if "/messages/" in path:
        return respond(200, message_json())
    return respond(200, thread_json(path.split("/")[3]))


async def _post(app: FastAPI, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    payload = json.dumps(body).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"localhost"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            AUTH,
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    received = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal received
        if received:
            return {"type": "http.disconnect"}
        received = True
        return {"type": "http.request", "body": payload, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, json.loads(b"".join(chunks))


@pytest.fixture
async def app(make_settings: SettingsFactory, stub: FaultStub) -> AsyncIterator[FastAPI]:
    stub.handler = _upstream
    application = create_app(make_settings(upstream_url=stub.url, debug=False))
    async with application.router.lifespan_context(application):
        yield application


@pytest.mark.parametrize("name", list(OPERATIONS))
async def test_an_operation_leaves_no_cyclic_garbage(
    app: FastAPI, stub: FaultStub, name: str
) -> None:
    query, variables = OPERATIONS[name]
    body = {"query": query, "variables": variables}
    for _ in range(3):  # warm: parser and plan caches, pooled connections
        status, answer = await _post(app, body)
        assert status == 200 and "errors" not in answer, answer
    calls_before = len(stub.seen)
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        status, answer = await _post(app, body)
        found = gc.collect()
        garbage = collections.Counter(type(o).__qualname__ for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert status == 200 and "errors" not in answer, answer
    assert answer["data"]
    assert len(stub.seen) > calls_before  # the operation did go upstream
    assert found == 0, garbage.most_common(15)
