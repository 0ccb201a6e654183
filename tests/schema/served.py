"""A real ``messages-gateway serve`` process with extra settings (black-box limit tests)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.store.server import SERVE_COMMAND, ServerProcess, free_port, server_env

__all__ = ["ConfiguredServer"]


class ConfiguredServer(ServerProcess):
    """``ServerProcess`` with ``GATEWAY_*`` settings of the test's choosing."""

    def __init__(self, workdir: Path, **settings: str) -> None:
        self.settings = {f"GATEWAY_{name.upper()}": value for name, value in settings.items()}
        super().__init__(workdir / "store.sqlite3", workdir)

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
