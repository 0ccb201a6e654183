"""``AiohttpTransport`` against raw loopback servers: bytes on the wire, the pool, and
every failure translated into the httpx exception ``_retry`` decides by."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy

import httpx
import pytest

from gateway.upstream._retry import never_sent, transient
from gateway.upstream._transport import AiohttpTransport, environment_proxy
from tests.store.server import free_port

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, "Raw"], Awaitable[None]]


@dataclass
class Raw:
    """A loopback TCP server running ``handler`` per connection; it counts both."""

    handler: Handler
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.handler(reader, writer, self)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the client hung up, or the test is over (a silent handler still sleeping)
        finally:
            writer.close()

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        request = head + (await reader.readexactly(length) if length else b"")
        self.requests.append(request)
        return request


@pytest.fixture
async def raw() -> AsyncIterator[Callable[[Handler], Awaitable[Raw]]]:
    started: list[Raw] = []

    async def start(handler: Handler) -> Raw:
        server = Raw(handler)
        server.server = await asyncio.start_server(server._connection, "127.0.0.1", 0)
        started.append(server)
        return server

    yield start
    for server in started:
        assert server.server is not None
        server.server.close()
        await server.server.wait_closed()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    transport = AiohttpTransport(limits=httpx.Limits(max_connections=4, keepalive_expiry=30))
    async with httpx.AsyncClient(
        transport=transport, timeout=httpx.Timeout(2.0), headers={"User-Agent": "test-agent"}
    ) as client:
        yield client


def answer(body: bytes = b'{"ok": true}', *, extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + extra
        + b"Content-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


async def keep_answering(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, s: Raw
) -> None:
    while True:
        await s.read_request(reader)
        writer.write(answer())
        await writer.drain()


async def test_the_request_is_sent_as_httpx_built_it(
    raw: Callable[[Handler], Awaitable[Raw]], http: httpx.AsyncClient
) -> None:
    server = await raw(keep_answering)
    response = await http.post(
        server.url + "/v1/threads/thread_a%2Fb/messages?limit=20&after=msg_1",
        json={"content": "héllo"},
        headers={"Authorization": "Bearer sk-x"},
    )
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    request = server.requests[0]
    head, _, body = request.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /v1/threads/thread_a%2Fb/messages?limit=20&after=msg_1 HTTP/1.1"
    names = [line.split(b":", 1)[0].lower() for line in lines[1:]]
    # Each header once, none added by aiohttp (its own User-Agent, a second Accept...).
    assert sorted(names) == sorted(
        [
            b"host",
            b"accept",
            b"accept-encoding",
            b"connection",
            b"user-agent",
            b"authorization",
            b"content-length",
            b"content-type",
        ]
    )
    assert b"User-Agent: test-agent" in lines
    assert b"Authorization: Bearer sk-x" in lines
    assert body == '{"content":"héllo"}'.encode()


async def test_the_answer_arrives_raw_with_every_header(
    raw: Callable[[Handler], Awaitable[Raw]], http: httpx.AsyncClient
) -> None:
    compressed = gzip.compress(b'{"a": 1}')

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, s: Raw) -> None:
        await s.read_request(reader)
        writer.write(
            answer(compressed, extra=b"Content-Encoding: gzip\r\nX-Two: 1\r\nX-Two: 2\r\n")
        )
        await writer.drain()

    server = await raw(handler)
    async with http.stream("GET", server.url + "/v1/x") as response:
        raw_body = b"".join([chunk async for chunk in response.aiter_raw()])
    # Not decompressed below httpx: the session's bounded reader inflates (``_body``).
    assert raw_body == compressed
    assert response.headers.get_list("x-two") == ["1", "2"]
    assert response.reason_phrase == "OK"
    assert response.http_version == "HTTP/1.1"


async def test_connections_are_kept_alive_and_reused(
    raw: Callable[[Handler], Awaitable[Raw]], http: httpx.AsyncClient
) -> None:
    server = await raw(keep_answering)
    for _ in range(5):
        assert (await http.get(server.url + "/v1/x")).status_code == 200
    assert len(server.requests) == 5
    assert server.connections == 1


async def test_a_body_left_unread_takes_its_connection_with_it(
    raw: Callable[[Handler], Awaitable[Raw]], http: httpx.AsyncClient
) -> None:
    big = b"x" * 1_000_000
    server = await raw(lambda reader, writer, s: _answer_each(reader, writer, s, answer(big)))
    async with http.stream("GET", server.url + "/v1/x") as response:
        async for _chunk in response.aiter_raw():
            break  # stop early, as the session does past its size limit
    assert (await http.get(server.url + "/v1/x")).status_code == 200
    assert server.connections == 2  # the half-read connection was not pooled


async def _answer_each(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, s: Raw, payload: bytes
) -> None:
    while True:
        await s.read_request(reader)
        writer.write(payload)
        await writer.drain()


async def test_cookies_are_never_kept(
    raw: Callable[[Handler], Awaitable[Raw]], http: httpx.AsyncClient
) -> None:
    server = await raw(
        lambda r, w, s: _answer_each(r, w, s, answer(extra=b"Set-Cookie: session=abc\r\n"))
    )
    # httpx's own jar is off, as ``UpstreamClient`` sets it: nothing below keeps one either.
    http.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    await http.get(server.url + "/v1/x")
    await http.get(server.url + "/v1/x")
    assert len(server.requests) == 2
    assert b"cookie:" not in server.requests[1].lower()


# --- failures ------------------------------------------------------------------------


async def test_refused_is_a_connect_error_never_sent(http: httpx.AsyncClient) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1/x"
    with pytest.raises(httpx.ConnectError) as caught:
        await http.post(url, json={})
    assert never_sent(caught.value)
    assert "127.0.0.1" not in str(caught.value)  # aiohttp's text names the host: not ours


async def test_waiting_for_a_pooled_connection_is_a_connect_timeout(
    raw: Callable[[Handler], Awaitable[Raw]],
) -> None:
    release = asyncio.Event()

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, s: Raw) -> None:
        await s.read_request(reader)
        await release.wait()
        writer.write(answer())
        await writer.drain()

    server = await raw(slow)
    transport = AiohttpTransport(limits=httpx.Limits(max_connections=1))
    timeout = httpx.Timeout(5.0, connect=0.1, pool=0.1)  # aiohttp: 0.2 s to get a connection
    async with httpx.AsyncClient(transport=transport, timeout=timeout) as client:
        first = asyncio.create_task(client.get(server.url + "/v1/first"))
        while not server.requests:
            await asyncio.sleep(0.01)
        with pytest.raises(httpx.ConnectTimeout) as caught:
            await client.post(server.url + "/v1/second", json={})
        assert never_sent(caught.value)
        release.set()
        assert (await first).status_code == 200
    assert len(server.requests) == 1  # the second never left


async def test_no_answer_in_time_is_a_read_timeout(
    raw: Callable[[Handler], Awaitable[Raw]],
) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, s: Raw) -> None:
        await s.read_request(reader)
        await asyncio.sleep(30)

    server = await raw(silent)
    transport = AiohttpTransport(limits=httpx.Limits(max_connections=2))
    async with httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(0.3)) as client:
        started = asyncio.get_running_loop().time()
        with pytest.raises(httpx.ReadTimeout) as caught:
            await client.get(server.url + "/v1/x")
        assert asyncio.get_running_loop().time() - started < 5
    assert not never_sent(caught.value)
    assert transient(caught.value)
    assert len(server.requests) == 1


async def test_a_hang_up_after_the_request_may_have_been_applied(
    raw: Callable[[Handler], Awaitable[Raw]], http: httpx.AsyncClient
) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, s: Raw) -> None:
        await s.read_request(reader)
        writer.transport.abort()

    server = await raw(hang_up)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)) as caught:
        await http.post(server.url + "/v1/threads", json={})
    assert not never_sent(caught.value)  # a POST must not be sent again
    assert transient(caught.value)
    assert len(server.requests) == 1


async def test_a_kept_alive_connection_closed_under_a_get_is_not_retried_below_the_session(
    raw: Callable[[Handler], Awaitable[Raw]], http: httpx.AsyncClient
) -> None:
    """aiohttp would resend an idempotent request once by itself: here it must not, so
    that the session's policy counts and bounds every attempt."""

    async def once_then_hang_up(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, s: Raw
    ) -> None:
        await s.read_request(reader)
        writer.write(answer())
        await writer.drain()
        await s.read_request(reader)
        writer.transport.abort()

    server = await raw(once_then_hang_up)
    assert (await http.get(server.url + "/v1/a")).status_code == 200
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        await http.get(server.url + "/v1/b")
    assert len(server.requests) == 2
    assert server.connections == 1


