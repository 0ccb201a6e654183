"""How upstream failures become exceptions: statuses, transport errors, bad 2xx bodies."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from gateway.upstream import (
    AuthenticationError,
    BadRequestError,
    CircuitOpenError,
    ConflictError,
    InternalServerError,
    MissingCredentialsError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    UpstreamCallLimitError,
    UpstreamConnectionError,
    UpstreamError,
    UpstreamResponseError,
    UpstreamStatusError,
    UpstreamTimeoutError,
)
from gateway.upstream._exceptions import InvalidIdError
from tests.upstream.conftest import MakeClient
from tests.upstream.helpers import (
    CALLER_TOKEN,
    HOST,
    MESSAGE,
    REQUEST_ID,
    SERVER_KEY,
    THREAD,
    error_envelope,
    open_session,
)

STATUSES = [
    (400, BadRequestError),
    (401, AuthenticationError),
    (403, PermissionDeniedError),
    (404, NotFoundError),
    (409, ConflictError),
    (422, UnprocessableEntityError),
    (429, RateLimitError),
    (500, InternalServerError),
    (502, InternalServerError),
    (503, InternalServerError),
    (504, InternalServerError),
]


def assert_safe(error: Exception) -> None:
    text = str(error)
    assert SERVER_KEY not in text
    assert CALLER_TOKEN not in text
    assert HOST not in text
    assert "http" not in text


def test_the_tree() -> None:
    for leaf in (
        MissingCredentialsError,
        InvalidIdError,
        UpstreamCallLimitError,
        UpstreamTimeoutError,
        UpstreamConnectionError,
        UpstreamResponseError,
        UpstreamStatusError,
    ):
        assert issubclass(leaf, UpstreamError)
    assert issubclass(CircuitOpenError, UpstreamConnectionError)
    for _, cls in STATUSES:
        assert issubclass(cls, UpstreamStatusError)


@pytest.mark.parametrize(("status", "cls"), STATUSES)
async def test_status_maps_to_its_class_with_envelope_and_request_id(
    upstream: respx.MockRouter, make_client: MakeClient, status: int, cls: type[UpstreamStatusError]
) -> None:
    upstream.get("/threads/thread_abc").respond(
        status,
        json=error_envelope(f"Incorrect API key provided: {SERVER_KEY[:6]}***"),
        headers={"x-request-id": "req_upstream_9"},
    )
    session = open_session(make_client(max_retries=0))
    with pytest.raises(cls) as caught:
        await session.get_thread("thread_abc")
    error = caught.value
    assert type(error) is cls
    assert error.status == status
    assert error.operation == "getThread"
    assert error.request_id == "req_upstream_9"
    assert error.body == {  # the key's prefix echoed back is cut out at the source
        "message": "Incorrect API key provided: [redacted]",
        "type": "invalid_request_error",
        "param": "thread_id",
        "code": None,
    }
    assert str(error) == f"upstream returned {status} for getThread"
    assert error.retry_after is None
    assert_safe(error)


@pytest.mark.parametrize("status", [302, 405, 418])
async def test_other_statuses_are_plain_status_errors(
    upstream: respx.MockRouter, make_client: MakeClient, status: int
) -> None:
    upstream.get("/threads/thread_abc").respond(
        status, text="<html>nope</html>", headers={"location": "https://elsewhere.test/"}
    )
    with pytest.raises(UpstreamStatusError) as caught:
        await open_session(make_client()).get_thread("thread_abc")
    assert type(caught.value) is UpstreamStatusError
    assert caught.value.status == status
    assert caught.value.body is None
    assert caught.value.request_id == REQUEST_ID  # the upstream sent none: ours


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_is_carried(
    upstream: respx.MockRouter,
    make_client: MakeClient,
    status: int,
    headers: dict[str, str],
    expected: float | None,
) -> None:
    upstream.post("/threads").respond(status, json=error_envelope(), headers=headers)
    with pytest.raises(UpstreamStatusError) as caught:
        await open_session(make_client()).create_thread({})
    assert caught.value.retry_after == expected


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"error": "plain string"}', {"message": "plain string", "type": "", "param": None}),
        (b'{"error": {"message": "m", "code": 42}}', {"message": "m", "type": "", "code": "42"}),
        (b'{"detail": "not the envelope"}', None),
        (b"{not json", None),
        (b"[1, 2]", None),
        (b"", None),
    ],
)
async def test_error_bodies_are_normalised_or_none(
    upstream: respx.MockRouter, make_client: MakeClient, content: bytes, expected: Any
) -> None:
    upstream.post("/threads").respond(400, content=content)
    with pytest.raises(BadRequestError) as caught:
        await open_session(make_client()).create_thread({})
    body = caught.value.body
    if expected is None:
        assert body is None
    else:
        assert body is not None
        for key, value in expected.items():
            assert body[key] == value


@pytest.mark.parametrize(
    ("effect", "cls"),
    [
        (httpx.ReadTimeout, UpstreamTimeoutError),
        (httpx.ConnectTimeout, UpstreamTimeoutError),
        (httpx.WriteTimeout, UpstreamTimeoutError),
        (httpx.PoolTimeout, UpstreamTimeoutError),
        (httpx.ConnectError, UpstreamConnectionError),
        (httpx.ReadError, UpstreamConnectionError),
        (httpx.RemoteProtocolError, UpstreamConnectionError),
    ],
)
async def test_transport_failures(
    upstream: respx.MockRouter,
    make_client: MakeClient,
    effect: type[Exception],
    cls: type[UpstreamError],
) -> None:
    route = upstream.get("/threads/thread_abc").mock(
        side_effect=effect(f"failed talking to https://{HOST}/v1 with {SERVER_KEY}")
    )
    with pytest.raises(cls) as caught:
        await open_session(make_client(max_retries=0)).get_thread("thread_abc")
    assert route.call_count == 1
    error = caught.value
    assert error.status is None
    assert error.request_id == REQUEST_ID
    assert effect.__name__ in str(error)
    assert_safe(error)
    # The httpx exception (which holds the request and its URL) is not chained.
    assert error.__cause__ is None
    assert error.__context__ is None


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{garbage", "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"<html><body>Welcome to nginx</body></html>", "text/html"),
        (b'{"id": "thread_abc", "created_at": 1}', "text/plain"),
        (b'{"id": "thread_abc", "created_at": 1}', ""),
    ],
)
async def test_a_2xx_that_is_not_json_is_a_response_error(
    upstream: respx.MockRouter, make_client: MakeClient, content: bytes, content_type: str
) -> None:
    upstream.get("/threads/thread_abc").respond(
        200, content=content, headers={"content-type": content_type} if content_type else {}
    )
    with pytest.raises(UpstreamResponseError) as caught:
        await open_session(make_client()).get_thread("thread_abc")
    assert caught.value.status == 200
    assert_safe(caught.value)


async def test_json_with_a_charset_or_a_json_suffix_is_accepted(
    upstream: respx.MockRouter, make_client: MakeClient
) -> None:
    import json

    route = upstream.get("/threads/thread_abc")
    route.side_effect = [
        httpx.Response(
            200,
            content=json.dumps(THREAD).encode(),
            headers={"content-type": "application/json; charset=utf-8"},
        ),
        httpx.Response(
            200,
            content=json.dumps(THREAD).encode(),
            headers={"content-type": "application/vnd.api+json"},
        ),
    ]
    session = open_session(make_client())
    assert (await session.get_thread("thread_abc"))["id"] == "thread_abc"
    assert (await session.get_thread("thread_abc"))["id"] == "thread_abc"


WRONG_THREADS = [
    [],
    "thread",
    {"created_at": 1},
    {"id": 1, "created_at": 1},
    {"id": "thread_abc"},
    {"id": "thread_abc", "created_at": "1"},
    {"id": "thread_abc", "created_at": True},
    {"id": "thread_abc", "created_at": 1.5},
    {"id": "thread_abc", "created_at": 1764118092000},  # milliseconds
    {"id": "thread_abc", "created_at": -1},
    {"id": "thread_abc", "created_at": 1, "metadata": ["x"]},
    {"id": "thread_abc", "created_at": 1, "metadata": {"k": 1}},
    {"id": "thread_abc", "created_at": 1, "tool_resources": "none"},
]


@pytest.mark.parametrize("body", WRONG_THREADS, ids=repr)
async def test_a_wrong_thread_shape_is_a_response_error(
    upstream: respx.MockRouter, make_client: MakeClient, body: Any
) -> None:
    upstream.get("/threads/thread_abc").respond(200, json=body)
    with pytest.raises(UpstreamResponseError, match="getThread"):
        await open_session(make_client()).get_thread("thread_abc")


def _message_without(key: str, **changes: Any) -> dict[str, Any]:
    message = {k: v for k, v in MESSAGE.items() if k != key}
    message.update(changes)
    return message


WRONG_MESSAGES = [
    _message_without("id"),
    _message_without("thread_id"),
    _message_without("created_at"),
    _message_without("role"),
    _message_without("status"),
    _message_without("content"),
    _message_without("x", content="hello"),
    _message_without("x", content=["hello"]),
    _message_without("x", role=None),
    _message_without("x", role="system"),  # outside the GraphQL MessageRole enum
    _message_without("x", status="cancelled"),
    _message_without("x", created_at=1764118092000),
    _message_without("x", completed_at="yesterday"),
    _message_without("x", incomplete_at=True),
    _message_without("x", metadata=["x"]),
    _message_without("x", attachments={"file_id": "f"}),
    _message_without("x", incomplete_details="max_tokens"),
    _message_without("x", role=["user"]),  # not even hashable
    _message_without("x", status={"completed": True}),
    _message_without("x", created_at=True),
    _message_without("x", created_at=-1),
    _message_without("x", metadata={"n": 1}),
    _message_without("x", content=[{"type": "text"}, "x"]),
]


async def test_absurdly_deep_json_is_a_response_error(
    upstream: respx.MockRouter, make_client: MakeClient
) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    upstream.get("/threads/thread_abc").respond(
        200, content=deep, headers={"content-type": "application/json"}
    )
    with pytest.raises(UpstreamResponseError, match="invalid JSON"):
        await open_session(make_client()).get_thread("thread_abc")
    upstream.get("/threads/thread_abc").respond(
        500, content=deep, headers={"content-type": "application/json"}
    )
    with pytest.raises(InternalServerError):
        await open_session(make_client(max_retries=0)).get_thread("thread_abc")


@pytest.mark.parametrize("body", WRONG_MESSAGES)
async def test_a_wrong_message_shape_is_a_response_error(
    upstream: respx.MockRouter, make_client: MakeClient, body: Any
) -> None:
    upstream.get("/threads/thread_abc/messages/msg_1").respond(200, json=body)
    with pytest.raises(UpstreamResponseError, match="getMessage"):
        await open_session(make_client()).get_message("thread_abc", "msg_1")


@pytest.mark.parametrize(
    "body",
    [
        {"data": [], "has_more": "no"},
        {"data": {}, "has_more": False},
        {"has_more": False},
        {"data": [MESSAGE]},
        {"data": [MESSAGE, {"id": "msg_2"}], "has_more": False},
    ],
)
async def test_a_wrong_list_shape_is_a_response_error(
    upstream: respx.MockRouter, make_client: MakeClient, body: Any
) -> None:
    upstream.get("/threads/thread_abc/messages").respond(200, json=body)
    with pytest.raises(UpstreamResponseError, match="listMessages"):
        await open_session(make_client()).list_messages("thread_abc", {})


@pytest.mark.parametrize(
    "body", [{"id": "thread_abc"}, {"deleted": True}, {"id": "thread_abc", "deleted": "yes"}]
)
async def test_a_wrong_deleted_shape_is_a_response_error(
    upstream: respx.MockRouter, make_client: MakeClient, body: Any
) -> None:
    upstream.delete("/threads/thread_abc").respond(200, json=body)
    with pytest.raises(UpstreamResponseError, match="deleteThread"):
        await open_session(make_client()).delete_thread("thread_abc")


async def test_missing_optional_members_are_filled_in(
    upstream: respx.MockRouter, make_client: MakeClient
) -> None:
    minimal_message = {
        "id": "msg_1",
        "thread_id": "thread_abc",
        "created_at": 5,
        "role": "assistant",
        "status": "completed",
        "content": [],
    }
    upstream.get("/threads/thread_abc").respond(200, json={"id": "thread_abc", "created_at": 1})
    upstream.get("/threads/thread_abc/messages").respond(
        200, json={"data": [minimal_message], "has_more": False}
    )
    upstream.delete("/threads/thread_abc/messages/msg_1").respond(
        200, json={"id": "msg_1", "deleted": True}
    )
    session = open_session(make_client())

    thread = await session.get_thread("thread_abc")
    assert thread == {
        "id": "thread_abc",
        "created_at": 1,
        "object": "thread",
        "metadata": None,
        "tool_resources": None,
    }
    listing = await session.list_messages("thread_abc", {})
    assert listing["object"] == "list"
    assert listing["first_id"] == listing["last_id"] == "msg_1"
    message = listing["data"][0]
    for key in (
        "incomplete_details",
        "completed_at",
        "incomplete_at",
        "assistant_id",
        "run_id",
        "attachments",
        "metadata",
    ):
        assert message[key] is None
    assert message["object"] == "thread.message"
    deleted = await session.delete_message("thread_abc", "msg_1")
    assert deleted == {"id": "msg_1", "deleted": True, "object": "thread.message.deleted"}


async def test_an_empty_list_without_ids_has_null_ids(
    upstream: respx.MockRouter, make_client: MakeClient
) -> None:
    upstream.get("/threads/thread_abc/messages").respond(200, json={"data": [], "has_more": False})
    listing = await open_session(make_client()).list_messages("thread_abc", {})
    assert listing["first_id"] is None
    assert listing["last_id"] is None
