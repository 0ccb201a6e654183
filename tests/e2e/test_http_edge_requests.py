"""Black-box: request-level bounds of the HTTP edge (gateway/http_edge).

A real server process and raw sockets: stalled bodies neither grow the
process's memory past the in-flight budget nor hold their connections past the
body deadline; an auth-enabled gateway answers 401 before reading a body;
malformed bodies and parameters are GraphQL-shaped 400s (0.1: 500 text/plain
with a trace); a foreign ``Host`` is refused and redirects never echo it. None
of these requests makes an upstream call.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.auth import token_digest
from tests.e2e.edge_server import EdgeServer, head, json_body_of, read_answer, status_of
from tests.store.server import ServerProcess, raw_request

TYPENAME = {"query": "{ __typename }"}
TOKEN = "edge-test-token"


@pytest.fixture
def edge(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[EdgeServer]:
    server = EdgeServer(tmp_path, request.param)
    yield server
    server.stop()


async def _stall_a_body(port: int, declared: int, sent: int, **headers: str) -> tuple:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        head(
            port,
            "POST",
            "/graphql",
            Content_Type="application/json",
            Content_Length=str(declared),
            **headers,
        )
    )
    payload = b'{"query": "{ __typename }", "pad": "' + b"x" * sent
    writer.write(payload[:sent])
    # Refused mid-body (a 503 once the budget is spent, the body left unread), the write
    # fails; the reset reaches the reader too, so ``read_answer`` counts it as a reset.
    with contextlib.suppress(ConnectionError):
        await writer.drain()
    return reader, writer


async def _typename_latencies(base_url: str, count: int, **headers: str) -> list[float]:
    seconds = []
    async with httpx.AsyncClient(timeout=30, headers=headers) as client:
        for _ in range(count):
            started = time.monotonic()
            response = await client.post(f"{base_url}/graphql", json=TYPENAME)
            assert response.status_code == 200, response.text
            assert response.json()["data"] == {"__typename": "Query"}
            seconds.append(time.monotonic() - started)
    return seconds


@pytest.mark.parametrize(
    "edge",
    [{"HTTP_BODY_TIMEOUT": "3", "MAX_BODY_BYTES_IN_FLIGHT": "16000000"}],
    indirect=True,
)
async def test_stalled_bodies_are_bounded_in_memory_and_time(edge: EdgeServer) -> None:
    before = edge.rss_bytes()
    peak = before
    attacking = True

    async def sample_rss() -> None:
        nonlocal peak
        while attacking:
            peak = max(peak, edge.rss_bytes())
            await asyncio.sleep(0.1)

    sampler = asyncio.create_task(sample_rss())
    attackers = [await _stall_a_body(edge.port, 900_000, 800_000) for _ in range(250)]
    answering = [asyncio.create_task(read_answer(reader, 30)) for reader, _ in attackers]
    latencies = await _typename_latencies(edge.base_url, 5)  # a normal client, meanwhile
    await asyncio.sleep(2.0)  # every body sent, within the 3 s deadline
    # 250 x 800 KB = 200 MB were sent; the process holds at most the 16 MB budget
    # plus 64 KiB per connection (0.1: every byte, about 200 MB more).
    assert peak - before < 100_000_000, (before, peak)
    answers = await asyncio.gather(*answering)
    attacking = False
    await sampler
    # Every connection ended (gather returned): a 408 at the body deadline, a 503 when
    # the budget was spent, or a reset (the server closed with body bytes unread).
    statuses = [status_of(answer) for answer in answers]
    assert set(statuses) <= {408, 503, None}, statuses
    assert statuses.count(408) + statuses.count(503) > 0, statuses
    for answer in answers:
        if status_of(answer) is not None:
            code = json.loads(json_body_of(answer))["errors"][0]["extensions"]["code"]
            assert code in ("BAD_USER_INPUT", "RATE_LIMITED")
    assert len(latencies) == 5
    for _, writer in attackers:
        writer.close()
    assert edge.upstream_calls() == 0


@pytest.mark.parametrize(
    "edge", [{"AUTH_TOKEN_HASHES": token_digest(TOKEN), "HTTP_BODY_TIMEOUT": "60"}], indirect=True
)
async def test_auth_enabled_gateway_refuses_before_reading_the_body(edge: EdgeServer) -> None:
    before = edge.rss_bytes()
    started = time.monotonic()
    attackers = [await _stall_a_body(edge.port, 900_000, 0) for _ in range(200)]
    answers = await asyncio.gather(*(read_answer(reader, 20) for reader, _ in attackers))
    assert time.monotonic() - started < 20  # at once: not after the 60 s body deadline
    assert [status_of(answer) for answer in answers] == [401] * 200
    body = json.loads(json_body_of(answers[0]))
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert edge.rss_bytes() - before < 50_000_000
    # A forged credential is refused the same way; a valid one is served.
    reader, writer = await _stall_a_body(edge.port, 900_000, 0, Authorization="Bearer forged")
    assert status_of(await read_answer(reader, 20)) == 401
    writer.close()
    assert len(await _typename_latencies(edge.base_url, 3, Authorization=f"Bearer {TOKEN}")) == 3
    for _, attacker in attackers:
        attacker.close()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert edge.upstream_calls(auth) == 0


MALFORMED_BODIES = {
    "invalid UTF-8": b'{"query": "{ __typename }", "x": "\xff"}',
    "4301-digit number": b'{"query": "{ __typename }", "x": ' + b"1" * 4301 + b"}",
    "nesting 1100 deep": b'{"query": "{ __typename }", "x": ' + b"[" * 1100 + b"]" * 1100 + b"}",
    "top-level null": b"null",
    "top-level string": b'"{ __typename }"',
    "top-level number": b"1",
    "top-level true": b"true",
    "query not a string": b'{"query": 1}',
    "variables a string": b'{"query": "{ __typename }", "variables": "x"}',
    "not JSON": b'{"query": ',
}


@pytest.mark.parametrize("name", MALFORMED_BODIES)
def test_malformed_bodies_are_graphql_shaped_400s(gateway_server: ServerProcess, name: str) -> None:
    status, payload = raw_request(gateway_server.port, "POST", "/graphql", MALFORMED_BODIES[name])
    assert status == 400, payload[:300]
    body = json.loads(payload)
    assert "data" not in body  # nothing executed
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Traceback" not in payload.decode("utf-8", "replace")


ODD_QUERY_STRINGS = {
    "invalid UTF-8 query": "query=%FF",
    "invalid UTF-8 variables": "query=%7B__typename%7D&variables=%FF",
    "variables a string": "query=%7B__typename%7D&variables=%22x%22",
    "variables a number": "query=%7B__typename%7D&variables=1",
    "variables not JSON": "query=%7B__typename%7D&variables=%7B",
    "variables nested 1100 deep": "query=%7B__typename%7D&variables=" + "%5B" * 1100 + "%5D" * 1100,
    "extensions a number": "query=%7B__typename%7D&extensions=1",
}


@pytest.mark.parametrize("name", ODD_QUERY_STRINGS)
def test_odd_get_parameters_are_graphql_shaped_400s(
    gateway_server: ServerProcess, name: str
) -> None:
    response = httpx.get(f"{gateway_server.base_url}/graphql?{ODD_QUERY_STRINGS[name]}", timeout=10)
    assert response.status_code == 400, response.text[:300]
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_well_formed_get_still_runs(gateway_server: ServerProcess) -> None:
    response = httpx.get(
        f"{gateway_server.base_url}/graphql",
        params={"query": "{ __typename }", "variables": "{}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"__typename": "Query"}}


def test_foreign_host_is_refused_on_every_route(gateway_server: ServerProcess) -> None:
    base = gateway_server.base_url
    evil = {"Host": "rebound.attacker.example"}
    graphql = httpx.post(f"{base}/graphql", json=TYPENAME, headers=evil, timeout=10)
    assert graphql.status_code == 400
    assert graphql.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Host" in graphql.json()["errors"][0]["message"]
    store = httpx.get(f"{base}/v1/threads/thread_x", headers=evil, timeout=10)
    assert store.status_code == 400
    assert store.json()["error"]["type"] == "invalid_request_error"  # the OpenAI envelope
    for host in (f"localhost:{gateway_server.port}", f"127.0.0.1:{gateway_server.port}"):
        response = httpx.post(f"{base}/graphql", json=TYPENAME, headers={"Host": host})
        assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("edge", [{"ALLOWED_HOSTS": "*"}], indirect=True)
def test_redirect_location_never_names_the_callers_host(edge: EdgeServer) -> None:
    response = httpx.get(
        f"{edge.base_url}/graphql/", headers={"Host": "attacker.example"}, timeout=10
    )
    assert response.status_code in (307, 308)
    assert response.headers["location"] == "/graphql"
    # ALLOWED_HOSTS=*: any host is served.
    response = httpx.post(
        f"{edge.base_url}/graphql", json=TYPENAME, headers={"Host": "attacker.example"}
    )
    assert response.json() == {"data": {"__typename": "Query"}}
    assert edge.upstream_calls() == 0


@pytest.mark.parametrize("edge", [{"HTTP_BODY_TIMEOUT": "2"}], indirect=True)
async def test_store_bodies_have_the_same_deadline(edge: EdgeServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", edge.port)
    writer.write(
        head(
            edge.port, "POST", "/v1/threads", Content_Type="application/json", Content_Length="100"
        )
        + b'{"metadata": '
    )
    await writer.drain()
    started = time.monotonic()
    answer = await read_answer(reader, 20)
    assert status_of(answer) == 408, answer
    assert time.monotonic() - started < 15
    error = json.loads(json_body_of(answer))["error"]  # the OpenAI envelope on /v1
    assert "did not arrive within 2 seconds" in error["message"]
    writer.close()
    # A whole body is served as before.
    created = httpx.post(f"{edge.base_url}/v1/threads", json={}, timeout=10)
    assert created.status_code == 200, created.text
    assert created.json()["object"] == "thread"


async def test_oversized_headers_are_431(gateway_server: ServerProcess) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway_server.port)
    answering = asyncio.create_task(read_answer(reader, 20))
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    try:
        for _ in range(20):  # 40 KB of one header, never ended
            writer.write(b"X-Padding: " + b"x" * 2000 + b"\r\n")
            await writer.drain()
    except ConnectionError:
        pass
    answer = await answering
    assert status_of(answer) == 431, answer[:200]
    writer.close()
