"""Throughput of ``serve --workers N`` and of N replicas: ``python -m benchmarks.workers``.

Starts one gateway shape per count, each on its own store seeded alike (a
300-message thread), then loads the chat screen (``benchmarks.operations``: a
thread and its last 20 messages, one GraphQL POST) with ``wrk`` in alternating
rounds (count 1, count 2, 1, 2, ...), so that drift in the machine's speed
(other sessions share its cores) hits every count alike; the ratio is taken per
round. All shapes run at once but only the one under load does work.

The shapes (BENCHMARKS.md, "Workers"):

- workers (the default): one ``serve --workers N`` per count on one port;
- ``--replicas``: N separate ``serve`` processes (each ``--workers 1``, each on
  its own port) on ONE store, each loaded by its own ``wrk`` at the same time
  (the connections split evenly); req/s and CPU are summed over the replicas,
  p50/p99 are reported per replica. The data is seeded through the first
  replica and the chat screen is checked on every one (so each reads what
  another wrote).

The store (``--backend``): ``sqlite`` (default), one file per count in a
temporary folder; ``postgresql``, one fresh database per count on
``--postgres-url``'s server (``CREATE DATABASE bench_workers_<pid>_<n>``, passed
as ``GATEWAY_STORE_URL``, dropped at the end even on failure). Needs the
postgres extra (psycopg) and ``wrk``.

The commands (BENCHMARKS.md has the figures)::

    python -m benchmarks.workers                                    # SQLite, --workers 1 vs 2
    python -m benchmarks.workers --backend postgresql               # PostgreSQL, --workers 1 vs 2
    python -m benchmarks.workers --backend postgresql --replicas    # 1 process vs 2 replicas
    python -m benchmarks.workers --replicas                         # the same on one SQLite file
    python -m benchmarks.workers --rounds 1 --seconds 2             # a smoke test of any of them

Everything is bounded and stops by itself: each ``wrk`` run has a deadline
(``--seconds`` + 30 s) after which it is killed, and every gateway is stopped by
its PID at the end (SIGTERM, then SIGKILL), on failure too.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
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

WRK_GRACE_SECONDS = 30  # beyond --seconds, before a wrk that has not finished is killed


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


# --- stores -------------------------------------------------------------------------


class PostgresDatabases:
    """Databases made for the run on one server, each dropped by ``drop_all`` (always)."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.made: list[str] = []

    def create(self) -> str:
        """A fresh database's URL: ``bench_workers_<pid>_<n>`` on the admin URL's server."""
        psycopg = _psycopg()
        name = f"bench_workers_{os.getpid()}_{len(self.made) + 1}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # a left-over
            conn.execute(f'CREATE DATABASE "{name}"')
        self.made.append(name)
        base, _, _ = self.admin_url.rpartition("/")
        return f"{base}/{name}"

    def drop_all(self) -> None:
        if not self.made:
            return
        psycopg = _psycopg()
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for name in self.made:
                # FORCE: a gateway that did not stop in time must not keep its database.
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        progress(f"dropped {', '.join(self.made)}")
        self.made.clear()


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as error:  # pragma: no cover - depends on the install
        raise SystemExit(
            "--backend postgresql needs psycopg: pip install 'messages-gateway[postgres]'"
        ) from error
    return psycopg


# --- gateways -----------------------------------------------------------------------


@contextmanager
def gateways(
    workdir: Path,
    counts: list[int],
    *,
    replicas: bool,
    backend: str,
    postgres_url: str,
) -> Iterator[dict[int, list[Server]]]:
    """Per count: one ``serve --workers N``, or N ``serve`` replicas on one store.

    Each count has its own store (a file, or a database); the replicas of one
    count share theirs. Stopped (by PID) and the databases dropped on exit.
    """
    with ExitStack() as stack:
        databases = PostgresDatabases(postgres_url)
        stack.callback(databases.drop_all)  # registered first: runs after every stop
        started: dict[int, list[Server]] = {}
        for count in counts:
            if backend == "postgresql":
                store = {"GATEWAY_STORE_URL": databases.create()}
            else:
                store = {"GATEWAY_STORE_PATH": str(workdir / f"store-{count}.sqlite3")}
            processes = count if replicas else 1
            workers = 1 if replicas else count
            group = []
            for index in range(processes):
                port = free_port()
                env = (
                    base_env()
                    | store
                    | {
                        "GATEWAY_PORT": str(port),
                        "GATEWAY_LOG_LEVEL": "warning",
                    }
                )
                name = f"replica {index + 1}/{count}" if replicas else f"gateway x{count}"
                server = Server(
                    name,
                    [sys.executable, "-m", "gateway", "serve", "--workers", str(workers)],
                    port,
                    env,
                    workdir / f"gateway-{count}-{index + 1}.log",
                )
                stack.callback(server.stop)
                group.append(server)
            started[count] = group
        for group in started.values():
            for server in group:
                server.wait_ready("/healthz")
        yield started


