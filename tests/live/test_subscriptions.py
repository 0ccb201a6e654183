"""Subscriptions against a real ``serve`` process, through real clients.

``gql`` (its websockets transport, graphql-transport-ws) subscribes; writes come
through GraphQL mutations and through ``/v1`` with the official ``openai`` SDK
(an assistant process writing its reply). Server-sent events (graphql-sse,
distinct connections) are read with httpx's streaming response.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import websockets
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from tests.live.server import LiveServer

HANG = 15.0

THREAD_EVENTS = gql(
    """
    subscription Watch($thread: ID!, $after: ID) {
      threadEvents(threadId: $thread, after: $after) {
        __typename
        ... on MessageCreated { message { id text role } }
        ... on MessageUpdated { message { id metadata } }
        ... on MessageDeleted { threadId messageId }
        ... on ThreadUpdated { thread { id metadata } }
        ... on ThreadDeleted { threadId }
      }
    }
    """
)
VIEWER_EVENTS = gql(
    """
    subscription Sidebar {
      viewerThreadEvents {
        __typename
        ... on ThreadCreated { thread { id } }
        ... on ThreadUpdated { thread { id metadata } }
        ... on ThreadDeleted { threadId }
      }
    }
    """
)


def watch(variables: dict[str, Any]) -> GraphQLRequest:
    return GraphQLRequest(THREAD_EVENTS, variable_values=variables)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    running = LiveServer(
        tmp_path_factory.mktemp("live"),
        env={
            "GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION": "3",
            "GATEWAY_SUBSCRIPTION_KEEPALIVE": "0.3",
        },
    )
    yield running
    running.stop()


async def graphql(
    server: LiveServer, query: str, token: str | None = None, **variables: Any
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=HANG) as http:
        answer = await http.post(
            server.graphql_url, json={"query": query, "variables": variables}, headers=headers
        )
    body = answer.json()
    assert "errors" not in body, body
    return body["data"]


async def new_thread(server: LiveServer, token: str | None = None) -> str:
    data = await graphql(server, "mutation { createThread(input: {}) { thread { id } } }", token)
    thread_id: str = data["createThread"]["thread"]["id"]
    return thread_id


async def post_message(server: LiveServer, thread_id: str, text: str) -> str:
    data = await graphql(
        server,
        "mutation($t: ID!, $x: String!) { createMessage(input: "
        "{threadId: $t, role: USER, content: [{text: $x}]}) { message { id } } }",
        t=thread_id,
        x=text,
    )
    message_id: str = data["createMessage"]["message"]["id"]
    return message_id


def ws_client(server: LiveServer, init: dict[str, Any] | None = None) -> Client:
    transport = WebsocketsTransport(
        url=server.ws_url,
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        init_payload=init or {},
    )
    return Client(transport=transport)


async def collect(stream: AsyncIterator[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(HANG):
        async for result in stream:
            got.append(result)
            if len(got) == count:
                break
    return got


async def started_after(server: LiveServer, field: str, before: int) -> None:
    async with asyncio.timeout(HANG):
        while server.log.count(f"subscription start field={field}") <= before:
            await asyncio.sleep(0.02)


def starts(server: LiveServer, field: str = "threadEvents") -> int:
    return server.log.count(f"subscription start field={field}")


async def test_ten_messages_from_v1_and_graphql_arrive_in_order(server: LiveServer) -> None:
    thread_id = await new_thread(server)
    sdk = openai.AsyncOpenAI(base_url=f"{server.base_url}/v1", api_key="unused", max_retries=0)
    async with ws_client(server) as session:
        before = starts(server)
        reader = asyncio.create_task(collect(session.subscribe(watch({"thread": thread_id})), 10))
        await started_after(server, "threadEvents", before)
        sent: list[str] = []
        for i in range(5):
            made = await sdk.beta.threads.messages.create(
                thread_id, role="assistant", content=f"sdk {i}"
            )
            sent.append(made.id)
            sent.append(await post_message(server, thread_id, f"graphql {i}"))
        got = await reader
    assert [event["threadEvents"]["message"]["id"] for event in got] == sent
    assert {event["threadEvents"]["__typename"] for event in got} == {"MessageCreated"}
    assert got[0]["threadEvents"]["message"] == {
        "id": sent[0],
        "text": "sdk 0",
        "role": "ASSISTANT",
    }
    await sdk.close()


async def test_resume_after_replays_exactly_the_missing_ones(server: LiveServer) -> None:
    thread_id = await new_thread(server)
    had = [await post_message(server, thread_id, f"m{i}") for i in range(5)]
    async with ws_client(server) as session:
        before = starts(server)
        reader = asyncio.create_task(
            collect(
                session.subscribe(watch({"thread": thread_id, "after": had[1]})),
                5,
            )
        )
        await started_after(server, "threadEvents", before)
        later = [await post_message(server, thread_id, f"n{i}") for i in range(2)]
        got = await reader
    assert [e["threadEvents"]["message"]["id"] for e in got] == had[2:] + later


async def test_resume_racing_writes_loses_and_repeats_nothing(server: LiveServer) -> None:
    thread_id = await new_thread(server)
    first = await post_message(server, thread_id, "first")
    writes = 30

    async def writer() -> list[str]:
        return [await post_message(server, thread_id, f"w{i}") for i in range(writes)]

    async with ws_client(server) as session:
        written = asyncio.create_task(writer())
        await asyncio.sleep(0)  # the writes race the subscription's start
        got = await collect(
            session.subscribe(watch({"thread": thread_id, "after": first})),
            writes,
        )
        ids = await written
    assert [e["threadEvents"]["message"]["id"] for e in got] == ids


async def test_update_delete_and_thread_deletion_then_complete(server: LiveServer) -> None:
    thread_id = await new_thread(server)
    message_id = await post_message(server, thread_id, "to change")
    async with ws_client(server) as session:
        before = starts(server)
        events: list[dict[str, Any]] = []

        async def read_all() -> None:
            async with asyncio.timeout(HANG):
                async for result in session.subscribe(watch({"thread": thread_id})):
                    events.append(result["threadEvents"])

        reader = asyncio.create_task(read_all())
        await started_after(server, "threadEvents", before)
        await graphql(
            server,
            "mutation($t: ID!, $m: ID!) { updateMessage(input: {threadId: $t, id: $m, "
            'metadata: {k: "v"}}) { message { id } } }',
            t=thread_id,
            m=message_id,
        )
        await graphql(
            server,
            "mutation($t: ID!, $m: ID!) { deleteMessage(input: {threadId: $t, id: $m}) "
            "{ deletedMessageId } }",
            t=thread_id,
            m=message_id,
        )
        await graphql(
            server,
            'mutation($t: ID!) { updateThread(input: {id: $t, metadata: {topic: "x"}}) '
            "{ thread { id } } }",
            t=thread_id,
        )
        await graphql(
            server,
            "mutation($t: ID!) { deleteThread(input: {id: $t}) { deletedThreadId } }",
            t=thread_id,
        )
        await reader  # the stream completed by itself after ThreadDeleted
    assert events == [
        {"__typename": "MessageUpdated", "message": {"id": message_id, "metadata": {"k": "v"}}},
        {"__typename": "MessageDeleted", "threadId": thread_id, "messageId": message_id},
        {"__typename": "ThreadUpdated", "thread": {"id": thread_id, "metadata": {"topic": "x"}}},
        {"__typename": "ThreadDeleted", "threadId": thread_id},
    ]


async def test_viewer_stream_on_create_and_activity(server: LiveServer) -> None:
    async with ws_client(server) as session:
        before = starts(server, "viewerThreadEvents")
        reader = asyncio.create_task(collect(session.subscribe(VIEWER_EVENTS), 2))
        await started_after(server, "viewerThreadEvents", before)
        thread_id = await new_thread(server)
        await post_message(server, thread_id, "activity")
        got = await reader
    assert got == [
        {"viewerThreadEvents": {"__typename": "ThreadCreated", "thread": {"id": thread_id}}},
        {
            "viewerThreadEvents": {
                "__typename": "ThreadUpdated",
                "thread": {"id": thread_id, "metadata": {}},
            }
        },
    ]


async def test_the_per_connection_limit(server: LiveServer) -> None:
    thread_id = await new_thread(server)
    async with ws_client(server) as session:
        before = starts(server)
        open_streams = [
            asyncio.create_task(collect(session.subscribe(watch({"thread": thread_id})), 1))
            for _ in range(3)
        ]
        await started_after(server, "threadEvents", before + 2)
        with pytest.raises(TransportQueryError) as refused:
            await collect(session.subscribe(watch({"thread": thread_id})), 1)
        assert refused.value.errors is not None
        assert refused.value.errors[0]["extensions"]["code"] == "SUBSCRIPTION_LIMIT"
        await post_message(server, thread_id, "to all three")
        done = await asyncio.gather(*open_streams)
    assert [len(got) for got in done] == [1, 1, 1]


async def test_server_sent_events_distinct_connections(server: LiveServer) -> None:
    thread_id = await new_thread(server)
    query = (
        "subscription($t: ID!) { threadEvents(threadId: $t) "
        "{ __typename ... on MessageCreated { message { id } } } }"
    )
    async with httpx.AsyncClient(timeout=HANG) as http:
        before = starts(server)
        async with http.stream(
            "POST",
            server.graphql_url,
            json={"query": query, "variables": {"t": thread_id}},
            headers={"Accept": "text/event-stream"},
        ) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            await started_after(server, "threadEvents", before)
            message_id = await post_message(server, thread_id, "over sse")
            data: list[Any] = []
            async with asyncio.timeout(HANG):
                async for line in stream.aiter_lines():
                    if line.startswith("data: ") and line != "data: ":
                        data.append(json.loads(line.removeprefix("data: ")))
                        break
    assert data == [
        {"data": {"threadEvents": {"__typename": "MessageCreated", "message": {"id": message_id}}}}
    ]


async def test_keep_alive_pings_on_both_protocols(server: LiveServer) -> None:
    """An idle stream gets pings: graphql-transport-ws ``ping`` messages, SSE comments."""
    thread_id = await new_thread(server)
    async with websockets.connect(server.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        async with asyncio.timeout(HANG):
            assert json.loads(await ws.recv()) == {"type": "connection_ack"}
            assert json.loads(await ws.recv()) == {"type": "ping"}
            await ws.send(json.dumps({"type": "pong"}))
            assert json.loads(await ws.recv()) == {"type": "ping"}
    query = "subscription($t: ID!) { threadEvents(threadId: $t) { __typename } }"
    async with (
        httpx.AsyncClient(timeout=HANG) as http,
        http.stream(
            "POST",
            server.graphql_url,
            json={"query": query, "variables": {"t": thread_id}},
            headers={"Accept": "text/event-stream"},
        ) as stream,
    ):
        async with asyncio.timeout(HANG):
            async for line in stream.aiter_lines():
                if line.startswith(":"):
                    assert line == ": ping"
                    break


async def test_subscription_documents_meet_the_same_limits(server: LiveServer) -> None:
    thread_id = await new_thread(server)
    aliases = " ".join(f"a{i}: __typename" for i in range(200))
    async with ws_client(server) as session:
        with pytest.raises(TransportQueryError) as refused:
            await collect(
                session.subscribe(
                    GraphQLRequest(
                        gql(
                            "subscription($t: ID!) { threadEvents(threadId: $t) { "
                            + aliases
                            + " } }"
                        ),
                        variable_values={"t": thread_id},
                    )
                ),
                1,
            )
    assert refused.value.errors is not None
    assert refused.value.errors[0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


# --- with authentication and owner isolation ----------------------------------------

ALICE = "alice-token-0123456789"
BOB = "bob-token-0123456789"


@pytest.fixture(scope="module")
def owned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    digests = ",".join(hashlib.sha256(t.encode()).hexdigest() for t in (ALICE, BOB))
    running = LiveServer(
        tmp_path_factory.mktemp("owned"),
        env={"GATEWAY_AUTH_TOKEN_HASHES": digests, "GATEWAY_OWNER_METADATA_KEY": "owner"},
    )
    yield running
    running.stop()


async def test_another_owners_thread_is_forbidden_before_any_event(owned: LiveServer) -> None:
    alices = await new_thread(owned, ALICE)
    async with ws_client(owned, {"authorization": f"Bearer {BOB}"}) as session:
        with pytest.raises(TransportQueryError) as refused:
            await collect(session.subscribe(watch({"thread": alices})), 1)
    assert refused.value.errors is not None
    assert refused.value.errors[0]["extensions"]["code"] == "FORBIDDEN"
    # Alice herself, with the token in the upgrade's header this time, is served.
    transport = WebsocketsTransport(
        url=owned.ws_url,
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        headers={"Authorization": f"Bearer {ALICE}"},
    )
    async with Client(transport=transport) as session:
        before = starts(owned)
        reader = asyncio.create_task(collect(session.subscribe(watch({"thread": alices})), 1))
        await started_after(owned, "threadEvents", before)
        await graphql(
            owned,
            "mutation($t: ID!) { createMessage(input: {threadId: $t, role: USER, "
            'content: [{text: "mine"}]}) { message { id } } }',
            ALICE,
            t=alices,
        )
        got = await reader
    assert got[0]["threadEvents"]["__typename"] == "MessageCreated"


def close_code(error: BaseException) -> int | None:
    """The WebSocket close code the server sent, from the client error's cause chain."""
    cause: BaseException | None = error
    while cause is not None:
        received = getattr(cause, "rcvd", None)
        if received is not None:
            code: int = received.code
            return code
        cause = cause.__cause__ or cause.__context__
    return None


