"""Hardening figures: what each attack of issue 9 (findings 1-3) costs, and what it costs others.

    PYTHONPATH=. .venv/bin/python -m benchmarks.hardening --source /path/to/tree [--out f.json]

For every attack, a fresh ``python -m gateway serve`` (embedded store, loopback, the
code of ``--source``: run once on the old tree and once on the new one) is started,
seeded over ``/v1``, and then:

- ``ATTACKERS`` threads send the attack ``ROUNDS`` times each (one request at a time),
  timing each request from the client: the **attacker's cost** (time to the answer,
  a refusal once hardened);
- meanwhile one ordinary client sends ``{ __typename }`` in a loop: its latency
  **p50/p99** under the attack (and, first, with no attack at all);
- the server's peak RSS (``VmHWM`` from ``/proc``) after the attack.

Everything is bounded (rounds, timeouts), on loopback, and every process it starts is
stopped at the end. The attacks are the documents of ``tests/schema/attacks.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.schema.attacks import (
    default_variable_bypass,
    fragments_on_thread,
    identical_fields,
    same_name_different_arguments,
    schema_typenames,
    text_aliases,
)
from tests.store.server import free_port

REQUEST_TIMEOUT = 120.0
Payload = Callable[[dict[str, str]], Any]


def _attacks() -> dict[str, tuple[Payload, int, int]]:
    """name: (payload builder from the seeded ids, attackers, rounds each)."""
    return {
        "300 fragments on Thread": (lambda _: {"query": fragments_on_thread()}, 2, 3),
        "500 same-named fields, different args": (
            lambda _: {"query": same_name_different_arguments()},
            2,
            3,
        ),
        "550 identical thread(id:)": (lambda _: {"query": identical_fields()}, 2, 3),
        "__schema{__typename} x1200": (lambda _: {"query": schema_typenames()}, 2, 3),
        "batch of ten 300-fragment documents": (
            lambda _: [{"query": fragments_on_thread()} for _ in range(10)],
            2,
            2,
        ),
        "first: $n with default 100 (cost bypass)": (
            lambda ids: default_variable_bypass(ids["pages"]),
            1,
            2,
        ),
        "50 text aliases x 10 messages of 900 KB": (
            lambda ids: text_aliases(ids["big"]),
            1,
            2,
        ),
    }


class Server:
    def __init__(self, source: Path, workdir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
        environment.update(
            PYTHONPATH=str(source),
            GATEWAY_HOST="127.0.0.1",
            GATEWAY_PORT=str(self.port),
            GATEWAY_WORKERS="1",
            GATEWAY_STORE_PATH=str(workdir / "store.sqlite3"),
            GATEWAY_LOG_LEVEL="warning",
            GATEWAY_ALLOW_BATCHING="true",
            **env,
        )
        self.log = (workdir / "server.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve"],
            cwd=workdir,
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the gateway did not start")

    def peak_rss_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        return int(match.group(1)) / 1024 if match else float("nan")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)
        self.log.close()


def seed(url: str) -> dict[str, str]:
    """A thread of 100 small messages, and one of 10 messages of 900 KB."""
    with httpx.Client(base_url=f"{url}/v1", timeout=60) as client:
        pages = client.post("/threads", json={}).json()["id"]
        for i in range(100):
            client.post(f"/threads/{pages}/messages", json={"role": "user", "content": f"m{i}"})
        big = client.post("/threads", json={}).json()["id"]
        for i in range(10):
            response = client.post(
                f"/threads/{big}/messages",
                json={"role": "user", "content": chr(97 + i) * 900_000},
            )
            response.raise_for_status()
    return {"pages": pages, "big": big}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def measure(
    url: str, payload: Payload | None, ids: dict[str, str], attackers: int, rounds: int
) -> dict[str, Any]:
    graphql = f"{url}/graphql"
    attack_times: list[float] = []
    statuses: list[str] = []
    ordinary: list[float] = []
    timeouts: list[int] = []
    stop = threading.Event()

    def attacker() -> None:
        with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
            for _ in range(rounds):
                assert payload is not None
                body = payload(ids)
                started = time.perf_counter()
                try:
                    response = client.post(graphql, json=body)
                    attack_times.append(time.perf_counter() - started)
                    statuses.append(_outcome(response))
                except httpx.HTTPError as error:
                    attack_times.append(time.perf_counter() - started)
                    statuses.append(type(error).__name__)

    def normal() -> None:
        with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
            while not stop.is_set():
                started = time.perf_counter()
                try:
                    client.post(graphql, json={"query": "{ __typename }"})
                except httpx.HTTPError:  # a timeout counts as the time waited
                    timeouts.append(1)
                ordinary.append(time.perf_counter() - started)
                time.sleep(0.005)

    observer = threading.Thread(target=normal)
    observer.start()
    if payload is None:
        time.sleep(3)
    else:
        threads = [threading.Thread(target=attacker) for _ in range(attackers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    stop.set()
    observer.join()
    return {
        "attack_median_s": statistics.median(attack_times) if attack_times else None,
        "attack_max_s": max(attack_times) if attack_times else None,
        "outcomes": sorted(set(statuses)),
        "requests": len(attack_times),
        "normal_p50_ms": percentile(ordinary, 0.5) * 1000,
        "normal_p99_ms": percentile(ordinary, 0.99) * 1000,
        "normal_requests": len(ordinary),
        "normal_timeouts": len(timeouts),
    }


def _outcome(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} non-JSON"
    items = body if isinstance(body, list) else [body]
    codes = set()
    for item in items:
        for error in item.get("errors") or []:
            extensions = error.get("extensions") or {}
            codes.add(f"{extensions.get('code')}/{extensions.get('limit', '-')}")
        if not item.get("errors"):
            codes.add("ok")
    return f"{response.status_code} {','.join(sorted(codes))} {len(response.content)}B"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, required=True, help="code tree to serve")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    parser.add_argument("--only", help="run only attacks whose name contains this")
    args = parser.parse_args()
    # A SIGTERM unwinds like Ctrl-C, so the running server is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    results: dict[str, Any] = {"source": str(args.source)}
    attacks: dict[str, tuple[Payload | None, int, int]] = {"(no attack)": (None, 0, 0)}
    attacks.update(_attacks())
    for name, (payload, attackers, rounds) in attacks.items():
        if args.only and args.only not in name and payload is not None:
            continue
        with tempfile.TemporaryDirectory(prefix="hardening-") as folder:
            server = Server(args.source, Path(folder), {})
            try:
                ids = seed(server.url)
                before = server.peak_rss_mb()
                figures = measure(server.url, payload, ids, attackers, rounds)
                figures["rss_before_mb"] = round(before)
                figures["rss_peak_mb"] = round(server.peak_rss_mb())
            finally:
                server.stop()
        results[name] = figures
        print(f"{name}: {json.dumps(figures)}", flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(
        "| attack | attacker: median / max s | outcome | normal client p50 / p99 ms | peak RSS MB |"
    )
    print("| --- | --- | --- | --- | --- |")
    for name, figures in results.items():
        if name == "source":
            continue
        median = figures["attack_median_s"]
        attack = f"{median:.3f} / {figures['attack_max_s']:.3f}" if median is not None else "-"
        print(
            f"| {name} | {attack} | {'; '.join(figures['outcomes']) or '-'} | "
            f"{figures['normal_p50_ms']:.1f} / {figures['normal_p99_ms']:.1f} | "
            f"{figures['rss_before_mb']} -> {figures['rss_peak_mb']} |"
        )


if __name__ == "__main__":
    main()
