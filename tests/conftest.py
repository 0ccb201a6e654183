"""Fixtures shared by every test package: settings and an in-process gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.app import create_app
from gateway.config import Settings
from tests.graphql_client import GraphQLClient
from tests.resilience.stub import FaultStub

if TYPE_CHECKING:
    from tests.store.postgres import PostgresServer

SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings(tmp_path: Path) -> SettingsFactory:
    """Settings isolated from the developer's environment and .env file."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"store_path": tmp_path / "store.sqlite3", "debug": True}
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return make


class Gateway:
    """The app running in-process, with its lifespan, and clients for it."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.graphql = GraphQLClient(http)


async def start_gateway(settings: Settings, app: FastAPI | None = None) -> AsyncIterator[Gateway]:
    """``app``: one the test built itself from ``settings`` (``create_app``'s options)."""
    app = app or create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            yield Gateway(http)


@pytest.fixture
async def gateway(make_settings: SettingsFactory) -> AsyncIterator[Gateway]:
    """The gateway on its embedded store (a fresh SQLite file per test)."""
    async for running in start_gateway(make_settings()):
        yield running


@pytest.fixture
def stub() -> Iterator[FaultStub]:
    """A real loopback upstream whose answers (and faults) each test scripts."""
    server = FaultStub().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The PostgreSQL server of this run, for any test package (``tests/store/postgres.py``):
    GATEWAY_TEST_POSTGRES_URL, the local server, or a throwaway cluster; never a skip.
    Make databases on it with ``tests.store.postgres.create_database``."""
    from tests.store.postgres import provide_server  # psycopg: only for the tests needing it

    with provide_server() as found:
        yield found
