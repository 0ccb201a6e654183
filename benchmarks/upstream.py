"""The benchmark's upstream: the embedded store, served alone, with an injected latency.

``python -m benchmarks.upstream --port P --latency-ms 50 --store-path FILE`` serves
the store's REST API at ``/v1`` behind a middleware that sleeps ``latency`` before
every request (an ``asyncio.sleep``: it costs no CPU and overlaps across requests,
like a network round trip) and counts the requests it served. Two control routes,
never delayed or counted:

- ``GET /_bench/stats``: ``{"calls": n, "connections": c, "latency_ms": x}``, where
  ``connections`` counts the distinct client (address, port) pairs seen: the TCP
  connections opened to it by the servers under test;
- ``POST /_bench/latency?ms=x``: change the latency (seeding runs at 0);
- ``POST /_bench/cache?on=1``: answer each ``GET`` from a copy of its first answer
  (by path and query), so that under load the store costs almost nothing and the
  machine's two cores go to the servers being compared; ``on=0`` drops the copies.
  Every request is still delayed and counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.store import SQLiteStore, create_store_app


class LatencyUpstream:
    """``/v1`` -> the store after ``latency`` seconds; ``/_bench/...`` -> control."""

    def __init__(self, store: ASGIApp, database: SQLiteStore, latency: float) -> None:
        self.store = store
        self.database = database
        self.latency = latency
        self.calls = 0
        self.clients: set[tuple[str, int]] = set()
        self.cache: dict[tuple[str, bytes], list[Message]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/_bench/"):
            await self._control(scope, send)
            return
        if not path.startswith("/v1/"):
            await _json(send, 404, {"error": "not found"})
            return
        self.calls += 1
        client = scope.get("client")
        if client is not None:
            self.clients.add((client[0], client[1]))
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        scope = {**scope, "root_path": scope.get("root_path", "") + "/v1"}  # as a Mount does
        if self.cache is None or scope["method"] != "GET":
            await self.store(scope, receive, send)
            return
        key = (path, scope.get("query_string", b""))
        cached = self.cache.get(key)
        if cached is None:
            cached = []

            async def keep(message: Message) -> None:
                cached.append(message)
                await send(message)

            await self.store(scope, receive, keep)
            if cached and cached[0].get("status") == 200:
                self.cache[key] = cached
            return
        for message in cached:
            await send(message)

    async def _control(self, scope: Scope, send: Send) -> None:
        if scope["path"] == "/_bench/latency" and scope["method"] == "POST":
            query = parse_qs(scope.get("query_string", b"").decode())
            self.latency = float(query["ms"][0]) / 1000
        if scope["path"] == "/_bench/cache" and scope["method"] == "POST":
            query = parse_qs(scope.get("query_string", b"").decode())
            self.cache = {} if query["on"][0] == "1" else None
        stats = {"calls": self.calls, "connections": len(self.clients)}
        await _json(send, 200, stats | {"latency_ms": self.latency * 1000})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        async with self._database():
            message = await receive()
            assert message["type"] == "lifespan.startup"
            await send({"type": "lifespan.startup.complete"})
            message = await receive()
            assert message["type"] == "lifespan.shutdown"
        await send({"type": "lifespan.shutdown.complete"})

    @asynccontextmanager
    async def _database(self) -> AsyncIterator[None]:
        await self.database.open()
        try:
            yield
        finally:
            await self.database.close()


async def _json(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def build(store_path: Path, latency_ms: float) -> LatencyUpstream:
    database = SQLiteStore(store_path)
    return LatencyUpstream(create_store_app(database, api_key=None), database, latency_ms / 1000)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--store-path", type=Path, default=None)
    args = parser.parse_args()
    store_path = args.store_path or Path(tempfile.mkdtemp()) / "upstream.sqlite3"
    app = build(store_path, args.latency_ms)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
