"""Bounded upstream answers (``_body``): an endless body and a gzip bomb cost a bounded amount.

A real HTTP upstream on loopback (``tests.resilience.stub.FaultStub``) streams the
answers: over real TCP, httpx reads what the socket delivers, so a client that
buffered the whole body would really hold it. Memory is measured with
``tracemalloc`` (every Python allocation, both threads: zlib's output is Python
bytes), and the stub counts what it managed to send before the client hung up.
The bodies are valid JSON once complete, so a client without the bound would
succeed (as 0.1 did) instead of failing for another reason.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import json
import subprocess
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.upstream import (
    InternalServerError,
    NotFoundError,
    UpstreamClient,
    UpstreamResponseError,
)
from gateway.upstream._body import DEFAULT_MAX_RESPONSE_BYTES
from gateway.upstream._breaker import CircuitBreaker
from gateway.upstream._transport import AiohttpTransport
from tests.resilience.stub import FaultStub, Reply, Seen, respond
from tests.store.server import SERVE_COMMAND, free_port, server_env
from tests.upstream.helpers import THREAD, open_session

LIMIT = 8 * 1024 * 1024
MEMORY_BOUND = 64 * 1024 * 1024  # generous: the limit, one copy of it, buffers
BOMB_DECODED = 1024 * 1024 * 1024  # 1 GiB of JSON whitespace, ~1 MB of gzip
ENDLESS_CAP = 1024 * 1024 * 1024  # the "endless" body ends after 1 GiB (so 0.1 fails, not hangs)
CHUNK = 64 * 1024


def _thread_head() -> bytes:
    return json.dumps(THREAD)[:-1].encode() + b', "padding": "'


@functools.cache
def gzip_bomb() -> bytes:
    """A gzip body of ~1 MB inflating to 1 GiB: a thread object with 1 GiB of spaces in it."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    parts = [compressor.compress(json.dumps(THREAD)[:-1].encode() + b",")]
    block = b" " * (1024 * 1024)
    parts += [compressor.compress(block) for _ in range(BOMB_DECODED // len(block))]
    parts.append(compressor.compress(b'"padding": null}'))
    parts.append(compressor.flush())
    return b"".join(parts)


class Endless:
    """A chunked 200 that keeps streaming until the client hangs up (or ``ENDLESS_CAP``)."""

    def __init__(self) -> None:
        self.sent = 0
        self.hung_up = asyncio.Event()
        self.finished = False

    def __call__(self, _seen: Seen) -> Reply:
        async def reply(writer: asyncio.StreamWriter) -> bool:
            head = (
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
            )
            chunk = b"a" * CHUNK
            framed = b"%x\r\n%s\r\n" % (len(chunk), chunk)
            try:
                start = _thread_head()
                writer.write(head + b"%x\r\n%s\r\n" % (len(start), start))
                while self.sent < ENDLESS_CAP:
                    writer.write(framed)
                    await writer.drain()
                    self.sent += len(chunk)
                tail = b'"}'
                writer.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(tail), tail))
                await writer.drain()
                self.finished = True
            except ConnectionError:
                return False
            return False

        return reply


@pytest.fixture
def stub() -> Iterator[FaultStub]:
    server = FaultStub().start()
    yield server
    server.stop()


@pytest.fixture(params=["httpx", "aiohttp"])
async def client(stub: FaultStub, request: pytest.FixtureRequest) -> AsyncIterator[UpstreamClient]:
    """The bounded read over both network layers (``UPSTREAM_TRANSPORT``)."""
    network: dict[str, Any] = {}
    if request.param == "aiohttp":
        network["transport"] = AiohttpTransport(limits=httpx.Limits(max_connections=10))
    upstream = UpstreamClient(
        httpx.AsyncClient(timeout=httpx.Timeout(30.0), **network),
        base_url=stub.url + "/v1",
        api_key="sk-body-test-key",
        requires_key=True,
        max_retries=2,
        retry_backoff=0.0,
        read_timeout=30.0,
        breaker=CircuitBreaker(100, 10.0),
        max_response_bytes=LIMIT,
    )
    yield upstream
    await upstream.aclose()


