"""Abuse is refused before any upstream call: depth, aliases, tokens, cost, ids, body size,
batching, introspection; plus CORS and the validation cache the limits must not defeat.

The gateway runs on a real loopback upstream stub that counts requests, so "before any
upstream call" is checked, not assumed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import GraphQLSyntaxError, get_introspection_query, parse

from gateway.schema import document_memo
from gateway.schema.limits import token_count
from tests.conftest import Gateway, SettingsFactory, start_gateway
from tests.resilience.stub import FaultStub
from tests.schema.wire import THREAD_ID

AUTH = {"Authorization": "Bearer caller-token-for-the-stub"}


@pytest.fixture
async def gateway(make_settings: SettingsFactory, stub: FaultStub) -> AsyncIterator[Gateway]:
    async for running in start_gateway(make_settings(upstream_url=stub.url, max_retries=0)):
        yield running


def limit_of(body: dict[str, Any]) -> tuple[str | None, str | None]:
    extensions = body["errors"][0].get("extensions") or {}
    return extensions.get("code"), extensions.get("limit")


def nested_messages(levels: int, page: str = "") -> str:
    query = "id"
    for _ in range(levels):
        query = f"id messages{page} {{ nodes {{ thread {{ {query} }} }} }}"
    return f'{{ thread(id: "{THREAD_ID}") {{ {query} }} }}'


async def test_depth_bomb(gateway: Gateway, stub: FaultStub) -> None:
    result = await gateway.graphql.execute(nested_messages(8), headers=AUTH)
    assert result.status == 400
    assert limit_of(result.body) == ("QUERY_TOO_COMPLEX", "depth")
    assert "levels deep" in result.errors[0]["message"]
    assert stub.count() == 0


async def test_depth_through_fragments_is_counted(gateway: Gateway, stub: FaultStub) -> None:
    fragments = "".join(
        f"fragment F{i} on Thread {{ messages {{ nodes {{ thread {{ ...F{i + 1} }} }} }} }}"
        for i in range(6)
    )
    query = (
        f'{{ thread(id: "{THREAD_ID}") {{ ...F0 }} }} {fragments} fragment F6 on Thread {{ id }}'
    )
    result = await gateway.graphql.execute(query, headers=AUTH)
    assert limit_of(result.body) == ("QUERY_TOO_COMPLEX", "depth")
    assert stub.count() == 0


async def test_a_thousand_aliases(gateway: Gateway, stub: FaultStub) -> None:
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(1000)) + " }"
    result = await gateway.graphql.execute(query, headers=AUTH)
    assert result.status == 400
    assert limit_of(result.body) == ("QUERY_TOO_COMPLEX", "aliases")
    assert result.errors[0]["extensions"]["actual"] == 1000

    fetching = "{ " + " ".join(f'a{i}: thread(id: "{THREAD_ID}") {{ id }}' for i in range(1000))
    result = await gateway.graphql.execute(fetching + " }", headers=AUTH)
    assert result.status == 400
    assert limit_of(result.body)[0] == "QUERY_TOO_COMPLEX"
    assert stub.count() == 0


async def test_too_many_tokens(make_settings: SettingsFactory, stub: FaultStub) -> None:
    settings = make_settings(upstream_url=stub.url, max_tokens=200)
    async for gateway in start_gateway(settings):
        query = "{ " + " ".join("__typename" for _ in range(300)) + " }"
        result = await gateway.graphql.execute(query, headers=AUTH)
        assert result.status == 400
        assert limit_of(result.body) == ("QUERY_TOO_COMPLEX", "tokens")
        assert "200 tokens" in result.errors[0]["message"]
    assert stub.count() == 0


async def test_two_megabyte_query_is_413_before_parsing(gateway: Gateway, stub: FaultStub) -> None:
    query = "{ __typename " + "#" * (2 * 1024 * 1024) + "\n}"
    response = await gateway.http.post("/graphql", json={"query": query}, headers=AUTH)
    assert response.status_code == 413
    body = response.json()
    assert body["errors"][0]["extensions"] == {"code": "REQUEST_TOO_LARGE", "maximum": 1_000_000}
    assert stub.count() == 0


async def test_chunked_body_without_length_is_413(gateway: Gateway, stub: FaultStub) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ __typename }", "padding": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'

    response = await gateway.http.post(
        "/graphql",
        content=chunks(),
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"
    # A small chunked body goes through.

    async def small() -> AsyncIterator[bytes]:
        yield b'{"query": "{ __typ'
        yield b'ename }"}'

    response = await gateway.http.post(
        "/graphql", content=small(), headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"__typename": "Query"}
    assert stub.count() == 0


@pytest.mark.parametrize("as_variable", [False, True])
async def test_first_100_nested_five_times_is_too_costly(
    make_settings: SettingsFactory, stub: FaultStub, as_variable: bool
) -> None:
    query = nested_messages(5, "(first: $n)" if as_variable else "(first: 100)")
    if as_variable:
        query = query.replace("{ thread(", "query($n: Int) { thread(", 1)
    variables = {"n": 100} if as_variable else None
    # Under the default limits it is refused (as too deep, first); with room for the
    # depth, the cost refuses it on its own.
    for max_depth, limits in ((12, {"depth", "cost"}), (50, {"cost"})):
        settings = make_settings(upstream_url=stub.url, max_depth=max_depth)
        async for gateway in start_gateway(settings):
            result = await gateway.graphql.execute(query, variables, headers=AUTH)
            assert result.status == 400, result.body
            code, limit = limit_of(result.body)
            assert code == "QUERY_TOO_COMPLEX" and limit in limits
    assert result.errors[0]["extensions"]["maximum"] == 5000
    assert result.errors[0]["extensions"]["actual"] > 5000
    assert "first/last" in result.errors[0]["message"]
    assert stub.count() == 0


async def test_a_thousand_ids(gateway: Gateway, stub: FaultStub) -> None:
    ids = [f"thread_{i:024d}" for i in range(1000)]
    result = await gateway.graphql.execute(
        "query($ids: [ID!]!) { threads(ids: $ids) { id } }", {"ids": ids}, headers=AUTH
    )
    assert result.codes == ["BAD_USER_INPUT"], result.body
    assert "at most 100 ids" in result.errors[0]["message"]
    # Literal ids, with messages under each: priced before execution.
    literal = json.dumps(ids[:200])
    result = await gateway.graphql.execute(
        f"{{ threads(ids: {literal}) {{ id messages(first: 50) {{ nodes {{ thread {{ id }} }} }} }} }}",
        headers=AUTH,
    )
    assert limit_of(result.body) == ("QUERY_TOO_COMPLEX", "cost")
    assert stub.count() == 0


async def test_batched_operations_are_refused_by_default(gateway: Gateway, stub: FaultStub) -> None:
    response = await gateway.http.post(
        "/graphql",
        content=b'  [{"query": "{ __typename }"}, {"query": "{ __typename }"}]',
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BATCHING_DISABLED"
    assert "not enabled" in error["message"]
    assert stub.count() == 0


async def test_batching_when_allowed(make_settings: SettingsFactory, stub: FaultStub) -> None:
    settings = make_settings(upstream_url=stub.url, allow_batching=True, max_batch_operations=3)
    async for gateway in start_gateway(settings):
        batch = [{"query": "{ __typename }"}, {"query": "query Q { __typename }"}]
        response = await gateway.http.post("/graphql", json=batch, headers=AUTH)
        assert response.status_code == 200, response.text
        assert [item["data"] for item in response.json()] == [{"__typename": "Query"}] * 2
        response = await gateway.http.post("/graphql", json=batch * 2, headers=AUTH)
        assert response.status_code == 400
    assert stub.count() == 0


async def test_introspection_switched_off(make_settings: SettingsFactory, stub: FaultStub) -> None:
    async for gateway in start_gateway(make_settings(upstream_url=stub.url, introspection=False)):
        result = await gateway.graphql.execute("{ __schema { types { name } } }", headers=AUTH)
        assert result.status == 400
        assert set(result.codes) == {"GRAPHQL_VALIDATION_FAILED"}
        assert "introspection" in result.errors[0]["message"].lower()
        result = await gateway.graphql.execute('{ __type(name: "Thread") { name } }', headers=AUTH)
        assert set(result.codes) == {"GRAPHQL_VALIDATION_FAILED"}
        assert (await gateway.graphql.data("{ __typename }", headers=AUTH)) == {
            "__typename": "Query"
        }
    assert stub.count() == 0


async def test_graphiql_introspection_fits_the_default_limits(gateway: Gateway) -> None:
    result = await gateway.graphql.execute(get_introspection_query(descriptions=True))
    assert result.status == 200 and not result.errors, result.errors
    assert result.data["__schema"]["queryType"]["name"] == "Query"


async def test_an_ordinary_chat_query_is_within_every_limit(
    gateway: Gateway, stub: FaultStub
) -> None:
    query = """query Chat($id: ID!) { thread(id: $id) { id metadata
        messages(last: 20) { edges { cursor node { id role text createdAt
          content { ... on TextContent { value } } thread { id } } }
          pageInfo { hasPreviousPage startCursor } } } }"""
    result = await gateway.graphql.execute(query, {"id": THREAD_ID}, headers=AUTH)
    assert result.status == 200 and not result.errors, result.body
    assert stub.count() == 2  # the thread and one page


async def test_limits_keep_the_validation_cache_effective(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    validations = 0
    real = document_memo.validate_document

    def counted(*args: Any) -> Any:
        nonlocal validations
        validations += 1
        return real(*args)

    monkeypatch.setattr(document_memo, "validate_document", counted)
    query = "{ __typename t: __typename }"
    for _ in range(4):
        assert await gateway.graphql.data(query) == {"__typename": "Query", "t": "Query"}
    assert validations == 1  # the rules are the same every time: one validation in all


async def test_cors_allow_list(make_settings: SettingsFactory) -> None:
    settings = make_settings(cors_origins="https://app.example.com")
    async for gateway in start_gateway(settings):
        allowed = await gateway.http.options(
            "/graphql",
            headers={
                "Origin": "https://app.example.com",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
        denied = await gateway.http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in denied.headers
        ok = await gateway.http.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers={"Origin": "https://app.example.com"},
        )
        assert ok.headers["access-control-allow-origin"] == "https://app.example.com"


async def test_no_cors_headers_by_default(gateway: Gateway) -> None:
    response = await gateway.http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://x.example"}
    )
    assert "access-control-allow-origin" not in response.headers


def test_limit_settings_have_safe_defaults(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    assert settings.max_body_bytes == 1_000_000
    assert not settings.allow_batching
    assert settings.max_cost == 5000
    assert (settings.max_depth, settings.max_aliases, settings.max_tokens) == (12, 100, 5000)
    assert settings.max_selection_set_fields == 100
    assert (settings.max_fragment_spreads, settings.max_selections) == (200, 1500)
    assert settings.max_field_pairs == 2000
    assert settings.max_aliased_results == 1000
    assert settings.max_response_bytes == 16_000_000


async def test_a_batch_shares_one_token_budget(
    make_settings: SettingsFactory, stub: FaultStub
) -> None:
    settings = make_settings(upstream_url=stub.url, allow_batching=True, max_tokens=200)
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(40)) + " }"  # 122 tokens
    assert token_count(parse(query)) == 122
    async for gateway in start_gateway(settings):
        alone = await gateway.graphql.execute(query, headers=AUTH)
        assert alone.status == 200 and not alone.errors
        batch = [{"query": query}, {"query": query}, {"query": "{ __typename }"}]
        response = await gateway.http.post("/graphql", json=batch, headers=AUTH)
        assert response.status_code == 400
        first, second, third = response.json()
        assert "errors" not in first
        # The second passes the request's 200 tokens; the third still fits (3 tokens).
        assert second["errors"][0]["extensions"]["limit"] == "tokens"
        assert "together" in second["errors"][0]["message"]
        assert third["data"] == {"__typename": "Query"}
    assert stub.count() == 0


def test_token_count_matches_the_parsers_limit() -> None:
    query = '# a comment\n{ thread(id: "t") { id } }'
    count = token_count(parse(query))
    assert count == 12  # the comment counts, as it does for the parser
    parse(query, max_tokens=count)
    with pytest.raises(GraphQLSyntaxError):
        parse(query, max_tokens=count - 1)
