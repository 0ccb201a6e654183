"""A real HTTP upstream for fault injection: raw asyncio HTTP/1.1 on a loopback port.

It runs in a background thread with its own event loop, so the gateway under test
talks to it over real TCP (timeouts, resets and refused connections are real).
Each request is recorded, then answered by ``stub.handler(request)``, which returns
a ``Reply``: a status and body, a delay, a connection reset mid-body, and so on.
The default handler behaves like a healthy upstream for the few paths tests use.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tests.schema.wire import list_json, message_json, thread_json


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Reply = Callable[[asyncio.StreamWriter], Awaitable[bool]]
"""Writes the answer; returns whether the connection may be kept alive."""


def respond(
    status: int = 200,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
    delay: float = 0.0,
) -> Reply:
    """A complete response, after ``delay`` seconds. ``body``: bytes, str, or JSON."""
    if isinstance(body, bytes):
        payload = body
    elif isinstance(body, str):
        payload = body.encode()
    else:
        payload = json.dumps(body if body is not None else {}).encode()
    head = [f"HTTP/1.1 {status} X", f"Content-Type: {content_type}"]
    head += [f"Content-Length: {len(payload)}", "Connection: keep-alive"]
    head += [f"{name}: {value}" for name, value in (headers or {}).items()]

    async def reply(writer: asyncio.StreamWriter) -> bool:
        if delay:
            await asyncio.sleep(delay)
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        await writer.drain()
        return True

    return reply


def reset_mid_body() -> Reply:
    """Headers promising 1000 bytes, a few of them, then the connection is aborted."""

    async def reply(writer: asyncio.StreamWriter) -> bool:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"id": "thread_'
        )
        await writer.drain()
        await asyncio.sleep(0.01)
        writer.transport.abort()
        return False

    return reply


def error_reply(status: int, message: str = "injected", **kw: Any) -> Reply:
    body = {"error": {"message": message, "type": "server_error", "param": None, "code": None}}
    return respond(status, body, **kw)


def healthy(seen: Seen) -> Reply:
    """A well-behaved upstream for the paths the tests use."""
    parts = seen.path.split("?", 1)[0].strip("/").split("/")  # v1 threads <id> messages ...
    if seen.method == "POST" and parts == ["v1", "threads"]:
        return respond(200, thread_json())
    if len(parts) == 3 and parts[1] == "threads":
        if seen.method == "DELETE":
            return respond(200, {"id": parts[2], "object": "thread.deleted", "deleted": True})
        return respond(200, thread_json(parts[2]))
    if len(parts) == 4 and parts[3] == "messages":
        if seen.method == "POST":
            text = seen.json().get("content", "hi")
            return respond(200, message_json(thread_id=parts[2], text=str(text)))
        return respond(200, list_json([message_json(thread_id=parts[2])]))
    if len(parts) == 5:
        return respond(200, message_json(parts[4], parts[2]))
    return error_reply(404, "unknown path")


@dataclass
class FaultStub:
    """The stub server; ``handler`` may be swapped at any time by the test."""

    handler: Callable[[Seen], Reply] = healthy
    seen: list[Seen] = field(default_factory=list)
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def count(self, method: str | None = None) -> int:
        return sum(1 for s in list(self.seen) if method is None or s.method == method)

    def start(self) -> FaultStub:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)

            async def boot() -> None:
                self._server = await asyncio.start_server(self._connection, "127.0.0.1", self.port)
                self.port = self._server.sockets[0].getsockname()[1]
                ready.set()

            loop.run_until_complete(boot())
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="fault-stub", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fault stub did not start")
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            # Let each connection run its ``finally`` (writer.close()) and the loop
            # close the sockets, so no transport is left for the garbage collector.
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.sleep(0)

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                method, target, _ = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while True:
                    raw = await reader.readline()
                    if raw in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = raw.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                body = await reader.readexactly(length) if length else b""
                seen = Seen(method, target, headers, body)
                self.seen.append(seen)
                if not await self.handler(seen)(writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
