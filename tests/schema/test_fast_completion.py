"""The fast completion (gateway/schema/fast_completion.py) answers exactly as graphql-core.

Every operation runs twice through the whole gateway app, in-process, over one
mocked upstream: once with ``GatewayExecutor.fast_completion`` on, once off
(graphql-core completes every field). The HTTP status, the whole JSON body (data,
errors with their messages, paths and codes, null propagation) and the upstream
requests made must be the same. The corpus covers fragments, ``@skip``/
``@include`` (literals and variables), ``__typename``, aliases, variables, every
content and annotation shape, upstream values graphql-core refuses to coerce
(field errors inside a plain sub-tree: the fast path must give way), and
``MAX_RESPONSE_BYTES``; hypothesis then generates selections over the schema.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.app import create_app
from gateway.config import Settings
from gateway.schema import fast_completion
from gateway.schema.execution import GatewayExecutor
from gateway.upstream import CircuitBreaker, UpstreamClient
from tests.schema.wire import list_json, message_json, thread_json

BASE = "http://upstream.test/v1"
THREAD = "thread_" + "f" * 24
BROKEN = "thread_" + "b" * 24  # its messages hold values graphql-core refuses

TEXT_PART = {
    "type": "text",
    "text": {
        "value": "see the file",
        "annotations": [
            {
                "type": "file_citation",
                "text": "【1】",
                "start_index": 3,
                "end_index": 6,
                "file_citation": {"file_id": "file-1"},
            },
            {
                "type": "file_path",
                "text": "/x",
                "start_index": 0,
                "end_index": 2,
                "file_path": {"file_id": "file-2"},
            },
            {"type": "something_new", "text": "?"},
        ],
    },
}
PARTS = [
    TEXT_PART,
    {"type": "image_file", "image_file": {"file_id": "file-3", "detail": "high"}},
    {"type": "image_url", "image_url": {"url": "https://x.test/a.png", "detail": "bogus"}},
    {"type": "refusal", "refusal": "no"},
    {"type": "audio", "audio": {"id": "a1", "big": 2**70}},
    {"type": "text", "text": {"annotations": []}},  # no value: shown as UnknownContent
]


def _messages(thread_id: str) -> list[dict[str, Any]]:
    messages = []
    for n in range(6):
        extra: dict[str, Any] = {
            "role": "assistant" if n % 2 else "user",
            "content": [PARTS[n % len(PARTS)], PARTS[(n + 1) % len(PARTS)]],
            "metadata": {"n": str(n)} if n % 3 == 0 else {},
        }
        if n == 1:
            extra.update(
                status="incomplete",
                incomplete_details={"reason": "max_tokens"},
                incomplete_at=1764118100,
                completed_at=None,
                assistant_id="asst_1",
                run_id="run_1",
                attachments=[
                    {"file_id": "file-9", "tools": [{"type": "file_search"}, {"type": "x"}]}
                ],
            )
        if n == 2:
            extra.update(incomplete_details={"reason": "not-a-reason"}, status="in_progress")
        if thread_id == BROKEN and n == 3:
            # A dict where a String is due, an Int as text: field errors, with nulls
            # propagating to the nearest nullable field.
            extra["content"] = [
                {"type": "text", "text": {"value": {"no": "string"}, "annotations": []}},
                {
                    "type": "text",
                    "text": {
                        "value": "ok",
                        "annotations": [
                            {
                                "type": "file_path",
                                "text": "t",
                                "start_index": "three",
                                "end_index": 1,
                                "file_path": {"file_id": "f"},
                            }
                        ],
                    },
                },
            ]
        messages.append(message_json(f"msg_{n:024d}", thread_id, text=f"m{n}", **extra))
    return messages


def _handler(request: httpx.Request) -> httpx.Response:
    parts = request.url.path.split("/")  # ["", "v1", "threads", id, "messages", id]
    thread_id = parts[3]
    if not thread_id.startswith("thread_") or thread_id.endswith("missing"):
        body: Any = {"error": {"message": "No thread found.", "type": "invalid_request_error"}}
        content = json.dumps(body).encode()
        return httpx.Response(404, stream=httpx.ByteStream(content))
    if len(parts) == 4:
        body = thread_json(
            thread_id,
            metadata={"topic": "tests"},
            tool_resources={"code_interpreter": {"file_ids": ["file-a"]}},
        )
    elif len(parts) == 5:
        messages = _messages(thread_id)
        if request.url.params.get("order") == "asc":
            messages = messages[::-1]
        limit = int(request.url.params.get("limit", "20"))
        body = list_json(messages[:limit], has_more=limit < len(messages))
    else:
        body = next(m for m in _messages(thread_id) if m["id"] == parts[5])
    content = json.dumps(body).encode()
    return httpx.Response(
        200,
        stream=httpx.ByteStream(content),
        headers={"content-type": "application/json", "content-length": str(len(content))},
    )


class Gateway:
    """The gateway app in-process over the mocked upstream, recording upstream requests."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.upstream: list[str] = []
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost"
        )

    def _record(self, request: httpx.Request) -> httpx.Response:
        self.upstream.append(f"{request.method} {request.url}")
        return _handler(request)

    async def post(self, payload: dict[str, Any]) -> tuple[int, Any, list[str]]:
        self.upstream = []
        response = await self.http.post(
            "/graphql", json=payload, headers={"Authorization": "Bearer t"}
        )
        return response.status_code, _without_request_ids(response.json()), sorted(self.upstream)


