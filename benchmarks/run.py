"""The performance harness: ``.venv/bin/python -m benchmarks.run`` (see BENCHMARKS.md).

Starts three local processes on loopback, all stopped at the end:

1. the upstream (``benchmarks.upstream``): the embedded store with an injected
   latency before every request, counting the requests it serves;
2. the gateway (``python -m gateway serve``) in remote mode, pointed at it;
3. the yardstick (``benchmarks.passthrough``): a hand-written REST passthrough
   making the same upstream calls.

then seeds data (at zero latency) and measures, for each screen of
``benchmarks.operations``:

- **calls**: upstream requests per screen, counted by the upstream, vs the minimum;
- **wall**: client-side time per screen at the injected latency, vs the critical
  path (round trips on it x latency);
- **CPU**: the server process's CPU time (``/proc/<pid>/stat``) per screen, at zero
  latency, sequential requests, gateway vs passthrough;
- **load**: throughput and latency percentiles of the chat screen under ``wrk``
  (when installed) with a fixed number of connections for a fixed time.

Everything is bounded in count and time and stops by itself. Results are printed
as Markdown and written as JSON (``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
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

from benchmarks.operations import Fixture, Request, Screen, screens

ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
AUTH = {"Authorization": "Bearer bench"}


# --- processes ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """A child process serving HTTP on ``port``; SIGTERM (then SIGKILL) on exit."""

    def __init__(
        self, name: str, command: list[str], port: int, env: dict[str, str], log: Path
    ) -> None:
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=log.parent, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, path: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log.read_text()}")
            try:
                httpx.get(self.url + path, timeout=1.0)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start:\n{self.log.read_text()}")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "PASSTHROUGH_"))}
    env["PYTHONPATH"] = str(ROOT)
    env["GATEWAY_WORKERS"] = "1"  # one process per server compared (workers.py varies it)
    return env


@contextmanager
def servers(workdir: Path, latency_ms: float) -> Iterator[tuple[Server, Server, Server]]:
    with ExitStack() as stack:
        port = free_port()
        upstream = Server(
            "upstream",
            [
                sys.executable,
                "-m",
                "benchmarks.upstream",
                "--port",
                str(port),
                "--latency-ms",
                str(latency_ms),
                "--store-path",
                str(workdir / "upstream.sqlite3"),
            ],
            port,
            base_env(),
            workdir / "upstream.log",
        )
        stack.callback(upstream.stop)
        upstream.wait_ready("/_bench/stats")
        upstream_v1 = upstream.url + "/v1"

        port = free_port()
        gateway_env = base_env() | {
            "GATEWAY_UPSTREAM_URL": upstream_v1,
            "GATEWAY_PORT": str(port),
            "GATEWAY_LOG_LEVEL": "warning",
            "GATEWAY_STORE_PATH": str(workdir / "unused.sqlite3"),
        }
        gateway = Server(
            "gateway",
            [sys.executable, "-m", "gateway", "serve"],
            port,
            gateway_env,
            workdir / "gateway.log",
        )
        stack.callback(gateway.stop)

        port = free_port()
        passthrough = Server(
            "passthrough",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "benchmarks.passthrough:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            port,
            base_env() | {"PASSTHROUGH_UPSTREAM_URL": upstream_v1},
            workdir / "passthrough.log",
        )
        stack.callback(passthrough.stop)
        gateway.wait_ready("/healthz")
        passthrough.wait_ready("/docs")
        yield upstream, gateway, passthrough


# --- data ---------------------------------------------------------------------------


def seed(http: httpx.Client, messages: int, sidebar: int) -> Fixture:
    def post(path: str, body: dict[str, Any]) -> str:
        response = http.post(path, json=body)
        response.raise_for_status()
        object_id: str = response.json()["id"]
        return object_id

    long_thread = post("/v1/threads", {"metadata": {"screen": "chat"}})
    long_messages = [
        post(
            f"/v1/threads/{long_thread}/messages",
            {"role": "user" if n % 2 == 0 else "assistant", "content": f"message {n} " * 8},
        )
        for n in range(messages)
    ]
    sidebar_threads = []
    for n in range(sidebar):
        thread = post("/v1/threads", {"metadata": {"title": f"thread {n}"}})
        for m in range(3):
            post(f"/v1/threads/{thread}/messages", {"role": "user", "content": f"hi {m}"})
        sidebar_threads.append(thread)
    return Fixture(long_thread, long_messages, sidebar_threads)


# --- measurements -------------------------------------------------------------------


def send(http: httpx.Client, request: Request, graphql: bool) -> None:
    if graphql:
        response = http.post("/graphql", json=request.graphql)
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise RuntimeError(f"GraphQL failed: {response.status_code} {body}")
    else:
        response = http.get(request.rest)
        response.raise_for_status()


def run_screen(http: httpx.Client, screen: Screen, graphql: bool) -> None:
    for request in screen.requests:  # a chain: each waits for the one before
        send(http, request, graphql)


def same_answers(clients: dict[bool, httpx.Client], screen: Screen) -> bool:
    """Whether the passthrough answers each request with the GraphQL response's ``data``."""
    for request in screen.requests:
        data = clients[True].post("/graphql", json=request.graphql).json()["data"]
        if clients[False].get(request.rest).json() != data:
            return False
    return True


