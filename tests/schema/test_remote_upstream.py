"""Remote mode against a mocked upstream (respx): what is sent, and how answers map."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx

from gateway.auth import token_digest
from tests.conftest import Gateway, SettingsFactory, start_gateway
from tests.schema.wire import (
    MESSAGE_ID,
    THREAD_ID,
    error_json,
    list_json,
    message_json,
    thread_json,
)

BASE = "http://upstream.test/v1"
CALLER = "caller-token-7f3a9c"
SERVER_KEY = "sk-server-key-4d2b8e"


@pytest.fixture
async def remote(make_settings: SettingsFactory) -> AsyncIterator[Gateway]:
    """The gateway on a remote upstream, with no server key: callers' bearers are forwarded."""
    async for running in start_gateway(
        make_settings(
            upstream_url=BASE, upstream_transport="httpx", max_retries=0, read_timeout=2.0
        )
    ):
        yield running


@pytest.fixture
def upstream() -> AsyncIterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


AUTH = {"Authorization": f"Bearer {CALLER}"}

OPERATIONS: list[tuple[str, dict[str, Any], str, str, dict[str, str], Any, Any]] = [
    # (graphql, variables, method, path, query, body sent, upstream answer)
    (
        'mutation { createThread(input: {metadata: {a: "1"}, messages: [{text: "hi"}]}) '
        "{ thread { id } } }",
        {},
        "POST",
        "/threads",
        {},
        {"metadata": {"a": "1"}, "messages": [{"role": "user", "content": "hi"}]},
        thread_json(),
    ),
    (
        "query($id: ID!) { thread(id: $id) { id } }",
        {"id": THREAD_ID},
        "GET",
        f"/threads/{THREAD_ID}",
        {},
        None,
        thread_json(),
    ),
    (
        'mutation($id: ID!) { updateThread(input: {id: $id, metadata: {b: "2"}, '
        'toolResources: {codeInterpreter: {fileIds: ["file_1"]}}}) { thread { id } } }',
        {"id": THREAD_ID},
        "POST",
        f"/threads/{THREAD_ID}",
        {},
        {"metadata": {"b": "2"}, "tool_resources": {"code_interpreter": {"file_ids": ["file_1"]}}},
        thread_json(),
    ),
    (
        "mutation($id: ID!) { deleteThread(input: {id: $id}) { deletedThreadId } }",
        {"id": THREAD_ID},
        "DELETE",
        f"/threads/{THREAD_ID}",
        {},
        None,
        {"id": THREAD_ID, "object": "thread.deleted", "deleted": True},
    ),
    (
        "mutation($t: ID!) { createMessage(input: {threadId: $t, role: ASSISTANT, "
        'content: [{text: "a"}, {imageUrl: {url: "https://x.test/i.png", detail: LOW}}], '
        'attachments: [{fileId: "file_2", tools: [FILE_SEARCH]}], metadata: {c: "3"}}) '
        "{ message { id } } }",
        {"t": THREAD_ID},
        "POST",
        f"/threads/{THREAD_ID}/messages",
        {},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "a"},
                {
                    "type": "image_url",
                    "image_url": {"url": "https://x.test/i.png", "detail": "low"},
                },
            ],
            "attachments": [{"file_id": "file_2", "tools": [{"type": "file_search"}]}],
            "metadata": {"c": "3"},
        },
        message_json(),
    ),
    (
        'query($t: ID!) { messages(threadId: $t, first: 5, after: "msg_x", order: ASC, '
        'runId: "run_1") { nodes { id } } }',
        {"t": THREAD_ID},
        "GET",
        f"/threads/{THREAD_ID}/messages",
        {"limit": "5", "order": "asc", "after": "msg_x", "run_id": "run_1"},
        None,
        list_json([message_json()]),
    ),
    (
        'query($t: ID!) { messages(threadId: $t, last: 3, before: "msg_y") { nodes { id } } }',
        {"t": THREAD_ID},
        "GET",
        f"/threads/{THREAD_ID}/messages",
        # A backward page is asked for as a forward page in the opposite order.
        {"limit": "3", "order": "asc", "after": "msg_y"},
        None,
        list_json([message_json()]),
    ),
    (
        "query($t: ID!, $m: ID!) { message(threadId: $t, id: $m) { id } }",
        {"t": THREAD_ID, "m": MESSAGE_ID},
        "GET",
        f"/threads/{THREAD_ID}/messages/{MESSAGE_ID}",
        {},
        None,
        message_json(),
    ),
    (
        "mutation($t: ID!, $m: ID!) { updateMessage(input: {threadId: $t, id: $m, "
        'metadata: {d: "4"}}) { message { id } } }',
        {"t": THREAD_ID, "m": MESSAGE_ID},
        "POST",
        f"/threads/{THREAD_ID}/messages/{MESSAGE_ID}",
        {},
        {"metadata": {"d": "4"}},
        message_json(),
    ),
    (
        "mutation($t: ID!, $m: ID!) { deleteMessage(input: {threadId: $t, id: $m}) "
        "{ deletedMessageId } }",
        {"t": THREAD_ID, "m": MESSAGE_ID},
        "DELETE",
        f"/threads/{THREAD_ID}/messages/{MESSAGE_ID}",
        {},
        None,
        {"id": MESSAGE_ID, "object": "thread.message.deleted", "deleted": True},
    ),
]