def _without_request_ids(value: Any) -> Any:
    """The body with the upstream's per-request ids left out (they differ on every run)."""
    if isinstance(value, dict):
        return {k: _without_request_ids(v) for k, v in value.items() if k != "requestId"}
    if isinstance(value, list):
        return [_without_request_ids(item) for item in value]
    return value


@asynccontextmanager
async def running_gateway(**overrides: Any) -> AsyncIterator[Gateway]:
    configured = Settings(
        _env_file=None,  # type: ignore[call-arg]
        upstream_url=BASE,
        log_level="warning",
        graphiql=False,
        **overrides,
    )
    app = create_app(configured)
    async with app.router.lifespan_context(app):
        gateway = Gateway(app)
        await app.state.upstream.aclose()
        app.state.upstream = UpstreamClient(
            httpx.AsyncClient(transport=httpx.MockTransport(gateway._record)),
            base_url=BASE,
            api_key=None,
            requires_key=True,
            max_retries=0,
            retry_backoff=0.0,
            read_timeout=30.0,
            breaker=CircuitBreaker(1000, 10.0),
        )
        yield gateway
        await gateway.http.aclose()


class Attempts:
    """How often the fast completion completed an object, and how often it gave way."""

    def __init__(self) -> None:
        self.completed = 0
        self.gave_way = 0


@pytest.fixture
def attempts(monkeypatch: pytest.MonkeyPatch) -> Attempts:
    return counting_attempts(monkeypatch)


def counting_attempts(monkeypatch: pytest.MonkeyPatch) -> Attempts:
    seen = Attempts()
    complete = fast_completion.FastCompletion.complete

    def counting(self: Any, *args: Any) -> Any:
        result = complete(self, *args)
        if result is fast_completion.NOT_PLAIN:
            seen.gave_way += 1
        else:
            seen.completed += 1
        return result

    monkeypatch.setattr(fast_completion.FastCompletion, "complete", counting)
    return seen


async def both_ways(
    gateway: Gateway, payload: dict[str, Any]
) -> tuple[tuple[int, Any, list[str]], tuple[int, Any, list[str]]]:
    fast = await gateway.post(payload)
    GatewayExecutor.fast_completion = False
    try:
        slow = await gateway.post(payload)
    finally:
        GatewayExecutor.fast_completion = True
    return _errors_in_path_order(fast), _errors_in_path_order(slow)


def _errors_in_path_order(
    answer: tuple[int, Any, list[str]],
) -> tuple[int, Any, list[str]]:
    """The answer with its errors sorted by path: root fields resolve concurrently, so
    the order in which their errors are listed follows the event loop, not the document
    (GraphQL gives the list no order); everything else is compared as it is."""
    status, body, requests = answer
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        errors = sorted(body["errors"], key=lambda e: (str(e.get("path")), e.get("message", "")))
        body = {**body, "errors": errors}
    return status, body, requests


MESSAGE_FIELDS = """
  __typename id threadId role status createdAt completedAt incompleteAt assistantId runId
  metadata text incompleteDetails { reason __typename }
  attachments { fileId tools }
  content {
    __typename
    ... on TextContent { value annotations { __typename
        ... on FileCitationAnnotation { text startIndex endIndex fileId }
        ... on FilePathAnnotation { t: text startIndex endIndex fileId } } }
    ... on ImageFileContent { fileId detail }
    ... on ImageUrlContent { url detail }
    ... on RefusalContent { refusal }
    ... on UnknownContent { type raw }
  }
"""