def upstream_calls(control: httpx.Client) -> int:
    calls: int = control.get("/_bench/stats").json()["calls"]
    return calls


def set_latency(control: httpx.Client, ms: float) -> None:
    control.post("/_bench/latency", params={"ms": ms}).raise_for_status()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def measure_wall(
    http: httpx.Client, control: httpx.Client, screen: Screen, graphql: bool, runs: int
) -> dict[str, Any]:
    """Calls and client-side wall time per screen, sequential runs."""
    for _ in range(3):
        run_screen(http, screen, graphql)
    calls: list[int] = []
    walls: list[float] = []
    for _ in range(runs):
        before = upstream_calls(control)
        started = time.perf_counter()
        run_screen(http, screen, graphql)
        walls.append(time.perf_counter() - started)
        calls.append(upstream_calls(control) - before)
    return {
        "calls": sorted(set(calls)),
        "wall_p50_ms": statistics.median(walls) * 1000,
        "wall_min_ms": min(walls) * 1000,
        "wall_max_ms": max(walls) * 1000,
    }


def measure_cpu(
    http: httpx.Client, server: Server, screen: Screen, graphql: bool, seconds: float
) -> dict[str, Any]:
    """Server CPU per screen: sequential requests for about ``seconds``."""
    for _ in range(20):
        run_screen(http, screen, graphql)
    count = 0
    cpu_before = server.cpu_seconds()
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        run_screen(http, screen, graphql)
        count += 1
    elapsed = time.perf_counter() - started
    cpu = server.cpu_seconds() - cpu_before
    return {
        "screens": count,
        "cpu_ms_per_screen": cpu / count * 1000,
        "wall_ms_per_screen": elapsed / count * 1000,
    }


WRK_SCRIPT = """
wrk.method = "{method}"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench"
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
                 + summary.errors.status + summary.errors.timeout
  io.stderr:write(string.format(
    'WRK {{"requests": %d, "seconds": %f, "errors": %d, "p50": %f, "p95": %f, "p99": %f}}\\n',
    summary.requests, summary.duration / 1e6, errors,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3, latency:percentile(99) / 1e3))
end
"""


