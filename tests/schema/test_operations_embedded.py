"""Every query and mutation, end to end through the app, against the embedded store."""

from __future__ import annotations

from typing import Any

from tests.conftest import Gateway
from tests.schema.operations import CREATE_MESSAGE, CREATE_THREAD, MESSAGE_FIELDS, PAGE


async def create_thread(gateway: Gateway, **input: Any) -> dict[str, Any]:
    data = await gateway.graphql.data(CREATE_THREAD, {"input": input})
    assert data["createThread"]["userErrors"] == []
    return data["createThread"]["thread"]


async def post(gateway: Gateway, thread_id: str, text: str, **extra: Any) -> dict[str, Any]:
    data = await gateway.graphql.data(
        CREATE_MESSAGE, {"input": {"threadId": thread_id, "text": text, **extra}}
    )
    assert data["createMessage"]["userErrors"] == []
    return data["createMessage"]["message"]


async def test_create_thread_with_everything_and_read_it_back(gateway: Gateway) -> None:
    thread = await create_thread(
        gateway,
        metadata={"user": "u1", "topic": "billing"},
        toolResources={
            "codeInterpreter": {"fileIds": ["file_a", "file_b"]},
            "fileSearch": {"vectorStoreIds": ["vs_1"]},
        },
        messages=[
            {"text": "Hello"},
            {"role": "ASSISTANT", "content": [{"text": "Hi"}, {"text": "there"}]},
        ],
    )
    assert thread["id"].startswith("thread_")
    assert thread["metadata"] == {"user": "u1", "topic": "billing"}
    assert thread["toolResources"] == {
        "codeInterpreter": {"fileIds": ["file_a", "file_b"]},
        "fileSearch": {"vectorStoreIds": ["vs_1"]},
    }
    assert thread["createdAt"].endswith("Z")

    data = await gateway.graphql.data(
        """query($id: ID!) { thread(id: $id) { id metadata
             messages(order: ASC) { nodes { role text content { __typename } } } } }""",
        {"id": thread["id"]},
    )
    nodes = data["thread"]["messages"]["nodes"]
    assert [(n["role"], n["text"]) for n in nodes] == [
        ("USER", "Hello"),
        ("ASSISTANT", "Hi\nthere"),
    ]
    assert nodes[1]["content"] == [{"__typename": "TextContent"}] * 2


async def test_create_thread_with_default_input(gateway: Gateway) -> None:
    data = await gateway.graphql.data(
        "mutation { createThread { thread { id metadata toolResources { codeInterpreter "
        "{ fileIds } } } userErrors { code } } }"
    )
    payload = data["createThread"]
    assert payload["userErrors"] == []
    assert payload["thread"]["metadata"] == {}


async def test_message_with_every_content_part_attachments_and_metadata(
    gateway: Gateway,
) -> None:
    thread = await create_thread(gateway)
    data = await gateway.graphql.data(
        CREATE_MESSAGE,
        {
            "input": {
                "threadId": thread["id"],
                "content": [
                    {"text": "look"},
                    {"imageFile": {"fileId": "file_img", "detail": "HIGH"}},
                    {"imageUrl": {"url": "https://example.com/cat.png"}},
                    {"text": "at this"},
                ],
                "attachments": [
                    {"fileId": "file_doc", "tools": ["CODE_INTERPRETER", "FILE_SEARCH"]}
                ],
                "metadata": {"k": "v"},
            }
        },
    )
    message = data["createMessage"]["message"]
    assert message["role"] == "USER"
    assert message["status"] == "COMPLETED"
    assert message["completedAt"] == message["createdAt"]
    assert message["incompleteAt"] is None and message["incompleteDetails"] is None
    assert message["text"] == "look\nat this"
    assert message["content"] == [
        {"__typename": "TextContent", "value": "look", "annotations": []},
        {"__typename": "ImageFileContent", "fileId": "file_img", "detail": "HIGH"},
        {"__typename": "ImageUrlContent", "url": "https://example.com/cat.png", "detail": None},
        {"__typename": "TextContent", "value": "at this", "annotations": []},
    ]
    assert message["attachments"] == [
        {"fileId": "file_doc", "tools": ["CODE_INTERPRETER", "FILE_SEARCH"]}
    ]
    assert message["metadata"] == {"k": "v"}

    fetched = await gateway.graphql.data(
        "query($t: ID!, $m: ID!) { message(threadId: $t, id: $m) { ...MessageFields } }"
        + MESSAGE_FIELDS,
        {"t": thread["id"], "m": message["id"]},
    )
    assert fetched["message"] == message


