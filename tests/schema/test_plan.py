"""The operation plan (gateway/schema/plan.py): cost from the coerced variables, defaults
included (issue 9, finding 2), aliases counted per list item, and prefetch from the same walk.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import OperationDefinitionNode, get_operation_ast, parse
from graphql.execution.values import get_variable_values

from gateway.schema import build_schema
from gateway.schema.compat import graphql_core_schema
from gateway.schema.execution import GatewayExecutor
from gateway.schema.plan import OperationPlan, PlanCache, plan_document
from tests.conftest import Gateway, SettingsFactory, start_gateway
from tests.resilience.stub import FaultStub
from tests.schema.attacks import default_variable_bypass
from tests.schema.wire import THREAD_ID

AUTH = {"Authorization": "Bearer caller-token-for-the-stub"}
SCHEMA = graphql_core_schema(build_schema())


@pytest.fixture
async def gateway(make_settings: SettingsFactory, stub: FaultStub) -> AsyncIterator[Gateway]:
    async for running in start_gateway(make_settings(upstream_url=stub.url, max_retries=0)):
        yield running


def plan(
    query: str, variables: dict[str, Any] | None = None, name: str | None = None
) -> OperationPlan:
    planned = plan_document(SCHEMA, parse(query), name, variables)
    assert isinstance(planned, OperationPlan), planned
    return planned


def cost(query: str, variables: dict[str, Any] | None = None, name: str | None = None) -> int:
    return plan(query, variables, name).cost


# thread + page + 100 x (thread + page + 100 x (thread + page))
BYPASS_COST = 2 + 100 * (2 + 100 * 2)


async def test_a_page_size_from_a_variable_default_is_priced(
    gateway: Gateway, stub: FaultStub
) -> None:
    payload = default_variable_bypass(THREAD_ID)
    assert "$n: Int = 100" in payload["query"]
    result = await gateway.graphql.execute(payload["query"], headers=AUTH)
    assert result.status == 400, result.body
    extensions = result.errors[0]["extensions"]
    assert extensions == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": "cost",
        "maximum": 5000,
        "actual": BYPASS_COST,
    }
    # The same with the value given, or written as a literal: the same price.
    given = await gateway.graphql.execute(payload["query"], {"n": 100}, headers=AUTH)
    literal = await gateway.graphql.execute(
        payload["query"].replace("query($n: Int = 100) ", "").replace("$n", "100"), headers=AUTH
    )
    assert given.errors[0]["extensions"]["actual"] == BYPASS_COST
    assert literal.errors[0]["extensions"]["actual"] == BYPASS_COST
    assert stub.count() == 0
    # A small page given explicitly overrides the default, and runs.
    small = await gateway.graphql.execute(payload["query"], {"n": 1}, headers=AUTH)
    assert small.status == 200 and not small.errors, small.body
    assert stub.count() > 0


def test_cost_model() -> None:
    assert cost('{ thread(id: "t") { id metadata } }') == 1
    assert cost('{ thread(id: "t") { messages { nodes { id } } } }') == 2
    assert cost('{ thread(id: "t") { messages(first: 5) { nodes { thread { id } } } } }') == 7
    assert cost('{ messages(threadId: "t", last: 50) { edges { node { thread { id } } } } }') == 51
    assert cost('{ threads(ids: ["a", "b", "c"]) { messages(first: 2) { nodes { id } } } }') == 6
    assert cost("query($ids: [ID!]!) { threads(ids: $ids) { id } }", {"ids": ["a"] * 7}) == 7
    assert cost('query($ids: [ID!]! = ["a", "b", "c"]) { threads(ids: $ids) { id } }') == 3
    by_variable = (
        'query($n: Int) { messages(threadId: "t", first: $n) { nodes { thread { id } } } }'
    )
    assert cost(by_variable, {"n": 3}) == 4
    assert cost(by_variable) == 21  # absent: the default page size, 20
    assert cost(by_variable.replace("$n: Int", "$n: Int = 7")) == 8
    fragment = "fragment F on Thread { messages(first: 10) { nodes { id } } }"
    two = f'{{ a: thread(id: "a") {{ ...F }} b: thread(id: "b") {{ ...F }} }} {fragment}'
    assert cost(two) == 4
    assert cost("mutation { createThread { thread { messages { nodes { id } } } } }") == 2
    both = 'query A { thread(id: "a") { id } } query B { threads(ids: ["a", "b"]) { id } }'
    assert cost(both, name="A") == 1
    assert cost(both, name="B") == 2
    # Introspection and __typename reach nothing.
    assert cost("{ __typename __schema { types { name } } }") == 0


def test_aliases_are_counted_per_list_item() -> None:
    assert plan('{ a: thread(id: "t") { id } }').aliased_results == 1
    page = '{ thread(id: "t") { messages(first: 10) { nodes { a: text b: text id } } } }'
    assert plan(page).aliased_results == 20
    nested = '{ threads(ids: ["a", "b"]) { messages(first: 3) { nodes { x: id } } } }'
    assert plan(nested).aliased_results == 6


async def test_aliases_over_a_large_page_are_refused(gateway: Gateway, stub: FaultStub) -> None:
    fields = " ".join(f"a{i}: text" for i in range(11))
    query = f'{{ thread(id: "{THREAD_ID}") {{ messages(first: 100) {{ nodes {{ {fields} }} }} }} }}'
    result = await gateway.graphql.execute(query, headers=AUTH)
    assert result.status == 400, result.body
    assert result.errors[0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": "aliasedResults",
        "maximum": 1000,
        "actual": 1100,
    }
    assert stub.count() == 0


def test_pages_are_planned_by_response_path() -> None:
    query = """query($n: Int = 5) {
      thread(id: "t") { messages(first: $n) { nodes { id } } ...F }
      other: thread(id: "u") { messages(last: 2, order: ASC) { nodes { id } } }
      threads(ids: ["a"]) { messages @include(if: true) { nodes { id } } }
    } fragment F on Thread { messages(first: 1) { nodes { id } } }"""
    pages = plan(query).pages
    assert [p["first"] for p in pages[("thread",)]] == [5, 1]
    assert pages[("other",)][0]["last"] == 2
    assert str(pages[("other",)][0]["order"].name) == "ASC"
    assert ("threads",) not in pages  # under a directive: not prefetched


async def test_prefetch_follows_the_variable_default(gateway: Gateway, stub: FaultStub) -> None:
    query = 'query($n: Int = 3) { thread(id: "%s") { id messages(first: $n) { nodes { id } } } }'
    result = await gateway.graphql.execute(query % THREAD_ID, headers=AUTH)
    assert result.status == 200 and not result.errors, result.body
    assert result.upstream_calls == 2 == stub.count()
    assert result.body["extensions"]["upstream"]["maxInFlight"] == 2  # the page did not wait
    assert "limit=3" in next(s.path for s in stub.seen if "messages" in s.path)


async def test_each_operation_of_a_batch_has_its_own_plan(
    make_settings: SettingsFactory, stub: FaultStub
) -> None:
    settings = make_settings(upstream_url=stub.url, max_retries=0, allow_batching=True)
    query = 'query($n: Int!) { thread(id: "%s") { messages(first: $n) { nodes { id } } } }'
    async for gateway in start_gateway(settings):
        batch = [{"query": query % THREAD_ID, "variables": {"n": n}} for n in (1, 2)]
        response = await gateway.http.post("/graphql", json=batch, headers=AUTH)
        assert response.status_code == 200, response.text
        assert all("errors" not in item for item in response.json()), response.text
    pages = sorted(s.path for s in stub.seen if "messages" in s.path)
    # One thread call (shared loader), and exactly the two pages asked for: a plan
    # mixed up between the two operations would have prefetched a wrong page too.
    assert stub.count() == 3
    assert len(pages) == 2 and "limit=1" in pages[0] and "limit=2" in pages[1]


# --- PlanCache: one walk for each (document, variable values) ------------------------

NESTED = (
    "query($t: ID!, $n: Int!) { thread(id: $t) { messages(first: $n) { nodes { "
    "thread { messages(first: $n) { nodes { thread { messages(first: $n) { nodes { id } } } } } }"
    " } } } }"
)


def _operation(query: str) -> OperationDefinitionNode:
    """The operation of ``query``, parsed once: the parser cache's object for it."""
    operation = get_operation_ast(parse(query))
    assert operation is not None
    return operation