def measure_load(
    server: Server, request: Request, graphql: bool, connections: int, seconds: int, workdir: Path
) -> dict[str, Any] | None:
    """``wrk`` against one request for ``seconds`` with ``connections``; None without wrk."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    if graphql:
        script = WRK_SCRIPT.format(method="POST", body=json.dumps(json.dumps(request.graphql)))
        url = server.url + "/graphql"
    else:
        script = WRK_SCRIPT.format(method="GET", body="nil")
        url = server.url + request.rest
    script_path = workdir / "wrk.lua"
    script_path.write_text(script)
    cpu_before = server.cpu_seconds()
    result = subprocess.run(
        [
            wrk,
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script_path),
            url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    )
    cpu = server.cpu_seconds() - cpu_before
    line = next(x for x in result.stderr.splitlines() if x.startswith("WRK "))
    figures: dict[str, Any] = json.loads(line[4:])
    figures["rps"] = figures["requests"] / figures["seconds"]
    figures["cpu_ms_per_request"] = cpu / max(1, figures["requests"]) * 1000
    figures["cpu_utilisation"] = cpu / figures["seconds"]
    return figures


# --- report -------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "wrk": bool(shutil.which("wrk")),
    }


def report(results: dict[str, Any]) -> str:
    lines: list[str] = []
    add = lines.append
    m = results["machine"]
    latency = results["latency_ms"]
    add(f"machine: {m['nproc']} CPUs, {m['cpu']}, Python {m['python']}")
    add(f"injected upstream latency: {latency:g} ms\n")
    add(
        "| screen | calls | minimum | critical path (ms) | gateway wall p50 (ms) | wall / path | "
        "target 1.2x path + 10 ms | passthrough wall p50 (ms) | same answer |"
    )
    add("|---|---|---|---|---|---|---|---|---|")
    for name, row in results["screens"].items():
        path = row["depth"] * latency
        wall = row["gateway_wall"]["wall_p50_ms"]
        target = 1.2 * path + 10
        verdict = "met" if wall <= target else "missed"
        add(
            f"| {name} | {','.join(map(str, row['gateway_wall']['calls']))} | "
            f"{row['minimum_calls']} | {path:.0f} ({row['depth']} x {latency:g}) | {wall:.1f} | "
            f"{wall / path if path else float('nan'):.2f} | {target:.0f}: {verdict} | "
            f"{row['passthrough_wall']['wall_p50_ms']:.1f} | {row['same_answer']} |"
        )
    add("\nCPU per screen (server process, zero latency, sequential requests):\n")
    add(
        "| screen | gateway CPU (ms) | passthrough CPU (ms) | ratio, median (rounds) | "
        "gateway wall at 0 ms (ms) | passthrough wall at 0 ms (ms) |"
    )
    add("|---|---|---|---|---|---|")
    for name, row in results["screens"].items():
        ratios = ", ".join(f"{g / p:.2f}" for g, p in row["cpu_rounds"])
        add(
            f"| {name} | {row['gateway_cpu_ms']:.2f} | {row['passthrough_cpu_ms']:.2f} | "
            f"{row['cpu_ratio']:.2f} ({ratios}) | {row['gateway_wall0_ms']:.1f} | "
            f"{row['passthrough_wall0_ms']:.1f} |"
        )
    if results.get("load"):
        add("\nLoad (chat screen, wrk):\n")
        add(
            "| target | latency (ms) | connections | req/s | p50 (ms) | p95 (ms) | p99 (ms) | "
            "errors | server CPU/req (ms) | server CPU use |"
        )
        add("|---|---|---|---|---|---|---|---|---|---|")
        for row in results["load"]:
            f = row["figures"]
            add(
                f"| {row['target']} | {row['latency_ms']:g} | {row['connections']} | "
                f"{f['rps']:.0f} | {f['p50']:.1f} | {f['p95']:.1f} | {f['p99']:.1f} | "
                f"{f['errors']} | {f['cpu_ms_per_request']:.2f} | {f['cpu_utilisation']:.0%} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="messages-gateway performance harness")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--runs", type=int, default=20, help="sequential runs per screen (wall)")
    parser.add_argument("--cpu-seconds", type=float, default=2.0, help="per chunk")
    parser.add_argument("--cpu-rounds", type=int, default=3, help="gateway/passthrough chunks")
    parser.add_argument("--messages", type=int, default=300, help="messages in the long thread")
    parser.add_argument("--connections", type=int, nargs="*", default=[16, 64])
    parser.add_argument("--load-seconds", type=int, default=10)
    parser.add_argument("--out", type=Path, default=None, help="JSON results file")
    args = parser.parse_args(argv)

    results: dict[str, Any] = {
        "machine": machine(),
        "latency_ms": args.latency_ms,
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as tmp:
        workdir = Path(tmp)
        with servers(workdir, args.latency_ms) as (upstream, gateway, passthrough):
            control = httpx.Client(base_url=upstream.url, timeout=30)
            set_latency(control, 0)
            fixture = seed(control, args.messages, 10)
            progress(f"seeded: {len(fixture.long_messages)} + {10 * 3} messages")
            clients = {
                # No server key: the gateway forwards the caller's bearer (the store is open).
                True: httpx.Client(base_url=gateway.url, timeout=60, headers=AUTH),
                False: httpx.Client(base_url=passthrough.url, timeout=60, headers=AUTH),
            }
            results["screens"] = {}
            set_latency(control, args.latency_ms)
            for screen in screens(fixture):
                progress(f"wall: {screen.name}")
                results["screens"][screen.name] = {
                    "what": screen.what,
                    "same_answer": same_answers(clients, screen),
                    "minimum_calls": screen.minimum_calls,
                    "depth": screen.depth,
                    "gateway_wall": measure_wall(clients[True], control, screen, True, args.runs),
                    "passthrough_wall": measure_wall(
                        clients[False], control, screen, False, args.runs
                    ),
                }
            set_latency(control, 0)
            for screen in screens(fixture):
                progress(f"cpu: {screen.name}")
                row = results["screens"][screen.name]
                # Alternate gateway and passthrough chunks, so that drift in the
                # machine's speed hits both; the ratio is taken per round.
                rounds = []
                walls = []
                for _ in range(args.cpu_rounds):
                    g = measure_cpu(clients[True], gateway, screen, True, args.cpu_seconds)
                    p = measure_cpu(clients[False], passthrough, screen, False, args.cpu_seconds)
                    rounds.append((g["cpu_ms_per_screen"], p["cpu_ms_per_screen"]))
                    walls.append((g["wall_ms_per_screen"], p["wall_ms_per_screen"]))
                row["cpu_rounds"] = rounds
                row["gateway_cpu_ms"] = statistics.median(g for g, _ in rounds)
                row["passthrough_cpu_ms"] = statistics.median(p for _, p in rounds)
                row["cpu_ratio"] = statistics.median(g / p for g, p in rounds)
                row["gateway_wall0_ms"] = statistics.median(g for g, _ in walls)
                row["passthrough_wall0_ms"] = statistics.median(p for _, p in walls)
            chat = screens(fixture)[0].requests[0]
            results["load"] = []
            for latency in (args.latency_ms, 0.0):
                set_latency(control, latency)
                for connections in args.connections:
                    for target, server, graphql in (
                        ("gateway", gateway, True),
                        ("passthrough", passthrough, False),
                    ):
                        progress(f"load: {target} {latency:g} ms x{connections}")
                        figures = measure_load(
                            server, chat, graphql, connections, args.load_seconds, workdir
                        )
                        if figures is not None:
                            results["load"].append(
                                {
                                    "target": target,
                                    "latency_ms": latency,
                                    "connections": connections,
                                    "figures": figures,
                                }
                            )
    text = report(results)
    print(text)
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def progress(message: str, *, _start: list[float] = []) -> None:  # noqa: B006
    if not _start:
        _start.append(time.monotonic())
    print(f"[{time.monotonic() - _start[0]:6.1f}s] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
