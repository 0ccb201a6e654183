"""A PostgreSQL server for the tests, on any machine: found, or started for the run.

In order:

1. ``GATEWAY_TEST_POSTGRES_URL`` when set (a server URL whose user may create
   databases; its database part is only used to connect);
2. the local server at ``127.0.0.1:5432`` (user ``postgres``, trust), when it answers;
3. a throwaway cluster made with Debian's PostgreSQL binaries
   (``/usr/lib/postgresql/*/bin``; ``scripts/setup.d/postgres.sh`` installs them)
   in a temporary folder, on a free port, stopped and removed at the end. initdb
   refuses to run as root, so as root the cluster belongs to the ``postgres`` user.

Each test run works in databases of its own (``create_database``), dropped at the
end. When no server can be found or started, ``PostgresUnavailableError`` is
raised: the tests that need PostgreSQL fail, they never skip.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

__all__ = [
    "ENV_URL",
    "LOCAL_URL",
    "PostgresServer",
    "PostgresUnavailableError",
    "ThrowawayCluster",
    "create_database",
    "drop_database",
    "find_binaries",
    "provide_server",
]

ENV_URL = "GATEWAY_TEST_POSTGRES_URL"
LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
START_TIMEOUT = 60


class PostgresUnavailableError(RuntimeError):
    """No PostgreSQL server could be found or started: the tests needing one fail."""


@dataclass(frozen=True)
class PostgresServer:
    """A server the tests may create databases on, and where it came from."""

    admin_url: str
    origin: str  # "environment", "local" or "throwaway"

    def database_url(self, name: str) -> str:
        parts = urlsplit(self.admin_url)
        return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


def find_binaries() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding initdb and pg_ctl."""
    root = Path("/usr/lib/postgresql")
    if not root.is_dir():
        return None
    candidates = [
        path / "bin"
        for path in root.iterdir()
        if (path / "bin" / "initdb").is_file() and (path / "bin" / "pg_ctl").is_file()
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda path: int(path.parent.name.split(".")[0]))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ThrowawayCluster:
    """A PostgreSQL cluster in a temporary folder, trust auth on loopback, for one run."""

    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.folder = Path(tempfile.mkdtemp(prefix="gateway-test-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            # initdb and postgres refuse root: the cluster belongs to the postgres user.
            if shutil.which("runuser") is None:
                raise PostgresUnavailableError("running as root and runuser is missing")
            try:
                import pwd

                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailableError(
                    "running as root and there is no 'postgres' user to own a cluster"
                ) from None
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *command: str) -> None:
        completed = subprocess.run(
            [*self._as_user, *command],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
            check=False,
        )
        if completed.returncode != 0:
            raise PostgresUnavailableError(
                f"{Path(command[0]).name} failed ({completed.returncode}): "
                f"{completed.stderr.strip() or completed.stdout.strip()}"
            )

    def start(self) -> ThrowawayCluster:
        """Create the cluster and start its server."""
        self._run(
            str(self.binaries / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        self.start_server()
        return self

    def stop_server(self) -> None:
        """Stop the server (fast: connections are cut), keeping the cluster."""
        self._run(str(self.binaries / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")

    def start_server(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.binaries / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            str(START_TIMEOUT),
            "start",
        )

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(PostgresUnavailableError, subprocess.TimeoutExpired):
                self.stop_server()
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def provide_server() -> Iterator[PostgresServer]:
    """The server of this test run (see the module docstring for the order)."""
    configured = os.environ.get(ENV_URL)
    if configured:
        if not _answers(configured):
            raise PostgresUnavailableError(f"{ENV_URL} is set but its server does not answer")
        yield PostgresServer(configured, "environment")
        return
    if _answers(LOCAL_URL):
        yield PostgresServer(LOCAL_URL, "local")
        return
    binaries = find_binaries()
    if binaries is None:
        raise PostgresUnavailableError(
            "no PostgreSQL server: set GATEWAY_TEST_POSTGRES_URL, start one on 127.0.0.1:5432, "
            "or install Debian's binaries (scripts/setup.d/postgres.sh)"
        )
    cluster = ThrowawayCluster(binaries)
    try:
        cluster.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(cluster.url):
            if time.monotonic() > deadline:
                raise PostgresUnavailableError("the throwaway cluster did not answer")
            time.sleep(0.1)
        yield PostgresServer(cluster.url, "throwaway")
    finally:
        cluster.stop()


def create_database(server: PostgresServer, prefix: str = "gateway_test") -> str:
    """A new, empty database with a name of its own; its URL."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.database_url(name)


def drop_database(server: PostgresServer, url: str) -> None:
    """Drop a database made by ``create_database``, disconnecting whoever still uses it."""
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