@pytest.mark.parametrize(
    ("query", "variables", "method", "path", "params", "body", "answer"),
    OPERATIONS,
    ids=[op[2] + " " + op[3] for op in OPERATIONS],
)
async def test_exact_request_sent_for_each_operation(
    remote: Gateway,
    upstream: respx.MockRouter,
    query: str,
    variables: dict[str, Any],
    method: str,
    path: str,
    params: dict[str, str],
    body: Any,
    answer: Any,
) -> None:
    route = upstream.route(method=method, path=path).respond(200, json=answer)
    result = await remote.graphql.execute(query, variables, headers=AUTH)
    assert result.errors == []
    assert route.call_count == 1
    request = route.calls.last.request
    assert request.url.host == "upstream.test"
    assert dict(request.url.params) == params
    assert request.headers["openai-beta"] == "assistants=v2"
    assert request.headers["authorization"] == f"Bearer {CALLER}"
    assert request.headers["x-request-id"]
    if body is None:
        assert request.content == b""
    else:
        assert request.headers["content-type"] == "application/json"
        assert json.loads(request.content) == body
    assert result.upstream_calls == 1


async def test_server_key_replaces_the_callers_bearer(
    make_settings: SettingsFactory, upstream: respx.MockRouter
) -> None:
    route = upstream.get(f"/threads/{THREAD_ID}").respond(200, json=thread_json())
    # Holding the key, the gateway requires a credential of its own (gateway.auth).
    settings = make_settings(
        upstream_url="http://upstream.test",
        upstream_transport="httpx",
        upstream_api_key=SERVER_KEY,
        auth_token_hashes=[token_digest(CALLER)],
    )
    async for gateway in start_gateway(settings):
        data = await gateway.graphql.data(
            "query($id: ID!) { thread(id: $id) { id } }", {"id": THREAD_ID}, headers=AUTH
        )
        assert data == {"thread": {"id": THREAD_ID}}
    # A base URL given without /v1 gets it appended.
    assert str(route.calls.last.request.url) == f"{BASE}/threads/{THREAD_ID}"
    assert route.calls.last.request.headers["authorization"] == f"Bearer {SERVER_KEY}"


