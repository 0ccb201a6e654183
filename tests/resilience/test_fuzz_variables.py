"""Hypothesis fuzzing of GraphQL variables: whatever a client sends, never an internal error.

Metadata (any JSON), ids, text with any unicode (lone surrogates included), page
arguments of any size: each answer is a 200 or a 400 with coded errors, and no
``INTERNAL_SERVER_ERROR``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Gateway, SettingsFactory, start_gateway

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
metadata = st.one_of(
    st.dictionaries(st.text(max_size=80), st.text(max_size=600), max_size=20),
    json_values,
)
ids = st.one_of(
    st.text(max_size=80),
    st.from_regex(r"thread_[A-Za-z0-9]{24}", fullmatch=True),
    st.integers(),
    st.none(),
)
page_size = st.one_of(st.none(), st.integers(min_value=-(2**40), max_value=2**40))
cursor = st.one_of(st.none(), st.text(max_size=70), st.integers())


@pytest.fixture
async def gateway(make_settings: SettingsFactory) -> AsyncIterator[Gateway]:
    async for running in start_gateway(make_settings()):
        yield running


@pytest.fixture
async def thread_id(gateway: Gateway) -> str:
    data = await gateway.graphql.data(
        'mutation { createThread(input: {messages: [{text: "seed"}]}) { thread { id } } }'
    )
    return str(data["createThread"]["thread"]["id"])


async def post(gateway: Gateway, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    # json.dumps escapes lone surrogates, as a browser's JSON.stringify does.
    response = await gateway.http.post(
        "/graphql",
        content=json.dumps({"query": query, "variables": variables}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code in (200, 400), response.text
    body: dict[str, Any] = response.json()
    codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
    assert "INTERNAL_SERVER_ERROR" not in codes, body
    assert all(codes), body
    return body


@FUZZ
@given(value=metadata)
async def test_metadata(gateway: Gateway, thread_id: str, value: Any) -> None:
    await post(
        gateway,
        "mutation($m: Metadata) { createThread(input: {metadata: $m}) "
        "{ thread { id metadata } userErrors { code field } } }",
        {"m": value},
    )
    await post(
        gateway,
        "mutation($t: ID!, $m: Metadata) { updateThread(input: {id: $t, metadata: $m}) "
        "{ thread { metadata } userErrors { code } } }",
        {"t": thread_id, "m": value},
    )


@FUZZ
@given(thread=ids, message=ids, many=st.lists(ids, max_size=5))
async def test_ids(gateway: Gateway, thread: Any, message: Any, many: list[Any]) -> None:
    await post(
        gateway,
        "query($t: ID!, $m: ID!, $ids: [ID!]!) { thread(id: $t) { id } "
        "message(threadId: $t, id: $m) { id } threads(ids: $ids) { id } }",
        {"t": thread, "m": message, "ids": many},
    )
    await post(
        gateway,
        "mutation($t: ID!, $m: ID!) { deleteMessage(input: {threadId: $t, id: $m}) "
        "{ deletedMessageId userErrors { code } } }",
        {"t": thread, "m": message},
    )


@FUZZ
@given(text=st.text(max_size=300), role=st.sampled_from(["USER", "ASSISTANT", "user", "x"]))
async def test_message_text(gateway: Gateway, thread_id: str, text: str, role: str) -> None:
    body = await post(
        gateway,
        "mutation($t: ID!, $x: String, $r: MessageRole!) { createMessage(input: "
        "{threadId: $t, text: $x, role: $r}) { message { id text } userErrors { code } } }",
        {"t": thread_id, "x": text, "r": role},
    )
    message = ((body.get("data") or {}).get("createMessage") or {}).get("message")
    if message is not None:
        assert message["text"] == text


@FUZZ
@given(
    first=page_size,
    last=page_size,
    after=cursor,
    before=cursor,
    order=st.sampled_from(["ASC", "DESC", "asc", None]),
)
async def test_page_arguments(
    gateway: Gateway, thread_id: str, first: Any, last: Any, after: Any, before: Any, order: Any
) -> None:
    await post(
        gateway,
        "query($t: ID!, $f: Int, $l: Int, $a: String, $b: String, $o: SortOrder!) { "
        "thread(id: $t) { messages(first: $f, last: $l, after: $a, before: $b, order: $o) "
        "{ nodes { id } pageInfo { hasNextPage } } } }",
        {"t": thread_id, "f": first, "l": last, "a": after, "b": before, "o": order},
    )


any_unicode = st.text(alphabet=st.characters(exclude_categories=()), max_size=40)


@FUZZ
@given(text=any_unicode, key=any_unicode, value=any_unicode)
async def test_lone_surrogates_and_every_category(
    gateway: Gateway, thread_id: str, text: str, key: str, value: str
) -> None:
    await post(
        gateway,
        "mutation($t: ID!, $x: String, $m: Metadata) { createMessage(input: "
        "{threadId: $t, text: $x, metadata: $m}) { message { id text metadata } "
        "userErrors { code } } }",
        {"t": thread_id, "x": text, "m": {key: value}},
    )
    await post(gateway, "query($t: ID!) { thread(id: $t) { id } }", {"t": text})


async def test_a_lone_surrogate_is_bad_user_input(gateway: Gateway, thread_id: str) -> None:
    for variables in ({"x": "a\ud800b"}, {"m": {"k\udfff": "v"}}, {"m": {"k": "\udbff"}}):
        body = await post(
            gateway,
            "mutation($t: ID!, $x: String, $m: Metadata) { createMessage(input: "
            "{threadId: $t, text: $x, metadata: $m}) { message { id } userErrors { code } } }",
            {"t": thread_id, "x": "ok", **variables},
        )
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
        assert "not valid Unicode" in body["errors"][0]["message"]
    # In the document itself: a syntax error, not a crash.
    body = await post(gateway, '{ thread(id: "\ud800") { id } }', {})
    assert body["errors"]