CORPUS: list[tuple[str, dict[str, Any]]] = [
    (
        f"""query($t: ID!) {{ thread(id: $t) {{ __typename id createdAt metadata
            toolResources {{ codeInterpreter {{ fileIds }} fileSearch {{ vectorStoreIds }} }}
            messages(first: 20) {{ pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
              nodes {{ {MESSAGE_FIELDS} }} }} }} }}""",
        {"t": THREAD},
    ),
    (
        f"""query($t: ID!) {{ thread(id: $t) {{ id messages(first: 4) {{
              edges {{ cursor node {{ {MESSAGE_FIELDS} }} }} }} }} }}""",
        {"t": BROKEN},
    ),
    (
        """query($t: ID!, $a: Boolean!, $b: Boolean = false) {
          messages(threadId: $t, first: 5) {
            nodes { ...M ...M2 @include(if: $a) first: id second: id @skip(if: $b)
              role @include(if: false) status @skip(if: true)
              ... @include(if: $b) { text } } } }
        fragment M on Message { id text content { ...C } }
        fragment M2 on Message { createdAt content { __typename ...C } }
        fragment C on MessageContent { ... on TextContent { value } ... on RefusalContent { r: refusal } }
        """,
        {"t": THREAD, "a": True},
    ),
    (
        """query($t: ID!, $a: Boolean!) {
          messages(threadId: $t, first: 5) {
            nodes { ...M ...M2 @include(if: $a) id } } }
        fragment M on Message { id text }
        fragment M2 on Message { createdAt }
        """,
        {"t": THREAD, "a": False},
    ),
    (
        """query($t: ID!) { a: thread(id: $t) { id } b: thread(id: "thread_missing") { id }
          c: message(threadId: $t, id: "msg_000000000000000000000001") {
            id incompleteDetails { reason } attachments { fileId tools } thread { id } } }""",
        {"t": THREAD},
    ),
    (
        """query($ids: [ID!]!) { threads(ids: $ids) { id metadata
          messages(first: 2) { nodes { id role createdAt text } } } }""",
        {"ids": [THREAD, BROKEN, "thread_missing"]},
    ),
    (
        f"""query($t: ID!, $b: ID!) {{
          good: thread(id: $t) {{ messages(first: 6) {{ nodes {{ {MESSAGE_FIELDS} }} }} }}
          bad: thread(id: $b) {{ messages(first: 6) {{ nodes {{ {MESSAGE_FIELDS} }} }} }}
          one: message(threadId: $b, id: "msg_000000000000000000000003") {{ id text }}
          two: message(threadId: $b, id: "msg_000000000000000000000003") {{
            content {{ ... on TextContent {{ annotations {{
              ... on FilePathAnnotation {{ startIndex }} }} }} }} }} }}""",
        {"t": THREAD, "b": BROKEN},
    ),
]


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    async with running_gateway() as running:
        yield running


@pytest.mark.parametrize(("query", "variables"), CORPUS, ids=[str(n) for n in range(len(CORPUS))])
async def test_the_corpus_answers_as_graphql_core_does(
    gateway: Gateway, attempts: Attempts, query: str, variables: dict[str, Any]
) -> None:
    fast, slow = await both_ways(gateway, {"query": query, "variables": variables})
    assert fast == slow
    assert fast[0] == 200 and fast[1].get("data") is not None
    assert attempts.completed > 0  # the fast path did complete part of it


async def test_field_errors_in_a_plain_sub_tree_are_graphql_cores(
    gateway: Gateway, attempts: Attempts
) -> None:
    query, variables = CORPUS[-1]
    fast, slow = await both_ways(gateway, {"query": query, "variables": variables})
    assert fast == slow
    data, errors = fast[1]["data"], fast[1]["errors"]
    paths = sorted(error["path"] for error in errors)
    assert paths == [
        ["bad", "messages", "nodes", 3, "content", 0, "value"],
        ["two", "content", 1, "annotations", 0, "startIndex"],
    ]
    assert data["bad"] is None and data["two"] is None  # null propagated to the nullable roots
    assert data["one"] == {"id": "msg_000000000000000000000003", "text": "ok"}
    assert len(data["good"]["messages"]["nodes"]) == 6
    assert attempts.gave_way > 0 and attempts.completed > 0


