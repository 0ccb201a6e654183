"""A real ``messages-gateway serve`` process with settings of the test's choosing."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx

from tests.store.server import SERVE_COMMAND, STARTUP_TIMEOUT, free_port, server_env

__all__ = ["LiveServer"]


class LiveServer:
    """``serve`` on the store at ``store_url`` (or a file in ``workdir``), with ``env`` added."""

    def __init__(
        self,
        workdir: Path,
        *,
        store_url: str | None = None,
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.graphql_url = f"{self.base_url}/graphql"
        self.ws_url = f"ws://127.0.0.1:{self.port}/graphql"
        self.log_path = workdir / f"server-{self.port}.log"
        environment = server_env(
            workdir / "messages.sqlite3", port=self.port, log_level="info", store_url=store_url
        )
        environment.update(env or {})
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*SERVE_COMMAND, *args],
                cwd=workdir,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_healthy()

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited at startup:\n{self.log}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the server did not become healthy:\n{self.log}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