async def test_update_and_delete_thread_and_message(gateway: Gateway) -> None:
    thread = await create_thread(gateway, metadata={"a": "1", "b": "2"})
    message = await post(gateway, thread["id"], "first", metadata={"x": "1"})

    updated = await gateway.graphql.data(
        """mutation($id: ID!) { updateThread(input: {id: $id, metadata: {c: "3"}}) {
             thread { id metadata } userErrors { code } } }""",
        {"id": thread["id"]},
    )
    # Metadata is replaced as a whole, as the upstream does.
    assert updated["updateThread"] == {
        "thread": {"id": thread["id"], "metadata": {"c": "3"}},
        "userErrors": [],
    }

    updated_message = await gateway.graphql.data(
        """mutation($t: ID!, $m: ID!) {
             updateMessage(input: {threadId: $t, id: $m, metadata: {y: "2"}}) {
               message { id metadata text } userErrors { code } } }""",
        {"t": thread["id"], "m": message["id"]},
    )
    assert updated_message["updateMessage"]["message"] == {
        "id": message["id"],
        "metadata": {"y": "2"},
        "text": "first",
    }
    reread = await gateway.graphql.data(
        "query($t: ID!, $m: ID!) { message(threadId: $t, id: $m) { metadata } }",
        {"t": thread["id"], "m": message["id"]},
    )
    assert reread["message"]["metadata"] == {"y": "2"}

    deleted = await gateway.graphql.data(
        """mutation($t: ID!, $m: ID!) {
             deleteMessage(input: {threadId: $t, id: $m}) { deletedMessageId userErrors { code } } }""",
        {"t": thread["id"], "m": message["id"]},
    )
    assert deleted["deleteMessage"] == {"deletedMessageId": message["id"], "userErrors": []}

    gone = await gateway.graphql.execute(
        "query($t: ID!, $m: ID!) { message(threadId: $t, id: $m) { id } }",
        {"t": thread["id"], "m": message["id"]},
    )
    assert gone.data == {"message": None}
    assert gone.codes == ["NOT_FOUND"]

    deleted_thread = await gateway.graphql.data(
        "mutation($id: ID!) { deleteThread(input: {id: $id}) { deletedThreadId userErrors { code } } }",
        {"id": thread["id"]},
    )
    assert deleted_thread["deleteThread"] == {"deletedThreadId": thread["id"], "userErrors": []}
    after = await gateway.graphql.execute(
        "query($id: ID!) { thread(id: $id) { id } }", {"id": thread["id"]}
    )
    assert after.data == {"thread": None}
    assert after.codes == ["NOT_FOUND"]


async def test_mutations_on_missing_objects_are_user_errors(gateway: Gateway) -> None:
    missing_thread = "thread_" + "0" * 24
    missing_message = "msg_" + "0" * 24
    thread = await create_thread(gateway)
    data = await gateway.graphql.data(
        """mutation($missing: ID!, $t: ID!, $m: ID!) {
          a: createMessage(input: {threadId: $missing, text: "x"}) {
            message { id } userErrors { code message field } }
          b: updateThread(input: {id: $missing, metadata: {}}) { thread { id } userErrors { code field } }
          c: deleteThread(input: {id: $missing}) { deletedThreadId userErrors { code field } }
          d: updateMessage(input: {threadId: $t, id: $m, metadata: {}}) { message { id } userErrors { code field } }
          e: deleteMessage(input: {threadId: $missing, id: $m}) { deletedMessageId userErrors { code field } }
        }""",
        {"missing": missing_thread, "t": thread["id"], "m": missing_message},
    )
    assert data["a"]["message"] is None
    assert data["a"]["userErrors"] == [
        {
            "code": "NOT_FOUND",
            "message": f"No thread found with id '{missing_thread}'.",
            "field": ["threadId"],
        }
    ]
    assert data["b"] == {"thread": None, "userErrors": [{"code": "NOT_FOUND", "field": ["id"]}]}
    assert data["c"] == {
        "deletedThreadId": None,
        "userErrors": [{"code": "NOT_FOUND", "field": ["id"]}],
    }
    assert data["d"] == {"message": None, "userErrors": [{"code": "NOT_FOUND", "field": ["id"]}]}
    assert data["e"] == {
        "deletedMessageId": None,
        "userErrors": [{"code": "NOT_FOUND", "field": ["threadId"]}],
    }


async def test_threads_by_ids_in_order_with_null_for_missing(gateway: Gateway) -> None:
    one = await create_thread(gateway, metadata={"n": "1"})
    two = await create_thread(gateway, metadata={"n": "2"})
    missing = "thread_" + "1" * 24
    data = await gateway.graphql.data(
        "query($ids: [ID!]!) { threads(ids: $ids) { id metadata } }",
        {"ids": [two["id"], missing, one["id"], two["id"]]},
    )
    assert data["threads"] == [
        {"id": two["id"], "metadata": {"n": "2"}},
        None,
        {"id": one["id"], "metadata": {"n": "1"}},
        {"id": two["id"], "metadata": {"n": "2"}},
    ]


