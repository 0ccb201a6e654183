"""Profile one screen in-process: ``.venv/bin/python -m benchmarks.profile [--screen chat]``.

The gateway app runs in this process, driven through ASGI directly (no HTTP
server, no HTTP client on the caller's side), with its upstream answered by an
``httpx.MockTransport`` serving canned JSON: what remains is the gateway's own
work per operation (routing, parsing and validation caches, execution,
resolvers, loaders, the upstream client, JSON) and none of the store's.

Prints the CPU time per operation over ``--ops`` operations; with ``--compare``,
the same for the hand-written passthrough (``benchmarks.passthrough``) driven the
same way against the same mock, in blocks of ten operations alternating with the
gateway's, and the ratio (one process, no sockets: the least noisy ratio this
machine gives; ``--rounds N`` repeats it and prints the median); then a pyinstrument profile of the
gateway loop (``--no-profile`` to skip it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from benchmarks.operations import CHAT, CHAT_LIKE_MESH, PAGE, SIDEBAR, aliases_query
from gateway.app import create_app
from gateway.config import Settings
from gateway.upstream import CircuitBreaker, UpstreamClient

THREAD = "thread_" + "t" * 24
BASE = "http://upstream.bench/v1"


def _thread(thread_id: str) -> dict[str, Any]:
    return {
        "id": thread_id,
        "object": "thread",
        "created_at": 1764118092,
        "metadata": {"screen": "chat"},
        "tool_resources": {},
    }


def _message(n: int, thread_id: str = THREAD) -> dict[str, Any]:
    return {
        "id": f"msg_{n:024d}",
        "object": "thread.message",
        "created_at": 1764118092 + n,
        "thread_id": thread_id,
        "status": "completed",
        "incomplete_details": None,
        "completed_at": 1764118092 + n,
        "incomplete_at": None,
        "role": "user" if n % 2 else "assistant",
        "content": [{"type": "text", "text": {"value": f"message {n} " * 8, "annotations": []}}],
        "assistant_id": None,
        "run_id": None,
        "attachments": [],
        "metadata": {},
    }


def _handler(request: httpx.Request) -> httpx.Response:
    """Canned answers for getThread, listMessages and getMessage."""
    parts = request.url.path.split("/")  # ["", "v1", "threads", id, "messages", id]
    thread_id = parts[3]
    if len(parts) == 4:
        body: dict[str, Any] = _thread(thread_id)
    elif len(parts) == 5:
        limit = int(request.url.params.get("limit", "20"))
        data = [_message(n, thread_id) for n in range(limit)]
        body = {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"],
            "last_id": data[-1]["id"],
            "has_more": True,
        }
    else:
        body = _message(int(parts[5][4:]), thread_id)
    content = json.dumps(body).encode()
    # A stream, not ``content=``: the upstream client reads bodies with ``aiter_raw``
    # (bounded), which a response built from ``content=`` has already consumed.
    return httpx.Response(
        200,
        stream=httpx.ByteStream(content),
        headers={"content-type": "application/json", "content-length": str(len(content))},
    )


def _requests() -> dict[str, dict[str, Any]]:
    ids = [f"thread_{n:024d}" for n in range(10)]
    return {
        "chat": {"query": CHAT, "variables": {"t": THREAD}},
        "chat-like-mesh": {"query": CHAT_LIKE_MESH, "variables": {"threadId": THREAD}},
        "sidebar": {"query": SIDEBAR, "variables": {"ids": ids}},
        "aliases": {
            "query": aliases_query(30),
            "variables": {"t": THREAD, **{f"m{n}": f"msg_{n:024d}" for n in range(30)}},
        },
        "pagination": {"query": PAGE, "variables": {"t": THREAD, "after": None}},
    }


class Driver:
    """Calls an ASGI app like a server would: one request, answered in full."""

    def __init__(self, app: Any, method: str, target: str, payload: Any = None) -> None:
        self.app = app
        self.body = json.dumps(payload).encode() if payload is not None else b""
        path, _, query = target.partition("?")
        headers = [
            (b"host", b"localhost"),
            (b"authorization", b"Bearer bench"),
            (b"content-length", str(len(self.body)).encode()),
        ]
        if payload is not None:
            headers.append((b"content-type", b"application/json"))
        self.scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8000),
        }

    async def once(self) -> bytes:
        sent = False
        finished = asyncio.Event()
        chunks: list[bytes] = []
        status = 0

        async def receive() -> dict[str, Any]:
            # Like a server: the body once, then (for anyone listening for a
            # disconnect) nothing until the response is complete.
            nonlocal sent
            if sent:
                await finished.wait()
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": self.body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    finished.set()

        await self.app(dict(self.scope, state={}), receive, send)
        body = b"".join(chunks)
        if status != 200 or b'"errors"' in body:
            raise RuntimeError(f"{status}: {body[:500]!r}")
        return body


def _mock_http(base_url: str = "") -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, transport=httpx.MockTransport(_handler))


def _passthrough_targets() -> dict[str, str]:
    ids = ",".join(f"thread_{n:024d}" for n in range(10))
    messages = ",".join(f"msg_{n:024d}" for n in range(30))
    return {
        "chat": f"/chat/{THREAD}",
        "chat-like-mesh": f"/chat-like-mesh/{THREAD}",
        "sidebar": f"/sidebar?ids={ids}",
        "aliases": f"/messages/{THREAD}?ids={messages}",
        "pagination": f"/page/{THREAD}?limit=50",
    }


async def _cpu_per_op(driver: Driver, ops: int) -> float:
    for _ in range(50):
        await driver.once()
    started = time.process_time()
    for _ in range(ops):
        await driver.once()
    return (time.process_time() - started) / ops


@asynccontextmanager
async def passthrough_app() -> AsyncIterator[Any]:
    """The hand-written passthrough, its upstream client swapped for the same mock."""
    import os

    os.environ.setdefault("PASSTHROUGH_UPSTREAM_URL", BASE)
    from benchmarks.passthrough import app

    async with app.router.lifespan_context(app):
        await app.state.http.aclose()
        app.state.http = _mock_http(BASE)
        app.state.http.headers.update({"OpenAI-Beta": "assistants=v2"})
        yield app


async def interleaved_cpu(
    screen: str, ops: int, block: int = 10, *, serving_gc: bool = False
) -> tuple[float, float]:
    """CPU seconds per screen of the gateway and of the passthrough, measured in
    alternating blocks of ``block`` operations, both apps open in this one process.

    This machine's CPU speed drifts by 2x within seconds (a shared VM): two runs one
    after the other compare two different machines, blocks a few milliseconds long
    compare the same one. ``serving_gc``: with the collector tuned as ``serve`` tunes
    it (gateway/gc_tuning.py), for both apps.
    """
    async with gateway_app() as gateway, passthrough_app() as passthrough:
        if serving_gc:
            from gateway.gc_tuning import tune_for_serving

            tune_for_serving()  # what ``serve`` does once the app is built
        sides = (
            Driver(gateway, "POST", "/graphql", _requests()[screen]),
            Driver(passthrough, "GET", _passthrough_targets()[screen]),
        )
        for driver in sides:  # warm-up
            for _ in range(50):
                await driver.once()
        spent = [0.0, 0.0]
        for _ in range(max(1, ops // block)):
            for side, driver in enumerate(sides):
                started = time.process_time()
                for _ in range(block):
                    await driver.once()
                spent[side] += time.process_time() - started
    done = max(1, ops // block) * block
    return spent[0] / done, spent[1] / done


@asynccontextmanager
async def gateway_app() -> AsyncIterator[Any]:
    """The gateway app in remote mode, its upstream client swapped for the mock."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        upstream_url=BASE,
        log_level="warning",
        graphiql=False,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await app.state.upstream.aclose()
        app.state.upstream = UpstreamClient(
            _mock_http(),
            base_url=BASE,
            api_key=None,
            requires_key=True,
            max_retries=0,
            retry_backoff=0.0,
            read_timeout=30.0,
            breaker=CircuitBreaker(5, 10.0),
        )
        yield app


