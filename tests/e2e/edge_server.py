"""A ``messages-gateway serve`` process with HTTP-edge settings, and what tests measure of it.

``EdgeServer`` is ``tests.store.server.ServerProcess`` with extra ``GATEWAY_*``
variables; ``rss_bytes``, ``open_fds`` and ``upstream_calls`` measure the process
from outside (``/proc`` and ``/metrics``), never from inside it.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
from pathlib import Path

import httpx

from tests.store.server import SERVE_COMMAND, ServerProcess, free_port, server_env


class EdgeServer(ServerProcess):
    """A real server with ``settings`` (``{"HTTP_HEADER_TIMEOUT": "1"}``: ``GATEWAY_`` added)."""

    def __init__(self, workdir: Path, settings: dict[str, str]) -> None:
        self.settings = {f"GATEWAY_{name}": value for name, value in settings.items()}
        super().__init__(workdir / "data" / "messages.sqlite3", workdir)

    def _start(self) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.workdir / f"server-{self.port}.log"
        env = server_env(self.store_path, port=self.port, log_level="info")
        env.update(self.settings)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                SERVE_COMMAND, cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def rss_bytes(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        assert match, status
        return int(match.group(1)) * 1024

    def open_fds(self) -> int:
        return len(list(Path(f"/proc/{self.process.pid}/fd").iterdir()))

    def upstream_calls(self, headers: dict[str, str] | None = None) -> float:
        """Total of ``gateway_upstream_calls_total`` on ``/metrics``."""
        text = httpx.get(f"{self.base_url}/metrics", headers=headers, timeout=10).text
        assert "gateway_upstream_calls" in text, text[:500]
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("gateway_upstream_calls_total")
        )


async def read_answer(reader: asyncio.StreamReader, timeout: float) -> bytes:
    """Everything the server sends until it closes the connection; ``TimeoutError`` after
    ``timeout``. A server closing with request bytes unread resets the connection (a
    write into it fails with a reset or a broken pipe): what arrived before is returned
    (possibly nothing)."""
    chunks = []
    async with asyncio.timeout(timeout):
        try:
            while chunk := await reader.read(65536):
                chunks.append(chunk)
        except ConnectionError:
            pass
    return b"".join(chunks)


def status_of(answer: bytes) -> int | None:
    """The status of a raw HTTP answer, ``None`` when the server closed without one."""
    if not answer.startswith(b"HTTP/1.1 "):
        return None
    return int(answer.split(b" ", 2)[1])


def json_body_of(answer: bytes) -> bytes:
    return answer.partition(b"\r\n\r\n")[2]


def head(port: int, method: str, path: str, **headers: str) -> bytes:
    """A request head, exactly as a raw client writes it."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()