def _planned(
    cache: PlanCache, operation: OperationDefinitionNode, variables: dict[str, Any]
) -> OperationPlan:
    coerced = get_variable_values(SCHEMA, operation.variable_definitions or (), variables)
    assert not isinstance(coerced, list), coerced
    return cache.plan(SCHEMA, operation, {}, coerced)


def test_the_plan_cache_plans_an_operation_once_per_variable_values() -> None:
    cache = PlanCache(max_document_chars=16_384)
    operation = _operation(NESTED)
    small = _planned(cache, operation, {"t": "x", "n": 2})
    large = _planned(cache, operation, {"t": "x", "n": 100})
    assert cache.hits == 0
    assert small.cost == plan(NESTED, {"t": "x", "n": 2}).cost < large.cost
    assert _planned(cache, operation, {"t": "x", "n": 2}) is small
    assert _planned(cache, operation, {"t": "x", "n": 100}) is large
    assert cache.hits == 2


def test_the_plan_cache_is_bounded_and_skips_documents_it_cannot_share() -> None:
    cache = PlanCache(max_document_chars=200, size=2)
    operation = _operation("query($t: ID!) { thread(id: $t) { id } }")
    plans = [_planned(cache, operation, {"t": f"thread_{n}"}) for n in range(3)]
    # Three entries through a cache of two: the oldest left, the newest stayed.
    assert _planned(cache, operation, {"t": "thread_0"}) is not plans[0]
    assert cache.hits == 0
    assert _planned(cache, operation, {"t": "thread_2"}) is plans[2]
    assert cache.hits == 1
    # Past max_document_chars (parsed anew for every request): never kept.
    padded = _operation("query($t: ID!) { thread(id: $t) { id } } #" + "x" * 200)
    first = _planned(cache, padded, {"t": "a"})
    assert _planned(cache, padded, {"t": "a"}) is not first
    assert cache.hits == 1


async def test_a_repeated_document_is_priced_by_its_variables_every_time(
    gateway: Gateway, stub: FaultStub
) -> None:
    hits = GatewayExecutor.plans.hits
    outcomes = []
    for n in (2, 100, 2, 100):
        result = await gateway.graphql.execute(
            NESTED, variables={"t": THREAD_ID, "n": n}, headers=AUTH
        )
        outcomes.append(
            result.errors[0]["extensions"]["code"] if result.status == 400 else result.status
        )
    assert outcomes == [200, "QUERY_TOO_COMPLEX", 200, "QUERY_TOO_COMPLEX"]
    assert GatewayExecutor.plans.hits >= hits + 2  # the repeats were the cache's
