"""Fixtures of the upstream client tests: a fake clock, respx at ``UPSTREAM``, a client factory."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest
import respx

from gateway.upstream import CircuitBreaker, UpstreamClient
from tests.upstream.helpers import SERVER_KEY, UPSTREAM, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def upstream() -> Iterator[respx.MockRouter]:
    """respx mocking every request to ``UPSTREAM``; unmatched requests fail the test."""
    with respx.mock(base_url=UPSTREAM, assert_all_called=False) as router:
        yield router


MakeClient = Callable[..., UpstreamClient]


@pytest.fixture(scope="session")
def tls() -> ssl.SSLContext:
    """One TLS context for all test clients: building one per client costs ~60 ms."""
    return httpx.create_ssl_context()


@pytest.fixture
async def make_client(clock: FakeClock, tls: ssl.SSLContext) -> AsyncIterator[MakeClient]:
    """Build a remote ``UpstreamClient`` on the fake clock and sleep; closed after the test."""
    clients: list[UpstreamClient] = []

    def factory(
        *,
        api_key: str | None = SERVER_KEY,
        requires_key: bool = True,
        max_retries: int = 2,
        retry_backoff: float = 0.0,
        read_timeout: float = 5.0,
        breaker: CircuitBreaker | None = None,
        base_url: str = UPSTREAM,
    ) -> UpstreamClient:
        client = UpstreamClient(
            httpx.AsyncClient(verify=tls, follow_redirects=False),
            base_url=base_url,
            api_key=api_key,
            requires_key=requires_key,
            max_retries=max_retries,
            retry_backoff=retry_backoff,
            read_timeout=read_timeout,
            breaker=breaker or CircuitBreaker(100, 10.0, clock=clock),
            sleep=clock.sleep,
            clock=clock,
        )
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.aclose()
