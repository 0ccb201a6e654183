"""Bad input: every case is a 400 or 404 in the OpenAI error envelope, naming the
offending parameter, and nothing is stored.

The error bodies are validated against the spec's ErrorResponse schema by the
client's event hook.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from gateway.store import StoreBackend
from tests.store.backends import snapshot, snapshot_at
from tests.store.server import ServerProcess, raw_request
from tests.store.spec import SpecChecker

NEW = "{new}"  # placeholder in paths: the id of the test's thread / message


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str
    status: int
    param: str | None
    message: str  # a substring of the error message
    json_body: Any = None
    content: bytes | None = None


def metadata_of(size: int) -> dict[str, str]:
    return {f"key{i}": "value" for i in range(size)}


TEXT = {"role": "user", "content": "hello"}

HUGE_LIMIT = "/threads/{t}/messages?limit=" + "9" * 5000
HUGE_NEGATIVE_LIMIT = "/threads/{t}/messages?limit=-" + "9" * 5000
ZEROS_LIMIT = "/threads/{t}/messages?limit=" + "0" * 5000 + "101"


def nested(depth: int, innermost: str) -> bytes:
    """A createMessage body whose ``metadata`` is ``depth`` arrays around ``innermost``."""
    return (
        b'{"role": "user", "content": "x", "metadata": '
        + b"[" * depth
        + innermost.encode()
        + b"]" * depth
        + b"}"
    )


CASES = [
    # --- listMessages query ----------------------------------------------------------
    Case("limit-0", "GET", "/threads/{t}/messages?limit=0", 400, "limit", "below minimum"),
    Case("limit-101", "GET", "/threads/{t}/messages?limit=101", 400, "limit", "above maximum"),
    Case(
        "limit-abc", "GET", "/threads/{t}/messages?limit=abc", 400, "limit", "expected an integer"
    ),
    Case("limit-float", "GET", "/threads/{t}/messages?limit=1.5", 400, "limit", "integer"),
    # more digits than int() parses (sys.int_max_str_digits is 4300)
    Case("limit-5000-digits", "GET", HUGE_LIMIT, 400, "limit", "above maximum"),
    Case("limit-5000-digits-negative", "GET", HUGE_NEGATIVE_LIMIT, 400, "limit", "below minimum"),
    Case("limit-leading-zeros", "GET", ZEROS_LIMIT, 400, "limit", "above maximum value"),
    Case("order", "GET", "/threads/{t}/messages?order=up", 400, "order", "'asc' and 'desc'"),
    Case(
        "after-prefix", "GET", "/threads/{t}/messages?after=abc", 400, "after", "begins with 'msg'"
    ),
    Case("after-unknown", "GET", "/threads/{t}/messages?after=msg_x", 400, "after", "no message"),
    Case("before-unknown", "GET", "/threads/{t}/messages?before=msg_x", 400, "before", "msg_x"),
    Case(
        "window-after-unknown",
        "GET",
        "/threads/{t}/messages?after=msg_x&before={m}",
        400,
        "after",
        "no message",
    ),
    Case(
        "cursor-of-other-thread",
        "GET",
        "/threads/{t}/messages?after={other_m}",
        400,
        "after",
        "no message",
    ),
    # --- createMessage body --------------------------------------------------------
    Case("no-role", "POST", "/threads/{t}/messages", 400, "role", "Missing required", {}),
    Case(
        "no-content", "POST", "/threads/{t}/messages", 400, "content", "Missing", {"role": "user"}
    ),
    Case(
        "bad-role",
        "POST",
        "/threads/{t}/messages",
        400,
        "role",
        "Supported values are: 'user' and 'assistant'",
        {"role": "system", "content": "x"},
    ),
    Case(
        "empty-content-array",
        "POST",
        "/threads/{t}/messages",
        400,
        "content",
        "empty array",
        {"role": "user", "content": []},
    ),
    Case(
        "empty-content-string",
        "POST",
        "/threads/{t}/messages",
        400,
        "content",
        "empty string",
        {"role": "user", "content": ""},
    ),
    Case(
        "content-wrong-type",
        "POST",
        "/threads/{t}/messages",
        400,
        "content",
        "Invalid type for 'content'",
        {"role": "user", "content": 5},
    ),
    Case(
        "text-part-without-text",
        "POST",
        "/threads/{t}/messages",
        400,
        "content[0].text",
        "Missing required parameter",
        {"role": "user", "content": [{"type": "text"}]},
    ),
    Case(
        "text-part-as-object",
        "POST",
        "/threads/{t}/messages",
        400,
        "content[0].text",
        "expected a string",
        {"role": "user", "content": [{"type": "text", "text": {"value": "x"}}]},
    ),
    Case(
        "unknown-field-in-part",
        "POST",
        "/threads/{t}/messages",
        400,
        "content[0].extra",
        "Unknown parameter",
        {"role": "user", "content": [{"type": "text", "text": "x", "extra": 1}]},
    ),
    Case(
        "unknown-part-type",
        "POST",
        "/threads/{t}/messages",
        400,
        "content[1].type",
        "'text', 'image_file', and 'image_url'",
        {"role": "user", "content": [{"type": "text", "text": "x"}, {"type": "video"}]},
    ),
    Case(
        "image-url-not-a-url",
        "POST",
        "/threads/{t}/messages",
        400,
        "content[0].image_url.url",
        "http(s) or data URL",
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "not a url"}}]},
    ),
    Case(
        "image-file-without-id",
        "POST",
        "/threads/{t}/messages",
        400,
        "content[0].image_file.file_id",
        "Missing",
        {"role": "user", "content": [{"type": "image_file", "image_file": {}}]},
    ),
    Case(
        "image-detail",
        "POST",
        "/threads/{t}/messages",
        400,
        "content[0].image_file.detail",
        "'auto', 'low', and 'high'",
        {
            "role": "user",
            "content": [{"type": "image_file", "image_file": {"file_id": "f", "detail": "max"}}],
        },
    ),
    Case(
        "metadata-17-keys",
        "POST",
        "/threads/{t}/messages",
        400,
        "metadata",
        "at most 16 properties",
        {**TEXT, "metadata": metadata_of(17)},
    ),
    Case(
        "metadata-key-65",
        "POST",
        "/threads/{t}/messages",
        400,
        "metadata",
        "key too long",
        {**TEXT, "metadata": {"k" * 65: "v"}},
    ),
    Case(
        "metadata-value-513",
        "POST",
        "/threads/{t}/messages",
        400,
        "metadata",
        "maximum length 512",
        {**TEXT, "metadata": {"k": "v" * 513}},
    ),
    Case(
        "metadata-empty-key",
        "POST",
        "/threads/{t}/messages",
        400,
        "metadata",
        "empty key",
        {**TEXT, "metadata": {"": "v"}},
    ),
    Case(
        "metadata-value-not-string",
        "POST",
        "/threads/{t}/messages",
        400,
        "metadata",
        "expected a string, but got an integer",
        {**TEXT, "metadata": {"k": 1}},
    ),
    Case(
        "metadata-not-object",
        "POST",
        "/threads/{t}/messages",
        400,
        "metadata",
        "expected an object",
        {**TEXT, "metadata": ["k"]},
    ),
    Case(
        "unknown-top-level-field",
        "POST",
        "/threads/{t}/messages",
        400,
        "file_ids",
        "Unknown parameter: 'file_ids'",
        {**TEXT, "file_ids": []},
    ),
    Case(
        "attachment-without-tools",
        "POST",
        "/threads/{t}/messages",
        400,
        "attachments[0].tools",
        "Missing",
        {**TEXT, "attachments": [{"file_id": "f"}]},
    ),
    Case(
        "attachment-bad-tool",
        "POST",
        "/threads/{t}/messages",
        400,
        "attachments[0].tools[0].type",
        "'code_interpreter' and 'file_search'",
        {**TEXT, "attachments": [{"file_id": "f", "tools": [{"type": "retrieval"}]}]},
    ),
    Case(
        "malformed-json",
        "POST",
        "/threads/{t}/messages",
        400,
        None,
        "not valid JSON",
        content=b'{"role": "user", "content": "x"',
    ),
    Case("nan", "POST", "/threads/{t}/messages", 400, None, "not valid JSON", content=b"NaN"),
    Case(
        "body-not-object",
        "POST",
        "/threads/{t}/messages",
        400,
        None,
        "expected an object, but got an array",
        content=b"[]",
    ),
    Case(
        "lone-surrogate",
        "POST",
        "/threads/{t}/messages",
        400,
        None,
        "surrogate",
        content=b'{"role": "user", "content": "a\\ud800b"}',
    ),
    # valid JSON nested up to the contract's depth: the walks of it are iterative
    Case(
        "nested-63-lone-surrogate",
        "POST",
        "/threads/{t}/messages",
        400,
        None,
        "surrogate",
        content=nested(63, '"\\ud800"'),
    ),
    Case(
        "nested-63",
        "POST",
        "/threads/{t}/messages",
        400,
        "metadata",
        "expected an object",
        content=nested(63, '"x"'),
    ),
    # deeper than the contract's MAX_JSON_DEPTH (64), still within the decoder's reach
    Case(
        "nested-64",
        "POST",
        "/threads/{t}/messages",
        400,
        None,
        "nested too deeply (more than 64 levels)",
        content=nested(64, '"x"'),
    ),
    Case(
        "nested-600-lone-surrogate",
        "POST",
        "/threads/{t}/messages",
        400,
        None,
        "nested too deeply",
        content=nested(600, '"\\ud800"'),
    ),
    # deeper than the JSON decoder itself can go
    Case(
        "nested-100000",
        "POST",
        "/threads/{t}/messages",
        400,
        None,
        "nested too deeply",
        content=nested(100_000, '"x"'),
    ),
    Case(
        "not-utf8",
        "POST",
        "/threads/{t}/messages",
        400,
        None,
        "not valid JSON",
        content=b'{"role": "user", "content": "\xff"}',
    ),
    # --- createThread body -----------------------------------------------------------
    Case(
        "messages-not-array",
        "POST",
        "/threads",
        400,
        "messages",
        "expected an array",
        {"messages": {"role": "user"}},
    ),
    Case(
        "second-message-empty-content",
        "POST",
        "/threads",
        400,
        "messages[1].content",
        "empty array",
        {"messages": [TEXT, {"role": "user", "content": []}]},
    ),
    Case(
        "unknown-field-in-message",
        "POST",
        "/threads",
        400,
        "messages[0].name",
        "Unknown parameter",
        {"messages": [{**TEXT, "name": "x"}]},
    ),
    Case(
        "thread-metadata-17",
        "POST",
        "/threads",
        400,
        "metadata",
        "at most 16",
        {"messages": [TEXT], "metadata": metadata_of(17)},
    ),
    Case(
        "vector-stores-helper",
        "POST",
        "/threads",
        400,
        "tool_resources.file_search.vector_stores",
        "not supported",
        {"tool_resources": {"file_search": {"vector_stores": [{"file_ids": ["f"]}]}}},
    ),
    Case(
        "too-many-files",
        "POST",
        "/threads",
        400,
        "tool_resources.code_interpreter.file_ids",
        "maximum length 20",
        {"tool_resources": {"code_interpreter": {"file_ids": [f"f{i}" for i in range(21)]}}},
    ),
    Case(
        "two-vector-stores",
        "POST",
        "/threads",
        400,
        "tool_resources.file_search.vector_store_ids",
        "maximum length 1",
        {"tool_resources": {"file_search": {"vector_store_ids": ["a", "b"]}}},
    ),
    Case(
        "unknown-tool",
        "POST",
        "/threads",
        400,
        "tool_resources.retrieval",
        "Unknown parameter",
        {"tool_resources": {"retrieval": {}}},
    ),
    # --- modifyThread / modifyMessage ------------------------------------------------
    Case("modify-thread-unknown", "POST", "/threads/{t}", 400, "name", "Unknown", {"name": "x"}),
    Case(
        "modify-thread-metadata",
        "POST",
        "/threads/{t}",
        400,
        "metadata",
        "at most 16",
        {"metadata": metadata_of(17)},
    ),
    Case(
        "modify-thread-vector-stores",
        "POST",
        "/threads/{t}",
        400,
        "tool_resources.file_search.vector_stores",
        "Unknown parameter",
        {"tool_resources": {"file_search": {"vector_stores": []}}},
    ),
    Case(
        "modify-message-content",
        "POST",
        "/threads/{t}/messages/{m}",
        400,
        "content",
        "Unknown parameter",
        {"content": "changed"},
    ),
    Case(
        "modify-message-metadata",
        "POST",
        "/threads/{t}/messages/{m}",
        400,
        "metadata",
        "expected a string",
        {"metadata": {"k": None}},
    ),
    # --- ids and URLs ---------------------------------------------------------------
    Case(
        "thread-prefix",
        "GET",
        "/threads/abc",
        400,
        "thread_id",
        "Invalid 'thread_id': 'abc'. Expected an ID that begins with 'thread'.",
    ),
    Case(
        "message-prefix",
        "GET",
        "/threads/{t}/messages/abc",
        400,
        "message_id",
        "Invalid 'message_id': 'abc'. Expected an ID that begins with 'msg'.",
    ),
    Case(
        "thread-prefix-on-delete",
        "DELETE",
        "/threads/msg_abc",
        400,
        "thread_id",
        "begins with 'thread'",
    ),
    Case("unknown-thread", "GET", "/threads/thread_nope", 404, None, "No thread found"),
    Case(
        "unknown-thread-messages",
        "POST",
        "/threads/thread_nope/messages",
        404,
        None,
        "No thread found with id 'thread_nope'.",
        TEXT,
    ),
    Case(
        "unknown-message",
        "GET",
        "/threads/{t}/messages/msg_nope",
        404,
        None,
        "No message found with id 'msg_nope'.",
    ),
    Case(
        "message-of-other-thread",
        "GET",
        "/threads/{t}/messages/{other_m}",
        404,
        None,
        "No message found",
    ),
    Case(
        "delete-message-of-other-thread",
        "DELETE",
        "/threads/{t}/messages/{other_m}",
        404,
        None,
        "No message found",
    ),
    Case(
        "encoded-slash-in-thread-id",
        "GET",
        "/threads/{t}%2Fmessages",
        404,
        None,
        "No thread found",
    ),
    Case(
        "encoded-slash-in-message-id",
        "POST",
        "/threads/{t}/messages/{m}%2F..",
        404,
        None,
        "No message found",
        {"metadata": {}},
    ),
    Case("encoded-dots", "GET", "/threads/%2E%2E", 400, "thread_id", "'..'"),
    Case("encoded-dots-traversal", "GET", "/threads/thread_x%2F..%2F..", 404, None, "thread_x/"),
    Case("unknown-url", "GET", "/threads/{t}/runs", 404, None, "Invalid URL"),
    Case("trailing-slash", "GET", "/threads/{t}/", 404, None, "Invalid URL"),
    Case("wrong-method", "PUT", "/threads/{t}", 405, None, "expected one of GET, POST, DELETE"),
    Case("patch-messages", "PATCH", "/threads/{t}/messages", 405, None, "Invalid method"),
]


@dataclass
class Fixture:
    """The data the bad requests are aimed at, and how to count what is stored."""

    thread_id: str
    message_id: str
    other_message_id: str

    def path(self, template: str) -> str:
        return (
            template.replace("{t}", self.thread_id)
            .replace("{m}", self.message_id)
            .replace("{other_m}", self.other_message_id)
        )


def assert_error(response: httpx.Response, case: Case) -> None:
    assert response.status_code == case.status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert error["param"] == case.param
    assert case.message in error["message"]


@pytest.fixture
async def targets(client: httpx.AsyncClient) -> Fixture:
    thread = (await client.post("/threads", json={"messages": [TEXT]})).json()
    message = (await client.get(f"/threads/{thread['id']}/messages")).json()["data"][0]
    other = (await client.post("/threads", json={"messages": [TEXT]})).json()
    other_message = (await client.get(f"/threads/{other['id']}/messages")).json()["data"][0]
    return Fixture(thread["id"], message["id"], other_message["id"])


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_bad_request_in_process(
    case: Case, client: httpx.AsyncClient, store: StoreBackend, targets: Fixture
) -> None:
    before = await snapshot(store)
    assert before[1], "the targets are stored"
    response = await client.request(
        case.method, targets.path(case.path), json=case.json_body, content=case.content
    )
    assert_error(response, case)
    assert await snapshot(store) == before, "nothing may be stored"


SERVER_CASES = [
    case
    for case in CASES
    if "%" in case.path or case.id.startswith(("metadata", "limit-5000", "nested"))
]


@pytest.fixture(scope="module")
def server_targets(server: ServerProcess) -> Fixture:
    with httpx.Client(base_url=f"{server.base_url}/v1") as http:
        thread = http.post("/threads", json={"messages": [TEXT]}).json()
        message = http.get(f"/threads/{thread['id']}/messages").json()["data"][0]
        other = http.post("/threads", json={"messages": [TEXT]}).json()
        other_message = http.get(f"/threads/{other['id']}/messages").json()["data"][0]
    return Fixture(thread["id"], message["id"], other_message["id"])


@pytest.fixture
def server_counts(server: ServerProcess) -> Iterator[Any]:
    yield lambda: snapshot_at(server.store_url)


@pytest.mark.parametrize("case", SERVER_CASES, ids=[case.id for case in SERVER_CASES])
def test_bad_request_through_the_server(
    case: Case, http: httpx.Client, server_targets: Fixture, server_counts: Any
) -> None:
    """Through uvicorn and the gateway's /v1 mount: the raw path reaches the store intact."""
    before = server_counts()
    response = http.request(
        case.method, server_targets.path(case.path), json=case.json_body, content=case.content
    )
    assert_error(response, case)
    assert server_counts() == before


