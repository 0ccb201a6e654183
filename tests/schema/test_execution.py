"""Bounded execution and response (gateway/schema/execution.py; issue 9, finding 3).

50 aliases on ``text`` over a page of 10 messages of 900 KB used to build a 450 MB
response (1.07 GB RSS) from a 573-byte query of cost 1. Now the leaf bytes are counted
as they are completed, and the operation stops at ``MAX_RESPONSE_BYTES`` with one
``RESPONSE_TOO_LARGE`` error and no data; the black-box test reads the peak memory of a
real server process from outside.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from gateway.schema.execution import leaf_bytes
from tests.conftest import Gateway, SettingsFactory, start_gateway
from tests.resilience.stub import FaultStub, Reply, Seen, healthy, respond
from tests.schema.attacks import text_aliases
from tests.schema.served import ConfiguredServer
from tests.schema.wire import THREAD_ID, list_json, message_json, thread_json

AUTH = {"Authorization": "Bearer caller-token-for-the-stub"}
BIG_TEXT = 900_000


def big_pages(seen: Seen) -> Reply:
    """The thread, and pages of ten messages of 900 KB each."""
    if seen.path.split("?", 1)[0].endswith("/messages"):
        messages = [
            message_json(f"msg_{i:024d}", THREAD_ID, text="x" * BIG_TEXT) for i in range(10)
        ]
        return respond(200, list_json(messages))
    return respond(200, thread_json(THREAD_ID))


@pytest.fixture
def big_stub(stub: FaultStub) -> FaultStub:
    stub.handler = big_pages
    return stub


@pytest.fixture
async def gateway(make_settings: SettingsFactory, big_stub: FaultStub) -> AsyncIterator[Gateway]:
    async for running in start_gateway(make_settings(upstream_url=big_stub.url, max_retries=0)):
        yield running


def assert_too_large(body: dict[str, object], maximum: int) -> None:
    assert body["data"] is None, str(body)[:500]
    assert body["errors"] == [
        {
            "message": f"The response would pass {maximum} bytes (MAX_RESPONSE_BYTES); "
            "ask for fewer fields, fewer aliases or smaller pages.",
            "extensions": {"code": "RESPONSE_TOO_LARGE", "maximum": maximum},
        }
    ]


async def test_text_aliases_over_big_messages_stop(gateway: Gateway, big_stub: FaultStub) -> None:
    payload = text_aliases(THREAD_ID)
    assert len(payload["query"]) < 700
    response = await gateway.http.post("/graphql", json=payload, headers=AUTH)
    assert response.status_code == 200  # execution started (GraphQL-over-HTTP)
    assert len(response.content) < 2000
    assert_too_large(response.json(), 16_000_000)
    assert big_stub.count() == 2  # the thread and its page, nothing more


async def test_a_response_within_the_limit_is_whole(gateway: Gateway, big_stub: FaultStub) -> None:
    query = f'{{ thread(id: "{THREAD_ID}") {{ messages(first: 10) {{ nodes {{ id text }} }} }} }}'
    result = await gateway.graphql.execute(query, headers=AUTH)
    assert result.status == 200 and not result.errors
    nodes = result.data["thread"]["messages"]["nodes"]
    assert len(nodes) == 10 and all(len(node["text"]) == BIG_TEXT for node in nodes)


async def test_the_limit_is_a_setting_and_stops_later_fields(
    make_settings: SettingsFactory, stub: FaultStub
) -> None:
    stub.handler = healthy  # echoes a created message's text
    settings = make_settings(upstream_url=stub.url, max_retries=0, max_response_bytes=4096)
    mutation = """mutation($a: CreateMessageInput!, $b: CreateMessageInput!) {
      a: createMessage(input: $a) { message { text } }
      b: createMessage(input: $b) { message { text } } }"""
    variables = {
        "a": {"threadId": THREAD_ID, "text": "y" * 5000},
        "b": {"threadId": THREAD_ID, "text": "z"},
    }
    async for gateway in start_gateway(settings):
        response = await gateway.http.post(
            "/graphql", json={"query": mutation, "variables": variables}, headers=AUTH
        )
        assert_too_large(response.json(), 4096)
        # Mutations run one after the other: past the limit, the second never ran.
        assert stub.count("POST") == 1
        small = {**variables, "a": {"threadId": THREAD_ID, "text": "y"}}
        result = await gateway.graphql.execute(mutation, small, headers=AUTH)
        assert not result.errors and result.data["b"]["message"]["text"] == "z"
    assert stub.count("POST") == 3


def test_leaf_bytes_never_undercount() -> None:
    assert leaf_bytes("abc") == 3
    assert leaf_bytes("é") == 2
    assert leaf_bytes({"k": "vv"}) >= 3
    assert leaf_bytes(["a", "b"]) >= 2
    assert leaf_bytes(12345) >= 5


# --- black box: the peak memory of a real server --------------------------------------


@pytest.fixture
def served(tmp_path: Path, big_stub: FaultStub) -> Iterator[ConfiguredServer]:
    server = ConfiguredServer(tmp_path, upstream_url=big_stub.url, max_retries="0")
    try:
        yield server
    finally:
        server.stop()


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert match is not None
    return int(match.group(1)) / 1024


# Generous: the server idles near 100 MB and the upstream page itself is 9 MB; before,
# this request took the process past 1 GB.
PEAK_GROWTH_BOUND_MB = 300


def test_memory_stays_bounded_in_a_real_server(
    served: ConfiguredServer, big_stub: FaultStub
) -> None:
    before = peak_rss_mb(served.process.pid)
    for _ in range(3):
        response = httpx.post(
            f"{served.base_url}/graphql", json=text_aliases(THREAD_ID), headers=AUTH, timeout=60
        )
        assert response.status_code == 200
        assert response.json()["errors"][0]["extensions"]["code"] == "RESPONSE_TOO_LARGE"
    growth = peak_rss_mb(served.process.pid) - before
    assert growth < PEAK_GROWTH_BOUND_MB, growth
    assert big_stub.count() == 6
