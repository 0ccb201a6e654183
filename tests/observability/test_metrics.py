"""/metrics after real operations: every count matches what was done, exactly."""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from gateway.observability import GatewayMetrics
from gateway.observability._metrics import OTHER
from gateway.upstream import CallRecord
from tests.conftest import Gateway, SettingsFactory, start_gateway

MISSING = "thread_" + "x" * 24

CREATE = """mutation CreateThread($text: String!) {
  createThread(input: {messages: [{text: $text}]}) { thread { id } } }"""
CHAT = """query Chat($id: ID!) { thread(id: $id) { id messages(first: 5) { nodes { text } } } }"""
PAIR = """query Pair($a: ID!, $b: ID!) { a: thread(id: $a) { id } b: thread(id: $b) { id } }"""
LOST = """query Lost($id: ID!) { thread(id: $id) { id } }"""


async def scrape(http: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def family(samples: dict[Any, float], name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {labels: v for (n, labels), v in samples.items() if n == name}


async def test_counts_match_the_operations_exactly(gateway: Gateway) -> None:
    gql = gateway.graphql
    ids = []
    for text in ("one", "two"):
        data = await gql.data(CREATE, {"text": text}, operation_name="CreateThread")
        ids.append(data["createThread"]["thread"]["id"])
    for _ in range(3):
        await gql.data(CHAT, {"id": ids[0]}, operation_name="Chat")
    await gql.data(PAIR, {"a": ids[0], "b": ids[1]})
    for _ in range(2):
        lost = await gql.execute(LOST, {"id": MISSING})
        assert lost.codes == ["NOT_FOUND"]
    broken = await gql.execute("{ thread(id: ")
    assert broken.codes == ["GRAPHQL_PARSE_FAILED"]
    await gql.data("{ __typename }")

    samples = await scrape(gateway.http)
    assert family(samples, "gateway_graphql_operations_total") == {
        frozenset({("operation", "CreateThread"), ("outcome", "ok")}): 2.0,
        frozenset({("operation", "Chat"), ("outcome", "ok")}): 3.0,
        frozenset({("operation", "Pair"), ("outcome", "ok")}): 1.0,
        frozenset({("operation", "Lost"), ("outcome", "NOT_FOUND")}): 2.0,
        frozenset({("operation", "anonymous"), ("outcome", "GRAPHQL_PARSE_FAILED")}): 1.0,
        frozenset({("operation", "anonymous"), ("outcome", "ok")}): 1.0,
    }
    # Every operation was timed once.
    timed = family(samples, "gateway_graphql_operation_duration_seconds_count")
    assert timed == family(samples, "gateway_graphql_operations_total")

    # Upstream: 2 creates; each Chat is one getThread and one listMessages; Pair is
    # two getThreads in one batch; each Lost one getThread answered 404.
    assert family(samples, "gateway_upstream_calls_total") == {
        frozenset({("operation", "createThread"), ("status", "200")}): 2.0,
        frozenset({("operation", "getThread"), ("status", "200")}): 5.0,
        frozenset({("operation", "listMessages"), ("status", "200")}): 3.0,
        frozenset({("operation", "getThread"), ("status", "404")}): 2.0,
    }
    assert value(samples, "gateway_upstream_attempts_total", operation="getThread") == 7.0
    assert (
        value(
            samples,
            "gateway_upstream_call_duration_seconds_count",
            operation="getThread",
            status="404",
        )
        == 2.0
    )

    # Loader batches: threads 3 (Chat) + 1 of size 2 (Pair) + 2 (Lost); pages 3 (Chat).
    assert value(samples, "gateway_loader_batch_size_count", loader="threads") == 6.0
    assert value(samples, "gateway_loader_batch_size_sum", loader="threads") == 7.0
    assert value(samples, "gateway_loader_batch_size_bucket", loader="threads", le="1.0") == 5.0
    assert value(samples, "gateway_loader_batch_size_count", loader="pages") == 3.0

    assert family(samples, "gateway_upstream_circuit_state") == {
        frozenset({("state", "closed")}): 1.0,
        frozenset({("state", "open")}): 0.0,
        frozenset({("state", "half_open")}): 0.0,
    }


async def test_two_apps_keep_separate_registries(make_settings: SettingsFactory) -> None:
    async for first in start_gateway(make_settings()):
        async for second in start_gateway(
            make_settings(store_path=make_settings().store_path.with_name("b.sqlite3"))
        ):
            await first.graphql.data("query Ping { __typename }")
            await first.graphql.data("query Ping { __typename }")
            await second.graphql.data("query Ping { __typename }")
            one = await scrape(first.http)
            two = await scrape(second.http)
    labels = {"operation": "Ping", "outcome": "ok"}
    assert value(one, "gateway_graphql_operations_total", **labels) == 2.0
    assert value(two, "gateway_graphql_operations_total", **labels) == 1.0


async def test_open_circuit_shows_in_the_breaker_state(make_settings: SettingsFactory) -> None:
    settings = make_settings(
        upstream_url="http://127.0.0.1:9/v1",  # discard port: nothing listens
        upstream_api_key="sk-test",
        auth_required=False,
        max_retries=0,
        breaker_failure_threshold=1,
        breaker_reset_seconds=60,
    )
    async for gateway in start_gateway(settings):
        failed = await gateway.graphql.execute(LOST, {"id": MISSING})
        assert failed.codes == ["UPSTREAM_UNAVAILABLE"]
        again = await gateway.graphql.execute(LOST, {"id": MISSING})
        assert again.codes == ["UPSTREAM_UNAVAILABLE"]
        samples = await scrape(gateway.http)
    assert value(samples, "gateway_upstream_circuit_state", state="open") == 1.0
    assert value(samples, "gateway_upstream_circuit_state", state="closed") == 0.0
    calls = family(samples, "gateway_upstream_calls_total")
    assert calls == {
        frozenset({("operation", "getThread"), ("status", "connection_error")}): 1.0,
        frozenset({("operation", "getThread"), ("status", "circuit_open")}): 1.0,
    }
    assert value(samples, "gateway_upstream_attempts_total", operation="getThread") == 1.0
    assert (
        value(
            samples,
            "gateway_graphql_operations_total",
            operation="Lost",
            outcome="UPSTREAM_UNAVAILABLE",
        )
        == 2.0
    )


def test_operation_labels_stay_bounded() -> None:
    metrics = GatewayMetrics(max_operation_names=2)
    assert metrics.operation_label("A") == "A"
    assert metrics.operation_label("B") == "B"
    assert metrics.operation_label("C") == OTHER
    assert metrics.operation_label("A") == "A"
    assert metrics.operation_label("not a name!") == OTHER
    assert metrics.operation_label(None) == "anonymous"
    metrics.observe_operation("A", "weird outcome", 0.1)
    assert metrics.operations.labels("A", "ERROR")._value.get() == 1.0


def test_upstream_statuses_without_a_response() -> None:
    metrics = GatewayMetrics()
    metrics.observe_upstream_call(CallRecord("getThread", None, 1.5, 3, "UpstreamTimeoutError"))
    metrics.observe_upstream_call(CallRecord("getThread", None, 0.0, 0, "CircuitOpenError"))
    assert metrics.upstream_calls.labels("getThread", "timeout")._value.get() == 1.0
    assert metrics.upstream_calls.labels("getThread", "circuit_open")._value.get() == 1.0
    assert metrics.upstream_attempts.labels("getThread")._value.get() == 3.0


async def test_the_write_circuit_has_its_own_state(make_settings: SettingsFactory) -> None:
    """Failing writes open the write circuit only; the read circuit stays closed."""
    settings = make_settings(
        upstream_url="http://127.0.0.1:9/v1",  # discard port: nothing listens
        upstream_api_key="sk-test",
        auth_required=False,
        max_retries=0,
        breaker_failure_threshold=1,
        breaker_reset_seconds=60,
    )
    async for gateway in start_gateway(settings):
        failed = await gateway.graphql.execute(CREATE, {"text": "hi"})
        assert failed.codes == ["UPSTREAM_UNAVAILABLE"]
        samples = await scrape(gateway.http)
    assert value(samples, "gateway_upstream_write_circuit_state", state="open") == 1.0
    assert value(samples, "gateway_upstream_write_circuit_state", state="closed") == 0.0
    assert value(samples, "gateway_upstream_circuit_state", state="closed") == 1.0
    assert value(samples, "gateway_upstream_circuit_state", state="open") == 0.0
    assert family(samples, "gateway_upstream_calls_total") == {
        frozenset({("operation", "createThread"), ("status", "connection_error")}): 1.0,
    }
