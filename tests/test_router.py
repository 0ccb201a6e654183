"""``GatewayGraphQLRouter`` takes a single JSON operation as the edge already parsed it,
and parses everything else itself, as strawberry does."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.app import create_app
from gateway.router import GatewayGraphQLRouter
from tests.conftest import SettingsFactory
from tests.test_lean_route import lean_route_of

QUERY = "query Named($on: Boolean!) { __typename @include(if: $on) } query Other { __typename }"


class Served:
    """The app, and how many request bodies its router decoded itself."""

    def __init__(self, app: FastAPI, http: httpx.AsyncClient) -> None:
        self.http = http
        self.decoded = 0
        router: GatewayGraphQLRouter = lean_route_of(app).router
        decode: Callable[[Any], object] = router.decode_json

        def counting(data: Any) -> object:
            self.decoded += 1
            return decode(data)

        router.decode_json = counting  # type: ignore[method-assign]


@pytest.fixture
async def served(make_settings: SettingsFactory) -> AsyncIterator[Served]:
    app = create_app(make_settings(graphiql=False, allow_batching=True))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            yield Served(app, http)


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"]
)
async def test_a_single_json_operation_is_parsed_once_by_the_edge(
    served: Served, content_type: str
) -> None:
    payload = (
        b'{"query": "%s", "operationName": "Named", "variables": {"on": true}}' % QUERY.encode()
    )
    response = await served.http.post(
        "/graphql", content=payload, headers={"content-type": content_type}
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"__typename": "Query"}
    assert served.decoded == 0


async def test_what_the_operation_says_reaches_execution(served: Served) -> None:
    """Variables and the operation's name come through the edge's parse: a missing
    variable is refused, and the name picks the operation."""
    response = await served.http.post(
        "/graphql", json={"query": QUERY, "operationName": "Named", "variables": {}}
    )
    assert response.status_code == 400
    assert "$on" in response.json()["errors"][0]["message"]
    other = await served.http.post("/graphql", json={"query": QUERY, "operationName": "Other"})
    assert other.status_code == 200
    assert other.json()["data"] == {"__typename": "Query"} and "errors" not in other.json()
    assert served.decoded == 0


async def test_a_batch_is_parsed_by_strawberry(served: Served) -> None:
    response = await served.http.post(
        "/graphql",
        json=[{"query": "{ __typename }"}, {"query": "{ a: __typename }"}],
    )
    assert response.status_code == 200, response.text
    assert [answer["data"] for answer in response.json()] == [
        {"__typename": "Query"},
        {"a": "Query"},
    ]
    assert served.decoded == 1


async def test_another_json_media_type_is_strawberrys_to_refuse(served: Served) -> None:
    response = await served.http.post(
        "/graphql",
        content=b'{"query": "{ __typename }"}',
        headers={"content-type": "application/vnd.example+json"},
    )
    assert response.status_code == 400
    assert "Unsupported content type" in response.text
    assert served.decoded == 0