async def _peak_while(coroutine: Any) -> tuple[BaseException | None, int]:
    """Run ``coroutine``; return what it raised and the peak of traced memory meanwhile."""
    tracemalloc.start()
    try:
        try:
            await coroutine
        except Exception as exc:
            raised: BaseException | None = exc
        else:
            raised = None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return raised, peak


def test_the_default_is_the_documented_64_mib() -> None:
    from gateway.config import Settings

    assert DEFAULT_MAX_RESPONSE_BYTES == 64 * 1024 * 1024
    assert Settings().upstream_max_response_bytes == DEFAULT_MAX_RESPONSE_BYTES


async def test_an_endless_body_stops_at_the_limit(client: UpstreamClient, stub: FaultStub) -> None:
    endless = Endless()
    stub.handler = endless
    session = open_session(client)
    raised, peak = await asyncio.wait_for(_peak_while(session.get_thread("thread_abc")), 60)
    assert isinstance(raised, UpstreamResponseError), raised
    assert f"larger than {LIMIT} bytes" in raised.message
    assert peak < MEMORY_BOUND, peak
    # The upstream noticed the hang-up long before it would have finished.
    assert not endless.finished
    assert LIMIT // 2 < endless.sent < ENDLESS_CAP // 4, endless.sent
    assert stub.count("GET") == 1  # a response error is not retried
    assert session.attempts == 1


async def test_a_gzip_bomb_stops_at_the_limit(client: UpstreamClient, stub: FaultStub) -> None:
    bomb = gzip_bomb()
    assert len(bomb) < 2 * 1024 * 1024
    headers = {"Content-Encoding": "gzip"}
    stub.handler = lambda _seen: respond(200, bomb, headers=headers)
    session = open_session(client)
    raised, peak = await asyncio.wait_for(_peak_while(session.get_thread("thread_abc")), 60)
    assert isinstance(raised, UpstreamResponseError), raised
    assert f"larger than {LIMIT} bytes" in raised.message
    assert peak < MEMORY_BOUND, peak
    assert stub.count("GET") == 1


@pytest.mark.parametrize("coding", ["gzip", "x-gzip", "deflate", "raw-deflate", "identity"])
async def test_a_compressed_answer_within_the_limit_is_decoded(
    client: UpstreamClient, stub: FaultStub, coding: str
) -> None:
    payload = json.dumps(THREAD).encode()
    if coding in ("gzip", "x-gzip"):
        payload = gzip.compress(payload)
    elif coding == "deflate":
        payload = zlib.compress(payload)
    elif coding == "raw-deflate":  # what some servers send as "deflate"
        raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        payload = raw.compress(payload) + raw.flush()
    header = "deflate" if coding == "raw-deflate" else coding
    stub.handler = lambda _seen: respond(200, payload, headers={"Content-Encoding": header})
    thread = await open_session(client).get_thread("thread_abc")
    assert thread["id"] == THREAD["id"]
    assert thread["metadata"] == THREAD["metadata"]
    assert stub.seen[0].headers["accept-encoding"] == "gzip, deflate"


async def test_an_answer_of_exactly_the_limit_passes(
    client: UpstreamClient, stub: FaultStub
) -> None:
    head = json.dumps(THREAD)[:-1] + ', "padding": "'
    body = (head + "a" * (LIMIT - len(head) - 2) + '"}').encode()
    assert len(body) == LIMIT
    stub.handler = lambda _seen: respond(
        200, gzip.compress(body), headers={"Content-Encoding": "gzip"}
    )
    thread = await open_session(client).get_thread("thread_abc")
    assert thread["id"] == THREAD["id"]
    stub.handler = lambda _seen: respond(200, body + b" ")
    with pytest.raises(UpstreamResponseError, match=f"larger than {LIMIT} bytes"):
        await open_session(client).get_thread("thread_abc")


