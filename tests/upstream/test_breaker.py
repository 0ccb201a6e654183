"""The app-wide circuit breaker, alone (fake clock) and in front of the upstream."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx

from gateway.upstream import (
    CircuitBreaker,
    CircuitOpenError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    UpstreamConnectionError,
    UpstreamTimeoutError,
)
from tests.upstream.conftest import MakeClient
from tests.upstream.helpers import THREAD, FakeClock, Records, open_session

# --- the state machine ------------------------------------------------------------------


def test_opens_after_threshold_consecutive_failures(clock: FakeClock) -> None:
    breaker = CircuitBreaker(3, 10.0, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state == "closed"
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state == "open"
    assert not breaker.allow()


def test_a_success_resets_the_count(clock: FakeClock) -> None:
    breaker = CircuitBreaker(2, 10.0, clock=clock)
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state == "closed"
    assert breaker.consecutive_failures == 1


def test_half_open_lets_one_trial_through_and_success_closes(clock: FakeClock) -> None:
    breaker = CircuitBreaker(1, 10.0, clock=clock)
    breaker.record_failure()
    clock.advance(9.99)
    assert breaker.state == "open"
    assert not breaker.allow()
    clock.advance(0.01)
    assert breaker.state == "half_open"
    assert breaker.allow()  # the trial
    assert not breaker.allow()  # everyone else still fails fast
    breaker.record_success()
    assert breaker.state == "closed"
    assert breaker.allow()
    assert breaker.allow()


def test_a_failed_trial_reopens_for_another_period(clock: FakeClock) -> None:
    breaker = CircuitBreaker(1, 10.0, clock=clock)
    breaker.record_failure()
    clock.advance(10)
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state == "open"
    clock.advance(5)
    assert not breaker.allow()
    clock.advance(5)
    assert breaker.allow()


def test_a_released_trial_lets_another_through(clock: FakeClock) -> None:
    breaker = CircuitBreaker(1, 10.0, clock=clock)
    breaker.record_failure()
    clock.advance(10)
    assert breaker.allow()
    assert not breaker.allow()
    breaker.release()
    assert breaker.allow()


def test_late_results_while_open_are_ignored(clock: FakeClock) -> None:
    breaker = CircuitBreaker(1, 10.0, clock=clock)
    breaker.record_failure()
    breaker.record_success()
    assert breaker.state == "open"
    clock.advance(5)
    breaker.record_failure()  # does not restart the period
    clock.advance(5)
    assert breaker.state == "half_open"


@pytest.mark.parametrize(("threshold", "reset"), [(0, 1.0), (1, 0.0)])
def test_rejects_nonsense_settings(threshold: int, reset: float) -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(threshold, reset)


# --- in front of the upstream ------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [httpx.Response(503), httpx.Response(500), httpx.ConnectError, httpx.ReadTimeout],
    ids=["503", "500", "ConnectError", "ReadTimeout"],
)
async def test_failures_open_the_circuit_and_calls_then_fail_fast(
    upstream: respx.MockRouter, make_client: MakeClient, clock: FakeClock, failure: object
) -> None:
    breaker = CircuitBreaker(2, 30.0, clock=clock)
    route = upstream.get("/threads/thread_abc").mock(side_effect=[failure, failure])
    records = Records()
    session = open_session(make_client(max_retries=0, breaker=breaker), observer=records)

    for _ in range(2):
        with pytest.raises((InternalServerError, UpstreamConnectionError, UpstreamTimeoutError)):
            await session.get_thread("thread_abc")
    assert breaker.state == "open"

    with pytest.raises(CircuitOpenError) as caught:
        await session.get_thread("thread_abc")
    assert route.call_count == 2
    assert caught.value.operation == "getThread"
    assert records[-1].attempts == 0
    assert records[-1].error == "CircuitOpenError"


async def test_half_open_trial_success_closes_the_circuit(
    upstream: respx.MockRouter, make_client: MakeClient, clock: FakeClock
) -> None:
    breaker = CircuitBreaker(1, 30.0, clock=clock)
    route = upstream.get("/threads/thread_abc")
    route.side_effect = [httpx.Response(503), httpx.Response(200, json=THREAD)]
    session = open_session(make_client(max_retries=0, breaker=breaker), deadline=1000)

    with pytest.raises(InternalServerError):
        await session.get_thread("thread_abc")
    with pytest.raises(CircuitOpenError):
        await session.get_thread("thread_abc")
    clock.advance(30)
    assert breaker.state == "half_open"
    assert (await session.get_thread("thread_abc"))["id"] == "thread_abc"
    assert breaker.state == "closed"
    assert route.call_count == 2


async def test_only_one_trial_is_in_flight_while_half_open(
    upstream: respx.MockRouter, make_client: MakeClient, clock: FakeClock
) -> None:
    breaker = CircuitBreaker(1, 30.0, clock=clock)
    breaker.record_failure()
    clock.advance(30)

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.02)
        return httpx.Response(200, json=THREAD)

    upstream.get("/threads/thread_abc").mock(side_effect=slow)
    session = open_session(make_client(breaker=breaker))
    results = await asyncio.gather(
        *(session.get_thread("thread_abc") for _ in range(3)), return_exceptions=True
    )
    assert sum(isinstance(r, dict) for r in results) == 1
    assert sum(isinstance(r, CircuitOpenError) for r in results) == 2
    assert breaker.state == "closed"


@pytest.mark.parametrize("status", [400, 401, 404, 409, 429])
async def test_client_errors_do_not_open_the_circuit(
    upstream: respx.MockRouter, make_client: MakeClient, clock: FakeClock, status: int
) -> None:
    breaker = CircuitBreaker(1, 30.0, clock=clock)
    upstream.get("/threads/thread_abc").respond(status)
    session = open_session(make_client(max_retries=0, breaker=breaker))
    for _ in range(3):
        with pytest.raises((NotFoundError, RateLimitError, Exception)):
            await session.get_thread("thread_abc")
    assert breaker.state == "closed"


async def test_a_retry_that_meets_an_open_circuit_reports_the_real_failure(
    upstream: respx.MockRouter, make_client: MakeClient, clock: FakeClock
) -> None:
    breaker = CircuitBreaker(1, 30.0, clock=clock)
    route = upstream.get("/threads/thread_abc").respond(503)
    session = open_session(make_client(max_retries=3, breaker=breaker))
    with pytest.raises(InternalServerError):
        await session.get_thread("thread_abc")
    assert route.call_count == 1
    assert breaker.state == "open"


async def test_the_breaker_is_shared_by_all_sessions_of_a_client(
    upstream: respx.MockRouter, make_client: MakeClient, clock: FakeClock
) -> None:
    breaker = CircuitBreaker(1, 30.0, clock=clock)
    upstream.get("/threads/thread_abc").respond(502)
    client = make_client(max_retries=0, breaker=breaker)
    with pytest.raises(InternalServerError):
        await open_session(client).get_thread("thread_abc")
    with pytest.raises(CircuitOpenError):
        await open_session(client).get_thread("thread_abc")
    assert client.breaker is breaker


# --- reads and writes have their own circuits ------------------------------------------


async def test_failing_writes_do_not_stop_reads(
    upstream: respx.MockRouter, make_client: MakeClient, clock: FakeClock
) -> None:
    """A store whose disk is full fails every write with a 500: reads must go on."""
    breaker = CircuitBreaker(2, 30.0, clock=clock)
    client = make_client(max_retries=0, breaker=breaker)
    full = upstream.post("/threads/thread_abc/messages").respond(
        500, json={"error": {"message": "database or disk is full", "type": "server_error"}}
    )
    deletes = upstream.delete("/threads/thread_abc").respond(500)
    reads = upstream.get("/threads/thread_abc").respond(200, json=THREAD)
    session = open_session(client)
    for _ in range(2):
        with pytest.raises(InternalServerError):
            await session.create_message("thread_abc", {"role": "user", "content": "hi"})
    assert client.write_breaker.state == "open"
    assert breaker.state == "closed"
    # Writes now fail fast, without a request; DELETE is a write too.
    with pytest.raises(CircuitOpenError):
        await session.create_message("thread_abc", {"role": "user", "content": "hi"})
    with pytest.raises(CircuitOpenError):
        await session.delete_thread("thread_abc")
    assert full.call_count == 2
    assert deletes.call_count == 0
    # Reads still reach the upstream, every one of them.
    for _ in range(3):
        assert (await session.get_thread("thread_abc"))["id"] == "thread_abc"
    assert reads.call_count == 3
    assert breaker.state == "closed"


async def test_failing_reads_do_not_stop_writes(
    upstream: respx.MockRouter, make_client: MakeClient, clock: FakeClock
) -> None:
    breaker = CircuitBreaker(1, 30.0, clock=clock)
    client = make_client(max_retries=0, breaker=breaker)
    reads = upstream.get("/threads/thread_abc").respond(503)
    writes = upstream.post("/threads").respond(200, json=THREAD)
    session = open_session(client)
    with pytest.raises(InternalServerError):
        await session.get_thread("thread_abc")
    with pytest.raises(CircuitOpenError):
        await session.get_thread("thread_abc")
    assert reads.call_count == 1
    assert (await session.create_thread({}))["id"] == "thread_abc"
    assert writes.call_count == 1
    assert client.write_breaker.state == "closed"


def test_the_write_circuit_is_a_twin_of_the_read_circuit(clock: FakeClock) -> None:
    breaker = CircuitBreaker(4, 12.0, clock=clock)
    twin = breaker.twin()
    assert twin is not breaker
    assert (twin.failure_threshold, twin.reset_seconds, twin.state) == (4, 12.0, "closed")
    for _ in range(4):
        twin.record_failure()
    assert twin.state == "open"
    clock.advance(12.0)  # the same clock
    assert twin.state == "half_open"
    assert breaker.state == "closed"
