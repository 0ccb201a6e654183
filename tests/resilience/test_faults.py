"""Fault injection against a real upstream (a loopback HTTP stub), end to end through GraphQL.

Each fault is tried on a query (GET upstream: retried when safe) and on a mutation
(POST upstream: never sent twice). Each gives its documented code, in bounded time,
and the same gateway answers the next request normally. Times are only bounded
generously (no tight timing assertions).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.conftest import Gateway, SettingsFactory, start_gateway
from tests.resilience.stub import (
    FaultStub,
    Reply,
    Seen,
    error_reply,
    healthy,
    reset_mid_body,
    respond,
)
from tests.schema.wire import THREAD_ID, thread_json
from tests.store.server import free_port

AUTH = {"Authorization": "Bearer caller-token-for-the-stub"}
QUERY = "query($id: ID!) { thread(id: $id) { id } }"
MUTATION = (
    "mutation($t: ID!, $text: String!) { createMessage(input: {threadId: $t, text: $text}) "
    "{ message { id text } userErrors { code message } } }"
)
BOUND = 10.0  # seconds: generous, only proves nothing hangs
BREAKER_RESET = 3.0  # seconds an open circuit stays open in the breaker test

RETRIES = 2


@pytest.fixture(params=["aiohttp", "httpx"])
def make_settings(
    make_settings: SettingsFactory, request: pytest.FixtureRequest
) -> SettingsFactory:
    """Every fault over both network layers (``UPSTREAM_TRANSPORT``): the retry rules
    read the exception types, and each layer must raise the ones httpx defines."""
    return functools.partial(make_settings, upstream_transport=request.param)


def fault_settings(make_settings: SettingsFactory, url: str, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "upstream_url": url,
        "connect_timeout": 1.0,
        "read_timeout": 1.0,
        "operation_deadline": 3.0,
        "max_retries": RETRIES,
        "retry_backoff": 0.01,
        "breaker_failure_threshold": 1000,  # the breaker has its own test
    }
    values.update(overrides)
    return make_settings(**values)


@pytest.fixture
async def gateway_on_stub(
    make_settings: SettingsFactory, stub: FaultStub
) -> AsyncIterator[Gateway]:
    async for running in start_gateway(fault_settings(make_settings, stub.url)):
        yield running


def always(reply: Callable[[], Reply]) -> Callable[[Seen], Reply]:
    return lambda _seen: reply()


async def query(gateway: Gateway) -> tuple[Any, float]:
    started = time.monotonic()
    result = await gateway.graphql.execute(QUERY, {"id": THREAD_ID}, headers=AUTH)
    return result, time.monotonic() - started


async def mutate(gateway: Gateway, text: str = "hello") -> tuple[Any, float]:
    started = time.monotonic()
    result = await gateway.graphql.execute(MUTATION, {"t": THREAD_ID, "text": text}, headers=AUTH)
    return result, time.monotonic() - started


async def assert_healthy(gateway: Gateway, stub: FaultStub) -> None:
    stub.handler = healthy
    result, _ = await query(gateway)
    assert result.status == 200 and not result.errors, result.body
    assert result.data == {"thread": {"id": THREAD_ID}}


# (name, reply, query code, query attempts (None: any of 1..1+RETRIES), mutation code)
FAULTS: list[tuple[str, Callable[[], Reply], str, int | None, str]] = [
    ("500", lambda: error_reply(500), "UPSTREAM_ERROR", 1 + RETRIES, "UPSTREAM_ERROR"),
    ("503", lambda: error_reply(503), "UPSTREAM_UNAVAILABLE", 1 + RETRIES, "UPSTREAM_UNAVAILABLE"),
    (
        "503 retry-after beyond the deadline",
        lambda: error_reply(503, headers={"Retry-After": "30"}),
        "UPSTREAM_UNAVAILABLE",
        1,
        "UPSTREAM_UNAVAILABLE",
    ),
    (
        "429",
        lambda: error_reply(429, headers={"Retry-After": "7"}),
        "RATE_LIMITED",
        1,
        "RATE_LIMITED",
    ),
    (
        "slow past the read timeout",
        lambda: respond(200, thread_json(), delay=5.0),
        "UPSTREAM_TIMEOUT",
        None,
        "UPSTREAM_TIMEOUT",
    ),
    ("reset mid-body", reset_mid_body, "UPSTREAM_UNAVAILABLE", 1 + RETRIES, "UPSTREAM_UNAVAILABLE"),
    (
        "invalid JSON",
        lambda: respond(200, b'{"id": "thread_'),
        "UPSTREAM_ERROR",
        1,
        "UPSTREAM_ERROR",
    ),
    (
        "wrong content type",
        lambda: respond(200, "<html>ok</html>", content_type="text/html"),
        "UPSTREAM_ERROR",
        1,
        "UPSTREAM_ERROR",
    ),
    (
        "wrong shape",
        lambda: respond(200, {"id": 5, "object": "x"}),
        "UPSTREAM_ERROR",
        1,
        "UPSTREAM_ERROR",
    ),
]


@pytest.mark.parametrize(
    ("reply", "code", "attempts"),
    [pytest.param(f[1], f[2], f[3], id=f[0]) for f in FAULTS],
)
async def test_query_fault(
    gateway_on_stub: Gateway,
    stub: FaultStub,
    reply: Callable[[], Reply],
    code: str,
    attempts: int | None,
) -> None:
    stub.handler = always(reply)
    result, elapsed = await query(gateway_on_stub)
    assert result.status == 200, result.body
    assert result.data == {"thread": None}
    assert result.codes == [code], result.body
    assert elapsed < BOUND
    sent = stub.count("GET")
    if attempts is None:
        assert 1 <= sent <= 1 + RETRIES
    else:
        assert sent == attempts
    if code == "RATE_LIMITED":
        assert result.errors[0]["extensions"]["retryAfter"] == 7
    await assert_healthy(gateway_on_stub, stub)


@pytest.mark.parametrize(
    ("reply", "code"),
    [pytest.param(f[1], f[4], id=f[0]) for f in FAULTS],
)
async def test_mutation_fault_is_never_retried(
    gateway_on_stub: Gateway, stub: FaultStub, reply: Callable[[], Reply], code: str
) -> None:
    stub.handler = always(reply)
    result, elapsed = await mutate(gateway_on_stub)
    assert result.codes == [code], result.body
    assert elapsed < BOUND
    assert stub.count("POST") == 1  # the mutation reached the upstream exactly once
    await assert_healthy(gateway_on_stub, stub)


async def test_retry_after_is_honoured_then_the_query_succeeds(
    gateway_on_stub: Gateway, stub: FaultStub
) -> None:
    replies = iter([error_reply(503, headers={"retry-after-ms": "300"})])
    stub.handler = lambda seen: next(replies, None) or healthy(seen)
    result, elapsed = await query(gateway_on_stub)
    assert not result.errors, result.body
    assert result.data == {"thread": {"id": THREAD_ID}}
    assert stub.count("GET") == 2
    assert 0.25 <= elapsed < BOUND  # it waited as told (within the deadline)


async def test_429_on_a_query_is_retried_when_the_wait_fits_the_deadline(
    gateway_on_stub: Gateway, stub: FaultStub
) -> None:
    replies = iter([error_reply(429, headers={"Retry-After": "0.2"})])
    stub.handler = lambda seen: next(replies, None) or healthy(seen)
    result, _ = await query(gateway_on_stub)
    assert not result.errors, result.body
    assert stub.count("GET") == 2


async def test_slow_upstream_is_cut_by_the_operation_deadline(
    make_settings: SettingsFactory, stub: FaultStub
) -> None:
    # Read timeout longer than the deadline: the deadline decides.
    settings = fault_settings(make_settings, stub.url, read_timeout=30.0, operation_deadline=1.0)
    stub.handler = always(lambda: respond(200, thread_json(), delay=20.0))
    async for gateway in start_gateway(settings):
        result, elapsed = await query(gateway)
        assert result.codes == ["UPSTREAM_TIMEOUT"], result.body
        assert elapsed < BOUND  # the upstream would answer after 20 s: the deadline cut it
        assert stub.count("GET") == 1
        await assert_healthy(gateway, stub)


async def test_connection_refused(make_settings: SettingsFactory) -> None:
    port = free_port()  # nothing listens there
    settings = fault_settings(make_settings, f"http://127.0.0.1:{port}")
    async for gateway in start_gateway(settings):
        result, elapsed = await query(gateway)
        assert result.codes == ["UPSTREAM_UNAVAILABLE"], result.body
        assert elapsed < BOUND
        result, elapsed = await mutate(gateway)
        assert result.codes == ["UPSTREAM_UNAVAILABLE"], result.body
        assert elapsed < BOUND
        # The upstream comes up on that port: the same gateway recovers.
        stub = FaultStub(port=port).start()
        try:
            await assert_healthy(gateway, stub)
        finally:
            stub.stop()


async def test_circuit_breaker_opens_fails_fast_and_closes_by_itself(
    make_settings: SettingsFactory, stub: FaultStub
) -> None:
    settings = fault_settings(
        make_settings,
        stub.url,
        max_retries=0,
        breaker_failure_threshold=2,
        # Long enough that a loaded machine cannot half-open the circuit between the
        # failure that opens it and the next call (which must then fail fast).
        breaker_reset_seconds=BREAKER_RESET,
    )
    stub.handler = always(lambda: error_reply(503))
    async for gateway in start_gateway(settings):
        for _ in range(2):
            result, _ = await query(gateway)
            assert result.codes == ["UPSTREAM_UNAVAILABLE"]
        assert stub.count() == 2
        # Open: queries fail fast, nothing sent.
        result, elapsed = await query(gateway)
        assert result.codes == ["UPSTREAM_UNAVAILABLE"]
        assert "paused" in result.errors[0]["message"]
        assert stub.count() == 2
        assert elapsed < BOUND  # a hang guard: "paused" and no call sent prove it failed fast
        # Writes have a circuit of their own (failing reads do not stop them, nor the
        # reverse): two more 503s open it, then mutations fail fast too.
        for _ in range(2):
            result, _ = await mutate(gateway)
            assert result.codes == ["UPSTREAM_UNAVAILABLE"]
        assert stub.count("POST") == 2
        result, _ = await mutate(gateway)
        assert result.codes == ["UPSTREAM_UNAVAILABLE"]
        assert "paused" in result.errors[0]["message"]
        assert stub.count() == 4
        # The upstream recovers; after the reset period the trial call closes the circuit.
        stub.handler = healthy
        await asyncio.sleep(BREAKER_RESET + 0.1)
        await assert_healthy(gateway, stub)
        await assert_healthy(gateway, stub)
        assert stub.count() == 6
        result, _ = await mutate(gateway)
        assert result.errors == [] and result.data["createMessage"]["message"]["text"] == "hello"
        assert stub.count("POST") == 3
