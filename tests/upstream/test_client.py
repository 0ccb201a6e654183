"""What goes on the wire: method, path, query, body and headers of the nine operations.

Also the two ways to build a client from settings (remote and embedded), base URL
normalisation and the credential rules.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from gateway.config import Settings
from gateway.upstream import (
    EMBEDDED_BASE_URL,
    InternalServerError,
    MissingCredentialsError,
    UpstreamClient,
    normalize_base_url,
)
from tests.upstream.conftest import MakeClient
from tests.upstream.helpers import (
    CALLER_TOKEN,
    DELETED_MESSAGE,
    DELETED_THREAD,
    MESSAGE,
    MESSAGE_LIST,
    REQUEST_ID,
    SERVER_KEY,
    THREAD,
    UPSTREAM,
    open_session,
)

# (method name, arguments, HTTP method, path under /v1, query, JSON body, response)
OPERATIONS: list[tuple[str, tuple[Any, ...], str, str, str, Any, dict[str, Any]]] = [
    (
        "create_thread",
        ({"metadata": {"k": "v"}, "messages": [{"role": "user", "content": "hé"}]},),
        "POST",
        "/threads",
        "",
        {"metadata": {"k": "v"}, "messages": [{"role": "user", "content": "hé"}]},
        THREAD,
    ),
    ("get_thread", ("thread_abc",), "GET", "/threads/thread_abc", "", None, THREAD),
    (
        "modify_thread",
        ("thread_abc", {"metadata": {"a": "1"}}),
        "POST",
        "/threads/thread_abc",
        "",
        {"metadata": {"a": "1"}},
        THREAD,
    ),
    ("delete_thread", ("thread_abc",), "DELETE", "/threads/thread_abc", "", None, DELETED_THREAD),
    (
        "create_message",
        ("thread_abc", {"role": "user", "content": "hello"}),
        "POST",
        "/threads/thread_abc/messages",
        "",
        {"role": "user", "content": "hello"},
        MESSAGE,
    ),
    (
        "list_messages",
        (
            "thread_abc",
            {"limit": 20, "order": "asc", "after": "msg_a", "before": "msg_b", "run_id": "run_1"},
        ),
        "GET",
        "/threads/thread_abc/messages",
        "limit=20&order=asc&after=msg_a&before=msg_b&run_id=run_1",
        None,
        MESSAGE_LIST,
    ),
    (
        "get_message",
        ("thread_abc", "msg_1"),
        "GET",
        "/threads/thread_abc/messages/msg_1",
        "",
        None,
        MESSAGE,
    ),
    (
        "modify_message",
        ("thread_abc", "msg_1", {"metadata": {}}),
        "POST",
        "/threads/thread_abc/messages/msg_1",
        "",
        {"metadata": {}},
        MESSAGE,
    ),
    (
        "delete_message",
        ("thread_abc", "msg_1"),
        "DELETE",
        "/threads/thread_abc/messages/msg_1",
        "",
        None,
        DELETED_MESSAGE,
    ),
]
OPERATION_IDS = [operation[0] for operation in OPERATIONS]


@pytest.mark.parametrize(
    ("name", "args", "method", "path", "query", "body", "reply"), OPERATIONS, ids=OPERATION_IDS
)
async def test_each_operation_sends_exactly_this(
    upstream: respx.MockRouter,
    make_client: MakeClient,
    name: str,
    args: tuple[Any, ...],
    method: str,
    path: str,
    query: str,
    body: Any,
    reply: dict[str, Any],
) -> None:
    route = upstream.route().respond(200, json=reply)
    session = open_session(make_client(), caller_token=CALLER_TOKEN)

    result = await getattr(session, name)(*args)

    assert result == reply
    assert route.call_count == 1
    request = route.calls.last.request
    assert request.method == method
    assert request.url.host == "upstream-secret-host.example.test"
    assert request.url.path == "/v1" + path
    assert request.url.query.decode() == query
    assert request.headers["OpenAI-Beta"] == "assistants=v2"
    assert request.headers["Authorization"] == f"Bearer {SERVER_KEY}"
    assert CALLER_TOKEN not in str(request.headers)
    assert request.headers["X-Request-Id"] == REQUEST_ID
    assert request.headers["Accept"] == "application/json"
    if body is None:
        assert request.content == b""
        assert "Content-Type" not in request.headers
    else:
        assert request.headers["Content-Type"] == "application/json"
        assert json.loads(request.content) == body
    assert session.calls == 1
    assert session.attempts == 1


async def test_list_messages_sends_only_the_parameters_given(
    upstream: respx.MockRouter, make_client: MakeClient
) -> None:
    route = upstream.route().respond(200, json=MESSAGE_LIST)
    session = open_session(make_client())
    await session.list_messages("thread_abc", {})
    await session.list_messages("thread_abc", {"limit": 5})
    await session.list_messages("thread_abc", {"before": "msg_x", "order": "desc"})
    queries = [call.request.url.query.decode() for call in route.calls]
    assert queries == ["", "limit=5", "order=desc&before=msg_x"]


async def test_list_messages_rejects_a_bad_limit_or_order(
    upstream: respx.MockRouter, make_client: MakeClient
) -> None:
    route = upstream.route().respond(200, json=MESSAGE_LIST)
    session = open_session(make_client())
    with pytest.raises(TypeError):
        await session.list_messages("thread_abc", {"limit": "5"})  # type: ignore[typeddict-item]
    with pytest.raises(ValueError, match="order"):
        await session.list_messages("thread_abc", {"order": "sideways"})  # type: ignore[typeddict-item]
    assert route.call_count == 0


async def test_without_a_server_key_the_callers_bearer_is_forwarded(
    upstream: respx.MockRouter, make_client: MakeClient
) -> None:
    route = upstream.get("/threads/thread_abc").respond(200, json=THREAD)
    session = open_session(make_client(api_key=None), caller_token=CALLER_TOKEN)
    await session.get_thread("thread_abc")
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {CALLER_TOKEN}"


@pytest.mark.parametrize(("name", "args"), [(op[0], op[1]) for op in OPERATIONS], ids=OPERATION_IDS)
async def test_no_key_and_no_caller_token_is_refused_before_sending(
    upstream: respx.MockRouter, make_client: MakeClient, name: str, args: tuple[Any, ...]
) -> None:
    route = upstream.route().respond(200, json=THREAD)
    session = open_session(make_client(api_key=None), caller_token=None)
    with pytest.raises(MissingCredentialsError) as caught:
        await getattr(session, name)(*args)
    assert route.call_count == 0
    assert session.calls == 0
    assert caught.value.request_id == REQUEST_ID


async def test_a_malformed_caller_token_is_refused_without_echoing_it(
    upstream: respx.MockRouter, make_client: MakeClient
) -> None:
    route = upstream.route().respond(200, json=THREAD)
    token = "secret-part\r\nX-Evil: 1"
    session = open_session(make_client(api_key=None), caller_token=token)
    with pytest.raises(MissingCredentialsError) as caught:
        await session.get_thread("thread_abc")
    assert "secret-part" not in str(caught.value)
    assert route.call_count == 0


async def test_the_request_id_must_be_a_header_safe_value(make_client: MakeClient) -> None:
    client = make_client()
    with pytest.raises(ValueError, match="request_id"):
        client.session(
            caller_token=None, request_id="a\nb", max_calls=1, concurrency=1, deadline=1.0
        )


# --- base URLs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        ("https://api.example.com", "https://api.example.com/v1"),
        ("https://api.example.com/", "https://api.example.com/v1"),
        ("https://api.example.com/v1", "https://api.example.com/v1"),
        ("https://api.example.com/v1/", "https://api.example.com/v1"),
        ("http://localhost:8080/openai", "http://localhost:8080/openai/v1"),
        ("http://localhost:8080/openai/v1//", "http://localhost:8080/openai/v1"),
    ],
)
def test_normalize_base_url(configured: str, expected: str) -> None:
    assert normalize_base_url(configured) == expected


@pytest.mark.parametrize(
    "configured",
    [
        "api.example.com",
        "ftp://api.example.com",
        "https://user:secret-pw@api.example.com",
        "https://api.example.com/v1?x=1",
    ],
)
def test_normalize_base_url_refuses_unusable_urls_without_echoing_them(configured: str) -> None:
    with pytest.raises(ValueError) as caught:
        normalize_base_url(configured)
    assert "example.com" not in str(caught.value)
    assert "secret-pw" not in str(caught.value)


@pytest.mark.parametrize(
    "configured",
    [
        "https://api.example.com",
        "https://api.example.com/",
        "https://api.example.com/v1",
        "https://api.example.com/v1/",
    ],
)
async def test_from_settings_base_urls_give_the_same_request_urls(configured: str) -> None:
    settings = Settings(
        _env_file=None,
        upstream_url=configured,
        upstream_transport="httpx",
        upstream_api_key=SERVER_KEY,
    )
    client = UpstreamClient.from_settings(settings)
    try:
        with respx.mock(assert_all_called=False) as router:
            thread = router.get("https://api.example.com/v1/threads/thread_abc").respond(
                200, json=THREAD
            )
            listing = router.get("https://api.example.com/v1/threads/thread_abc/messages").respond(
                200, json=MESSAGE_LIST
            )
            session = open_session(client)
            await session.get_thread("thread_abc")
            await session.list_messages("thread_abc", {"limit": 1})
        assert thread.call_count == 1
        assert listing.call_count == 1
        assert str(listing.calls.last.request.url) == (
            "https://api.example.com/v1/threads/thread_abc/messages?limit=1"
        )
        assert thread.calls.last.request.headers["Authorization"] == f"Bearer {SERVER_KEY}"
    finally:
        await client.aclose()


async def test_from_settings_remote_client_configuration() -> None:
    settings = Settings(
        _env_file=None,
        upstream_url="https://api.example.com",
        upstream_transport="httpx",
        connect_timeout=1.5,
        read_timeout=7.0,
    )
    client = UpstreamClient.from_settings(settings)
    try:
        http: httpx.AsyncClient = client._http
        assert http.timeout.connect == 1.5
        assert http.timeout.read == 7.0
        assert http.follow_redirects is False
        assert client.breaker.failure_threshold == settings.breaker_failure_threshold
        assert client.breaker.reset_seconds == settings.breaker_reset_seconds
        # No key configured, remote upstream: a caller token is required.
        with pytest.raises(MissingCredentialsError):
            await open_session(client).get_thread("thread_abc")
    finally:
        await client.aclose()


# --- embedded --------------------------------------------------------------------------


class RecordingStore:
    """A stand-in ASGI store that answers every request with one JSON object and remembers it."""

    def __init__(self, reply: dict[str, Any] | None = None, *, crash: bool = False) -> None:
        self.reply = reply or THREAD
        self.crash = crash
        self.scopes: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        self.scopes.append(scope)
        if self.crash:
            raise RuntimeError("store bug")
        body = json.dumps(self.reply).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    return {name.decode(): value.decode() for name, value in scope["headers"]}


async def test_embedded_without_a_key_sends_no_authorization() -> None:
    store = RecordingStore()
    client = UpstreamClient.from_settings(
        Settings(_env_file=None),
        store_app=store,
    )
    try:
        thread = await open_session(client).get_thread("thread_abc")
    finally:
        await client.aclose()
    assert thread["id"] == "thread_abc"
    (scope,) = store.scopes
    assert scope["path"] == "/threads/thread_abc"
    assert scope["method"] == "GET"
    headers = _headers(scope)
    assert "authorization" not in headers
    assert headers["openai-beta"] == "assistants=v2"
    assert headers["x-request-id"] == REQUEST_ID
    assert headers["host"] == EMBEDDED_BASE_URL.removeprefix("http://")


async def test_embedded_with_a_store_key_sends_it_and_not_the_callers_token() -> None:
    store = RecordingStore()
    client = UpstreamClient.from_settings(
        Settings(_env_file=None, store_api_key="store-key-42"),
        store_app=store,
    )
    try:
        await open_session(client, caller_token=CALLER_TOKEN).get_thread("thread_abc")
    finally:
        await client.aclose()
    assert _headers(store.scopes[0])["authorization"] == "Bearer store-key-42"


async def test_embedded_store_crash_is_a_500_not_a_raw_exception() -> None:
    client = UpstreamClient.from_settings(
        Settings(_env_file=None, max_retries=0),
        store_app=RecordingStore(crash=True),
    )
    try:
        with pytest.raises(InternalServerError) as caught:
            await open_session(client).get_thread("thread_abc")
    finally:
        await client.aclose()
    assert caught.value.status == 500


def test_embedded_needs_the_store_app() -> None:
    with pytest.raises(ValueError, match="store"):
        UpstreamClient.from_settings(Settings(_env_file=None))


def test_an_api_key_that_cannot_be_a_header_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValueError) as caught:
        UpstreamClient(
            httpx.AsyncClient(),
            base_url=UPSTREAM,
            api_key="sk-secret\nInjected: 1",
            requires_key=True,
            max_retries=0,
            retry_backoff=0,
            read_timeout=1,
            breaker=__import__("gateway.upstream").upstream.CircuitBreaker(1, 1),
        )
    assert "sk-secret" not in str(caught.value)


async def test_cookies_never_cross_between_callers(
    upstream: respx.MockRouter, make_client: MakeClient
) -> None:
    route = upstream.get("/threads/thread_abc").respond(
        200, json=THREAD, headers={"set-cookie": "session=caller-a; Path=/"}
    )
    client = make_client(api_key=None)
    await open_session(client, caller_token="token-a").get_thread("thread_abc")
    await open_session(client, caller_token="token-b").get_thread("thread_abc")
    assert "cookie" not in route.calls.last.request.headers
