"""Side by side with GraphQL Mesh: ``.venv/bin/python -m benchmarks.side_by_side [--quick]``.

A full run takes about 6 minutes (9 with ``--baseline``; ``--quick``: about 1.5);
``--help`` for the knobs.
Needs ``wrk`` (``apt-get install -y wrk``) and Node.js 20+ with npm (for the peer).

Starts, on loopback, ONE upstream (``benchmarks.upstream``: the embedded store
behind an injected latency) and three servers over it, one process each:

- **gateway**: ``python -m gateway serve`` in remote mode;
- **mesh**: GraphQL Mesh + Hive Gateway (``--fork 1``), from a writable copy of
  ``../shared/peers/mesh`` (``benchmarks.mesh_peer``: copied to a cache directory
  and ``npm ci``-ed once, never into the repository);
- **passthrough**: the hand-written FastAPI + httpx yardstick (``benchmarks.passthrough``).

All three serve the same operation, "a thread and its last 20 messages": Mesh
runs its peer's own ``queries/thread-with-last-20-messages.graphql``, the gateway
its equivalent in its own names (``benchmarks.operations.CHAT_LIKE_MESH``), the
passthrough ``GET /chat-like-mesh/{id}`` answering exactly the gateway's
``data``. Before measuring, the harness checks that each makes exactly 2
upstream calls per request and that the three answers hold the same messages.

Then for each injected latency (``--latencies``, default 0 and 20 ms) and each
connection count (``--connections``, default 1, 16 and 64), ``--rounds`` rounds;
in each round every server gets ``wrk -t1 -cN -dS`` in turn (the order rotates
from round to round), so that the machine's drift (it is shared) hits all three
alike; ratios are taken within a round, then the median over rounds. Per run:
requests/s, p50, p99 (wrk), CPU per request (``/proc/<pid>/stat`` utime+stime of
the server's process tree, before and after), and peak RSS (``VmHWM`` of the
tree: the peak since start, so it includes every earlier run), and the TCP
connections the server opened to the upstream during the run (counted by the
upstream: distinct client ports), which shows whether its pool keeps them alive.

The upstream answers repeated GETs from a copy of its first answer (``/_bench/cache``)
during the load runs, so the store's own CPU is small and the same for all three.
Results are printed as Markdown and written as JSON (``--out``).
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
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.mesh_peer import MeshPeer, find_peer_source, prepare
from benchmarks.operations import CHAT_LIKE_MESH
from benchmarks.run import (
    AUTH,
    CLOCK_TICKS,
    WRK_SCRIPT,
    Server,
    base_env,
    free_port,
    machine,
    progress,
    set_latency,
    upstream_calls,
)

TARGETS = ("gateway", "mesh", "passthrough")
ROOT = Path(__file__).resolve().parents[1]
MESSAGES = 25  # in the benchmark thread: the screen shows the newest 20


# --- processes ----------------------------------------------------------------------


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (Hive Gateway may fork a worker)."""
    found = [pid]
    for current in found:
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            found.extend(int(child) for child in children if int(child) not in found)
    return found


def tree_cpu_seconds(pid: int) -> float:
    total = 0
    for member in tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def tree_peak_rss_mb(pid: int) -> float:
    """Sum of ``VmHWM`` (peak resident set) over the process tree, in MiB."""
    total_kb = 0
    for member in tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024


@dataclass
class Target:
    name: str
    server: Server
    method: str  # wrk's
    path: str
    body: dict[str, Any] | None


def gateway_server(
    name: str, workdir: Path, upstream_v1: str, code: Path, env: dict[str, str]
) -> Server:
    """``python -m gateway serve`` in remote mode, with the gateway package from ``code``."""
    port = free_port()
    return Server(
        name,
        [sys.executable, "-m", "gateway", "serve"],
        port,
        base_env()
        | {
            "PYTHONPATH": str(code),
            "GATEWAY_UPSTREAM_URL": upstream_v1,
            "GATEWAY_PORT": str(port),
            "GATEWAY_LOG_LEVEL": "warning",
            "GATEWAY_STORE_PATH": str(workdir / f"unused-{name}.sqlite3"),
        }
        | env,
        workdir / f"{name}.log",
    )


