"""Retries: only what is safe, with backoff, honouring Retry-After, within the deadline."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest
import respx

from gateway.upstream import (
    InternalServerError,
    RateLimitError,
    RetryPolicy,
    UpstreamConnectionError,
    UpstreamTimeoutError,
)
from gateway.upstream._retry import parse_retry_after
from tests.upstream.conftest import MakeClient
from tests.upstream.helpers import (
    DELETED_THREAD,
    MESSAGE,
    THREAD,
    FakeClock,
    Records,
    error_envelope,
    open_session,
)


async def test_get_is_retried_on_503_then_succeeds(
    upstream: respx.MockRouter, make_client: MakeClient, clock: FakeClock
) -> None:
    route = upstream.get("/threads/thread_abc")
    route.side_effect = [
        httpx.Response(503, json=error_envelope()),
        httpx.Response(502),
        httpx.Response(200, json=THREAD),
    ]
    records = Records()
    session = open_session(make_client(max_retries=2), observer=records)

    thread = await session.get_thread("thread_abc")

    assert thread["id"] == "thread_abc"
    assert route.call_count == 3
    assert session.calls == 1
    assert session.attempts == 3
    assert [(r.operation, r.status, r.attempts, r.error) for r in records] == [
        ("getThread", 200, 3, None)
    ]
    assert len(clock.sleeps) == 2


async def test_retries_are_bounded_by_max_retries(
    upstream: respx.MockRouter, make_client: MakeClient
) -> None:
    route = upstream.get("/threads/thread_abc").respond(503)
    records = Records()
    session = open_session(make_client(max_retries=2), observer=records)
    with pytest.raises(InternalServerError):
        await session.get_thread("thread_abc")
    assert route.call_count == 3
    assert records[0].attempts == 3
    assert records[0].error == "InternalServerError"
    assert records[0].status == 503


@pytest.mark.parametrize(
    "effect", [httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError, httpx.ConnectError]
)
async def test_delete_is_retried_after_transport_failures(
    upstream: respx.MockRouter, make_client: MakeClient, effect: type[Exception]
) -> None:
    route = upstream.delete("/threads/thread_abc")
    route.side_effect = [effect, httpx.Response(200, json=DELETED_THREAD)]
    session = open_session(make_client())
    assert (await session.delete_thread("thread_abc"))["deleted"] is True
    assert route.call_count == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 501])
async def test_get_is_not_retried_on_other_statuses(
    upstream: respx.MockRouter, make_client: MakeClient, status: int
) -> None:
    route = upstream.get("/threads/thread_abc").respond(status)
    with pytest.raises(Exception):
        await open_session(make_client()).get_thread("thread_abc")
    assert route.call_count == 1


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(503),
        httpx.Response(500),
        httpx.Response(429, headers={"retry-after": "0"}),
        httpx.ReadTimeout("read timed out"),
        httpx.WriteTimeout("write timed out"),
        httpx.ReadError("connection reset"),
        httpx.RemoteProtocolError("server disconnected"),
    ],
    ids=lambda failure: getattr(failure, "status_code", type(failure).__name__),
)
@pytest.mark.parametrize("operation", ["create_thread", "create_message", "modify_thread"])
async def test_post_is_never_retried_once_it_may_have_been_sent(
    upstream: respx.MockRouter, make_client: MakeClient, failure: object, operation: str
) -> None:
    route = upstream.route(method="POST").mock(side_effect=[failure, httpx.Response(200, json={})])
    session = open_session(make_client(max_retries=5))
    call = {
        "create_thread": lambda: session.create_thread({}),
        "create_message": lambda: session.create_message("thread_abc", {"content": "x"}),
        "modify_thread": lambda: session.modify_thread("thread_abc", {"metadata": {}}),
    }[operation]
    with pytest.raises((InternalServerError, RateLimitError, UpstreamTimeoutError,
                        UpstreamConnectionError)):  # fmt: skip
        await call()
    assert route.call_count == 1


@pytest.mark.parametrize("effect", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
async def test_post_is_retried_when_the_connection_was_never_made(
    upstream: respx.MockRouter, make_client: MakeClient, effect: type[Exception]
) -> None:
    route = upstream.post("/threads/thread_abc/messages")
    route.side_effect = [effect, effect, httpx.Response(200, json=MESSAGE)]
    session = open_session(make_client(max_retries=2))

    message = await session.create_message("thread_abc", {"role": "user", "content": "hi"})

    assert message["id"] == "msg_1"
    assert route.call_count == 3
    bodies = {call.request.content for call in route.calls}
    assert bodies == {b'{"role":"user","content":"hi"}'}


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after-ms": "1250"}, 1.25),
    ],
)
async def test_retry_after_is_honoured(
    upstream: respx.MockRouter,
    make_client: MakeClient,
    clock: FakeClock,
    headers: dict[str, str],
    expected: float,
) -> None:
    route = upstream.get("/threads/thread_abc")
    route.side_effect = [httpx.Response(429, headers=headers), httpx.Response(200, json=THREAD)]
    await open_session(make_client(retry_backoff=100.0)).get_thread("thread_abc")
    assert clock.sleeps == [expected]
    assert route.call_count == 2


async def test_backoff_grows_with_full_jitter(
    upstream: respx.MockRouter,
    make_client: MakeClient,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("gateway.upstream._retry.random.random", lambda: 1.0)
    upstream.get("/threads/thread_abc").respond(503)
    with pytest.raises(InternalServerError):
        await open_session(make_client(max_retries=3, retry_backoff=0.5)).get_thread("thread_abc")
    assert clock.sleeps == [0.5, 1.0, 2.0]


def test_retry_policy_delay_is_capped_and_jittered() -> None:
    policy = RetryPolicy(max_retries=10, backoff=1.0, max_backoff=8.0)
    assert [policy.delay(n, rand=lambda: 1.0) for n in range(6)] == [1, 2, 4, 8, 8, 8]
    assert policy.delay(2, rand=lambda: 0.25) == 1.0
    assert policy.delay(0, rand=lambda: 0.0) == 0.0
    assert RetryPolicy(backoff=0.0).delay(5) == 0.0


def test_parse_retry_after_http_date() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(datetime(2026, 1, 1, 12, 0, 30, tzinfo=UTC), usegmt=True)
    earlier = format_datetime(datetime(2026, 1, 1, 11, 0, 0, tzinfo=UTC), usegmt=True)
    assert parse_retry_after(httpx.Headers({"retry-after": later}), now.timestamp) == 30.0
    assert parse_retry_after(httpx.Headers({"retry-after": earlier}), now.timestamp) == 0.0
    naive = "Thu, 01 Jan 2026 12:00:10 -0000"
    assert parse_retry_after(httpx.Headers({"retry-after": naive}), now.timestamp) == 10.0


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "", "tomorrow", "Mon, 99 Foo 2026"])
def test_parse_retry_after_ignores_nonsense(value: str) -> None:
    assert parse_retry_after(httpx.Headers({"retry-after": value})) is None
    assert parse_retry_after(httpx.Headers({"retry-after-ms": value})) is None


# --- the deadline ---------------------------------------------------------------------


async def test_a_retry_after_past_the_deadline_is_not_waited_for(
    upstream: respx.MockRouter, make_client: MakeClient, clock: FakeClock
) -> None:
    route = upstream.get("/threads/thread_abc").respond(429, headers={"retry-after": "5"})
    session = open_session(make_client(max_retries=5), deadline=2.0)
    with pytest.raises(RateLimitError) as caught:
        await session.get_thread("thread_abc")
    assert caught.value.retry_after == 5.0
    assert route.call_count == 1
    assert clock.sleeps == []


async def test_retries_stop_at_the_deadline(
    upstream: respx.MockRouter, make_client: MakeClient, clock: FakeClock
) -> None:
    route = upstream.get("/threads/thread_abc").respond(503, headers={"retry-after": "1"})
    session = open_session(make_client(max_retries=10), deadline=3.5)
    with pytest.raises(InternalServerError):
        await session.get_thread("thread_abc")
    assert clock.sleeps == [1.0, 1.0, 1.0]
    assert route.call_count == 4
    assert session.remaining > 0  # it gave up early instead of sleeping past the deadline


async def test_no_attempt_starts_past_the_deadline(
    upstream: respx.MockRouter, make_client: MakeClient, clock: FakeClock
) -> None:
    route = upstream.get("/threads/thread_abc").respond(200, json=THREAD)
    records = Records()
    session = open_session(make_client(), deadline=1.0, observer=records)
    clock.advance(1.0)
    with pytest.raises(UpstreamTimeoutError, match="deadline"):
        await session.get_thread("thread_abc")
    assert route.call_count == 0
    assert records[0].attempts == 0
    assert records[0].error == "UpstreamTimeoutError"


async def test_a_slow_upstream_is_cut_at_the_deadline(
    upstream: respx.MockRouter, make_client: MakeClient
) -> None:
    started_requests = 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal started_requests
        started_requests += 1
        await asyncio.sleep(10)
        return httpx.Response(200, json=THREAD)

    upstream.get("/threads/thread_abc").mock(side_effect=slow)
    client = make_client()
    # The attempt is bounded by asyncio, whatever the transport does about timeouts.
    session = open_session(client, deadline=0.1)
    started = asyncio.get_running_loop().time()
    with pytest.raises(UpstreamTimeoutError, match="deadline"):
        await session.get_thread("thread_abc")
    assert asyncio.get_running_loop().time() - started < 1.0
    assert started_requests == 1
    assert client.breaker.consecutive_failures == 0  # our deadline, not the upstream's failure


async def test_a_read_timeout_before_the_deadline_is_retried_for_get(
    upstream: respx.MockRouter, make_client: MakeClient
) -> None:
    calls = 0

    async def slow_once(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.sleep(10)
        return httpx.Response(200, json=THREAD)

    upstream.get("/threads/thread_abc").mock(side_effect=slow_once)
    session = open_session(make_client(read_timeout=0.05), deadline=30.0)
    assert (await session.get_thread("thread_abc"))["id"] == "thread_abc"
    assert session.attempts == 2
