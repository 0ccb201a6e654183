"""Bad input gets a typed error and costs no upstream call."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Gateway
from tests.schema.operations import CREATE_MESSAGE, CREATE_THREAD, PAGE

BAD_IDS = ["../thread_x", "thread/x", "thread%2Fx", "t" * 200, "", "thread_ü", "a b"]
GOOD_THREAD = "thread_" + "a" * 24


@pytest.mark.parametrize("bad_id", BAD_IDS)
@pytest.mark.parametrize(
    "query",
    [
        "query($bad: ID!) { thread(id: $bad) { id } }",
        "query($bad: ID!, $good: ID!) { message(threadId: $good, id: $bad) { id } }",
        "query($bad: ID!, $good: ID!) { message(threadId: $bad, id: $good) { id } }",
        "query($bad: ID!) { messages(threadId: $bad) { nodes { id } } }",
        "query($bad: ID!, $good: ID!) { threads(ids: [$good, $bad]) { id } }",
    ],
)
async def test_bad_ids_in_queries(gateway: Gateway, bad_id: str, query: str) -> None:
    variables = {"bad": bad_id}
    if "$good" in query.split(")", 1)[1]:
        variables["good"] = GOOD_THREAD
    result = await gateway.graphql.execute(query, variables)
    assert result.status == 200
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["message"].startswith("Invalid ")
    assert result.upstream_calls == 0


@pytest.mark.parametrize("bad_id", BAD_IDS)
async def test_bad_ids_in_mutations_are_user_errors(gateway: Gateway, bad_id: str) -> None:
    result = await gateway.graphql.execute(
        """mutation($bad: ID!, $good: ID!) {
             a: createMessage(input: {threadId: $bad, text: "x"}) { message { id } userErrors { code field } }
             b: updateThread(input: {id: $bad, metadata: {}}) { thread { id } userErrors { code field } }
             c: deleteThread(input: {id: $bad}) { deletedThreadId userErrors { code field } }
             d: updateMessage(input: {threadId: $good, id: $bad, metadata: {}}) { message { id } userErrors { code field } }
             e: deleteMessage(input: {threadId: $bad, id: "msg_1"}) { deletedMessageId userErrors { code field } }
           }""",
        {"bad": bad_id, "good": GOOD_THREAD},
    )
    assert result.errors == []
    data = result.data
    assert data["a"] == {
        "message": None,
        "userErrors": [{"code": "INVALID", "field": ["threadId"]}],
    }
    assert data["b"] == {"thread": None, "userErrors": [{"code": "INVALID", "field": ["id"]}]}
    assert data["c"] == {
        "deletedThreadId": None,
        "userErrors": [{"code": "INVALID", "field": ["id"]}],
    }
    assert data["d"] == {"message": None, "userErrors": [{"code": "INVALID", "field": ["id"]}]}
    assert data["e"] == {
        "deletedMessageId": None,
        "userErrors": [{"code": "INVALID", "field": ["threadId"]}],
    }
    assert result.upstream_calls == 0


@pytest.mark.parametrize(
    ("metadata", "fragment"),
    [
        ({f"k{i}": "v" for i in range(17)}, "at most 16"),
        ({"k" * 65: "v"}, "at most 64"),
        ({"k": "v" * 513}, "at most 512"),
        ({"k": 1}, "must be a string"),
        (["not", "an", "object"], "must be an object"),
    ],
)
async def test_invalid_metadata_rejected_before_any_call(
    gateway: Gateway, metadata: Any, fragment: str
) -> None:
    for query, input in [
        (CREATE_THREAD, {"metadata": metadata}),
        (CREATE_MESSAGE, {"threadId": GOOD_THREAD, "text": "x", "metadata": metadata}),
    ]:
        result = await gateway.graphql.execute(query, {"input": input})
        assert result.codes == ["BAD_USER_INPUT"]
        assert fragment in result.errors[0]["message"]
        assert result.data is None
        # Variable coercion fails before execution: no accounting extension, no call.
        assert "extensions" not in result.body or result.upstream_calls == 0


async def test_invalid_inline_metadata_literal(gateway: Gateway) -> None:
    keys = ", ".join(f'k{i}: "v"' for i in range(17))
    result = await gateway.graphql.execute(
        f"mutation {{ createThread(input: {{metadata: {{{keys}}}}}) {{ thread {{ id }} }} }}"
    )
    # Refused before execution (the literal fails coercion): a 400 and no upstream call.
    assert result.status == 400
    assert result.data is None
    assert result.codes == ["BAD_USER_INPUT"]
    assert "at most 16" in result.errors[0]["message"]
    assert result.upstream_calls == 0


@pytest.mark.parametrize(
    ("input", "field"),
    [
        ({"text": "a", "content": [{"text": "b"}]}, ["text"]),
        ({}, ["text"]),
        ({"content": []}, ["content"]),
    ],
)
async def test_text_and_content_exactly_one(
    gateway: Gateway, input: dict[str, Any], field: list[str]
) -> None:
    result = await gateway.graphql.execute(
        CREATE_MESSAGE, {"input": {"threadId": GOOD_THREAD, **input}}
    )
    assert result.errors == []
    payload = result.data["createMessage"]
    assert payload["message"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID", field)]
    assert result.upstream_calls == 0

    thread = await gateway.graphql.execute(
        CREATE_THREAD, {"input": {"messages": [{"text": "ok"}, input]}}
    )
    errors = thread.data["createThread"]["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [("INVALID", ["messages", "1", *field])]
    assert thread.upstream_calls == 0


async def test_content_part_must_be_one_of(gateway: Gateway) -> None:
    result = await gateway.graphql.execute(
        CREATE_MESSAGE,
        {
            "input": {
                "threadId": GOOD_THREAD,
                "content": [{"text": "a", "imageUrl": {"url": "https://x/y.png"}}],
            }
        },
    )
    assert result.codes == ["BAD_USER_INPUT"]
    assert "exactly one" in result.errors[0]["message"].lower()


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({"first": 0}, "between 1 and 100"),
        ({"first": 101}, "between 1 and 100"),
        ({"last": 0}, "between 1 and 100"),
        ({"last": 101}, "between 1 and 100"),
        ({"first": 5, "last": 5}, "not both"),
        ({"after": "msg_a", "before": "msg_b"}, "not both"),
        ({"first": 5, "before": "msg_a"}, "'last' with 'before'"),
        ({"last": 5, "after": "msg_a"}, "'first' with 'after'"),
        ({"after": "../x"}, "Invalid after"),
        ({"runId": "run/1"}, "Invalid runId"),
    ],
)
async def test_bad_page_arguments(
    gateway: Gateway, arguments: dict[str, Any], fragment: str
) -> None:
    result = await gateway.graphql.execute(PAGE, {"threadId": GOOD_THREAD, **arguments})
    assert result.codes == ["BAD_USER_INPUT"]
    assert fragment in result.errors[0]["message"]
    assert result.upstream_calls == 0

    created = await gateway.graphql.data(CREATE_THREAD, {"input": {}})
    nested = await gateway.graphql.execute(
        """query($t: ID!, $first: Int, $last: Int, $after: String, $before: String, $runId: ID) {
             thread(id: $t) { id messages(first: $first, last: $last, after: $after,
                                          before: $before, runId: $runId) { nodes { id } } } }""",
        {"t": created["createThread"]["thread"]["id"], **arguments},
    )
    assert nested.codes == ["BAD_USER_INPUT"]
    assert nested.errors[0]["path"] == ["thread", "messages"]
    # The thread itself is looked up; the page is never asked for.
    assert nested.upstream_calls == 1


async def test_too_many_ids(gateway: Gateway, make_settings: Any) -> None:
    ids = [f"thread_{i}" for i in range(101)]
    result = await gateway.graphql.execute(
        "query($ids: [ID!]!) { threads(ids: $ids) { id } }", {"ids": ids}
    )
    assert result.codes == ["BAD_USER_INPUT"]
    assert "at most 100" in result.errors[0]["message"]
    assert result.upstream_calls == 0