async def test_a_truncated_body_is_a_protocol_error(
    raw: Callable[[Handler], Awaitable[Raw]], http: httpx.AsyncClient
) -> None:
    async def truncated(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, s: Raw) -> None:
        await s.read_request(reader)
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{"id": ')
        await writer.drain()
        writer.transport.abort()

    server = await raw(truncated)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)) as caught:
        async with http.stream("GET", server.url + "/v1/x") as response:
            [chunk async for chunk in response.aiter_raw()]
    assert transient(caught.value)
    assert not never_sent(caught.value)


async def test_a_malformed_answer_is_a_protocol_error(
    raw: Callable[[Handler], Awaitable[Raw]], http: httpx.AsyncClient
) -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, s: Raw) -> None:
        await s.read_request(reader)
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        await writer.drain()

    server = await raw(garbage)
    with pytest.raises(httpx.RemoteProtocolError) as caught:
        await http.get(server.url + "/v1/x")
    assert not never_sent(caught.value)
    assert len(server.requests) == 1


# --- proxies -------------------------------------------------------------------------


@pytest.fixture
def no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy variable of the developer's or the CI's own; tests set theirs."""
    for name in ("http_proxy", "https_proxy", "no_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


def test_the_environment_names_the_proxy_unless_the_host_is_bypassed(
    no_proxy_environment: pytest.MonkeyPatch,
) -> None:
    monkeypatch = no_proxy_environment
    assert environment_proxy("https://api.example.com/v1") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert environment_proxy("https://api.example.com/v1") == "http://proxy.internal:3128"
    assert environment_proxy("http://api.example.com/v1") is None
    monkeypatch.setenv("NO_PROXY", "example.com")
    assert environment_proxy("https://api.example.com/v1") is None
    monkeypatch.delenv("NO_PROXY")
    # As httpx reads them: no scheme means http://, ALL_PROXY for any scheme.
    monkeypatch.setenv("HTTPS_PROXY", "proxy.internal:3128")
    assert environment_proxy("https://api.example.com/v1") == "http://proxy.internal:3128"
    monkeypatch.setenv("ALL_PROXY", "http://all.internal:8080")
    assert environment_proxy("http://api.example.com/v1") == "http://all.internal:8080"


def test_a_proxy_it_cannot_use_is_refused_without_repeating_it(
    no_proxy_environment: pytest.MonkeyPatch,
) -> None:
    monkeypatch = no_proxy_environment
    monkeypatch.setenv("HTTPS_PROXY", "socks5://user:s3cret@proxy.internal:1080")
    with pytest.raises(ValueError, match="UPSTREAM_TRANSPORT=httpx") as caught:
        environment_proxy("https://api.example.com/v1")
    assert "s3cret" not in str(caught.value)


async def test_a_proxy_refusing_the_tunnel_is_a_proxy_error_not_retried(
    raw: Callable[[Handler], Awaitable[Raw]],
) -> None:
    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, s: Raw) -> None:
        await s.read_request(reader)
        writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    proxy = await raw(refuse)
    transport = AiohttpTransport(limits=httpx.Limits(max_connections=2), proxy=proxy.url)
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx.ProxyError) as caught:
            await client.get("https://upstream.invalid/v1/threads/thread_a")
    assert proxy.requests[0].startswith(b"CONNECT upstream.invalid:443 HTTP/1.1\r\n")
    assert not transient(caught.value)  # a configuration fault: not retried


async def test_requests_go_through_the_proxy_given(
    raw: Callable[[Handler], Awaitable[Raw]],
) -> None:
    proxy = await raw(keep_answering)
    transport = AiohttpTransport(limits=httpx.Limits(max_connections=2), proxy=proxy.url)
    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.get("http://upstream.invalid/v1/threads/thread_a")
    assert response.status_code == 200
    assert proxy.requests[0].startswith(
        b"GET http://upstream.invalid/v1/threads/thread_a HTTP/1.1\r\n"
    )