@pytest.mark.parametrize(
    ("target", "status", "message"),
    [
        ("/v1/threads/..", 400, "Invalid 'thread_id': '..'"),
        ("/v1/threads/../threads", 404, "Invalid URL"),
        ("/v1/threads/{t}/messages/..", 400, "Invalid 'message_id': '..'"),
        ("/v1/threads/{t}/messages/../../{t}", 404, "Invalid URL"),
        ("/v1/threads/thread_x/../../etc/passwd", 404, "Invalid URL"),
        ("/v1/threads/{t}%2Fmessages", 404, "No thread found"),
        ("/v1/threads/{t}%2fmessages%2f{m}", 404, "No thread found"),
    ],
)
def test_dot_segments_sent_verbatim(
    server: ServerProcess,
    server_targets: Fixture,
    spec_checker: SpecChecker,
    target: str,
    status: int,
    message: str,
) -> None:
    """``..`` as sent by a raw client (httpx would normalise it away): never a 500,
    never another object, always the envelope."""
    code, payload = raw_request(server.port, "GET", server_targets.path(target))
    assert code == status, payload
    body = json.loads(payload)
    spec_checker.validate_error(body)
    assert message in body["error"]["message"]


async def test_oversized_body_is_refused(store: StoreBackend, targets: Fixture) -> None:
    from gateway.store import create_store_app

    app = create_store_app(store, api_key=None, max_body_bytes=2048)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://embedded-store") as small:
        before = await snapshot(store)
        response = await small.post(
            f"/threads/{targets.thread_id}/messages", json={"role": "user", "content": "x" * 4096}
        )
        assert response.status_code == 413
        assert response.json()["error"]["type"] == "invalid_request_error"
        assert await snapshot(store) == before
