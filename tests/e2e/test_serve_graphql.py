"""A real ``messages-gateway serve`` process answering GraphQL over HTTP."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from tests.store.server import ServerProcess


@pytest.fixture
def served(gateway_server: ServerProcess) -> ServerProcess:
    return gateway_server


def test_graphql_over_http_sees_what_the_sdk_wrote(served: ServerProcess) -> None:
    # Written through the store's REST API with the official SDK ...
    # (closed here: an SDK left open leaks its pooled socket to the garbage collector)
    with openai.OpenAI(base_url=f"{served.base_url}/v1", api_key="unused", max_retries=0) as sdk:
        thread = sdk.beta.threads.create(metadata={"from": "sdk"})
        for text in ("first", "second", "third"):
            sdk.beta.threads.messages.create(thread.id, role="user", content=text)

    # ... and read through GraphQL, by POST and by GET.
    query = """query Chat($id: ID!) { thread(id: $id) { id metadata
                 messages(last: 2, order: ASC) { nodes { text role }
                   pageInfo { hasPreviousPage hasNextPage } } } }"""
    posted = httpx.post(
        f"{served.base_url}/graphql",
        json={"query": query, "variables": {"id": thread.id}, "operationName": "Chat"},
        timeout=10,
    )
    assert posted.status_code == 200
    assert posted.headers["content-type"].startswith("application/json")
    expected = {
        "thread": {
            "id": thread.id,
            "metadata": {"from": "sdk"},
            "messages": {
                "nodes": [{"text": "second", "role": "USER"}, {"text": "third", "role": "USER"}],
                "pageInfo": {"hasPreviousPage": True, "hasNextPage": False},
            },
        }
    }
    assert posted.json() == {"data": expected}

    fetched = httpx.get(
        f"{served.base_url}/graphql",
        params={"query": query, "variables": json.dumps({"id": thread.id})},
        headers={"accept": "application/json"},
        timeout=10,
    )
    assert fetched.status_code == 200
    assert fetched.json() == {"data": expected}


def test_mutation_over_http_is_visible_to_the_sdk(served: ServerProcess) -> None:
    created = httpx.post(
        f"{served.base_url}/graphql",
        json={
            "query": """mutation { createThread(input: {messages: [{text: "hello"}]}) {
                          thread { id } userErrors { code } } }"""
        },
        timeout=10,
    ).json()["data"]["createThread"]
    assert created["userErrors"] == []
    with openai.OpenAI(base_url=f"{served.base_url}/v1", api_key="unused", max_retries=0) as sdk:
        messages = sdk.beta.threads.messages.list(created["thread"]["id"])
    assert [m.content[0].text.value for m in messages.data] == ["hello"]  # type: ignore[union-attr]


def test_malformed_request_is_a_400_with_an_error(served: ServerProcess) -> None:
    response = httpx.post(
        f"{served.base_url}/graphql", json={"query": "query { thread(id: "}, timeout=10
    )
    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert "Traceback" not in response.text


def test_mutations_are_refused_over_get(served: ServerProcess) -> None:
    response = httpx.get(
        f"{served.base_url}/graphql",
        params={"query": "mutation { createThread { thread { id } } }"},
        headers={"accept": "application/json"},
        timeout=10,
    )
    assert response.status_code in (400, 405)


def test_server_log_has_no_traceback(served: ServerProcess) -> None:
    assert "Traceback" not in served.log
