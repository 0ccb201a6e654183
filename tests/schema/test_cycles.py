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

from benchmarks.profile import Driver
from gateway.app import create_app
from tests.conftest import SettingsFactory
from tests.resilience.stub import FaultStub, Seen, respond
from tests.schema.wire import MESSAGE_ID, THREAD_ID, list_json, message_json, thread_json

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
    # As uvicorn calls the app; it raises for a status other than 200 or any error.
    driver = Driver(app, "POST", "/graphql", {"query": query, "variables": variables})
    for _ in range(3):  # warm: parser and plan caches, pooled connections
        await driver.once()
    calls_before = len(stub.seen)
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        answer = json.loads(await driver.once())
        found = gc.collect()
        garbage = collections.Counter(type(o).__qualname__ for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert answer["data"] and "errors" not in answer
    assert len(stub.seen) > calls_before  # the operation did go upstream
    assert found == 0, garbage.most_common(15)