async def test_an_unauthenticated_connection_is_refused(owned: LiveServer) -> None:
    with pytest.raises(Exception) as refused:  # the client's close error
        async with ws_client(owned, {"authorization": "Bearer wrong"}) as session:
            await collect(session.subscribe(VIEWER_EVENTS), 1)
    assert close_code(refused.value) == 4403  # strawberry's "Forbidden" at connection_init
    async with httpx.AsyncClient(timeout=HANG) as http:
        answer = await http.post(
            owned.graphql_url,
            json={"query": "subscription { viewerThreadEvents { __typename } }"},
            headers={"Accept": "text/event-stream"},
        )
    assert answer.status_code == 401


async def test_the_viewer_sees_only_their_own_threads(owned: LiveServer) -> None:
    async with ws_client(owned, {"authorization": f"Bearer {ALICE}"}) as session:
        before = starts(owned, "viewerThreadEvents")
        reader = asyncio.create_task(collect(session.subscribe(VIEWER_EVENTS), 1))
        await started_after(owned, "viewerThreadEvents", before)
        await new_thread(owned, BOB)
        alices = await new_thread(owned, ALICE)
        got = await reader
    assert got == [
        {"viewerThreadEvents": {"__typename": "ThreadCreated", "thread": {"id": alices}}}
    ]