async def test_the_response_limit_holds_on_the_fast_path(attempts: Attempts) -> None:
    query, variables = CORPUS[0]
    async with running_gateway(max_response_bytes=2000) as gateway:
        fast, slow = await both_ways(gateway, {"query": query, "variables": variables})
    assert fast == slow
    assert fast[1]["data"] is None
    assert [e["extensions"]["code"] for e in fast[1]["errors"]] == ["RESPONSE_TOO_LARGE"]
    assert attempts.completed > 0


async def test_the_shared_completers_are_bounded(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At most ``_SHARED_SIZE`` entries and about ``_SHARED_FIELDS`` compiled fields are
    kept; a document too long for the parser cache is compiled for its request alone."""
    monkeypatch.setattr(fast_completion, "_SHARED", fast_completion.OrderedDict())
    monkeypatch.setattr(fast_completion, "_SHARED_SIZE", 2)
    shared = fast_completion._SHARED
    query = "query($t: ID!) { messages(threadId: $t, first: 2) { nodes { id %s } } }"
    for extra in ("text", "role", "status"):
        fast, slow = await both_ways(gateway, {"query": query % extra, "variables": {"t": THREAD}})
        assert fast == slow and fast[0] == 200
    assert len(shared) == 2 and all(entry.fields > 0 for entry in shared.values())
    monkeypatch.setattr(fast_completion, "_SHARED_FIELDS", 1)
    fast, _ = await both_ways(gateway, {"query": query % "runId", "variables": {"t": THREAD}})
    assert fast[0] == 200 and len(shared) == 1  # the others left to stay within the fields
    long = (query % "id") + "#" + "x" * 20_000
    fast, slow = await both_ways(gateway, {"query": long, "variables": {"t": THREAD}})
    assert fast == slow and fast[0] == 200
    assert len(shared) == 1  # not shared


# --- generated operations ------------------------------------------------------------

LEAVES = {
    "Message": [
        "id", "threadId", "role", "status", "createdAt", "completedAt", "incompleteAt",
        "assistantId", "runId", "metadata", "text", "__typename",
    ],
    "TextContent": ["value", "__typename"],
    "ImageFileContent": ["fileId", "detail", "__typename"],
    "ImageUrlContent": ["url", "detail", "__typename"],
    "RefusalContent": ["refusal", "__typename"],
    "UnknownContent": ["type", "raw", "__typename"],
    "FileCitationAnnotation": ["text", "startIndex", "endIndex", "fileId", "__typename"],
    "FilePathAnnotation": ["text", "startIndex", "endIndex", "fileId", "__typename"],
    "IncompleteDetails": ["reason", "__typename"],
    "Attachment": ["fileId", "tools", "__typename"],
    "Thread": ["id", "createdAt", "metadata", "__typename"],
    "ToolResources": ["__typename"],
    "CodeInterpreterResources": ["fileIds", "__typename"],
    "FileSearchResources": ["vectorStoreIds", "__typename"],
}  # fmt: skip
OBJECTS = {
    "Message": {
        "incompleteDetails": "IncompleteDetails",
        "attachments": "Attachment",
        "content": "MessageContent",
    },
    "TextContent": {"annotations": "Annotation"},
    "Thread": {"toolResources": "ToolResources"},
    "ToolResources": {
        "codeInterpreter": "CodeInterpreterResources",
        "fileSearch": "FileSearchResources",
    },
}
UNIONS = {
    "MessageContent": [
        "TextContent", "ImageFileContent", "ImageUrlContent", "RefusalContent", "UnknownContent",
    ],
    "Annotation": ["FileCitationAnnotation", "FilePathAnnotation"],
}  # fmt: skip
ALIASES = ["a", "b", "x1"]
DIRECTIVES = ["", "@include(if: $yes)", "@skip(if: $yes)", "@include(if: $no)", "@skip(if: true)"]


@st.composite
def selection(draw: st.DrawFn, type_name: str, depth: int = 0) -> str:
    """A selection set on ``type_name``: leaves, aliases, directives, nested objects,
    inline fragments (on the type itself, or on union members)."""
    if type_name in UNIONS:
        members = draw(st.lists(st.sampled_from(UNIONS[type_name]), max_size=3))
        parts = [f"... on {member} {draw(selection(member, depth + 1))}" for member in members]
        parts.insert(0, "__typename")
        return "{ " + " ".join(parts) + " }"
    parts = []
    chosen = draw(st.lists(st.sampled_from(LEAVES[type_name]), min_size=1, max_size=6))
    for name in chosen:
        alias = draw(st.sampled_from(["", *ALIASES]))
        directive = draw(st.sampled_from(DIRECTIVES))
        # One alias names one field only (a response key for two fields would not validate).
        key = f"{alias}_{name.strip('_')}: " if alias else ""
        parts.append(f"{key}{name} {directive}")
    if depth < 3:
        for name, child in OBJECTS.get(type_name, {}).items():
            if draw(st.booleans()):
                directive = draw(st.sampled_from(DIRECTIVES))
                parts.append(f"{name} {directive} {draw(selection(child, depth + 1))}")
    if draw(st.booleans()):
        directive = draw(st.sampled_from(DIRECTIVES))
        parts.append(
            f"... on {type_name} {directive} {{ {draw(st.sampled_from(LEAVES[type_name]))} }}"
        )
    return "{ " + " ".join(parts) + " }"


PAGE_INFO = "pageInfo { hasNextPage @include(if: $yes) endCursor @skip(if: $no) }"


@st.composite
def operation(draw: st.DrawFn) -> dict[str, Any]:
    nodes = draw(selection("Message"))
    thread = draw(st.sampled_from([THREAD, BROKEN]))
    shape = draw(st.sampled_from(["nodes", "edges"]))
    inner = nodes if shape == "nodes" else f"{{ cursor node {nodes} }}"
    use_fragment = draw(st.booleans())
    if use_fragment:
        query = (
            "query($t: ID!, $yes: Boolean!, $no: Boolean!) { messages(threadId: $t, first: 6) "
            "{ ...Page } } fragment Page on MessageConnection { "
            + f"{shape} {inner} {PAGE_INFO} }}"
        )
    else:
        query = (
            "query($t: ID!, $yes: Boolean!, $no: Boolean!) { messages(threadId: $t, first: 6) "
            f"{{ {shape} {inner} {PAGE_INFO} }} }}"
        )
    if draw(st.booleans()):
        # The same page under thread(id:), beside the thread's own fields.
        query = query.replace(
            "{ messages(threadId: $t, first: 6)",
            "{ thread(id: $t) " + draw(selection("Thread"))[:-1] + " messages(first: 6)",
            1,
        ).replace("} } fragment", "} } } fragment", 1)
        if not use_fragment:
            query += " }"
    yes = draw(st.booleans())
    return {"query": query, "variables": {"t": thread, "yes": yes, "no": not yes}}


@pytest.fixture(scope="module")
def loop_with_gateway() -> Iterator[tuple[asyncio.Runner, Gateway, Attempts]]:
    runner = asyncio.Runner()
    context = running_gateway()
    gateway = runner.run(context.__aenter__())
    with pytest.MonkeyPatch.context() as monkeypatch:
        try:
            yield runner, gateway, counting_attempts(monkeypatch)
        finally:
            runner.run(context.__aexit__(None, None, None))
            runner.close()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payload=operation())
def test_generated_operations_answer_as_graphql_core_does(
    loop_with_gateway: tuple[asyncio.Runner, Gateway, Attempts], payload: dict[str, Any]
) -> None:
    runner, gateway, attempts = loop_with_gateway
    before = attempts.completed
    fast, slow = runner.run(both_ways(gateway, payload))
    assert fast == slow, payload["query"]
    assert fast[0] == 200 and "data" in fast[1], fast
    assert attempts.completed > before  # pageInfo at least: the fast path ran


async def test_both_paths_count_the_same_response_bytes(
    gateway: Gateway, attempts: Attempts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The response budget left after the operation is the same either way, for a
    response with non-ASCII text (an annotation's ``【1】``) and every kind of leaf."""
    left: list[int] = []
    build_response = GatewayExecutor.build_response

    def spy(self: GatewayExecutor, data: Any) -> Any:
        left.append(self.budget.left)
        return build_response(self, data)

    monkeypatch.setattr(GatewayExecutor, "build_response", spy)
    query, variables = CORPUS[0]
    fast, slow = await both_ways(gateway, {"query": query, "variables": variables})
    assert fast == slow and "【1】" in json.dumps(fast[1], ensure_ascii=False)
    assert len(left) == 2 and left[0] == left[1] < GatewayExecutor.max_response_bytes
    assert attempts.completed > 0