# --- load ---------------------------------------------------------------------------


def split(connections: int, parts: int) -> list[int]:
    """``connections`` shared as evenly as can be over ``parts`` (each at least one)."""
    share, extra = divmod(connections, parts)
    return [max(1, share + (1 if index < extra else 0)) for index in range(parts)]


def wrk_chat(
    group: list[Server], fixture: Fixture, connections: int, seconds: int, workdir: Path
) -> dict[str, Any]:
    """One ``wrk`` per server of the group, all at once; the figures summed where they add."""
    chat = screens(fixture)[0].requests[0]
    script = workdir / "chat.lua"
    script.write_text(WRK_SCRIPT.format(method="POST", body=json.dumps(json.dumps(chat.graphql))))
    wrk = shutil.which("wrk")
    assert wrk is not None, "wrk is needed: apt-get install -y wrk"
    cpu_before = [cpu_seconds_by_process(server.pid) for server in group]
    runs: list[subprocess.Popen[str]] = []
    try:
        for server, share in zip(group, split(connections, len(group)), strict=True):
            command = [wrk, "-t1", f"-c{share}", f"-d{seconds}s", "--timeout", "10s"]
            runs.append(
                subprocess.Popen(
                    [*command, "-s", str(script), server.url + "/graphql"],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        deadline = time.monotonic() + seconds + WRK_GRACE_SECONDS
        outputs = []
        for run in runs:
            _, stderr = run.communicate(timeout=max(0.1, deadline - time.monotonic()))
            if run.returncode != 0:
                raise RuntimeError(f"wrk failed ({run.returncode}): {stderr}")
            outputs.append(stderr)
    finally:
        for run in runs:  # a wrk past its deadline, or left by a failure: killed by its PID
            if run.poll() is None:
                run.kill()
                run.wait(timeout=10)
    cpu_after = [cpu_seconds_by_process(server.pid) for server in group]
    load = os.getloadavg()[0]
    per_server = []
    for server, output, before, after in zip(group, outputs, cpu_before, cpu_after, strict=True):
        line = next(x for x in output.splitlines() if x.startswith("WRK "))
        one: dict[str, Any] = json.loads(line[4:])
        one["rps"] = one["requests"] / one["seconds"]
        one["cpu_seconds"] = sum(after.values()) - sum(before.values())
        # CPU seconds of each busy child: how evenly the workers shared the connections.
        one["worker_cpu_seconds"] = sorted(
            (
                v
                for v in (after[p] - before.get(p, 0.0) for p in after if p != server.pid)
                if v > 0.05
            ),
            reverse=True,
        )
        per_server.append(one)
    requests = sum(one["requests"] for one in per_server)
    elapsed = max(one["seconds"] for one in per_server)
    cpu = sum(one["cpu_seconds"] for one in per_server)
    figures: dict[str, Any] = {
        "requests": requests,
        "seconds": elapsed,
        "errors": sum(one["errors"] for one in per_server),
        "rps": sum(one["rps"] for one in per_server),
        "cpu_ms_per_request": cpu / max(1, requests) * 1000,
        "cpu_cores": cpu / elapsed,
        "load_average": load,  # the machine's 1-minute load: how much else ran
        "per_server": per_server,
    }
    if len(group) == 1:
        only = per_server[0]
        figures |= {k: only[k] for k in ("p50", "p95", "p99", "worker_cpu_seconds")}
    else:  # the replicas' CPU, one figure each: how evenly they shared the load
        figures["worker_cpu_seconds"] = [one["cpu_seconds"] for one in per_server]
    return figures


def check_chat(http: httpx.Client, fixture: Fixture) -> dict[str, Any]:
    """The screen answers with 20 messages, on this server too (a load of errors is no load)."""
    chat = screens(fixture)[0].requests[0]
    body: dict[str, Any] = http.post("/graphql", json=chat.graphql).json()
    edges = body["data"]["thread"]["messages"]["edges"]
    if body.get("errors") or len(edges) != 20:
        raise RuntimeError(f"the chat screen failed: {body}")
    return body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="serve --workers N / N replicas (chat screen)")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="counts (replicas with --replicas)"
    )
    parser.add_argument(
        "--replicas", action="store_true", help="N serve processes on one store, not --workers N"
    )
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a server where the run's databases can be made (--backend postgresql)",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32, help="in all (split by replica)")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--out", type=Path, default=None, help="JSON results file")
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C: the gateways stopped, the databases dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results: dict[str, Any] = {"machine": machine(), "args": vars(args) | {"out": str(args.out)}}
    rounds: list[dict[int, dict[str, Any]]] = []
    kind = "replicas" if args.replicas else "--workers"
    with tempfile.TemporaryDirectory(prefix="gateway-workers-bench-") as tmp:
        workdir = Path(tmp)
        with gateways(
            workdir,
            args.workers,
            replicas=args.replicas,
            backend=args.backend,
            postgres_url=args.postgres_url,
        ) as groups:
            fixtures = {}
            for count, group in groups.items():
                with httpx.Client(base_url=group[0].url, timeout=60) as http:
                    fixtures[count] = seed(http, args.messages, 0)
                answers = []
                for server in group:  # every replica reads what the first one stored
                    with httpx.Client(base_url=server.url, timeout=60) as http:
                        answers.append(check_chat(http, fixtures[count]))
                if any(answer != answers[0] for answer in answers):
                    raise RuntimeError(f"the replicas disagree on the chat screen: {answers}")
                wrk_chat(group, fixtures[count], args.connections, 2, workdir)  # warm-up
            for round_ in range(args.rounds):
                row = {}
                for count, group in groups.items():
                    progress(f"round {round_ + 1}: {args.backend} {kind} {count}")
                    row[count] = wrk_chat(
                        group, fixtures[count], args.connections, args.seconds, workdir
                    )
                rounds.append(row)
    results["rounds"] = [{str(k): v for k, v in row.items()} for row in rounds]
    print(report(rounds, args))
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def report(rounds: list[dict[int, dict[str, Any]]], args: argparse.Namespace) -> str:
    base = args.workers[0]
    shape = "replicas" if args.replicas else "workers"
    per = " (per replica)" if args.replicas else ""
    split_by = f" in all, split over the {shape}" if args.replicas else ""
    lines = [
        f"chat screen on {args.backend}, wrk -t1 -c{args.connections}{split_by} "
        f"-d{args.seconds}s, {len(rounds)} rounds\n",
        f"| round | {shape} | req/s | p50{per} (ms) | p99{per} (ms) | errors | CPU/req (ms) "
        f"| cores used | load avg | {shape[:-1]} CPU (s) | ratio to {base} {shape[:-1]}(s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for index, row in enumerate(rounds, 1):
        for count, f in row.items():
            split_cpu = ", ".join(f"{c:.1f}" for c in f["worker_cpu_seconds"]) or "-"
            p50 = " / ".join(f"{one['p50']:.1f}" for one in f["per_server"])
            p99 = " / ".join(f"{one['p99']:.1f}" for one in f["per_server"])
            lines.append(
                f"| {index} | {count} | {f['rps']:.0f} | {p50} | {p99} | "
                f"{f['errors']} | {f['cpu_ms_per_request']:.2f} | {f['cpu_cores']:.2f} | "
                f"{f['load_average']:.1f} | "
                f"{split_cpu} | {f['rps'] / row[base]['rps']:.2f} |"
            )
    flag = "replicas" if args.replicas else "--workers"
    for count in args.workers[1:]:
        ratios = [row[count]["rps"] / row[base]["rps"] for row in rounds]
        lines.append(
            f"\n{flag} {count} / {flag} {base} ({args.backend}): median "
            f"{statistics.median(ratios):.2f} (rounds: {', '.join(f'{r:.2f}' for r in ratios)})"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
