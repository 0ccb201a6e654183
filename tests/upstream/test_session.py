"""Per-operation limits and accounting: call budget, concurrency cap, observer records."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx

from gateway.upstream import (
    CallRecord,
    CircuitBreaker,
    NotFoundError,
    UpstreamCallLimitError,
    UpstreamClient,
    UpstreamConnectionError,
)
from tests.upstream.conftest import MakeClient
from tests.upstream.helpers import MESSAGE, THREAD, Records, open_session


async def test_the_call_budget_refuses_the_call_past_it_without_sending(
    upstream: respx.MockRouter, make_client: MakeClient
) -> None:
    route = upstream.get("/threads/thread_abc").respond(200, json=THREAD)
    records = Records()
    session = open_session(make_client(), max_calls=2, observer=records)
    await session.get_thread("thread_abc")
    await session.get_thread("thread_abc")
    with pytest.raises(UpstreamCallLimitError) as caught:
        await session.get_thread("thread_abc")
    assert route.call_count == 2
    assert session.calls == 2
    assert caught.value.operation == "getThread"
    assert len(records) == 2  # the refused call was never made


async def test_retries_do_not_spend_the_call_budget(
    upstream: respx.MockRouter, make_client: MakeClient
) -> None:
    route = upstream.get("/threads/thread_abc")
    route.side_effect = [httpx.Response(503), httpx.Response(200, json=THREAD)]
    session = open_session(make_client(), max_calls=1)
    await session.get_thread("thread_abc")
    assert (session.calls, session.attempts) == (1, 2)


async def test_failed_calls_spend_the_budget(
    upstream: respx.MockRouter, make_client: MakeClient
) -> None:
    upstream.get("/threads/thread_abc").respond(404)
    session = open_session(make_client(), max_calls=1)
    with pytest.raises(NotFoundError):
        await session.get_thread("thread_abc")
    with pytest.raises(UpstreamCallLimitError):
        await session.get_thread("thread_abc")


@pytest.mark.parametrize(("cap", "calls"), [(1, 4), (3, 9), (8, 8)])
async def test_concurrency_is_capped_per_session(
    upstream: respx.MockRouter, make_client: MakeClient, cap: int, calls: int
) -> None:
    in_upstream = 0
    most_in_upstream = 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_upstream, most_in_upstream
        in_upstream += 1
        most_in_upstream = max(most_in_upstream, in_upstream)
        await asyncio.sleep(0.02)
        in_upstream -= 1
        return httpx.Response(200, json=THREAD)

    upstream.get("/threads/thread_abc").mock(side_effect=slow)
    session = open_session(make_client(), concurrency=cap)

    results = await asyncio.gather(*(session.get_thread("thread_abc") for _ in range(calls)))

    assert len(results) == calls
    assert most_in_upstream == cap  # capped, and the calls did overlap up to the cap
    assert session.max_in_flight == cap
    assert session.in_flight == 0


async def test_sessions_do_not_share_their_cap(
    upstream: respx.MockRouter, make_client: MakeClient
) -> None:
    in_upstream = 0
    most_in_upstream = 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_upstream, most_in_upstream
        in_upstream += 1
        most_in_upstream = max(most_in_upstream, in_upstream)
        await asyncio.sleep(0.02)
        in_upstream -= 1
        return httpx.Response(200, json=THREAD)

    upstream.get("/threads/thread_abc").mock(side_effect=slow)
    client = make_client()
    first, second = open_session(client, concurrency=2), open_session(client, concurrency=2)
    await asyncio.gather(
        *(session.get_thread("thread_abc") for session in (first, second) for _ in range(4))
    )
    assert most_in_upstream == 4
    assert first.max_in_flight == second.max_in_flight == 2


async def test_the_observer_sees_every_logical_call(
    upstream: respx.MockRouter, make_client: MakeClient
) -> None:
    upstream.get("/threads/thread_ok").respond(200, json=THREAD)
    upstream.get("/threads/thread_gone").respond(404)
    upstream.get("/threads/thread_down").mock(side_effect=httpx.ConnectError)
    records = Records()
    session = open_session(make_client(max_retries=1), observer=records)

    await session.get_thread("thread_ok")
    with pytest.raises(NotFoundError):
        await session.get_thread("thread_gone")
    with pytest.raises(UpstreamConnectionError):
        await session.get_thread("thread_down")

    assert [(r.operation, r.status, r.attempts, r.error) for r in records] == [
        ("getThread", 200, 1, None),
        ("getThread", 404, 1, "NotFoundError"),
        ("getThread", None, 2, "UpstreamConnectionError"),
    ]
    assert all(isinstance(r, CallRecord) and r.seconds >= 0 for r in records)


async def test_a_failing_observer_does_not_fail_the_call(
    upstream: respx.MockRouter, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    upstream.get("/threads/thread_abc").respond(200, json=THREAD)

    def broken(record: CallRecord) -> None:
        raise RuntimeError("metrics are down")

    session = make_client().session(
        caller_token=None,
        request_id="r1",
        max_calls=5,
        concurrency=1,
        deadline=5.0,
        observer=broken,
    )
    assert (await session.get_thread("thread_abc"))["id"] == "thread_abc"
    assert "observer failed" in caplog.text


def test_call_records_are_small_immutable_values() -> None:
    record = CallRecord("getThread", 200, 0.01, 1)
    assert record.error is None
    with pytest.raises(AttributeError):
        record.status = 500  # type: ignore[misc]


async def test_requests_are_the_ones_build_request_would_build(
    upstream: respx.MockRouter, make_client: MakeClient
) -> None:
    """Built directly (``UpstreamSession._request``): same method, URL, headers in the
    same order, body and timeout as httpx's ``build_request`` merging the client's."""
    read = upstream.get("/threads/thread_abc").respond(200, json=THREAD)
    write = upstream.post("/threads/thread_abc/messages").respond(200, json=MESSAGE)
    client = make_client()
    client._http.headers["X-Client-Wide"] = "kept"
    session = open_session(client, caller_token="caller-token")
    await session.get_thread("thread_abc")
    await session.create_message("thread_abc", {"role": "user", "content": "hi"})
    await session.get_thread("thread_abc")
    assert (read.call_count, write.call_count) == (2, 1)
    sent = [read.calls[0].request, write.calls[0].request, read.calls[1].request]
    for request in sent:
        has_body = request.method == "POST"
        built = client._http.build_request(
            request.method,
            str(request.url),
            headers=session._body_headers if has_body else session._headers,
            content=request.content if has_body else None,
        )
        assert (request.method, request.url) == (built.method, built.url)
        assert request.headers.multi_items() == built.headers.multi_items()
        assert request.content == built.content
        assert request.extensions["timeout"] == built.extensions["timeout"]
    assert sent[0].headers["x-client-wide"] == "kept"
    assert sent[1].headers["content-type"] == "application/json"


async def test_a_client_carrying_query_parameters_is_refused() -> None:
    async with httpx.AsyncClient(params={"api-version": "1"}) as http:
        with pytest.raises(ValueError, match="query parameters"):
            UpstreamClient(
                http,
                base_url="http://upstream.test/v1",
                api_key=None,
                requires_key=False,
                max_retries=0,
                retry_backoff=0.0,
                read_timeout=1.0,
                breaker=CircuitBreaker(5, 10.0),
            )
