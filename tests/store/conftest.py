"""Fixtures of the store tests: one suite, every backend.

``store``, ``server`` and ``store_url`` are parametrized over ``BACKENDS``
(SQLite and PostgreSQL), so every test built on them (``client``, ``sdk``,
``http``) runs against both. PostgreSQL comes from ``postgres_server`` (``tests/conftest.py``, see
``tests/store/postgres.py``): when none can be found or started the
PostgreSQL cases fail; they never skip.

- ``server``: one real ``messages-gateway serve`` process per backend for the
  session (its store file in a temporary folder, or a database of its own);
  tests use their own threads, so they can share it.
- ``sdk`` / ``http``: the official ``openai`` SDK and a raw httpx client for it.
- ``store`` / ``client``: the store in-process (httpx ``ASGITransport``), for
  tests that make many requests; empty at the start of each test.
- ``store_url``: a new, empty store location (a file, or a new database) for
  tests that start their own processes.
- ``database``: the SQLite file's ``Database`` itself (SQLite-only tests).

Every response any of these clients receives is validated against the
upstream spec by an httpx event hook (see ``spec``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import openai
import pytest

from gateway.store import Database, SQLiteStore, StoreBackend, create_store_app
from gateway.store.postgres import PostgresStore
from tests.store.backends import BACKENDS, query
from tests.store.postgres import PostgresServer, create_database, drop_database
from tests.store.server import ServerProcess
from tests.store.spec import SpecChecker


@pytest.fixture(scope="session")
def spec_checker() -> SpecChecker:
    return SpecChecker()


@pytest.fixture(scope="session")
def postgres_session_database(postgres_server: PostgresServer) -> Iterator[str]:
    """The database the in-process PostgreSQL stores of this run share (emptied per test)."""
    url = create_database(postgres_server)
    yield url
    drop_database(postgres_server, url)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend of this test case: "sqlite" or "postgresql"."""
    name: str = request.param
    return name


@pytest.fixture
def store_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty store: an SQLite file's URL, or a new database's (dropped afterwards)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'messages.sqlite3'}"
        return
    postgres: PostgresServer = request.getfixturevalue("postgres_server")
    url = create_database(postgres)
    yield url
    drop_database(postgres, url)


@pytest.fixture(scope="session", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp(f"store-server-{request.param}")
    store_url = None
    postgres: PostgresServer | None = None
    if request.param == "postgresql":
        postgres = request.getfixturevalue("postgres_server")
        store_url = create_database(postgres)
    running = ServerProcess(workdir / "data" / "messages.sqlite3", workdir, store_url=store_url)
    yield running
    running.stop()
    if postgres is not None and store_url is not None:
        drop_database(postgres, store_url)


def make_sdk(base_url: str, checker: SpecChecker, *, api_key: str = "anything") -> openai.OpenAI:
    """The official SDK on ``base_url`` (ending in /v1); every response spec-checked."""
    http_client = httpx.Client(event_hooks={"response": [checker.sync_hook]}, timeout=30.0)
    return openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, http_client=http_client)


@pytest.fixture
def sdk(server: ServerProcess, spec_checker: SpecChecker) -> Iterator[openai.OpenAI]:
    client = make_sdk(f"{server.base_url}/v1", spec_checker)
    yield client
    client.close()


@pytest.fixture
def http(server: ServerProcess, spec_checker: SpecChecker) -> Iterator[httpx.Client]:
    """A raw client of the real server, at ``/v1``."""
    with httpx.Client(
        base_url=f"{server.base_url}/v1",
        event_hooks={"response": [spec_checker.sync_hook]},
        timeout=30.0,
    ) as client:
        yield client


@pytest.fixture
async def store(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[StoreBackend]:
    """The store of this test's backend, open and empty."""
    if backend == "sqlite":
        async with SQLiteStore(tmp_path / "store" / "messages.sqlite3") as sqlite_store:
            yield sqlite_store
        return
    url: str = request.getfixturevalue("postgres_session_database")
    async with PostgresStore(url, location=url) as postgres_store:
        await query(postgres_store, "TRUNCATE threads, messages, thread_index RESTART IDENTITY")
        yield postgres_store


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "store" / "messages.sqlite3") as opened:
        yield opened


@pytest.fixture
async def client(
    store: StoreBackend, spec_checker: SpecChecker
) -> AsyncIterator[httpx.AsyncClient]:
    """The store in-process, addressed as the gateway's upstream client does."""
    transport = httpx.ASGITransport(app=create_store_app(store, api_key=None))
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://embedded-store",
        event_hooks={"response": [spec_checker.async_hook]},
    ) as http_client:
        yield http_client