async def test_message_thread_and_run_id_filter(gateway: Gateway) -> None:
    thread = await create_thread(gateway, metadata={"owner": "me"})
    await post(gateway, thread["id"], "one")
    data = await gateway.graphql.data(
        """query($t: ID!) { messages(threadId: $t) { nodes { thread { id metadata } } }
                            none: messages(threadId: $t, runId: "run_x") { nodes { id } } }""",
        {"t": thread["id"]},
    )
    assert data["messages"]["nodes"] == [
        {"thread": {"id": thread["id"], "metadata": {"owner": "me"}}}
    ]
    assert data["none"]["nodes"] == []


async def _walk(
    gateway: Gateway, thread_id: str, order: str, *, backward: bool, size: int
) -> list[list[str]]:
    """Walk the whole list page by page; returns the texts of each page."""
    pages: list[list[str]] = []
    cursor = None
    while True:
        variables: dict[str, Any] = {"threadId": thread_id, "order": order}
        if backward:
            variables.update(last=size, before=cursor)
        else:
            variables.update(first=size, after=cursor)
        connection = (await gateway.graphql.data(PAGE, variables))["messages"]
        info = connection["pageInfo"]
        texts = [edge["node"]["text"] for edge in connection["edges"]]
        assert [edge["cursor"] for edge in connection["edges"]] == [
            node["id"] for node in connection["nodes"]
        ]
        assert info["startCursor"] == (connection["nodes"][0]["id"] if texts else None)
        assert info["endCursor"] == (connection["nodes"][-1]["id"] if texts else None)
        pages.append(texts)
        if backward:
            # Travelling backward: the way on is hasPreviousPage; behind us lies a next page
            # exactly when we came from a cursor.
            assert info["hasNextPage"] is (cursor is not None)
            if not info["hasPreviousPage"]:
                return pages
            cursor = info["startCursor"]
        else:
            assert info["hasPreviousPage"] is (cursor is not None)
            if not info["hasNextPage"]:
                return pages
            cursor = info["endCursor"]


async def test_pagination_forward_and_backward_in_both_orders(gateway: Gateway) -> None:
    thread = await create_thread(gateway)
    texts = [f"m{i:02d}" for i in range(7)]
    for text in texts:
        await post(gateway, thread["id"], text)

    forward_asc = await _walk(gateway, thread["id"], "ASC", backward=False, size=3)
    assert forward_asc == [texts[0:3], texts[3:6], texts[6:7]]
    forward_desc = await _walk(gateway, thread["id"], "DESC", backward=False, size=3)
    assert forward_desc == [texts[6:3:-1], texts[3:0:-1], texts[0:1]]
    # last/before: the page just before the cursor, in the requested order.
    backward_asc = await _walk(gateway, thread["id"], "ASC", backward=True, size=3)
    assert backward_asc == [texts[4:7], texts[1:4], texts[0:1]]
    backward_desc = await _walk(gateway, thread["id"], "DESC", backward=True, size=3)
    assert backward_desc == [texts[2::-1], texts[5:2:-1], texts[6:7]]


async def test_default_page_is_first_20_newest_first(gateway: Gateway) -> None:
    thread = await create_thread(gateway, messages=[{"text": f"t{i}"} for i in range(25)])
    connection = (await gateway.graphql.data(PAGE, {"threadId": thread["id"]}))["messages"]
    assert [e["node"]["text"] for e in connection["edges"]] == [f"t{i}" for i in range(24, 4, -1)]
    assert connection["pageInfo"]["hasNextPage"] is True
    assert connection["pageInfo"]["hasPreviousPage"] is False


async def test_empty_thread_page(gateway: Gateway) -> None:
    thread = await create_thread(gateway)
    connection = (await gateway.graphql.data(PAGE, {"threadId": thread["id"], "last": 5}))[
        "messages"
    ]
    assert connection == {
        "edges": [],
        "nodes": [],
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
    }


async def test_reads_after_a_mutation_in_the_same_request_see_the_new_state(
    gateway: Gateway,
) -> None:
    thread = await create_thread(gateway, metadata={"v": "1"})
    await post(gateway, thread["id"], "old")
    # Mutation fields run one after the other, sub-selections included: the second
    # payload's reads come after the second write, although the first payload already
    # loaded (and cached) the same thread and the same page.
    data = await gateway.graphql.data(
        """mutation($t: ID!) {
          first: createMessage(input: {threadId: $t, text: "one"}) {
            message { thread { metadata messages(first: 5) { nodes { text } } } } }
          rename: updateThread(input: {id: $t, metadata: {v: "2"}}) { thread { metadata } }
          second: createMessage(input: {threadId: $t, text: "two"}) {
            message { thread { metadata messages(first: 5) { nodes { text } } } } }
        }""",
        {"t": thread["id"]},
    )
    first = data["first"]["message"]["thread"]
    second = data["second"]["message"]["thread"]
    assert first["metadata"] == {"v": "1"}
    assert [n["text"] for n in first["messages"]["nodes"]] == ["one", "old"]
    assert data["rename"]["thread"]["metadata"] == {"v": "2"}
    assert second["metadata"] == {"v": "2"}
    assert [n["text"] for n in second["messages"]["nodes"]] == ["two", "one", "old"]
