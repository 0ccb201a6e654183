"""Fixtures of the end-to-end tests: one real ``messages-gateway serve`` process, shared.

``gateway_server`` is ``tests.store.server.ServerProcess`` (a free port, its store
file in a temporary folder, started and waited for through ``/healthz``), for the
whole session: tests create threads of their own, so they can share it.
``graphql_url`` is its GraphQL endpoint, and ``graphql`` posts an operation there
and insists on a clean answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.store.server import REPO_ROOT, ServerProcess

__all__ = ["REPO_ROOT"]

GraphQLPost = Callable[..., Any]


@pytest.fixture(scope="session")
def gateway_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("e2e-server")
    server = ServerProcess(workdir / "data" / "messages.sqlite3", workdir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def graphql_url(gateway_server: ServerProcess) -> str:
    return f"{gateway_server.base_url}/graphql"


@pytest.fixture(scope="session")
def graphql(graphql_url: str) -> GraphQLPost:
    """``graphql(query, **variables)``: the ``data`` of a successful operation."""

    def post(query: str, **variables: Any) -> Any:
        response = httpx.post(
            graphql_url, json={"query": query, "variables": variables}, timeout=10
        )
        body = response.json()
        assert response.status_code == 200, body
        assert "errors" not in body, body["errors"]
        return body["data"]

    return post
