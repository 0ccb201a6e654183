"""Hostile upstream answers: what one query costs a served gateway (BENCHMARKS.md, hardening).

``python -m benchmarks.upstream_answers`` starts a real ``messages-gateway serve``
process in remote mode (``UPSTREAM_MAX_RESPONSE_BYTES`` = 8 MiB) on the loopback
fault stub of ``tests.resilience.stub``, then sends one query per attack:

- ``endless``: a chunked 200 that streams until the client hangs up (or 1 GiB);
- ``gzip-bomb``: ~1 MB of gzip inflating to a 1 GiB (valid JSON) thread object.

For each it prints the wall time, the error codes, and the server's peak RSS growth
(``VmHWM`` in ``/proc/<pid>/status``, read from outside the process). To measure
another tree (e.g. 0.1), run it with that tree first on ``PYTHONPATH``: the server
process inherits it.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from tests.resilience.stub import FaultStub, Reply, Seen, respond
from tests.store.server import SERVE_COMMAND, free_port, server_env
from tests.upstream.test_body import LIMIT, Endless, _peak_rss, gzip_bomb


def main() -> None:
    stub = FaultStub().start()
    workdir = Path(tempfile.mkdtemp(prefix="upstream-answers-"))
    port = free_port()
    env = server_env(workdir / "unused.sqlite3", port=port)
    env.update(
        GATEWAY_UPSTREAM_URL=stub.url,
        GATEWAY_UPSTREAM_MAX_RESPONSE_BYTES=str(LIMIT),
        GATEWAY_READ_TIMEOUT="60",
        GATEWAY_OPERATION_DEADLINE="120",
        PYTHONPATH=os.environ.get("PYTHONPATH", env["PYTHONPATH"]),
    )
    server = subprocess.Popen(
        SERVE_COMMAND, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        bomb = gzip_bomb()

        def bombing(_seen: Seen) -> Reply:
            return respond(200, bomb, headers={"Content-Encoding": "gzip"})

        for attack, handler in (("endless", Endless()), ("gzip-bomb", bombing)):
            stub.handler = handler
            before = _peak_rss(server.pid)
            started = time.monotonic()
            response = httpx.post(
                base + "/graphql",
                json={"query": '{ thread(id: "thread_abc") { id } }'},
                headers={"Authorization": "Bearer benchmark-caller"},
                timeout=300,
            )
            seconds = time.monotonic() - started
            body = response.json()
            codes = [error["extensions"]["code"] for error in body.get("errors", [])]
            growth = (_peak_rss(server.pid) - before) / 2**20
            shown = codes or ["none"]
            print(f"{attack}: {seconds:.2f} s, codes {shown}, peak RSS +{growth:.0f} MiB")
    finally:
        server.terminate()
        server.wait(10)
        stub.stop()


if __name__ == "__main__":
    main()
