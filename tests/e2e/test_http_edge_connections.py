"""Black-box: connection-level bounds of the HTTP edge (gateway/http_edge/_connections.py).

A real server process, real sockets, real slow clients: idle sockets and slow
headers are closed by the header deadline, idle keep-alive connections by the
keep-alive timeout, the connection cap holds the process's open sockets while a
normal client is still served, and none of it makes an upstream call. On 0.1
(no header deadline, no cap) every idle socket stayed open indefinitely.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.connections import server_side_sockets
from tests.e2e.edge_server import EdgeServer, head, json_body_of, read_answer, status_of

TYPENAME = {"query": "{ __typename }"}
SETTLE_SECONDS = 30.0  # a hang guard: how long the server may take to reach a state


async def settled(condition: Callable[[], bool], what: str) -> None:
    """Wait until the server reached ``condition`` (read from ``/proc``), not a fixed time:
    a loaded machine may take seconds to accept and read a burst of connections."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"the server did not get to {what}"
        await asyncio.sleep(0.05)


def local_port(writer: asyncio.StreamWriter) -> int:
    port: int = writer.get_extra_info("sockname")[1]
    return port


@pytest.fixture
def edge(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[EdgeServer]:
    server = EdgeServer(tmp_path, request.param)
    yield server
    server.stop()


async def normal_client_answers(base_url: str, count: int) -> int:
    """``count`` ordinary queries, each on a fresh connection; how many got their 200."""
    ok = 0
    for _ in range(count):
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(f"{base_url}/graphql", json=TYPENAME)
            if response.status_code == 200 and response.json()["data"] == {"__typename": "Query"}:
                ok += 1
    return ok


@pytest.mark.parametrize("edge", [{"HTTP_HEADER_TIMEOUT": "1"}], indirect=True)
async def test_idle_sockets_are_closed_by_the_header_deadline(edge: EdgeServer) -> None:
    sockets = [await asyncio.open_connection("127.0.0.1", edge.port) for _ in range(200)]
    opened = time.monotonic()
    assert await normal_client_answers(edge.base_url, 5) == 5  # served meanwhile
    answers = await asyncio.gather(*(read_answer(reader, 30) for reader, _ in sockets))
    closed_after = time.monotonic() - opened
    assert len(answers) == 200
    assert all(status_of(answer) == 408 for answer in answers), answers[0]
    error = json.loads(json_body_of(answers[0]))["errors"][0]
    assert "did not arrive within 1 seconds" in error["message"]
    assert closed_after < 25  # a hang guard (the deadline is 1 s): the 408s closed them
    for _, writer in sockets:
        writer.close()
    assert edge.upstream_calls() == 0


@pytest.mark.parametrize("edge", [{"HTTP_HEADER_TIMEOUT": "2"}], indirect=True)
async def test_headers_dripped_a_byte_at_a_time_are_cut_off(edge: EdgeServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", edge.port)
    request = head(edge.port, "POST", "/graphql", Content_Type="application/json")
    started = time.monotonic()
    answering = asyncio.create_task(read_answer(reader, 30))  # read while dripping
    sent = 0
    for byte in request * 10:  # longer than the deadline allows at 4 bytes/s
        if answering.done():
            break
        try:
            writer.write(bytes([byte]))
            await writer.drain()
        except ConnectionError:  # the server closed the connection
            break
        sent += 1
        await asyncio.sleep(0.25)
    answer = await answering
    assert status_of(answer) == 408, answer
    assert time.monotonic() - started < 15
    assert sent < len(request)  # cut off before the headers were complete
    writer.close()


@pytest.mark.parametrize("edge", [{"KEEPALIVE_TIMEOUT": "1"}], indirect=True)
async def test_idle_keep_alive_connection_is_closed(edge: EdgeServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", edge.port)
    body = json.dumps(TYPENAME).encode()
    writer.write(
        head(
            edge.port,
            "POST",
            "/graphql",
            Content_Type="application/json",
            Content_Length=str(len(body)),
        )
        + body
    )
    await writer.drain()
    started = time.monotonic()
    answer = await read_answer(reader, 30)  # the response, then the close
    assert status_of(answer) == 200, answer
    assert b'"__typename":"Query"' in answer
    assert time.monotonic() - started < 25  # a hang guard: the server closed it
    writer.close()


@pytest.mark.parametrize(
    "edge", [{"MAX_CONNECTIONS": "50", "HTTP_HEADER_TIMEOUT": "60"}], indirect=True
)
async def test_connection_cap_evicts_idle_sockets_and_serves_newcomers(edge: EdgeServer) -> None:
    baseline = edge.open_fds()
    sockets = []
    for _ in range(150):
        sockets.append(await asyncio.open_connection("127.0.0.1", edge.port))
    ports = {local_port(writer) for _, writer in sockets}
    # Every socket accepted and the cap applied: the server holds at most 50 of them.
    await settled(lambda: len(ports & set(server_side_sockets(edge.port))) <= 50, "its cap")
    # The idle sockets beyond the cap were closed by the server, oldest first.
    evicted = [reader for reader, _ in sockets[:100] if await _closed(reader)]
    assert len(evicted) >= 100 - 5, len(evicted)
    assert edge.open_fds() <= baseline + 50 + 5
    # A normal client still gets its answers (each evicts the longest-idle socket).
    assert await normal_client_answers(edge.base_url, 10) == 10
    for _, writer in sockets:
        writer.close()
    assert edge.upstream_calls() == 0


@pytest.mark.parametrize(
    "edge",
    [{"MAX_CONNECTIONS": "20", "HTTP_BODY_TIMEOUT": "60", "HTTP_HEADER_TIMEOUT": "60"}],
    indirect=True,
)
async def test_every_connection_busy_means_503_for_a_newcomer(edge: EdgeServer) -> None:
    stalled = []
    for _ in range(20):  # headers complete, body stalled: busy, not evictable
        reader, writer = await asyncio.open_connection("127.0.0.1", edge.port)
        writer.write(
            head(
                edge.port,
                "POST",
                "/graphql",
                Content_Type="application/json",
                Content_Length="1000",
            )
            + b'{"query": "'
        )
        await writer.drain()
        stalled.append((reader, writer))
    ports = {local_port(writer) for _, writer in stalled}

    def every_head_read() -> bool:  # read means parsed: each connection is busy
        unread = server_side_sockets(edge.port)
        return all(unread.get(port) == 0 for port in ports)

    await settled(every_head_read, "reading the 20 heads")
    reader, writer = await asyncio.open_connection("127.0.0.1", edge.port)
    answer = await read_answer(reader, 10)
    assert status_of(answer) == 503, answer
    assert b"retry-after: 1" in answer.lower()
    error = json.loads(json_body_of(answer))["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    writer.close()
    for _, stalled_writer in stalled:
        stalled_writer.close()
    await settled(lambda: not ports & set(server_side_sockets(edge.port)), "closing the 20")
    assert await normal_client_answers(edge.base_url, 3) == 3  # slots come back
    assert edge.upstream_calls() == 0


async def _closed(reader: asyncio.StreamReader) -> bool:
    try:
        async with asyncio.timeout(5):
            return await reader.read(1) == b""
    except TimeoutError:
        return False
