"""``LeanGraphQLRoute``: plain POST/GET operations skip FastAPI's dependency solving and
answer exactly as strawberry's routes did; everything else still reaches those routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.routing import Match
from starlette.types import Scope

from gateway.app import create_app
from gateway.lean_route import LeanGraphQLRoute
from tests.conftest import SettingsFactory


class Served:
    """The app, and the name of the endpoint that answered each ``/graphql`` operation."""

    def __init__(self, app: FastAPI, http: httpx.AsyncClient) -> None:
        self.app = app
        self.http = http
        self.endpoints: list[str] = []
        route = lean_route_of(app)
        run = route.router.run

        async def recording_run(request: Any, *args: Any, **kwargs: Any) -> Any:
            self.endpoints.append(request.scope["endpoint"].__name__)
            return await run(request, *args, **kwargs)

        route.router.run = recording_run  # type: ignore[method-assign]


def lean_route_of(app: FastAPI) -> LeanGraphQLRoute:
    (route,) = [r for r in app.router.routes if isinstance(r, LeanGraphQLRoute)]
    return route


@pytest.fixture
async def served(make_settings: SettingsFactory) -> AsyncIterator[Served]:
    app = create_app(make_settings(graphiql=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            yield Served(app, http)


async def test_a_post_is_served_by_the_lean_route(served: Served) -> None:
    response = await served.http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"x-request-id": "req-lean-1"}
    )
    assert response.status_code == 200
    assert response.json()["data"] == {"__typename": "Query"}
    assert response.headers["content-type"] == "application/json"
    assert served.endpoints == ["serve"]


async def test_a_get_query_is_served_by_the_lean_route(served: Served) -> None:
    response = await served.http.get("/graphql", params={"query": "{ __typename }"})
    assert response.status_code == 200
    assert response.json()["data"] == {"__typename": "Query"}
    assert served.endpoints == ["serve"]


async def test_the_graphql_response_media_type_is_negotiated(served: Served) -> None:
    response = await served.http.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"accept": "application/graphql-response+json"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/graphql-response+json"
    assert served.endpoints == ["serve"]


async def test_a_syntax_error_is_a_400_without_data(served: Served) -> None:
    response = await served.http.post("/graphql", json={"query": "{ __typename"})
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["GRAPHQL_PARSE_FAILED"]
    assert served.endpoints == ["serve"]


async def test_a_limit_refusal_sets_the_sub_response_status(
    make_settings: SettingsFactory,
) -> None:
    """``bad_request`` sets 400 on ``context.response``: the lean route's sub-response."""
    app = create_app(make_settings(graphiql=False, max_depth=2))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            served = Served(app, http)
            response = await http.post(
                "/graphql",
                json={"query": "{ viewer { threads(first: 1) { edges { node { id } } } } }"},
            )
    assert response.status_code == 400, response.text
    body = response.json()
    assert "data" not in body
    assert [(e["extensions"]["code"], e["extensions"]["actual"]) for e in body["errors"]] == [
        ("QUERY_TOO_COMPLEX", 4)
    ]
    assert served.endpoints == ["serve"]


async def test_strawberrys_refusals_stay_plain_text(served: Served) -> None:
    """Strawberry's ``HTTPException`` (unsupported body, a GET without a query) is
    answered as plain text, as its FastAPI routes answer it."""
    response = await served.http.post(
        "/graphql", content=b"{ __typename }", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == "Unsupported content type"
    response = await served.http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert response.text == "Not Found"
    assert served.endpoints == ["serve", "serve"]


async def test_other_methods_still_get_strawberrys_405(served: Served) -> None:
    response = await served.http.put("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 405
    assert served.endpoints == []


async def test_an_event_stream_is_left_to_strawberrys_route(served: Served) -> None:
    response = await served.http.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"accept": "text/event-stream"},
    )
    assert served.endpoints == ["handle_http_post"]
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert 'data: {"data":{"__typename":"Query"}' in response.text
    assert "event: complete" in response.text


def scope_of(method: str, path: str = "/graphql", accept: bytes = b"*/*") -> Scope:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": "",
        "headers": [(b"accept", accept)],
    }


async def test_the_route_claims_only_plain_operations(served: Served) -> None:
    route = lean_route_of(served.app)
    assert route.matches(scope_of("POST"))[0] is Match.FULL
    assert route.matches(scope_of("GET"))[0] is Match.FULL
    assert route.matches(scope_of("POST", accept=b"text/event-stream"))[0] is Match.NONE
    assert route.matches(scope_of("HEAD"))[0] is Match.NONE
    assert route.matches(scope_of("PUT"))[0] is Match.NONE
    assert route.matches(scope_of("POST", path="/graphql/schema.graphql"))[0] is Match.NONE
    websocket = {**scope_of("GET"), "type": "websocket"}
    assert route.matches(websocket)[0] is Match.NONE