@contextmanager
def servers(
    workdir: Path, peer: MeshPeer, gateway_env: dict[str, str], baseline: Path | None
) -> Iterator[tuple[Server, dict[str, Server]]]:
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
                "0",
                "--store-path",
                str(workdir / "upstream.sqlite3"),
            ],
            port,
            base_env(),
            workdir / "upstream.log",
        )
        stack.callback(upstream.stop)
        upstream.wait_ready("/_bench/stats", timeout=180)
        upstream_v1 = upstream.url + "/v1"
        started: dict[str, Server] = {}

        started["gateway"] = gateway_server("gateway", workdir, upstream_v1, ROOT, gateway_env)
        stack.callback(started["gateway"].stop)
        if baseline is not None:
            started["baseline"] = gateway_server("baseline", workdir, upstream_v1, baseline, {})
            stack.callback(started["baseline"].stop)

        port = free_port()
        started["mesh"] = Server(
            "mesh",
            peer.command(port, upstream_v1),
            port,
            {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")} | peer.env(),
            workdir / "mesh.log",
        )
        stack.callback(started["mesh"].stop)

        port = free_port()
        started["passthrough"] = Server(
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
        stack.callback(started["passthrough"].stop)
        # Generous: on a loaded machine four servers importing at once take a while.
        started["gateway"].wait_ready("/healthz", timeout=180)
        if baseline is not None:
            started["baseline"].wait_ready("/healthz", timeout=180)
        started["mesh"].wait_ready("/healthcheck", timeout=180)
        started["passthrough"].wait_ready("/docs", timeout=180)
        yield upstream, started


# --- data and checks ----------------------------------------------------------------


def seed(http: httpx.Client) -> str:
    """One thread with ``MESSAGES`` text messages, alternating roles."""
    response = http.post("/v1/threads", json={"metadata": {"screen": "chat"}})
    response.raise_for_status()
    thread: str = response.json()["id"]
    for n in range(MESSAGES):
        http.post(
            f"/v1/threads/{thread}/messages",
            json={"role": "user" if n % 2 == 0 else "assistant", "content": f"message {n} " * 8},
        ).raise_for_status()
    return thread


def targets(started: dict[str, Server], peer: MeshPeer, thread: str) -> list[Target]:
    mesh_query = (peer.folder / "queries" / "thread-with-last-20-messages.graphql").read_text()
    gateways = [name for name in ("gateway", "baseline") if name in started]
    return [
        *(
            Target(
                name,
                started[name],
                "POST",
                "/graphql",
                {"query": CHAT_LIKE_MESH, "variables": {"threadId": thread}},
            )
            for name in gateways
        ),
        Target(
            "mesh",
            started["mesh"],
            "POST",
            "/graphql",
            {
                "query": mesh_query,
                "operationName": "ThreadWithLast20Messages",
                "variables": {"threadId": thread},
            },
        ),
        Target("passthrough", started["passthrough"], "GET", f"/chat-like-mesh/{thread}", None),
    ]


def ask(target: Target) -> dict[str, Any]:
    with httpx.Client(base_url=target.server.url, headers=AUTH, timeout=30) as http:
        if target.body is None:
            response = http.get(target.path)
        else:
            response = http.post(target.path, json=target.body)
    body: dict[str, Any] = response.json()
    if response.status_code != 200 or (target.body is not None and body.get("errors")):
        raise RuntimeError(f"{target.name} failed: {response.status_code} {body}")
    return body


def message_ids(target: Target, answer: dict[str, Any]) -> list[str]:
    if target.name == "mesh":
        return [m["id"] for m in answer["data"]["listMessages"]["data"]]
    data = answer if target.name == "passthrough" else answer["data"]
    return [m["id"] for m in data["thread"]["messages"]["nodes"]]


def check(control: httpx.Client, chosen: list[Target]) -> dict[str, Any]:
    """Same messages from all three, the passthrough == the gateway's data, 2 calls each."""
    answers: dict[str, dict[str, Any]] = {}
    calls: dict[str, int] = {}
    for target in chosen:
        ask(target)  # warm
        before = upstream_calls(control)
        answers[target.name] = ask(target)
        calls[target.name] = upstream_calls(control) - before
    ids = {t.name: message_ids(t, answers[t.name]) for t in chosen}
    if any(len(v) != 20 for v in ids.values()) or len({tuple(v) for v in ids.values()}) != 1:
        raise RuntimeError(f"the servers disagree on the messages: {ids}")
    if answers["passthrough"] != answers["gateway"]["data"]:
        raise RuntimeError(
            "the passthrough's answer differs from the gateway's data:\n"
            f"{json.dumps(answers['passthrough'])[:2000]}\n"
            f"{json.dumps(answers['gateway']['data'])[:2000]}"
        )
    if "baseline" in answers and answers["baseline"] != answers["gateway"]:
        raise RuntimeError("the baseline gateway's answer differs from the gateway's")
    if set(calls.values()) != {2}:
        raise RuntimeError(f"expected 2 upstream calls per request: {calls}")
    sizes = {name: len(json.dumps(a)) for name, a in answers.items()}
    return {"upstream_calls": calls, "response_bytes": sizes}


# --- load ---------------------------------------------------------------------------


def upstream_connections(control: httpx.Client) -> int:
    opened: int = control.get("/_bench/stats").json()["connections"]
    return opened


def wrk(
    target: Target, connections: int, seconds: float, workdir: Path, control: httpx.Client
) -> dict[str, Any]:
    body = "nil" if target.body is None else json.dumps(json.dumps(target.body))
    script = workdir / f"wrk-{target.name}.lua"
    script.write_text(WRK_SCRIPT.format(method=target.method, body=body))
    pid = target.server.pid
    cpu_before = tree_cpu_seconds(pid)
    opened_before = upstream_connections(control)
    result = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            target.server.url + target.path,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    )
    cpu = tree_cpu_seconds(pid) - cpu_before
    opened = upstream_connections(control) - opened_before
    line = next(x for x in result.stderr.splitlines() if x.startswith("WRK "))
    figures: dict[str, Any] = json.loads(line[4:])
    figures["rps"] = figures["requests"] / figures["seconds"]
    figures["cpu_ms_per_request"] = cpu / max(1, figures["requests"]) * 1000
    figures["peak_rss_mb"] = tree_peak_rss_mb(pid)
    figures["upstream_connections"] = opened
    return figures


def measure(
    chosen: list[Target],
    control: httpx.Client,
    latencies: list[float],
    connections: list[int],
    rounds: int,
    seconds: float,
    workdir: Path,
) -> list[dict[str, Any]]:
    progress("warm-up: 3 s of c16 each")
    for target in chosen:
        wrk(target, 16, 3, workdir, control)
    configs: list[dict[str, Any]] = []
    for latency in latencies:
        set_latency(control, latency)
        for conns in connections:
            runs: list[dict[str, dict[str, Any]]] = []
            for n in range(rounds):
                order = chosen[n % len(chosen) :] + chosen[: n % len(chosen)]
                progress(
                    f"{latency:g} ms, c{conns}, round {n + 1}/{rounds}: "
                    + ", ".join(t.name for t in order)
                )
                runs.append({t.name: wrk(t, conns, seconds, workdir, control) for t in order})
            configs.append({"latency_ms": latency, "connections": conns, "rounds": runs})
    return configs


# --- report -------------------------------------------------------------------------

FIGURES = (
    ("rps", "req/s", "{:.0f}"),
    ("p50", "p50 (ms)", "{:.1f}"),
    ("p99", "p99 (ms)", "{:.1f}"),
    ("cpu_ms_per_request", "CPU/req (ms)", "{:.2f}"),
    ("peak_rss_mb", "peak RSS (MiB)", "{:.0f}"),
    ("upstream_connections", "new upstream conns", "{:.0f}"),
)


def ratios(config: dict[str, Any], key: str, a: str, b: str) -> tuple[float, list[float]]:
    per_round = [r[a][key] / r[b][key] for r in config["rounds"] if r[b][key]]
    return (statistics.median(per_round) if per_round else float("nan")), per_round


def report(results: dict[str, Any]) -> str:
    lines: list[str] = []
    add = lines.append
    m = results["machine"]
    add(f"machine: {m['nproc']} CPUs, {m['cpu']}, Python {m['python']}, {m['platform']}")
    add(f"node: {results['node']}; {results['args']}\n")
    add(
        "| latency | conns | server | req/s | p50 (ms) | p99 (ms) | CPU/req (ms) | "
        "peak RSS (MiB) | new upstream conns | gateway/this req/s: median (rounds) | "
        "this/gateway CPU/req |"
    )
    add("|---|---|---|---|---|---|---|---|---|---|---|")
    for config in results["configs"]:
        for name in results["targets"]:
            cells = [
                fmt.format(statistics.median(r[name][key] for r in config["rounds"]))
                for key, _, fmt in FIGURES
            ]
            if name == "gateway":
                ratio_cell = cpu_cell = "—"
            else:
                median, rounds = ratios(config, "rps", "gateway", name)
                ratio_cell = f"**{median:.2f}** ({', '.join(f'{x:.2f}' for x in rounds)})"
                cpu_median, _ = ratios(config, "cpu_ms_per_request", name, "gateway")
                cpu_cell = f"{cpu_median:.2f}"
            add(
                f"| {config['latency_ms']:g} ms | {config['connections']} | {name} | "
                + " | ".join(cells)
                + f" | {ratio_cell} | {cpu_cell} |"
            )
    for other in (name for name in results["targets"] if name != "gateway"):
        add(f"\nratios, gateway / {other}, per round (median in bold):\n")
        add("| latency | conns | req/s | p50 | p99 | CPU/req | peak RSS |")
        add("|---|---|---|---|---|---|---|")
        for config in results["configs"]:
            cells = []
            for key, _, _ in FIGURES[:5]:
                median, rounds = ratios(config, key, "gateway", other)
                cells.append(f"**{median:.2f}** ({', '.join(f'{x:.2f}' for x in rounds)})")
            where = f"| {config['latency_ms']:g} ms | {config['connections']} | "
            add(where + " | ".join(cells) + " |")
    errors = sum(
        r[name]["errors"]
        for c in results["configs"]
        for r in c["rounds"]
        for name in results["targets"]
    )
    add(f"\nwrk errors over all runs: {errors}; checks: {results['checks']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="gateway vs GraphQL Mesh vs passthrough")
    parser.add_argument("--quick", action="store_true", help="1 round of 3 s: about 1.5 min")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=6.0, help="per wrk run")
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--latencies", type=float, nargs="+", default=[0.0, 20.0])
    parser.add_argument("--mesh-source", type=Path, default=None, help="../shared/peers/mesh")
    parser.add_argument(
        "--gateway-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the gateway process (to measure a setting)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        metavar="DIR",
        help="also run the gateway from another tree (e.g. `git archive main | tar -x -C DIR`)"
        " as a fourth server, for before/after ratios within each round",
    )
    parser.add_argument(
        "--skip",
        nargs="+",
        default=[],
        choices=["mesh", "passthrough"],
        help="checked but not loaded (shorter runs when measuring a change)",
    )
    parser.add_argument("--out", type=Path, default=None, help="JSON results file")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.seconds = 1, 3.0
    if shutil.which("wrk") is None:
        parser.error("wrk is needed: apt-get install -y wrk")
    gateway_env = dict(item.split("=", 1) for item in args.gateway_env)
    peer = prepare(args.mesh_source or find_peer_source())
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    results: dict[str, Any] = {
        "machine": machine(),
        "node": node,
        "args": {k: str(v) for k, v in vars(args).items() if k not in ("out", "mesh_source")},
    }
    with tempfile.TemporaryDirectory(prefix="gateway-side-by-side-") as tmp:
        workdir = Path(tmp)
        with servers(workdir, peer, gateway_env, args.baseline) as (upstream, started):
            control = httpx.Client(base_url=upstream.url, timeout=30)
            thread = seed(control)
            control.post("/_bench/cache", params={"on": 1}).raise_for_status()
            chosen = targets(started, peer, thread)
            results["targets"] = [t.name for t in chosen]
            results["checks"] = check(control, chosen)
            progress(f"checked: {results['checks']}")
            chosen = [t for t in chosen if t.name not in args.skip]
            results["targets"] = [t.name for t in chosen]
            results["configs"] = measure(
                chosen,
                control,
                args.latencies,
                args.connections,
                args.rounds,
                args.seconds,
                workdir,
            )
            for target in chosen:  # still answering, and still right, after the load
                ask(target)
    text = report(results)
    print(text)
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    started_at = time.monotonic()
    code = main()
    progress(f"done in {time.monotonic() - started_at:.0f} s")
    raise SystemExit(code)