async def test_no_credentials_is_unauthenticated_without_a_call(
    remote: Gateway, upstream: respx.MockRouter
) -> None:
    route = upstream.get(f"/threads/{THREAD_ID}").respond(200, json=thread_json())
    result = await remote.graphql.execute(
        "query($id: ID!) { thread(id: $id) { id } }", {"id": THREAD_ID}
    )
    assert result.codes == ["UNAUTHENTICATED"]
    assert route.call_count == 0
    assert result.upstream_calls == 0


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "BAD_USER_INPUT"),
        (401, "UNAUTHENTICATED"),
        (403, "FORBIDDEN"),
        (404, "NOT_FOUND"),
        (409, "UPSTREAM_ERROR"),
        (422, "BAD_USER_INPUT"),
        (429, "RATE_LIMITED"),
        (500, "UPSTREAM_ERROR"),
        (502, "UPSTREAM_UNAVAILABLE"),
        (503, "UPSTREAM_UNAVAILABLE"),
        (504, "UPSTREAM_UNAVAILABLE"),
    ],
)
async def test_every_upstream_status_maps_to_its_code(
    remote: Gateway, upstream: respx.MockRouter, status: int, code: str
) -> None:
    headers = {"x-request-id": "req_upstream_1"}
    if status == 429:
        headers["retry-after"] = "7"
    upstream.get(f"/threads/{THREAD_ID}").respond(
        status,
        json=error_json(
            f"upstream says {status} (key sk-abc...xyz)", param="thread_id", code="some_code"
        ),
        headers=headers,
    )
    result = await remote.graphql.execute(
        "query($id: ID!) { thread(id: $id) { id } }", {"id": THREAD_ID}, headers=AUTH
    )
    assert result.status == 200
    assert result.data == {"thread": None}
    assert result.codes == [code]
    extensions = result.errors[0]["extensions"]
    assert extensions["upstream"] == {
        "status": status,
        "type": "invalid_request_error",
        "code": "some_code",
        "param": "thread_id",
        "requestId": "req_upstream_1",
    }
    if status == 429:
        assert extensions["retryAfter"] == 7
    assert "sk-abc" not in json.dumps(result.body)
    assert "upstream.test" not in json.dumps(result.body)


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        (httpx.ReadTimeout("slow"), "UPSTREAM_TIMEOUT"),
        (httpx.ConnectTimeout("slow"), "UPSTREAM_TIMEOUT"),
        (httpx.ConnectError("refused"), "UPSTREAM_UNAVAILABLE"),
        (httpx.RemoteProtocolError("reset"), "UPSTREAM_UNAVAILABLE"),
    ],
)
async def test_transport_failures_map_to_codes(
    remote: Gateway, upstream: respx.MockRouter, failure: Exception, code: str
) -> None:
    upstream.get(f"/threads/{THREAD_ID}").mock(side_effect=failure)
    result = await remote.graphql.execute(
        "query($id: ID!) { thread(id: $id) { id } }", {"id": THREAD_ID}, headers=AUTH
    )
    assert result.status == 200
    assert result.codes == [code]
    assert result.data == {"thread": None}


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, content=b"{not json", headers={"content-type": "application/json"}),
        httpx.Response(200, content=b"<html>oops</html>", headers={"content-type": "text/html"}),
        httpx.Response(200, json={"id": 42}),
        httpx.Response(200, json=["a", "list"]),
    ],
)
async def test_garbage_from_upstream_is_a_typed_error(
    remote: Gateway, upstream: respx.MockRouter, response: httpx.Response
) -> None:
    upstream.get(f"/threads/{THREAD_ID}").mock(return_value=response)
    result = await remote.graphql.execute(
        "query($id: ID!) { thread(id: $id) { id } }", {"id": THREAD_ID}, headers=AUTH
    )
    assert result.status == 200
    assert result.codes == ["UPSTREAM_ERROR"]


async def test_upstream_400_on_mutation_is_a_user_error(
    remote: Gateway, upstream: respx.MockRouter
) -> None:
    upstream.post(f"/threads/{THREAD_ID}/messages").respond(
        400, json=error_json("Invalid 'content': too long.", param="content")
    )
    result = await remote.graphql.execute(
        'mutation($t: ID!) { createMessage(input: {threadId: $t, text: "x"}) '
        "{ message { id } userErrors { code message field } } }",
        {"t": THREAD_ID},
        headers=AUTH,
    )
    assert result.errors == []
    assert result.data["createMessage"] == {
        "message": None,
        "userErrors": [
            {"code": "INVALID", "message": "Invalid 'content': too long.", "field": ["content"]}
        ],
    }


async def test_unknown_and_rich_content_parts(remote: Gateway, upstream: respx.MockRouter) -> None:
    content = [
        {
            "type": "text",
            "text": {
                "value": "see [1] and [2]",
                "annotations": [
                    {
                        "type": "file_citation",
                        "text": "[1]",
                        "start_index": 4,
                        "end_index": 7,
                        "file_citation": {"file_id": "file_c"},
                    },
                    {
                        "type": "file_path",
                        "text": "[2]",
                        "start_index": 12,
                        "end_index": 15,
                        "file_path": {"file_id": "file_p"},
                    },
                    {"type": "future_annotation", "text": "?"},
                ],
            },
        },
        {"type": "refusal", "refusal": "I can't help with that."},
        {"type": "audio_clip", "audio_clip": {"seconds": 3}},
        {"type": "image_file", "image_file": {"file_id": "file_i", "detail": "auto"}},
    ]
    upstream.get(f"/threads/{THREAD_ID}/messages/{MESSAGE_ID}").respond(
        200,
        json=message_json(
            content=content,
            role="assistant",
            status="incomplete",
            incomplete_at=1764118100,
            incomplete_details={"reason": "max_tokens"},
            assistant_id="asst_1",
            run_id="run_1",
            completed_at=None,
            attachments=None,
            metadata=None,
        ),
    )
    data = await remote.graphql.data(
        """query($t: ID!, $m: ID!) { message(threadId: $t, id: $m) {
             role status text assistantId runId incompleteAt completedAt metadata attachments { fileId }
             incompleteDetails { reason }
             content { __typename
               ... on TextContent { value annotations { __typename
                 ... on FileCitationAnnotation { text startIndex endIndex fileId }
                 ... on FilePathAnnotation { text startIndex endIndex fileId } } }
               ... on RefusalContent { refusal }
               ... on UnknownContent { type raw }
               ... on ImageFileContent { fileId detail } } } }""",
        {"t": THREAD_ID, "m": MESSAGE_ID},
        headers=AUTH,
    )
    message = data["message"]
    assert message["role"] == "ASSISTANT"
    assert message["status"] == "INCOMPLETE"
    assert message["incompleteDetails"] == {"reason": "MAX_TOKENS"}
    assert message["incompleteAt"] == "2025-11-26T00:48:20Z"
    assert message["completedAt"] is None
    assert message["metadata"] == {}
    assert message["attachments"] == []
    assert (message["assistantId"], message["runId"]) == ("asst_1", "run_1")
    assert message["text"] == "see [1] and [2]"
    assert message["content"] == [
        {
            "__typename": "TextContent",
            "value": "see [1] and [2]",
            "annotations": [
                {
                    "__typename": "FileCitationAnnotation",
                    "text": "[1]",
                    "startIndex": 4,
                    "endIndex": 7,
                    "fileId": "file_c",
                },
                {
                    "__typename": "FilePathAnnotation",
                    "text": "[2]",
                    "startIndex": 12,
                    "endIndex": 15,
                    "fileId": "file_p",
                },
            ],
        },
        {"__typename": "RefusalContent", "refusal": "I can't help with that."},
        {"__typename": "UnknownContent", "type": "audio_clip", "raw": content[2]},
        {"__typename": "ImageFileContent", "fileId": "file_i", "detail": "AUTO"},
    ]


