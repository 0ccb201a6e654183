"""Subscriptions under load: subscribers held by one process, memory, delivery latency.

    python -m benchmarks.live --subscribers 2000 --threads 100 --rate 50 --seconds 10

Starts one ``messages-gateway serve`` (SQLite, the default; ``--store-url`` for
PostgreSQL, ``--replicas 2`` for two processes on it, subscribers split between
them and writes alternating), opens ``--subscribers`` graphql-transport-ws
connections (one ``threadEvents`` each, spread over ``--threads`` threads), then
posts ``--rate`` messages a second through GraphQL for ``--seconds``. Latency is
from the moment the mutation is sent (an upper bound of "from commit": it
includes the write itself) to each subscriber's receipt of its
``MessageCreated``; memory is the server's RSS growth per subscriber. Loopback
only, bounded, stops itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets

from tests.live.server import LiveServer

QUERY = (
    "subscription($t: ID!) { threadEvents(threadId: $t) "
    "{ ... on MessageCreated { message { id } } } }"
)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def subscriber(
    url: str, thread_id: str, ready: asyncio.Event, arrivals: dict[str, list[float]]
) -> None:
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"], max_queue=None) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        await ws.recv()
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": QUERY, "variables": {"t": thread_id}},
                }
            )
        )
        ready.set()
        async for frame in ws:
            message = json.loads(frame)
            if message.get("type") == "ping":
                await ws.send('{"type":"pong"}')
            elif message.get("type") == "next":
                event = message["payload"]["data"]["threadEvents"]
                arrivals.setdefault(event["message"]["id"], []).append(time.perf_counter())


async def run(args: argparse.Namespace) -> dict[str, object]:
    workdir = Path(tempfile.mkdtemp(prefix="live-bench-"))
    servers = [
        LiveServer(
            workdir,
            store_url=args.store_url,
            env={
                "GATEWAY_LOG_LEVEL": "warning",
                # Without authentication every subscriber is the one anonymous caller.
                "GATEWAY_MAX_SUBSCRIPTIONS_PER_CALLER": str(args.subscribers),
            },
        )
        for _ in range(args.replicas)
    ]
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            threads = []
            for _ in range(args.threads):
                answer = await http.post(
                    servers[0].graphql_url,
                    json={"query": "mutation { createThread(input: {}) { thread { id } } }"},
                )
                threads.append(answer.json()["data"]["createThread"]["thread"]["id"])
            before = [rss_kib(s.process.pid) for s in servers]
            arrivals: dict[str, list[float]] = {}
            readies = []
            tasks = []
            for i in range(args.subscribers):
                ready = asyncio.Event()
                readies.append(ready)
                server = servers[i % len(servers)]
                tasks.append(
                    asyncio.create_task(
                        subscriber(server.ws_url, threads[i % len(threads)], ready, arrivals)
                    )
                )
                if i % 100 == 99:
                    await asyncio.gather(*(r.wait() for r in readies[-100:]))
            await asyncio.gather(*(r.wait() for r in readies))
            await asyncio.sleep(2)  # every subscription started on the server
            held = [rss_kib(s.process.pid) for s in servers]
            committed: dict[str, float] = {}
            interval = 1.0 / args.rate
            start = time.perf_counter()
            for n in range(int(args.rate * args.seconds)):
                await asyncio.sleep(max(0.0, start + n * interval - time.perf_counter()))
                server = servers[n % len(servers)]
                sent = time.perf_counter()
                answer = await http.post(
                    server.graphql_url,
                    json={
                        "query": "mutation($t: ID!) { createMessage(input: {threadId: $t, "
                        'role: USER, content: [{text: "x"}]}) { message { id } } }',
                        "variables": {"t": threads[n % len(threads)]},
                    },
                )
                committed[answer.json()["data"]["createMessage"]["message"]["id"]] = sent
            await asyncio.sleep(3)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        per_thread = args.subscribers // args.threads
        lags = sorted(
            (arrival - committed[mid]) * 1000
            for mid, times in arrivals.items()
            if mid in committed
            for arrival in times
        )
        expected = len(committed) * per_thread
        return {
            "subscribers": args.subscribers,
            "replicas": args.replicas,
            "threads": args.threads,
            "writes": len(committed),
            "deliveries": len(lags),
            "deliveries_expected": expected,
            "rss_kib_before": before,
            "rss_kib_held": held,
            "kib_per_subscriber": round((sum(held) - sum(before)) / max(1, args.subscribers), 1),
            "lag_ms_p50": round(statistics.median(lags), 1) if lags else None,
            "lag_ms_p99": round(lags[int(len(lags) * 0.99) - 1], 1) if lags else None,
            "lag_ms_max": round(lags[-1], 1) if lags else None,
        }
    finally:
        for server in servers:
            server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=100)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--store-url", default=None)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