# --- across processes -----------------------------------------------------------------


async def across(writer: LiveServer, readers: list[LiveServer]) -> None:
    """Subscribers on every process receive every write made through ``writer``, in order."""
    thread_id = await new_thread(writer)
    clients = [ws_client(reader) for reader in readers]
    sessions = [await client.connect_async() for client in clients]
    try:
        befores = [starts(reader) for reader in readers]
        readings = [
            asyncio.create_task(collect(session.subscribe(watch({"thread": thread_id})), 6))
            for session in sessions
        ]
        for reader, before in zip(readers, befores, strict=True):
            await started_after(reader, "threadEvents", before)
        sent = [await post_message(writer, thread_id, f"x{i}") for i in range(6)]
        for got in await asyncio.gather(*readings):
            assert [e["threadEvents"]["message"]["id"] for e in got] == sent
    finally:
        for client in clients:
            await client.close_async()


async def test_two_replicas_on_one_postgres_database(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from tests.store.postgres import create_database, drop_database

    postgres = request.getfixturevalue("postgres_server")
    url = create_database(postgres)
    first = LiveServer(tmp_path, store_url=url)
    second = LiveServer(tmp_path, store_url=url)
    try:
        await across(first, [first, second])
        await across(second, [first, second])
    finally:
        first.stop()
        second.stop()
        drop_database(postgres, url)


async def test_two_processes_on_one_sqlite_file(tmp_path: Path) -> None:
    """The workers of one machine: two ``serve`` processes on one store file (this tree's
    ``serve`` has no ``--workers`` yet; each worker would be such a process)."""
    first = LiveServer(tmp_path)
    second = LiveServer(tmp_path)
    try:
        await across(first, [first, second])
        await across(second, [first, second])
    finally:
        first.stop()
        second.stop()


# --- over a remote upstream ---------------------------------------------------------


async def test_over_a_remote_upstream_own_writes_and_polled_ones(tmp_path: Path) -> None:
    """Gateway B over gateway A's store: B's mutations are published at once; a message
    written straight to the upstream (A's /v1, with the SDK) is found by B's poll; each
    is received exactly once."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    upstream = LiveServer(tmp_path / "a")
    gateway = LiveServer(
        tmp_path / "b",
        env={
            "GATEWAY_UPSTREAM_URL": f"{upstream.base_url}/v1",
            "GATEWAY_UPSTREAM_API_KEY": "unused",
            "GATEWAY_POLL_SECONDS": "0.2",
            "GATEWAY_AUTH_REQUIRED": "false",
        },
    )
    sdk = openai.AsyncOpenAI(base_url=f"{upstream.base_url}/v1", api_key="unused", max_retries=0)
    try:
        thread_id = await new_thread(gateway)
        async with ws_client(gateway) as session:
            before = starts(gateway)
            reader = asyncio.create_task(
                collect(session.subscribe(watch({"thread": thread_id})), 4)
            )
            await started_after(gateway, "threadEvents", before)
            sent = [await post_message(gateway, thread_id, "through the gateway")]
            elsewhere = await sdk.beta.threads.messages.create(
                thread_id, role="assistant", content="written elsewhere"
            )
            sent.append(elsewhere.id)
            sent.append(await post_message(gateway, thread_id, "again"))
            elsewhere = await sdk.beta.threads.messages.create(
                thread_id, role="assistant", content="and elsewhere"
            )
            sent.append(elsewhere.id)
            got = await reader
        received = [e["threadEvents"]["message"]["id"] for e in got]
        assert sorted(received) == sorted(sent)
        assert len(set(received)) == 4
    finally:
        await sdk.close()
        gateway.stop()
        upstream.stop()


# --- the end of a stream: an expired token, a shutdown ----------------------------------

JWT_SECRET = "a-test-secret-of-at-least-thirty-two-bytes!"


async def test_an_expiring_token_ends_the_stream(tmp_path: Path) -> None:
    import time

    import jwt

    server = LiveServer(tmp_path, env={"GATEWAY_JWT_KEY": JWT_SECRET})
    try:
        token = jwt.encode(
            {"sub": "carol", "exp": int(time.time()) + 3}, JWT_SECRET, algorithm="HS256"
        )
        thread_id = await new_thread(server, token)
        async with ws_client(server, {"authorization": f"Bearer {token}"}) as session:
            with pytest.raises(TransportQueryError) as ended:
                await collect(session.subscribe(watch({"thread": thread_id})), 1)
        assert ended.value.errors is not None
        assert ended.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert "subscription end field=threadEvents caller=carol" in server.log
    finally:
        server.stop()


async def test_shutdown_ends_every_stream(tmp_path: Path) -> None:
    server = LiveServer(tmp_path)
    thread_id = await new_thread(server)
    ended: list[str] = []
    try:
        async with ws_client(server) as session:
            before = starts(server)

            async def read() -> None:
                try:
                    async for _ in session.subscribe(watch({"thread": thread_id})):
                        pass
                    ended.append("complete")
                except Exception as exc:  # the connection closed by the server
                    ended.append(type(exc).__name__)

            reader = asyncio.create_task(read())
            await started_after(server, "threadEvents", before)
            server.process.terminate()
            async with asyncio.timeout(HANG):
                await reader
    except Exception:  # gql's own close of a socket already gone
        pass
    finally:
        server.stop()
    # uvicorn closes each WebSocket (1012, service restart: clients reconnect with
    # ``after``), the hub logs each end, then the lifespan closes the bus.
    assert ended, "the stream did not end"
    assert "subscription end field=threadEvents" in server.log
    assert "Application shutdown complete." in server.log, server.log


async def test_metrics_show_subscriptions_events_and_lag(server: LiveServer) -> None:
    thread_id = await new_thread(server)
    async with ws_client(server) as session:
        before = starts(server)
        reader = asyncio.create_task(collect(session.subscribe(watch({"thread": thread_id})), 2))
        await started_after(server, "threadEvents", before)
        async with httpx.AsyncClient(timeout=HANG) as http:
            during = (await http.get(f"{server.base_url}/metrics")).text
        await post_message(server, thread_id, "one")
        await post_message(server, thread_id, "two")
        await reader
    async with httpx.AsyncClient(timeout=HANG) as http:
        after = (await http.get(f"{server.base_url}/metrics")).text

    def value(text: str, name: str) -> float:
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise AssertionError(f"{name} not in /metrics")

    assert value(during, "gateway_subscriptions_active") >= 1
    assert value(after, "gateway_subscription_events_delivered_total") >= 2
    assert value(after, "gateway_subscription_events_received_total") >= 2
    assert value(after, "gateway_subscription_delivery_lag_seconds_count") >= 2
    assert "gateway.operations subscription start field=threadEvents" in server.log


async def test_a_replica_killed_and_restarted_loses_nothing_on_resume(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Subscribers of a replica that dies (``kill -9``) reconnect to its replacement with
    ``after``: the messages written meanwhile through the other replica are replayed,
    then live ones follow, none lost or repeated."""
    from tests.store.postgres import create_database, drop_database

    postgres = request.getfixturevalue("postgres_server")
    url = create_database(postgres)
    survivor = LiveServer(tmp_path, store_url=url)
    doomed = LiveServer(tmp_path, store_url=url)
    replacement: LiveServer | None = None
    try:
        thread_id = await new_thread(survivor)
        client = ws_client(doomed)
        session = await client.connect_async()
        before = starts(doomed)
        reader = asyncio.create_task(collect(session.subscribe(watch({"thread": thread_id})), 2))
        await started_after(doomed, "threadEvents", before)
        first = [await post_message(survivor, thread_id, f"a{i}") for i in range(2)]
        got = await reader
        assert [e["threadEvents"]["message"]["id"] for e in got] == first
        doomed.process.kill()
        doomed.process.wait(timeout=10)
        with contextlib.suppress(Exception):
            await client.close_async()
        missed = [await post_message(survivor, thread_id, f"b{i}") for i in range(3)]
        replacement = LiveServer(tmp_path, store_url=url)
        async with ws_client(replacement) as resumed:
            before = starts(replacement)
            reader = asyncio.create_task(
                collect(resumed.subscribe(watch({"thread": thread_id, "after": first[-1]})), 5)
            )
            await started_after(replacement, "threadEvents", before)
            live = [await post_message(survivor, thread_id, f"c{i}") for i in range(2)]
            got = await reader
        assert [e["threadEvents"]["message"]["id"] for e in got] == missed + live
    finally:
        survivor.stop()
        doomed.stop()
        if replacement is not None:
            replacement.stop()
        drop_database(postgres, url)


async def test_a_slow_consumer_is_disconnected_while_a_fast_one_keeps_up(tmp_path: Path) -> None:
    """A client that stops reading: its socket's buffers fill, the server can no longer
    send, its bounded queue overflows and its subscription is ended; a fast subscriber
    of the same thread receives every event."""
    server = LiveServer(tmp_path, env={"GATEWAY_SUBSCRIPTION_QUEUE_SIZE": "4"})
    big = "x" * 200_000
    # A small receive buffer, so the stalled client's kernel does not absorb megabytes.
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32_768)
    stalled.connect(("127.0.0.1", server.port))
    stalled.setblocking(False)
    try:
        thread_id = await new_thread(server)
        async with (
            ws_client(server) as fast,
            websockets.connect(
                server.ws_url,
                subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                sock=stalled,
                max_queue=1,
                max_size=None,
                compression=None,  # the big texts compress to nothing otherwise
            ) as slow,
        ):
            await slow.send(json.dumps({"type": "connection_init", "payload": {}}))
            await slow.recv()
            before = starts(server)
            query = (
                "subscription($t: ID!) { threadEvents(threadId: $t) "
                "{ ... on MessageCreated { message { text } } } }"
            )
            await slow.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": query, "variables": {"t": thread_id}},
                    }
                )
            )
            fast_events: list[dict[str, Any]] = []

            async def read_fast() -> None:
                async for result in fast.subscribe(
                    GraphQLRequest(
                        gql(
                            "subscription($t: ID!) { threadEvents(threadId: $t) { "
                            "... on MessageCreated { message { id text } } } }"
                        ),
                        variable_values={"t": thread_id},
                    )
                ):
                    fast_events.append(result)

            fast_reader = asyncio.create_task(read_fast())
            await started_after(server, "threadEvents", before + 1)
            written = 0
            async with httpx.AsyncClient(base_url=server.base_url, timeout=HANG) as http:
                while "cut off: slow consumer" not in server.log and written < 150:
                    answer = await http.post(
                        f"/v1/threads/{thread_id}/messages",
                        json={"role": "assistant", "content": big},
                        headers={"OpenAI-Beta": "assistants=v2"},
                    )
                    assert answer.status_code == 200, answer.text
                    written += 1
            assert "cut off: slow consumer" in server.log, f"not cut off after {written} writes"
            async with asyncio.timeout(HANG * 2):
                while len(fast_events) < written:
                    await asyncio.sleep(0.05)
            fast_reader.cancel()
        assert len(fast_events) == written
        assert all(len(e["threadEvents"]["message"]["text"]) == len(big) for e in fast_events)
    finally:
        server.stop()


@pytest.mark.parametrize(("host", "status"), [("evil.example", b"403"), ("127.0.0.1", b"101")])
def test_the_host_allow_list_applies_to_the_websocket_upgrade(
    server: LiveServer, host: str, status: bytes
) -> None:
    """DNS rebinding: an upgrade naming a host the gateway does not serve is refused before
    it is accepted; one naming the loopback is switched to the WebSocket protocol."""
    request = (
        f"GET /graphql HTTP/1.1\r\nHost: {host}:{server.port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=HANG) as sock:
        sock.sendall(request)
        head = sock.recv(4096)
    assert head.split(b" ")[1] == status, head
