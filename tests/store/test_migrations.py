"""The versioned schema: a 0.1 file upgraded in place, newer schemas refused, one
migration however many processes start together, and ``messages-gateway migrate``."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg
import pytest

from gateway.store import StoreOpenError, create_backend, migrate, parse_store_url
from gateway.store.migrations import (
    POSTGRES_MIGRATIONS,
    SCHEMA_VERSION,
    SQLITE_MIGRATIONS,
    SchemaTooNewError,
    plan,
)
from tests.store.backends import listing, query_at
from tests.store.legacy import MESSAGES_PER_THREAD, THREADS, make_0_1_store
from tests.store.postgres import PostgresServer, create_database, drop_database
from tests.store.server import ServerProcess, free_port, server_env


def test_the_backends_share_one_version_line() -> None:
    for migrations in (SQLITE_MIGRATIONS, POSTGRES_MIGRATIONS):
        assert [m.version for m in migrations] == list(range(1, SCHEMA_VERSION + 1))
    assert SCHEMA_VERSION >= 2, "0.1 was version 1: there is something to upgrade"


def test_plan() -> None:
    assert plan(0, SQLITE_MIGRATIONS) == SQLITE_MIGRATIONS
    assert plan(1, SQLITE_MIGRATIONS) == SQLITE_MIGRATIONS[1:]
    assert plan(SCHEMA_VERSION, SQLITE_MIGRATIONS) == ()
    with pytest.raises(SchemaTooNewError, match=f"schema version {SCHEMA_VERSION + 1}"):
        plan(SCHEMA_VERSION + 1, SQLITE_MIGRATIONS)


def test_a_0_1_file_is_upgraded_in_place_and_served_with_its_data(tmp_path: Path) -> None:
    path = tmp_path / "data" / "messages.sqlite3"
    order = make_0_1_store(path)
    before = query_at(f"sqlite:///{path}", "SELECT * FROM messages ORDER BY seq")
    assert len(before) == (THREADS - 1) * MESSAGES_PER_THREAD

    running = ServerProcess(path, tmp_path)
    try:
        with httpx.Client(base_url=f"{running.base_url}/v1") as http:
            for thread_id, ids in order.items():
                thread = http.get(f"/threads/{thread_id}").json()
                assert thread["metadata"]["ünï"] == "çødé"
                page = http.get(
                    f"/threads/{thread_id}/messages", params={"order": "asc", "limit": 100}
                ).json()
                assert [m["id"] for m in page["data"]] == ids, "ties kept in insertion order"
            first = next(iter(order))
            by_run = http.get(
                f"/threads/{first}/messages", params={"run_id": "run_legacy", "limit": 100}
            ).json()
            assert len(by_run["data"]) == len(range(0, MESSAGES_PER_THREAD, 4))
            incomplete = http.get(f"/threads/{first}/messages/{order[first][7]}").json()
            assert incomplete["status"] == "incomplete"
            assert incomplete["incomplete_details"] == {"reason": "max_tokens"}
            # and it takes new writes after the old ones
            new = http.post(f"/threads/{first}/messages", json={"role": "user", "content": "new"})
            assert new.status_code == 200
            latest = http.get(f"/threads/{first}/messages", params={"limit": 1}).json()
            assert latest["data"][0]["id"] == new.json()["id"]
    finally:
        running.stop()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_schema")}
        assert "messages_by_run" in indexes
        after = conn.execute("SELECT * FROM messages ORDER BY seq").fetchall()
    finally:
        conn.close()
    assert after[: len(before)] == before, "every 0.1 row is there, unchanged"


def newer(store_url: str) -> None:
    """Stamp a migrated store with a version from the future."""
    if store_url.startswith("sqlite:///"):
        conn = sqlite3.connect(store_url.removeprefix("sqlite:///"))
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        conn.close()
        return
    with psycopg.connect(store_url) as pg:
        pg.execute(
            "INSERT INTO store_schema (version, description) VALUES (%s, 'from the future')",
            (SCHEMA_VERSION + 1,),
        )


def test_a_newer_schema_is_refused_with_one_line(store_url: str, tmp_path: Path) -> None:
    where = parse_store_url(store_url)
    assert migrate(where) == (0, SCHEMA_VERSION)
    newer(store_url)
    with pytest.raises(StoreOpenError) as refused:
        migrate(where)
    expected = (
        f"it was written by a newer messages-gateway (schema version {SCHEMA_VERSION + 1}, "
        f"this version knows {SCHEMA_VERSION})"
    )
    assert str(refused.value).endswith(expected)
    assert where.location in str(refused.value)
    completed = subprocess.run(
        [sys.executable, "-m", "gateway", "serve"],
        cwd=tmp_path,
        env=server_env(tmp_path / "unused.sqlite3", store_url=store_url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == [f"messages-gateway: {refused.value}"]


def test_concurrent_starts_migrate_once(store_url: str) -> None:
    """Eight processes' worth of start-ups at once: exactly one applies the migrations."""
    where = parse_store_url(store_url)
    if where.kind == "sqlite":
        Path(where.target).parent.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda _: migrate(where), range(8)))
    assert sorted(outcomes) == [(0, SCHEMA_VERSION)] + [(SCHEMA_VERSION, SCHEMA_VERSION)] * 7
    if where.kind == "postgresql":
        applied = query_at(store_url, "SELECT version FROM store_schema ORDER BY version")
        assert applied == [(version,) for version in range(1, SCHEMA_VERSION + 1)]


async def test_a_migrated_store_opens_and_works(store_url: str) -> None:
    where = parse_store_url(store_url)
    await asyncio.to_thread(migrate, where)  # synchronous: the CLI's pre-flight
    store = create_backend(where)
    await store.open()
    try:
        assert (await store.counts()).threads == 0
        assert await listing(store) == []
    finally:
        await store.close()


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_migrate_command(store_url: str, tmp_path: Path) -> None:
    env = server_env(tmp_path / "unused.sqlite3", store_url=store_url)
    location = parse_store_url(store_url).location
    first = run_cli("migrate", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == (
        f"messages-gateway: migrated the store at {location} "
        f"from schema version 0 to {SCHEMA_VERSION}"
    )
    again = run_cli("migrate", "--url", store_url, env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == (
        f"messages-gateway: the store at {location} is at schema version {SCHEMA_VERSION}"
    )


def test_the_migrate_command_upgrades_a_0_1_file(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    make_0_1_store(path)
    done = run_cli("migrate", env=server_env(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"from schema version 1 to {SCHEMA_VERSION}" in done.stdout


def test_a_postgres_database_of_another_application_is_refused(
    postgres_server: PostgresServer,
) -> None:
    """(The SQLite case is in tests/store/test_database.py.)"""
    url = create_database(postgres_server)
    try:
        with psycopg.connect(url) as pg:
            pg.execute("CREATE TABLE threads (invoice integer)")
        with pytest.raises(StoreOpenError, match="another application"):
            migrate(parse_store_url(url))
        tables = query_at(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        assert tables == [("threads",)], "nothing was written into it"
    finally:
        drop_database(postgres_server, url)


def test_an_unreachable_postgres_is_one_line() -> None:
    url = f"postgresql://postgres:s3cret@127.0.0.1:{free_port()}/nothing"
    with pytest.raises(StoreOpenError) as failed:
        migrate(parse_store_url(url))
    message = str(failed.value)
    assert message.startswith("cannot use the store database 'postgresql://postgres:***@")
    assert "s3cret" not in message and "\n" not in message
