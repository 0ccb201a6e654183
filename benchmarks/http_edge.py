"""HTTP-edge attacks against a real gateway process, with a normal client measured meanwhile.

Each attack runs for ``--seconds`` against a fresh ``messages-gateway serve`` (the
embedded store, default settings unless stated) while a normal client, on its own
thread, sends ``{ __typename }`` on a fresh connection every 50 ms. Reported per
attack: what the attacker spent (connections opened, bytes sent), the server's
RSS (before, peak) and open file descriptors (peak) read from ``/proc``, and the
normal client's answers (ok / failed) with p50/p99 latency. Loopback only,
bounded in time and in sockets, and it stops the servers it started.

    python benchmarks/http_edge.py                      # this tree
    python benchmarks/http_edge.py --tree /tmp/main     # another checkout (before)
    python benchmarks/http_edge.py --nofile 1024 --attacks idle   # a common ulimit

Attacks: ``idle`` (1,500 sockets that never send a byte, reopened when closed),
``slow-headers`` (300 sockets dripping one header byte a second), ``stalled-bodies``
(400 sockets each sending 800 KB of a declared 1 MB body, then stalling),
``unauthenticated-bodies`` (the same, without a credential, on an auth-enabled gateway).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
TOKEN = "benchmark-token"
QUERY = json.dumps({"query": "{ __typename }"}).encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, tree: Path, settings: dict[str, str], nofile: int | None = None) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="http-edge-"))
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
        env.update(
            PYTHONPATH=str(tree),
            GATEWAY_PORT=str(self.port),
            GATEWAY_WORKERS="1",
            GATEWAY_STORE_PATH=str(self.workdir / "data" / "s.sqlite3"),
            GATEWAY_LOG_LEVEL="error",
            **{f"GATEWAY_{k}": v for k, v in settings.items()},
        )
        self.log = (self.workdir / "server.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve"],
            cwd=self.workdir,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            preexec_fn=None if nofile is None else lambda: _limit_files(nofile),
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(
                        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                    )
                    if s.recv(100).startswith(b"HTTP/1.1 200"):
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        return int(match.group(1)) / 1024 if match else 0.0

    def fds(self) -> int:
        try:
            return len(os.listdir(f"/proc/{self.process.pid}/fd"))
        except OSError:
            return 0

    def upstream_calls(self) -> float:
        answer = _blocking_request(self.port, b"GET", b"/metrics", b"", auth=True)[1]
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in answer.decode().splitlines()
            if line.startswith("gateway_upstream_calls_total")
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _limit_files(nofile: int) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, hard))


def _blocking_request(
    port: int, method: bytes, path: bytes, body: bytes, *, auth: bool, timeout: float = 10
) -> tuple[int, bytes]:
    headers = b"Host: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n"
    if auth:
        headers += f"Authorization: Bearer {TOKEN}\r\n".encode()
    request = method + b" " + path + b" HTTP/1.1\r\n" + headers
    request += b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    answer = b"".join(chunks)
    return int(answer.split(b" ", 2)[1]), answer.partition(b"\r\n\r\n")[2]


@dataclass
class NormalClient:
    port: int
    auth: bool
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                status, body = _blocking_request(
                    self.port, b"POST", b"/graphql", QUERY, auth=self.auth
                )
                ok = status == 200 and b'"__typename":"Query"' in body
            except (OSError, IndexError, ValueError):  # refused, reset, or closed unanswered
                ok = False
            if ok:
                self.latencies.append(time.monotonic() - started)
            else:
                self.failures += 1
            self.stop.wait(0.05)


@dataclass
class Attacker:
    connections: int = 0
    bytes_sent: int = 0


async def _hold(
    port: int, attacker: Attacker, until: float, act: Callable[..., Awaitable[None]]
) -> None:
    """One attacker slot: connect, act, wait for the close; again until ``until``."""
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.2)
            continue
        attacker.connections += 1
        try:
            async with asyncio.timeout(max(0.1, until - time.monotonic())):
                await act(reader, writer, attacker)
                await reader.read()  # until the server closes
        except (TimeoutError, OSError):
            pass
        finally:
            writer.close()


async def _idle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, a: Attacker) -> None:
    return


async def _slow_headers(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, a: Attacker
) -> None:
    for byte in b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"x" * 10_000:
        writer.write(bytes([byte]))
        await writer.drain()
        a.bytes_sent += 1
        await asyncio.sleep(1.0)


async def _stalled_body(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, a: Attacker
) -> None:
    head = (
        b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000000\r\n\r\n"
    )
    writer.write(head + b'{"query": "{ __typename }", "pad": "' + b"x" * 800_000)
    await writer.drain()
    a.bytes_sent += 800_000 + len(head)
    await asyncio.sleep(3600)


ATTACKS: dict[str, tuple[int, Callable[..., Awaitable[None]], dict[str, str]]] = {
    "none": (0, _idle, {}),
    "idle": (1500, _idle, {}),
    "slow-headers": (300, _slow_headers, {}),
    "stalled-bodies": (400, _stalled_body, {}),
    "unauthenticated-bodies": (
        400,
        _stalled_body,
        {"AUTH_TOKEN_HASHES": hashlib.sha256(TOKEN.encode()).hexdigest()},
    ),
}


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


async def run_attack(
    tree: Path, name: str, seconds: float, nofile: int | None
) -> dict[str, object]:
    slots, act, settings = ATTACKS[name]
    server = Server(tree, settings, nofile)
    auth = "AUTH_TOKEN_HASHES" in settings
    try:
        rss_before = server.rss_mb()
        attacker = Attacker()
        until = time.monotonic() + seconds
        tasks = [
            asyncio.create_task(_hold(server.port, attacker, until, act)) for _ in range(slots)
        ]
        await asyncio.sleep(1.0)  # the attack is in place
        client = NormalClient(server.port, auth)
        thread = threading.Thread(target=client.run, daemon=True)
        thread.start()
        peak_rss, peak_fds = rss_before, 0
        while time.monotonic() < until:
            peak_rss = max(peak_rss, server.rss_mb())
            peak_fds = max(peak_fds, server.fds())
            await asyncio.sleep(0.5)
        client.stop.set()
        thread.join(15)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return {
            "attack": name,
            "nofile": nofile,
            "attacker_connections": attacker.connections,
            "attacker_mb_sent": round(attacker.bytes_sent / 1e6, 1),
            "rss_mb_before": round(rss_before),
            "rss_mb_peak": round(peak_rss),
            "fds_peak": peak_fds,
            "normal_ok": len(client.latencies),
            "normal_failed": client.failures,
            "normal_p50_ms": round(statistics.median(client.latencies) * 1000, 1)
            if client.latencies
            else None,
            "normal_p99_ms": round(_percentile(client.latencies, 0.99) * 1000, 1)
            if client.latencies
            else None,
            "upstream_calls": server.upstream_calls(),
        }
    finally:
        server.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", type=Path, default=REPO_ROOT, help="source tree to serve")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--attacks", default=",".join(ATTACKS))
    parser.add_argument("--nofile", type=int, default=None, help="the server's ulimit -n")
    args = parser.parse_args()
    for name in args.attacks.split(","):
        print(json.dumps(await run_attack(args.tree, name, args.seconds, args.nofile)), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