@pytest.mark.parametrize("encoding", ["br", "zstd", "gzip, gzip", "compress"])
async def test_an_encoding_not_offered_is_refused(
    client: UpstreamClient, stub: FaultStub, encoding: str
) -> None:
    stub.handler = lambda _seen: respond(200, b"\x00" * 64, headers={"Content-Encoding": encoding})
    with pytest.raises(UpstreamResponseError, match="content encoding it was not offered"):
        await open_session(client).get_thread("thread_abc")


async def test_a_corrupt_gzip_body_is_a_response_error(
    client: UpstreamClient, stub: FaultStub
) -> None:
    broken = gzip.compress(json.dumps(THREAD).encode())[:20] + b"\xff" * 40
    stub.handler = lambda _seen: respond(200, broken, headers={"Content-Encoding": "gzip"})
    with pytest.raises(UpstreamResponseError, match="corrupt gzip body"):
        await open_session(client).get_thread("thread_abc")


async def test_an_oversized_error_body_keeps_the_status_but_not_the_body(
    client: UpstreamClient, stub: FaultStub
) -> None:
    envelope = {"error": {"message": "x" * (128 * 1024), "type": "not_found", "param": None}}
    stub.handler = lambda _seen: respond(404, envelope)
    with pytest.raises(NotFoundError) as caught:
        await open_session(client).get_thread("thread_abc")
    assert caught.value.body is None
    assert caught.value.status == 404
    # A bomb as a 500: still the status error, bounded, and retried as a 500 is.
    bomb = gzip_bomb()
    stub.handler = lambda _seen: respond(500, bomb, headers={"Content-Encoding": "gzip"})
    session = open_session(client)
    raised, peak = await _peak_while(session.get_thread("thread_abc"))
    assert isinstance(raised, InternalServerError), raised
    assert raised.body is None
    assert peak < MEMORY_BOUND, peak
    assert session.attempts == 3  # two retries, as for any 500 on a GET


# --- black box: a real ``messages-gateway serve`` process ---------------------------


def _peak_rss(pid: int) -> int:
    """The process's peak resident set (VmHWM), bytes, read from outside it."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc status")


@pytest.fixture
def served_on_stub(stub: FaultStub, tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A gateway process whose upstream is the stub, with an 8 MiB answer limit: (URL, pid)."""
    port = free_port()
    env = server_env(tmp_path / "unused.sqlite3", port=port, log_level="info")
    env.update(
        GATEWAY_UPSTREAM_URL=stub.url,
        GATEWAY_UPSTREAM_MAX_RESPONSE_BYTES=str(LIMIT),
        GATEWAY_READ_TIMEOUT="30",
        GATEWAY_OPERATION_DEADLINE="60",
    )
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            SERVE_COMMAND, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.mark.parametrize("attack", ["endless", "gzip-bomb"])
def test_a_served_gateway_answers_upstream_error_with_bounded_memory(
    stub: FaultStub, served_on_stub: tuple[str, int], attack: str
) -> None:
    base, pid = served_on_stub
    before = _peak_rss(pid)
    if attack == "endless":
        endless = Endless()
        stub.handler = endless
    else:
        bomb = gzip_bomb()
        stub.handler = lambda _seen: respond(200, bomb, headers={"Content-Encoding": "gzip"})
    response = httpx.post(
        base + "/graphql",
        json={"query": 'query { thread(id: "thread_abc") { id } }'},
        headers={"Authorization": "Bearer caller-token-for-the-stub"},
        timeout=60,
    )
    body = response.json()
    assert response.status_code == 200, body
    assert body["data"] == {"thread": None}
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UPSTREAM_ERROR"]
    assert stub.count("GET") == 1
    growth = _peak_rss(pid) - before
    assert growth < 3 * MEMORY_BOUND, growth  # 0.1 held the whole gigabyte (and more)
    if attack == "endless":
        assert not endless.finished
