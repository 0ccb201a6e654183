"""A real ``messages-gateway serve`` process on a free port, for black-box tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(
    store_path: Path,
    *,
    port: int = 0,
    api_key: str | None = None,
    log_level: str = "warning",
    store_url: str | None = None,
) -> dict[str, str]:
    """The environment of a server: the caller's, minus any GATEWAY_* it happens to have.

    ``store_url``: the store's backend (``GATEWAY_STORE_URL``) instead of the file.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("GATEWAY_")}
    env.update(
        GATEWAY_STORE_PATH=str(store_path),
        GATEWAY_HOST="127.0.0.1",
        GATEWAY_PORT=str(port),
        GATEWAY_LOG_LEVEL=log_level,
        GATEWAY_WORKERS="1",  # one process unless a test asks for more (--workers N)
        PYTHONPATH=str(REPO_ROOT),
    )
    if api_key is not None:
        env["GATEWAY_STORE_API_KEY"] = api_key
    if store_url is not None:
        env["GATEWAY_STORE_URL"] = store_url
    return env


SERVE_COMMAND = [sys.executable, "-m", "gateway", "serve"]


class PortTakenError(RuntimeError):
    """The free port found was taken by someone else before the server bound it."""


class ServerProcess:
    """``messages-gateway serve`` running on the embedded store at ``store_path`` (or ``store_url``).

    ``free_port()`` only finds a port that was free a moment ago, so the server is
    ours only once its own log says uvicorn bound that port (and the process still
    runs): a ``/healthz`` answer alone may come from whoever took the port first.
    With ``workers`` > 1 (``serve --workers N``) it is ready once every worker's
    application has started.
    """

    def __init__(
        self,
        store_path: Path,
        workdir: Path,
        *,
        api_key: str | None = None,
        store_url: str | None = None,
        workers: int = 1,
        workers_argument: str | None = None,
    ) -> None:
        self.store_path = store_path
        self.workdir = workdir
        self.api_key = api_key
        self.configured_store_url = store_url
        self.store_url = store_url or f"sqlite:///{store_path}"
        """Where the server's store is (its file as a sqlite:/// URL when not given)."""
        self.workers = workers
        """How many worker processes to expect (1: the server is one process)."""
        self.workers_argument = workers_argument or (str(workers) if workers > 1 else None)
        """``serve --workers`` as given (``auto`` too); ``None``: the flag is left out."""
        for attempt in range(3):
            self._start()
            try:
                self._wait_healthy()
                return
            except PortTakenError:  # another process took the free port first
                if attempt == 2:
                    raise

    def _start(self) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.workdir / f"server-{self.port}.log"
        with self.log_path.open("wb") as log:
            # cwd: a fresh folder, so no developer .env file is read.
            self.process = subprocess.Popen(
                [
                    *SERVE_COMMAND,
                    *(["--workers", self.workers_argument] if self.workers_argument else []),
                ],
                cwd=self.workdir,
                # info: uvicorn's "Uvicorn running on ..." line (the access log is off)
                env=server_env(
                    self.store_path,
                    port=self.port,
                    api_key=self.api_key,
                    log_level="info",
                    store_url=self.configured_store_url,
                ),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _wait_healthy(self) -> None:
        bound = f"Uvicorn running on {self.base_url} "
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                if "address already in use" in self.log.lower():
                    raise PortTakenError(self.log)
                raise RuntimeError(f"the server exited at startup:\n{self.log}")
            started = self.log.count("Application startup complete.") >= self.workers
            if bound in self.log and started:  # our process holds the port; wait for the app
                try:
                    if httpx.get(f"{self.base_url}/healthz", timeout=1.0).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"the server did not become healthy:\n{self.log}")

    def stop(self) -> None:
        """Graceful stop (SIGTERM), SIGKILL if it lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """``kill -9`` of the process and its workers: no shutdown code runs."""
        if self.process.poll() is None:
            workers = worker_pids(self.process.pid)
            self.process.send_signal(signal.SIGKILL)
            for pid in workers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def worker_pids(self) -> list[int]:
        """The worker processes of ``serve --workers N`` (empty for one process)."""
        return worker_pids(self.process.pid)


def worker_pids(supervisor: int) -> list[int]:
    """The live children of ``supervisor`` that uvicorn started as workers (``spawn``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:  # it exited meanwhile
            continue
        if int(stat[1]) == supervisor and stat[0] != "Z" and b"spawn_main" in command:
            found.append(int(entry.name))
    return sorted(found)


def raw_request(port: int, method: str, target: str, body: bytes = b"") -> tuple[int, bytes]:
    """Send one request with ``target`` exactly as written (no client-side normalisation).

    httpx removes ``..`` segments before sending; this does not, so the server
    sees what an attacker would send.
    """
    head = (
        f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode() + body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    response = b"".join(chunks)
    status_line, _, rest = response.partition(b"\r\n")
    _, _, payload = rest.partition(b"\r\n\r\n")
    return int(status_line.split()[1]), payload