async def gateway_cpu(screen: str, ops: int) -> float:
    """CPU seconds per screen of the gateway, in-process."""
    async with gateway_app() as app:
        return await _cpu_per_op(Driver(app, "POST", "/graphql", _requests()[screen]), ops)


async def profile_gateway(screen: str, ops: int) -> None:
    from pyinstrument import Profiler

    async with gateway_app() as app:
        driver = Driver(app, "POST", "/graphql", _requests()[screen])
        await _cpu_per_op(driver, 50)
        profiler = Profiler(interval=0.001, async_mode="disabled")
        profiler.start()
        for _ in range(ops):
            await driver.once()
        profiler.stop()
        profiler.print(unicode=True, color=False, show_all=False)


async def gc_share(screen: str, ops: int, concurrency: int, tuned: bool) -> None:
    """CPU per operation and the collector's share of it, ``concurrency`` operations at a time.

    ``tuned``: after ``gateway.gc_tuning.tune_for_serving()``, as ``serve`` does.
    """
    import gc

    from gateway.gc_tuning import tune_for_serving

    async with gateway_app() as app:
        driver = Driver(app, "POST", "/graphql", _requests()[screen])
        await _cpu_per_op(driver, 50)
        if tuned:
            tune_for_serving()
        in_gc = 0.0
        started_gc = 0.0

        def clock(phase: str, info: dict[str, Any]) -> None:
            nonlocal in_gc, started_gc
            if phase == "start":
                started_gc = time.process_time()
            else:
                in_gc += time.process_time() - started_gc

        collections = [g["collections"] for g in gc.get_stats()]
        gc.callbacks.append(clock)
        started = time.process_time()
        batches = max(1, ops // concurrency)
        for _ in range(batches):
            await asyncio.gather(*(driver.once() for _ in range(concurrency)))
        cpu = time.process_time() - started
        gc.callbacks.remove(clock)
        after = gc.get_stats()
        collections = [g["collections"] - c for g, c in zip(after, collections, strict=True)]
    print(
        f"{screen}, {concurrency} at a time, GC {'tuned' if tuned else 'default'} "
        f"{gc.get_threshold()}: {cpu / (batches * concurrency) * 1e6:.0f} µs CPU per operation, "
        f"GC {in_gc / cpu:.1%} of it, collections per generation {collections}"
    )


def _package_of(filename: str) -> str:
    """``graphql``, ``strawberry``, ``gateway``, ... for a code object's file; stdlib, builtins."""
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins (C functions)"
    path = filename.replace("\\", "/")
    if "/site-packages/" in path:
        return path.split("/site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    for package in ("gateway", "benchmarks"):
        if f"/{package}/" in path:
            return package
    return "stdlib"


async def profile_by_package(screen: str, ops: int) -> None:
    """cProfile self time of the gateway loop, summed by package (C functions apart)."""
    import cProfile
    import pstats

    async with gateway_app() as app:
        driver = Driver(app, "POST", "/graphql", _requests()[screen])
        await _cpu_per_op(driver, 50)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(ops):
            await driver.once()
        profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    totals: dict[str, float] = {}
    for (filename, _, _), (_, _, self_time, _, _) in stats.items():
        package = _package_of(filename)
        totals[package] = totals.get(package, 0.0) + self_time
    everything = sum(totals.values())
    print(f"\ncProfile self time by package, {screen}, {ops} operations:")
    for package, seconds in sorted(totals.items(), key=lambda item: -item[1]):
        print(f"  {package:28s} {seconds / everything:6.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screen", default="chat", choices=sorted(_requests()))
    parser.add_argument("--ops", type=int, default=1000)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument(
        "--gc",
        action="store_true",
        help="the GC's share of the CPU, default vs gateway.gc_tuning, at --concurrency",
    )
    parser.add_argument("--concurrency", type=int, default=16, help="with --gc")
    parser.add_argument(
        "--by-package", action="store_true", help="cProfile self time by package, not pyinstrument"
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="also run the passthrough in-process, same upstream, in alternating blocks",
    )
    parser.add_argument(
        "--serving-gc",
        action="store_true",
        help="with --compare: the collector tuned as serve tunes it, for both",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="with --compare: alternate gateway and passthrough this many times; the median",
    )
    parser.add_argument(
        "--without-fast-completion",
        action="store_true",
        help="graphql-core completes every field (gateway/schema/fast_completion.py off)",
    )
    args = parser.parse_args()
    if args.without_fast_completion:
        from gateway.schema.execution import GatewayExecutor

        GatewayExecutor.fast_completion = False
    if args.gc:
        asyncio.run(gc_share(args.screen, args.ops, args.concurrency, tuned=False))
        asyncio.run(gc_share(args.screen, args.ops, args.concurrency, tuned=True))
        return
    ratios: list[float] = []
    for _ in range(args.rounds if args.compare else 1):
        if args.compare:
            gateway, passthrough = asyncio.run(
                interleaved_cpu(args.screen, args.ops, serving_gc=args.serving_gc)
            )
        else:
            gateway = asyncio.run(gateway_cpu(args.screen, args.ops))
        print(
            f"{args.screen}: gateway {gateway * 1e6:.0f} µs CPU per operation "
            f"({args.ops} operations)"
        )
        if args.compare:
            ratios.append(gateway / passthrough)
            print(
                f"{args.screen}: passthrough {passthrough * 1e6:.0f} µs CPU per operation "
                f"(interleaved with the gateway's, blocks of 10); "
                f"gateway / passthrough = {gateway / passthrough:.2f}"
            )
    if len(ratios) > 1:
        rounds = ", ".join(f"{ratio:.2f}" for ratio in ratios)
        print(
            f"{args.screen}: gateway / passthrough per round {rounds}; "
            f"median {statistics.median(ratios):.2f}"
        )
    if args.by_package:
        asyncio.run(profile_by_package(args.screen, args.ops))
    elif not args.no_profile:
        asyncio.run(profile_gateway(args.screen, args.ops))


if __name__ == "__main__":
    main()
