"""CPU per upstream call of the two network layers: ``python -m benchmarks.transport``.

Starts the benchmark upstream (``benchmarks.upstream``, answering from its cache) on
loopback, then, in this process, sends ``--calls`` GETs of a 20-message page with
one ``httpx.AsyncClient`` per layer (``UPSTREAM_TRANSPORT``): httpx's own transport
(httpcore) and ``gateway.upstream._transport.AiohttpTransport``, both with the
gateway's pool limits, ``--concurrency`` calls in flight at a time, alternating
layers over ``--rounds`` rounds. Prints this process's CPU time per call and calls
per second for each. Bounded: a fixed number of calls, and the upstream is stopped
at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.run import base_env, free_port
from gateway.upstream._client import _LIMITS
from gateway.upstream._transport import AiohttpTransport


def start_upstream(workdir: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    port = free_port()
    command = [sys.executable, "-m", "benchmarks.upstream", "--port", str(port)]
    command += ["--latency-ms", "0", "--store-path", str(workdir / "upstream.sqlite3")]
    process = subprocess.Popen(
        command, env=base_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(base + "/_bench/stats", timeout=2).raise_for_status()
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("the upstream did not start") from None
            time.sleep(0.2)
    thread = httpx.post(base + "/v1/threads", json={}).json()["id"]
    for n in range(25):
        body = {"role": "user", "content": f"message {n} " * 8}
        httpx.post(f"{base}/v1/threads/{thread}/messages", json=body).raise_for_status()
    httpx.post(base + "/_bench/cache", params={"on": 1}).raise_for_status()
    return process, base, thread


async def measure(layer: str, base: str, thread: str, concurrency: int, calls: int) -> float:
    """CPU microseconds per call (this process)."""
    transport = (
        AiohttpTransport(limits=_LIMITS)
        if layer == "aiohttp"
        else httpx.AsyncHTTPTransport(limits=_LIMITS)
    )
    url = f"{base}/v1/threads/{thread}/messages"
    async with httpx.AsyncClient(transport=transport, timeout=30) as client:
        gate = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with gate:
                response = await client.get(url, params={"limit": 20, "order": "desc"})
                if response.status_code != 200:
                    raise RuntimeError(f"{layer}: {response.status_code}")

        await asyncio.gather(*(one() for _ in range(concurrency)))  # open the connections
        started = time.process_time()
        await asyncio.gather(*(one() for _ in range(calls)))
        return (time.process_time() - started) / calls * 1e6


async def run(args: argparse.Namespace, base: str, thread: str) -> None:
    print("| concurrency | httpx (µs CPU/call) | aiohttp (µs CPU/call) | httpx / aiohttp |")
    print("|---|---|---|---|")
    for concurrency in args.concurrency:
        figures: dict[str, list[float]] = {"httpx": [], "aiohttp": []}
        for _ in range(args.rounds):
            for layer in figures:
                figures[layer].append(await measure(layer, base, thread, concurrency, args.calls))
        ratios = [h / a for h, a in zip(figures["httpx"], figures["aiohttp"], strict=True)]
        cells = [
            f"{statistics.median(v):.0f} ({', '.join(f'{x:.0f}' for x in v)})"
            for v in figures.values()
        ]
        print(f"| {concurrency} | {cells[0]} | {cells[1]} | **{statistics.median(ratios):.2f}** |")


def main() -> None:
    parser = argparse.ArgumentParser(description="CPU per upstream call: httpx vs aiohttp")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 128])
    parser.add_argument("--calls", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    import uvloop  # as the gateway's server runs

    with tempfile.TemporaryDirectory(prefix="gateway-transport-") as tmp:
        process, base, thread = start_upstream(Path(tmp))
        try:
            uvloop.run(run(args, base, thread))
        finally:
            process.terminate()
            process.wait(10)


if __name__ == "__main__":
    main()
