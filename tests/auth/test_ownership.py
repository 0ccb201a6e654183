"""Per-owner isolation between two callers, over every query and mutation (embedded store)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.auth import token_digest
from tests.conftest import Gateway, SettingsFactory, start_gateway

ALICE, BOB = "alice-token-1f2e3d4c", "bob-token-9a8b7c6d"
OWNER = "owner"
ALICE_SUBJECT = f"token:{token_digest(ALICE)[:12]}"
BOB_SUBJECT = f"token:{token_digest(BOB)[:12]}"
STORE_KEY = "store-key-for-isolation-tests"


def as_(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def gateway(make_settings: SettingsFactory) -> AsyncIterator[Gateway]:
    settings = make_settings(
        auth_token_hashes=f"{token_digest(ALICE)},{token_digest(BOB)}",
        owner_metadata_key=OWNER,
        store_api_key=STORE_KEY,
    )
    async for running in start_gateway(settings):
        yield running


async def create_thread(gateway: Gateway, token: str, metadata: Any = None) -> dict[str, Any]:
    data = await gateway.graphql.data(
        'mutation($m: Metadata) { createThread(input: {metadata: $m, messages: [{text: "hi"}]}) '
        "{ thread { id metadata messages { nodes { id } } } userErrors { message } } }",
        {"m": metadata},
        headers=as_(token),
    )
    thread: dict[str, Any] = data["createThread"]["thread"]
    return thread


@pytest.fixture
async def alices(gateway: Gateway) -> dict[str, Any]:
    return await create_thread(gateway, ALICE, {"topic": "a"})


async def test_created_threads_are_stamped_and_the_stamp_is_visible(
    gateway: Gateway, alices: dict[str, Any]
) -> None:
    assert alices["metadata"] == {"topic": "a", OWNER: ALICE_SUBJECT}
    forged = await create_thread(gateway, ALICE, {OWNER: BOB_SUBJECT})
    assert forged["metadata"] == {OWNER: ALICE_SUBJECT}


async def test_owner_reads_and_changes_its_own_thread(
    gateway: Gateway, alices: dict[str, Any]
) -> None:
    thread_id = alices["id"]
    message_id = alices["messages"]["nodes"][0]["id"]
    alice = as_(ALICE)
    data = await gateway.graphql.data(
        "query($t: ID!, $m: ID!) { thread(id: $t) { id messages { nodes { id text } } } "
        "threads(ids: [$t]) { id } message(threadId: $t, id: $m) { text } "
        "messages(threadId: $t) { nodes { id } } }",
        {"t": thread_id, "m": message_id},
        headers=alice,
    )
    assert data["thread"]["messages"]["nodes"] == [{"id": message_id, "text": "hi"}]
    assert data["threads"] == [{"id": thread_id}]
    # updateThread cannot remove or overwrite the stamp.
    for metadata in ({}, {OWNER: BOB_SUBJECT, "x": "1"}):
        data = await gateway.graphql.data(
            "mutation($t: ID!, $m: Metadata) { updateThread(input: {id: $t, metadata: $m}) "
            "{ thread { metadata } userErrors { message } } }",
            {"t": thread_id, "m": metadata},
            headers=alice,
        )
        assert data["updateThread"]["thread"]["metadata"][OWNER] == ALICE_SUBJECT
    data = await gateway.graphql.data(
        "mutation($t: ID!, $m: ID!) { "
        'c: createMessage(input: {threadId: $t, text: "more"}) { message { id } } '
        'u: updateMessage(input: {threadId: $t, id: $m, metadata: {k: "v"}}) '
        "{ message { metadata } } "
        "d: deleteMessage(input: {threadId: $t, id: $m}) { deletedMessageId } "
        "t: deleteThread(input: {id: $t}) { deletedThreadId } }",
        {"t": thread_id, "m": message_id},
        headers=alice,
    )
    assert data["u"]["message"]["metadata"] == {"k": "v"}
    assert data["t"]["deletedThreadId"] == thread_id


QUERIES = [
    ("thread", "thread(id: $t) { id }"),
    ("threadMessages", "thread(id: $t) { messages { nodes { id text } } }"),
    ("message", "message(threadId: $t, id: $m) { id text }"),
    ("messages", "messages(threadId: $t) { nodes { id text } }"),
]


def operation(kind: str, field: str, thread_id: str, message_id: str) -> tuple[str, Any]:
    """``kind (...) { field }`` declaring only the variables the field uses."""
    if "$m" in field:
        return f"{kind}($t: ID!, $m: ID!) {{ {field} }}", {"t": thread_id, "m": message_id}
    return f"{kind}($t: ID!) {{ {field} }}", {"t": thread_id}


MUTATIONS = [
    ("updateThread", 'updateThread(input: {id: $t, metadata: {owner: "x"}}) { thread { id } }'),
    ("deleteThread", "deleteThread(input: {id: $t}) { deletedThreadId }"),
    ("createMessage", 'createMessage(input: {threadId: $t, text: "x"}) { message { id } }'),
    (
        "updateMessage",
        'updateMessage(input: {threadId: $t, id: $m, metadata: {a: "b"}}) { message { id } }',
    ),
    ("deleteMessage", "deleteMessage(input: {threadId: $t, id: $m}) { deletedMessageId }"),
]


@pytest.mark.parametrize("query", [q for _, q in QUERIES], ids=[n for n, _ in QUERIES])
async def test_another_callers_thread_is_forbidden_to_read(
    gateway: Gateway, alices: dict[str, Any], query: str
) -> None:
    document, variables = operation(
        "query", query, alices["id"], alices["messages"]["nodes"][0]["id"]
    )
    result = await gateway.graphql.execute(document, variables, headers=as_(BOB))
    assert result.status == 200
    assert result.codes == ["FORBIDDEN"], result.body
    assert "another caller" in result.errors[0]["message"]
    assert "'hi'" not in str(result.body)


@pytest.mark.parametrize("field", [f for _, f in MUTATIONS], ids=[n for n, _ in MUTATIONS])
async def test_another_callers_thread_is_forbidden_to_change(
    gateway: Gateway, alices: dict[str, Any], field: str
) -> None:
    thread_id, message_id = alices["id"], alices["messages"]["nodes"][0]["id"]
    document, variables = operation("mutation", field, thread_id, message_id)
    result = await gateway.graphql.execute(document, variables, headers=as_(BOB))
    assert result.codes == ["FORBIDDEN"], result.body
    # Nothing changed for Alice.
    data = await gateway.graphql.data(
        "query($t: ID!) { thread(id: $t) { metadata messages { nodes { id text metadata } } } }",
        {"t": thread_id},
        headers=as_(ALICE),
    )
    assert data["thread"]["metadata"] == {"topic": "a", OWNER: ALICE_SUBJECT}
    assert data["thread"]["messages"]["nodes"] == [{"id": message_id, "text": "hi", "metadata": {}}]


async def test_threads_by_ids_forbids_only_the_foreign_entries(
    gateway: Gateway, alices: dict[str, Any]
) -> None:
    bobs = await create_thread(gateway, BOB)
    result = await gateway.graphql.execute(
        "query($ids: [ID!]!) { threads(ids: $ids) { id } }",
        {"ids": [alices["id"], bobs["id"], "thread_nonexistent00000000000"]},
        headers=as_(BOB),
    )
    assert result.data == {"threads": [None, {"id": bobs["id"]}, None]}
    assert result.codes == ["FORBIDDEN"]
    assert result.errors[0]["path"] == ["threads", 0]


async def test_a_thread_made_outside_the_gateway_belongs_to_nobody(gateway: Gateway) -> None:
    response = await gateway.http.post(
        "/v1/threads",
        json={"metadata": {"made": "directly"}},
        headers={"Authorization": f"Bearer {STORE_KEY}", "OpenAI-Beta": "assistants=v2"},
    )
    assert response.status_code == 200, response.text
    thread_id = response.json()["id"]
    for token in (ALICE, BOB):
        result = await gateway.graphql.execute(
            "query($t: ID!) { thread(id: $t) { id } }", {"t": thread_id}, headers=as_(token)
        )
        assert result.codes == ["FORBIDDEN"]


async def test_isolation_costs_no_extra_call_when_the_thread_is_read_anyway(
    gateway: Gateway, alices: dict[str, Any]
) -> None:
    result = await gateway.graphql.execute(
        "query($t: ID!) { thread(id: $t) { id messages { nodes { id } } } }",
        {"t": alices["id"]},
        headers=as_(ALICE),
    )
    assert not result.errors
    assert result.upstream_calls == 2  # the thread (checked once, shared) and one page
