"""Upstream-sourced fields are scrubbed where they enter (``_scrub``), before any exception holds them.

An upstream that echoes the key it was sent, the caller's bearer, its own host or
an internal URL into ``type``, ``code``, ``param``, ``message`` or ``X-Request-Id``
must not get any of it relayed; well-formed values pass untouched.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.upstream import (
    BadRequestError,
    NotFoundError,
    RateLimitError,
    UpstreamResponseError,
    UpstreamStatusError,
)
from gateway.upstream._retry import MAX_RETRY_AFTER
from gateway.upstream._scrub import MAX_MESSAGE_CHARS, Scrubber, redact_text
from tests.upstream.conftest import MakeClient
from tests.upstream.helpers import (
    CALLER_TOKEN,
    HOST,
    REQUEST_ID,
    SERVER_KEY,
    THREAD,
    FakeClock,
    open_session,
)

GENERIC_KEY = (
    "Zq7PlainProviderKeyWithoutPrefix0042"  # no "sk-": only the known-secret check sees it
)


def envelope(
    message: Any = "boom", type_: Any = "invalid_request_error", param: Any = None, code: Any = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def assert_clean(error: UpstreamStatusError, *secrets: str) -> None:
    shown = repr((error.body, error.request_id, str(error)))
    for secret in (SERVER_KEY, CALLER_TOKEN, HOST, "internal", "10.0.0.7", *secrets):
        assert secret not in shown, (secret, shown)


HOSTILE = [
    # (where, value)
    ("type", SERVER_KEY),
    ("type", "https://internal.example/v1/threads"),
    ("type", "Bearer " + CALLER_TOKEN),
    ("code", SERVER_KEY[3:20]),  # a long piece of the key, no prefix
    ("code", "internal.db.local"),
    ("code", "10.0.0.7"),
    ("param", "thread_id." + SERVER_KEY.replace("-", "_")),
    ("param", "https://internal.example/"),
    ("param", "password"),  # not a parameter of these requests
    ("param", "messages" + "[0]" * 20),  # too deep
    ("param", "metadata." + "x" * 100),
    ("request_id", SERVER_KEY),
    ("request_id", "http://internal.example/trace/1"),
    ("request_id", "req\r\nX-Evil: 1"),
    ("request_id", "r" * 500),
]


@pytest.mark.parametrize(("where", "value"), HOSTILE)
async def test_a_hostile_field_is_dropped(
    upstream: respx.MockRouter, make_client: MakeClient, where: str, value: str
) -> None:
    fields: dict[str, Any] = {"message": "No thread found with id 'thread_abc'."}
    headers: dict[str, str] = {}
    if where == "request_id":
        headers["x-request-id"] = value.replace("\r\n", " ")
    else:
        fields[where if where != "type" else "type_"] = value
    upstream.get("/threads/thread_abc").respond(404, json=envelope(**fields), headers=headers)
    with pytest.raises(NotFoundError) as caught:
        await open_session(make_client(max_retries=0), caller_token=CALLER_TOKEN).get_thread(
            "thread_abc"
        )
    error = caught.value
    assert error.body is not None
    assert error.body["message"] == "No thread found with id 'thread_abc'."
    if where == "type":
        assert error.body["type"] == ""
    elif where == "code":
        assert error.body["code"] is None
    elif where == "param":
        assert error.body["param"] is None
    else:
        assert error.request_id == REQUEST_ID  # ours, not the upstream's
    assert_clean(error)


@pytest.mark.parametrize(
    "message",
    [
        f"Incorrect API key provided: {SERVER_KEY}.",
        f"bad token {CALLER_TOKEN[:14]}",
        f"cannot reach {HOST} right now",
        "proxy error at http://internal.example:8443/v1/threads",
        "backend 10.0.0.7:5432 refused",
        "backend [fd00::7]:5432 refused",
        "dial internal-db.corp:5432 failed",
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig was refused",
    ],
)
async def test_a_message_loses_secrets_and_locations(
    upstream: respx.MockRouter, make_client: MakeClient, message: str
) -> None:
    upstream.post("/threads").respond(400, json=envelope(message))
    with pytest.raises(BadRequestError) as caught:
        await open_session(make_client(max_retries=0), caller_token=CALLER_TOKEN).create_thread({})
    assert_clean(caught.value, "eyJhbGci", "fd00::7", "internal-db")


async def test_a_generic_key_echoed_in_part_is_caught_by_the_known_secret(
    upstream: respx.MockRouter, make_client: MakeClient
) -> None:
    upstream.get("/threads/thread_abc").respond(
        401,
        json=envelope(f"key {GENERIC_KEY[4:20]}… is not valid", code=GENERIC_KEY[:30]),
        headers={"x-request-id": GENERIC_KEY},
    )
    with pytest.raises(UpstreamStatusError) as caught:
        await open_session(make_client(api_key=GENERIC_KEY, max_retries=0)).get_thread("thread_abc")
    error = caught.value
    assert error.body == {
        "message": "",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    assert error.request_id == REQUEST_ID
    assert_clean(error, GENERIC_KEY[4:16])


async def test_a_huge_message_with_control_characters_is_bounded(
    upstream: respx.MockRouter, make_client: MakeClient
) -> None:
    upstream.get("/threads/thread_abc").respond(
        404, json=envelope("line one\r\nline\x00two\u2028" + "x" * 20_000, type_="t" * 65)
    )
    with pytest.raises(NotFoundError) as caught:
        await open_session(make_client(max_retries=0)).get_thread("thread_abc")
    body = caught.value.body
    assert body is not None
    assert body["message"].startswith("line one line two ")
    assert len(body["message"]) == MAX_MESSAGE_CHARS
    assert body["type"] == ""  # 65 characters: longer than an identifier may be


async def test_well_formed_values_pass_untouched(
    upstream: respx.MockRouter, make_client: MakeClient
) -> None:
    upstream.post("/threads/thread_abc/messages").respond(
        400,
        json=envelope(
            "Invalid 'messages[0].content[1].text': empty string.",
            param="messages[0].content[1].text",
            code=400,  # some providers send numbers
        ),
        headers={"x-request-id": "req_9f8e-7d6c_5b4a"},
    )
    with pytest.raises(BadRequestError) as caught:
        await open_session(make_client(max_retries=0)).create_message("thread_abc", {})
    error = caught.value
    assert error.body == {
        "message": "Invalid 'messages[0].content[1].text': empty string.",
        "type": "invalid_request_error",
        "param": "messages[0].content[1].text",
        "code": "400",
    }
    assert error.request_id == "req_9f8e-7d6c_5b4a"


async def test_a_response_error_does_not_take_a_hostile_request_id(
    upstream: respx.MockRouter, make_client: MakeClient
) -> None:
    upstream.get("/threads/thread_abc").respond(
        200, json={"id": 1}, headers={"x-request-id": f"https://{HOST}/debug"}
    )
    with pytest.raises(UpstreamResponseError) as caught:
        await open_session(make_client()).get_thread("thread_abc")
    assert caught.value.request_id == REQUEST_ID


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "1e308"}, MAX_RETRY_AFTER),
        ({"retry-after": "1e308"}, MAX_RETRY_AFTER),
        ({"retry-after": "9" * 5000}, MAX_RETRY_AFTER),
        ({"retry-after": "Fri, 31 Dec 9999 23:59:59 GMT"}, MAX_RETRY_AFTER),
        ({"retry-after-ms": "inf", "retry-after": "2"}, 2.0),
        ({"retry-after-ms": "-5"}, None),
        ({"retry-after-ms": "nan"}, None),
        ({"retry-after": "-1"}, None),
        ({"retry-after-ms": "1500.4444"}, 1.5),
    ],
)
async def test_an_absurd_retry_after_is_clamped_for_sleeping_and_for_relaying(
    upstream: respx.MockRouter,
    make_client: MakeClient,
    clock: FakeClock,
    headers: dict[str, str],
    expected: float | None,
) -> None:
    route = upstream.get("/threads/thread_abc")
    route.side_effect = [
        respx.MockResponse(429, json=envelope("slow down"), headers=headers),
        respx.MockResponse(200, json=THREAD),
    ]
    session = open_session(make_client(max_retries=1), deadline=2 * MAX_RETRY_AFTER)
    await session.get_thread("thread_abc")
    assert route.call_count == 2
    # The wait actually slept: the clamped value (or the backoff, 0 here, when unsaid).
    assert clock.sleeps == [expected if expected is not None else 0.0]
    route.side_effect = [respx.MockResponse(429, json=envelope("slow down"), headers=headers)]
    with pytest.raises(RateLimitError) as caught:
        await open_session(make_client(max_retries=0)).get_thread("thread_abc")
    assert caught.value.retry_after == expected


def test_scrubber_unit_rules() -> None:
    scrub = Scrubber([SERVER_KEY, None, "abc", HOST])
    assert scrub.identifier("rate_limit_exceeded") == "rate_limit_exceeded"
    assert scrub.identifier(7) is None
    assert scrub.identifier("a.b") is None
    assert scrub.param("metadata.topic") == "metadata.topic"
    assert scrub.param("tool_resources.code_interpreter.file_ids[3]") == (
        "tool_resources.code_interpreter.file_ids[3]"
    )
    assert scrub.param("limit[") is None
    assert scrub.request_id(None) is None
    assert scrub.leaks("abc") is False  # too short to be a secret worth matching
    assert (
        redact_text("ok: see ftp://x.example/y and 127.0.0.1")
        == "ok: see [redacted] and [redacted]"
    )
    assert redact_text("at 12:30 the limit was 100") == "at 12:30 the limit was 100"


SECRET = "s3cr3t-Key-Material-0123456789"


@given(
    message=st.text(max_size=3000),
    kind=st.text(max_size=100),
    param=st.text(max_size=100),
    code=st.one_of(st.none(), st.text(max_size=100)),
    request_id=st.text(max_size=200),
    splice=st.integers(min_value=0, max_value=len(SECRET) - 12),
)
@settings(max_examples=300, deadline=None)
def test_whatever_the_upstream_says_the_scrubbed_fields_obey_their_rules(
    message: str, kind: str, param: str, code: str | None, request_id: str, splice: int
) -> None:
    scrub = Scrubber([SECRET])
    piece = SECRET[splice : splice + 12]  # any 12 characters of the secret
    for text in (message, message + piece, piece + message):
        cleaned = scrub.message(text)
        assert len(cleaned) <= MAX_MESSAGE_CHARS
        assert piece not in cleaned
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in cleaned)
    body = scrub.error_body(
        {"message": message, "type": kind + piece, "param": param, "code": code}
    )
    assert body is not None
    assert body["type"] == ""  # it held a piece of the secret
    if body["param"] is not None:
        assert re.fullmatch(r"[A-Za-z0-9_.\[\]]{1,600}", body["param"])
    if body["code"] is not None:
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", body["code"])
    kept = scrub.request_id(request_id)
    assert kept is None or re.fullmatch(r"[A-Za-z0-9_-]{1,128}", kept)
