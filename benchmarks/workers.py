"""Throughput of ``serve --workers N``: ``.venv/bin/python -m benchmarks.workers`` (BENCHMARKS.md).

Starts one gateway per worker count on the embedded SQLite store (each on its
own file, seeded alike: a 300-message thread), then loads the chat screen
(``benchmarks.operations``: a thread and its last 20 messages, one GraphQL
POST) with ``wrk`` in alternating rounds (1 worker, 2 workers, 1, 2, ...), so
that drift in the machine's speed (other sessions share its cores) hits every
worker count alike; the ratio is taken per round. All servers run at once but
only the one under load does work. Everything is bounded and stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

from benchmarks.operations import Fixture, screens
from benchmarks.run import (
    CLOCK_TICKS,
    WRK_SCRIPT,
    Server,
    base_env,
    free_port,
    machine,
    progress,
    seed,
)


def cpu_seconds_by_process(pid: int) -> dict[int, float]:
    """CPU time so far of ``pid`` and of each of its live children (the workers)."""
    found: dict[int, float] = {}
    for candidate in [pid, *children(pid)]:
        try:
            fields = Path(f"/proc/{candidate}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[candidate] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return found


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@contextmanager
def gateways(workdir: Path, counts: list[int]) -> Iterator[dict[int, Server]]:
    with ExitStack() as stack:
        started: dict[int, Server] = {}
        for workers in counts:
            port = free_port()
            env = base_env() | {
                "GATEWAY_PORT": str(port),
                "GATEWAY_LOG_LEVEL": "warning",
                "GATEWAY_STORE_PATH": str(workdir / f"workers-{workers}.sqlite3"),
            }
            server = Server(
                f"gateway x{workers}",
                [sys.executable, "-m", "gateway", "serve", "--workers", str(workers)],
                port,
                env,
                workdir / f"gateway-{workers}.log",
            )
            stack.callback(server.stop)
            started[workers] = server
        for server in started.values():
            server.wait_ready("/healthz")
        yield started


def wrk_chat(
    server: Server, fixture: Fixture, connections: int, seconds: int, workdir: Path
) -> dict[str, Any]:
    chat = screens(fixture)[0].requests[0]
    script = workdir / "chat.lua"
    script.write_text(WRK_SCRIPT.format(method="POST", body=json.dumps(json.dumps(chat.graphql))))
    wrk = shutil.which("wrk")
    assert wrk is not None, "wrk is needed: apt-get install -y wrk"
    cpu_before = cpu_seconds_by_process(server.pid)
    result = subprocess.run(
        [
            wrk,
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            server.url + "/graphql",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    )
    cpu_after = cpu_seconds_by_process(server.pid)
    spent = {p: cpu_after[p] - cpu_before.get(p, 0.0) for p in cpu_after if p != server.pid}
    cpu = sum(cpu_after.values()) - sum(cpu_before.values())
    load = os.getloadavg()[0]
    line = next(x for x in result.stderr.splitlines() if x.startswith("WRK "))
    figures: dict[str, Any] = json.loads(line[4:])
    figures["rps"] = figures["requests"] / figures["seconds"]
    figures["cpu_ms_per_request"] = cpu / max(1, figures["requests"]) * 1000
    figures["cpu_cores"] = cpu / figures["seconds"]
    # CPU seconds of each busy child: how evenly the workers shared the connections.
    figures["worker_cpu_seconds"] = sorted((v for v in spent.values() if v > 0.05), reverse=True)
    figures["load_average"] = load  # the machine's 1-minute load: how much else ran
    return figures


def check_chat(http: httpx.Client, fixture: Fixture) -> None:
    """The screen answers with 20 messages, on this server too (a load of errors is no load)."""
    chat = screens(fixture)[0].requests[0]
    body = http.post("/graphql", json=chat.graphql).json()
    edges = body["data"]["thread"]["messages"]["edges"]
    if body.get("errors") or len(edges) != 20:
        raise RuntimeError(f"the chat screen failed: {body}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="serve --workers N throughput (chat screen)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--out", type=Path, default=None, help="JSON results file")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"machine": machine(), "args": vars(args) | {"out": str(args.out)}}
    rounds: list[dict[int, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="gateway-workers-bench-") as tmp:
        workdir = Path(tmp)
        with gateways(workdir, args.workers) as servers:
            fixtures = {}
            for workers, server in servers.items():
                with httpx.Client(base_url=server.url, timeout=60) as http:
                    fixtures[workers] = seed(http, args.messages, 0)
                    check_chat(http, fixtures[workers])
                wrk_chat(server, fixtures[workers], args.connections, 2, workdir)  # warm-up
            for round_ in range(args.rounds):
                row = {}
                for workers, server in servers.items():
                    progress(f"round {round_ + 1}: --workers {workers}")
                    row[workers] = wrk_chat(
                        server, fixtures[workers], args.connections, args.seconds, workdir
                    )
                rounds.append(row)
    results["rounds"] = [{str(k): v for k, v in row.items()} for row in rounds]
    print(report(rounds, args))
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def report(rounds: list[dict[int, dict[str, Any]]], args: argparse.Namespace) -> str:
    base = args.workers[0]
    lines = [
        f"chat screen, wrk -t1 -c{args.connections} -d{args.seconds}s, {len(rounds)} rounds\n",
        "| round | workers | req/s | p50 (ms) | p99 (ms) | errors | CPU/req (ms) | cores used "
        f"| load avg | worker CPU (s) | ratio to {base} worker(s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for index, row in enumerate(rounds, 1):
        for workers, f in row.items():
            split = ", ".join(f"{c:.1f}" for c in f["worker_cpu_seconds"]) or "-"
            lines.append(
                f"| {index} | {workers} | {f['rps']:.0f} | {f['p50']:.1f} | {f['p99']:.1f} | "
                f"{f['errors']} | {f['cpu_ms_per_request']:.2f} | {f['cpu_cores']:.2f} | "
                f"{f['load_average']:.1f} | "
                f"{split} | {f['rps'] / row[base]['rps']:.2f} |"
            )
    for workers in args.workers[1:]:
        ratios = [row[workers]["rps"] / row[base]["rps"] for row in rounds]
        lines.append(
            f"\n--workers {workers} / --workers {base}: median {statistics.median(ratios):.2f} "
            f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)})"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