async def test_caller_token_and_server_key_never_logged(
    make_settings: SettingsFactory, upstream: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    upstream.get(f"/threads/{THREAD_ID}").respond(500, json=error_json("boom"))
    upstream.get(f"/threads/{THREAD_ID}/messages").mock(side_effect=httpx.ConnectError("x"))
    for settings in (
        make_settings(
            upstream_url=BASE, upstream_transport="httpx", max_retries=1, retry_backoff=0.0
        ),
        make_settings(
            upstream_url=BASE,
            upstream_transport="httpx",
            upstream_api_key=SERVER_KEY,
            auth_token_hashes=[token_digest(CALLER)],
            max_retries=1,
            retry_backoff=0.0,
        ),
    ):
        async for gateway in start_gateway(settings):
            result = await gateway.graphql.execute(
                "query($id: ID!) { thread(id: $id) { id messages { nodes { id } } } "
                "messages(threadId: $id) { nodes { id } } }",
                {"id": THREAD_ID},
                headers=AUTH,
            )
            assert result.codes
            body = json.dumps(result.body)
            assert CALLER not in body and SERVER_KEY not in body
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert CALLER not in logged
    assert SERVER_KEY not in logged
    assert "upstream.test" not in logged


async def test_a_value_the_schema_cannot_show_is_an_upstream_error(
    remote: Gateway, upstream: respx.MockRouter
) -> None:
    bad_annotation = {
        "type": "file_path",
        "text": "[1]",
        "start_index": "x",
        "end_index": 3,
        "file_path": {"file_id": "file_p"},
    }
    content = [{"type": "text", "text": {"value": "v", "annotations": [bad_annotation]}}]
    upstream.get(f"/threads/{THREAD_ID}/messages/{MESSAGE_ID}").respond(
        200, json=message_json(content=content)
    )
    result = await remote.graphql.execute(
        """query($t: ID!, $m: ID!) { message(threadId: $t, id: $m) { text
             content { ... on TextContent { annotations { ... on FilePathAnnotation { startIndex } } } } } }""",
        {"t": THREAD_ID, "m": MESSAGE_ID},
        headers=AUTH,
    )
    assert result.status == 200
    assert result.codes == ["UPSTREAM_ERROR"]
    assert result.errors[0]["path"][:2] == ["message", "content"]


async def test_an_upstream_that_did_not_delete_is_a_user_error(
    remote: Gateway, upstream: respx.MockRouter
) -> None:
    upstream.delete(f"/threads/{THREAD_ID}").respond(
        200, json={"id": THREAD_ID, "object": "thread.deleted", "deleted": False}
    )
    result = await remote.graphql.execute(
        "mutation($id: ID!) { deleteThread(input: {id: $id}) { deletedThreadId "
        "userErrors { code message field } } }",
        {"id": THREAD_ID},
        headers=AUTH,
    )
    assert result.errors == []
    assert result.data["deleteThread"] == {
        "deletedThreadId": None,
        "userErrors": [
            {"code": "INVALID", "message": "The upstream did not delete it.", "field": ["id"]}
        ],
    }
