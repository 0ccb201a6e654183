"""The tests' PostgreSQL provisioning (``tests/store/postgres.py``) on this machine.

The session's server is whichever the environment offers; the throwaway
cluster, the last resort of a fresh machine, is started here for real so that
the path the other machines take is known to work.
"""

from __future__ import annotations

import psycopg
import pytest

from tests.store.postgres import (
    ENV_URL,
    PostgresServer,
    PostgresUnavailableError,
    ThrowawayCluster,
    create_database,
    drop_database,
    find_binaries,
    provide_server,
)
from tests.store.server import free_port


def database_names(server: PostgresServer) -> set[str]:
    with psycopg.connect(server.admin_url) as conn:
        return {row[0] for row in conn.execute("SELECT datname FROM pg_database")}


def test_each_database_is_new_and_dropped(postgres_server: PostgresServer) -> None:
    first = create_database(postgres_server)
    second = create_database(postgres_server)
    assert first != second
    names = {url.rsplit("/", 1)[1] for url in (first, second)}
    assert names <= database_names(postgres_server)
    with psycopg.connect(first) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()
    assert tables == (0,)
    for url in (first, second):
        drop_database(postgres_server, url)
    assert not names & database_names(postgres_server)


def test_a_throwaway_cluster_starts_answers_and_is_removed() -> None:
    binaries = find_binaries()
    if binaries is None:  # a machine that has a server but not the binaries
        pytest.fail("Debian's PostgreSQL binaries are missing: run scripts/setup.d/postgres.sh")
    cluster = ThrowawayCluster(binaries).start()
    try:
        with psycopg.connect(cluster.url) as conn:
            row = conn.execute("SELECT current_user, inet_server_port()").fetchone()
        assert row == ("postgres", cluster.port)
    finally:
        cluster.stop()
    assert not cluster.folder.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(cluster.url, connect_timeout=2)


def test_the_environment_url_comes_first(
    monkeypatch: pytest.MonkeyPatch, postgres_server: PostgresServer
) -> None:
    monkeypatch.setenv(ENV_URL, postgres_server.admin_url)
    with provide_server() as found:
        assert found == PostgresServer(postgres_server.admin_url, "environment")


def test_an_unreachable_environment_url_fails_never_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_URL, f"postgresql://postgres@127.0.0.1:{free_port()}/postgres")
    with pytest.raises(PostgresUnavailableError, match=ENV_URL), provide_server():
        pass
