"""Fixtures of the store tests.

- ``server``: one real ``messages-gateway serve`` process for the session (its
  store file in a temporary folder); tests use their own threads, so they can share it.
- ``sdk`` / ``http``: the official ``openai`` SDK and a raw httpx client for it.
- ``database`` / ``client``: the store in-process (httpx ``ASGITransport``), for
  tests that make many requests.

Every response any of these clients receives is validated against the
upstream spec by an httpx event hook (see ``spec``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import openai
import pytest

from gateway.store import Database, create_store_app
from tests.store.postgres import PostgresServer, provide_server
from tests.store.server import ServerProcess
from tests.store.spec import SpecChecker


@pytest.fixture(scope="session")
def spec_checker() -> SpecChecker:
    return SpecChecker()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The PostgreSQL server of this run (see ``tests/store/postgres.py``); never a skip."""
    with provide_server() as found:
        yield found


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("store-server")
    running = ServerProcess(workdir / "data" / "messages.sqlite3", workdir)
    yield running
    running.stop()


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
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "store" / "messages.sqlite3") as opened:
        yield opened


@pytest.fixture
async def client(database: Database, spec_checker: SpecChecker) -> AsyncIterator[httpx.AsyncClient]:
    """The store in-process, addressed as the gateway's upstream client does."""
    transport = httpx.ASGITransport(app=create_store_app(database, api_key=None))
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://embedded-store",
        event_hooks={"response": [spec_checker.async_hook]},
    ) as http_client:
        yield http_client
