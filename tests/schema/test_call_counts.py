"""Upstream calls per operation: exactly the distinct resources the operation needs.

DESIGN.md §9.1. Every figure here is exact, read from the debug-mode accounting
extension (``extensions.upstream``); the rules are in ``gateway/schema/loaders.py``.
Data is seeded through the embedded store's REST API (``/v1``), which the
GraphQL accounting does not see.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx

from gateway.auth import token_digest
from tests.conftest import Gateway, SettingsFactory, start_gateway
from tests.graphql_client import GraphQLResponse
from tests.schema.wire import MESSAGE_ID, THREAD_ID, list_json, message_json, thread_json

MISSING_THREAD = "thread_" + "z" * 24
MISSING_MESSAGE = "msg_" + "z" * 24


async def new_thread(gateway: Gateway, messages: int = 0, **body: Any) -> str:
    response = await gateway.http.post("/v1/threads", json=body)
    assert response.status_code == 200, response.text
    thread_id: str = response.json()["id"]
    for n in range(messages):
        await new_message(gateway, thread_id, f"m{n}")
    return thread_id


async def new_message(gateway: Gateway, thread_id: str, text: str) -> str:
    response = await gateway.http.post(
        f"/v1/threads/{thread_id}/messages", json={"role": "user", "content": text}
    )
    assert response.status_code == 200, response.text
    message_id: str = response.json()["id"]
    return message_id


async def run(gateway: Gateway, query: str, **variables: Any) -> GraphQLResponse:
    """Execute and insist on success."""
    result = await gateway.graphql.execute(query, variables)
    assert result.status == 200, result.body
    assert not result.errors, result.errors
    return result


def max_in_flight(result: GraphQLResponse) -> int:
    return int(result.body["extensions"]["upstream"]["maxInFlight"])


@pytest.fixture
async def thread_id(gateway: Gateway) -> str:
    """A thread of 25 messages, m0 (oldest) to m24 (newest)."""
    return await new_thread(gateway, messages=25, metadata={"topic": "calls"})


async def test_thirty_aliases_of_one_message_are_one_call(gateway: Gateway, thread_id: str) -> None:
    message_id = await new_message(gateway, thread_id, "hello")
    fields = "\n".join(f"m{n}: message(threadId: $t, id: $m) {{ id text }}" for n in range(30))
    result = await run(
        gateway, f"query($t: ID!, $m: ID!) {{ {fields} }}", t=thread_id, m=message_id
    )
    assert result.upstream_calls == 1
    assert {entry["text"] for entry in result.data.values()} == {"hello"}


async def test_page_of_twenty_with_each_thread_is_two_calls(
    gateway: Gateway, thread_id: str
) -> None:
    result = await run(
        gateway,
        """query($t: ID!) { messages(threadId: $t, first: 20) {
             nodes { id text thread { id metadata } } } }""",
        t=thread_id,
    )
    nodes = result.data["messages"]["nodes"]
    assert len(nodes) == 20
    assert all(
        node["thread"] == {"id": thread_id, "metadata": {"topic": "calls"}} for node in nodes
    )
    assert result.upstream_calls == 2  # the page, then the one thread


async def test_chat_screen_is_two_calls(gateway: Gateway, thread_id: str) -> None:
    result = await run(
        gateway,
        """query($t: ID!) { thread(id: $t) { id metadata
             messages(last: 20, order: ASC) { edges { cursor node { id role text content { __typename }
                                                         thread { id } } }
                                  pageInfo { hasPreviousPage startCursor } } } }""",
        t=thread_id,
    )
    edges = result.data["thread"]["messages"]["edges"]
    assert [edge["node"]["text"] for edge in edges] == [f"m{n}" for n in range(5, 25)]
    assert result.upstream_calls == 2  # the thread and the page; Message.thread is cached
    assert max_in_flight(result) == 2  # the page did not wait for the thread (prefetch.py)


async def test_pages_under_fragments_and_variables_are_prefetched(
    gateway: Gateway, thread_id: str
) -> None:
    result = await run(
        gateway,
        """query($t: ID!, $n: Int!, $o: SortOrder!) {
             thread(id: $t) { ...Recent ... on Thread { older: messages(first: $n, order: $o) {
               nodes { text } } } }
             page: messages(threadId: $t, first: 2) { nodes { text } } }
           fragment Recent on Thread { messages(first: 2) { nodes { text } } }""",
        t=thread_id,
        n=3,
        o="ASC",
    )
    assert result.data["thread"]["messages"] == result.data["page"]
    assert [node["text"] for node in result.data["thread"]["older"]["nodes"]] == [
        "m0",
        "m1",
        "m2",
    ]
    assert result.upstream_calls == 3  # the thread and two pages, all at once
    assert max_in_flight(result) == 3


async def test_a_page_under_a_directive_is_not_prefetched(gateway: Gateway, thread_id: str) -> None:
    result = await run(
        gateway,
        """query($t: ID!, $show: Boolean!) { thread(id: $t) { id
             messages(first: 2) @include(if: $show) { nodes { id } } } }""",
        t=thread_id,
        show=False,
    )
    assert result.data["thread"] == {"id": thread_id}
    assert result.upstream_calls == 1


async def test_a_missing_thread_costs_its_prefetched_page_too(gateway: Gateway) -> None:
    result = await gateway.graphql.execute(
        """query($t: ID!) { thread(id: $t) { id messages { nodes { id } } } }""",
        {"t": MISSING_THREAD},
    )
    assert result.data == {"thread": None}
    assert result.codes == ["NOT_FOUND"]
    assert result.upstream_calls == 2  # the price of not waiting for the thread


async def test_message_listed_by_the_page_of_a_sibling_thread_field_costs_nothing(
    gateway: Gateway, thread_id: str
) -> None:
    newest = await run(
        gateway, "query($t: ID!) { messages(threadId: $t, first: 1) { nodes { id } } }", t=thread_id
    )
    message_id = newest.data["messages"]["nodes"][0]["id"]
    result = await run(
        gateway,
        """query($t: ID!, $m: ID!) {
             message(threadId: $t, id: $m) { text }
             thread(id: $t) { messages(last: 20, order: ASC) { nodes { id } } } }""",
        t=thread_id,
        m=message_id,
    )
    assert result.data["message"]["text"] == "m24"
    assert result.upstream_calls == 2  # the thread and its page


async def test_message_listed_by_a_sibling_page_costs_nothing(
    gateway: Gateway, thread_id: str
) -> None:
    listed = await run(
        gateway, "query($t: ID!) { messages(threadId: $t, first: 3) { nodes { id } } }", t=thread_id
    )
    ids = [node["id"] for node in listed.data["messages"]["nodes"]]
    # Root fields start in the same tick: the message loader waits for the page of
    # the same thread and finds all three messages in it (rule 3), in either order.
    result = await run(
        gateway,
        """query($t: ID!, $a: ID!, $b: ID!, $c: ID!) {
             a: message(threadId: $t, id: $a) { text }
             page: messages(threadId: $t, first: 3) { nodes { id text } }
             b: message(threadId: $t, id: $b) { text }
             again: message(threadId: $t, id: $a) { id }
             c: message(threadId: $t, id: $c) { text } }""",
        t=thread_id,
        a=ids[0],
        b=ids[1],
        c=ids[2],
    )
    assert [result.data[name]["text"] for name in "abc"] == ["m24", "m23", "m22"]
    assert result.upstream_calls == 1


async def test_message_not_on_the_sibling_page_costs_one_call(
    gateway: Gateway, thread_id: str
) -> None:
    oldest = await run(
        gateway,
        "query($t: ID!) { messages(threadId: $t, first: 1, order: ASC) { nodes { id } } }",
        t=thread_id,
    )
    old_id = oldest.data["messages"]["nodes"][0]["id"]
    result = await run(
        gateway,
        """query($t: ID!, $m: ID!) { old: message(threadId: $t, id: $m) { text }
             page: messages(threadId: $t, first: 3) { nodes { text } } }""",
        t=thread_id,
        m=old_id,
    )
    assert result.data["old"]["text"] == "m0"
    assert result.upstream_calls == 2


async def test_message_of_another_thread_does_not_wait_and_costs_one_call(
    gateway: Gateway, thread_id: str
) -> None:
    other = await new_thread(gateway)
    other_message = await new_message(gateway, other, "elsewhere")
    result = await run(
        gateway,
        """query($t: ID!, $o: ID!, $m: ID!) { message(threadId: $o, id: $m) { text }
             messages(threadId: $t, first: 2) { nodes { text } } }""",
        t=thread_id,
        o=other,
        m=other_message,
    )
    assert result.data["message"]["text"] == "elsewhere"
    assert result.upstream_calls == 2
    assert max_in_flight(result) == 2  # fetched alongside the page, not after it


async def test_fragments_and_inline_fragments_share_one_call(
    gateway: Gateway, thread_id: str
) -> None:
    result = await run(
        gateway,
        """query($t: ID!) {
             thread(id: $t) { ...Head ... on Thread { createdAt } }
             again: thread(id: $t) { ...Head messages(first: 5) { ...Page } }
             page: messages(threadId: $t, first: 5) { ...Page } }
           fragment Head on Thread { id metadata }
           fragment Page on MessageConnection { nodes { id thread { ...Head } } }""",
        t=thread_id,
    )
    assert result.data["again"]["messages"] == result.data["page"]
    assert result.upstream_calls == 2  # one thread, one page


async def test_threads_by_ids_with_repeats(gateway: Gateway) -> None:
    first, second = await new_thread(gateway), await new_thread(gateway)
    ids = [first, second, first, MISSING_THREAD, first, second, MISSING_THREAD]
    result = await run(gateway, "query($ids: [ID!]!) { threads(ids: $ids) { id } }", ids=ids)
    assert [entry and entry["id"] for entry in result.data["threads"]] == [
        first,
        second,
        first,
        None,
        first,
        second,
        None,
    ]
    assert result.upstream_calls == 3  # two threads and one 404, each once


async def test_the_same_page_asked_for_three_ways_is_one_call(
    gateway: Gateway, thread_id: str
) -> None:
    result = await run(
        gateway,
        """query($t: ID!, $n: Int) {
             a: messages(threadId: $t) { nodes { id } }
             b: messages(threadId: $t, first: 20, order: DESC) { edges { node { text } } }
             c: messages(threadId: $t, first: $n) { pageInfo { endCursor } } }""",
        t=thread_id,
        n=20,
    )
    assert [node["id"] for node in result.data["a"]["nodes"]][-1] == (
        result.data["c"]["pageInfo"]["endCursor"]
    )
    assert result.upstream_calls == 1


async def test_different_pages_are_one_call_each(gateway: Gateway, thread_id: str) -> None:
    result = await run(
        gateway,
        """query($t: ID!) {
             newest: messages(threadId: $t, first: 5) { nodes { id } }
             oldest: messages(threadId: $t, first: 5, order: ASC) { nodes { id } }
             backward: messages(threadId: $t, last: 5) { nodes { id } }
             bigger: messages(threadId: $t, first: 6) { nodes { id } } }""",
        t=thread_id,
    )
    # `last: 5` in DESC order is fetched as `first: 5` in ASC order: the same call as `oldest`.
    assert result.upstream_calls == 3


async def test_ten_threads_with_their_last_message_are_twenty_concurrent_calls(
    gateway: Gateway,
) -> None:
    ids = [await new_thread(gateway, messages=2) for _ in range(10)]
    result = await run(
        gateway,
        """query($ids: [ID!]!) { threads(ids: $ids) { id metadata
             messages(first: 1) { nodes { id text thread { id } } } } }""",
        ids=ids,
    )
    assert [thread["messages"]["nodes"][0]["text"] for thread in result.data["threads"]] == (
        ["m1"] * 10
    )
    assert result.upstream_calls == 20
    assert max_in_flight(result) > 1


async def test_message_thread_across_threads_reuses_the_thread_loads(gateway: Gateway) -> None:
    ids = [await new_thread(gateway, messages=3) for _ in range(3)]
    result = await run(
        gateway,
        """query($ids: [ID!]!) { threads(ids: $ids) {
             messages { nodes { thread { id metadata } } } } }""",
        ids=ids,
    )
    assert result.upstream_calls == 6  # three threads, three pages; no thread loaded twice


async def test_reads_after_mutations_in_one_request(gateway: Gateway, thread_id: str) -> None:
    result = await run(
        gateway,
        """mutation($t: ID!) {
             first: createMessage(input: {threadId: $t, text: "one"}) {
               message { id thread { metadata } } }
             rename: updateThread(input: {id: $t, metadata: {v: "2"}}) { thread { id } }
             second: createMessage(input: {threadId: $t, text: "two"}) {
               message { thread { metadata messages(first: 3) { nodes { text } } } } }
           }""",
        t=thread_id,
    )
    second = result.data["second"]["message"]["thread"]
    assert second["metadata"] == {"v": "2"}
    assert [node["text"] for node in second["messages"]["nodes"]] == ["two", "one", "m24"]
    # createMessage, getThread, modifyThread, createMessage, listMessages: the second
    # message's thread is the one updateThread returned, so it costs nothing.
    assert result.upstream_calls == 5


async def test_a_write_forgets_the_pages_of_its_thread_only(gateway: Gateway) -> None:
    first, second = await new_thread(gateway, messages=2), await new_thread(gateway, messages=2)
    page = "messages(first: 5) { nodes { text } }"
    result = await run(
        gateway,
        f"""mutation($a: ID!, $b: ID!, $gone: ID!) {{
             one: createMessage(input: {{threadId: $a, text: "new"}}) {{
               message {{ thread {{ {page} }} }} }}
             two: createMessage(input: {{threadId: $b, text: "new"}}) {{
               message {{ thread {{ {page} }} }} }}
             three: updateMessage(input: {{threadId: $b, id: $gone, metadata: {{}}}}) {{
               userErrors {{ code }} }}
             four: createMessage(input: {{threadId: $a, text: "newer"}}) {{
               message {{ thread {{ {page} }} }} }}
           }}""",
        a=first,
        b=second,
        gone=MISSING_MESSAGE,
    )
    texts = [
        [node["text"] for node in result.data[name]["message"]["thread"]["messages"]["nodes"]]
        for name in ("one", "two", "four")
    ]
    assert texts == [["new", "m1", "m0"], ["new", "m1", "m0"], ["newer", "new", "m1", "m0"]]
    assert result.data["three"]["userErrors"] == [{"code": "NOT_FOUND"}]
    # one: create, thread, page; two: create, thread, page; three: modify (404);
    # four: create, page again (its thread is cached).
    assert result.upstream_calls == 9


async def test_a_failed_write_forgets_the_pages_of_its_thread_too(
    gateway: Gateway, thread_id: str
) -> None:
    page = "messages(first: 2) { nodes { text } }"
    result = await run(
        gateway,
        f"""mutation($t: ID!, $gone: ID!) {{
             one: createMessage(input: {{threadId: $t, text: "x"}}) {{
               message {{ thread {{ {page} }} }} }}
             bad: updateMessage(input: {{threadId: $t, id: $gone, metadata: {{}}}}) {{
               userErrors {{ code }} }}
             two: updateThread(input: {{id: $t, metadata: {{v: "1"}}}}) {{ thread {{ {page} }} }}
           }}""",
        t=thread_id,
        gone=MISSING_MESSAGE,
    )
    assert result.data["bad"]["userErrors"] == [{"code": "NOT_FOUND"}]
    assert (
        result.data["two"]["thread"]["messages"]
        == result.data["one"]["message"]["thread"]["messages"]
    )
    # one: create, thread, page; bad: modify (404); two: modify, and the page again,
    # since a failed write may still have changed the thread (updateThread alone
    # would have left the page cached).
    assert result.upstream_calls == 6


async def test_deleted_message_is_not_served_from_the_cache(gateway: Gateway) -> None:
    thread = await new_thread(gateway)
    message_id = await new_message(gateway, thread, "bye")
    result = await run(
        gateway,
        """mutation($t: ID!, $m: ID!) {
             seen: updateMessage(input: {threadId: $t, id: $m, metadata: {k: "v"}}) {
               message { metadata thread { messages { nodes { id } } } } }
             gone: deleteMessage(input: {threadId: $t, id: $m}) { deletedMessageId }
             after: createMessage(input: {threadId: $t, text: "next"}) {
               message { thread { messages { nodes { text } } } } }
           }""",
        t=thread,
        m=message_id,
    )
    assert result.data["seen"]["message"]["metadata"] == {"k": "v"}
    assert result.data["after"]["message"]["thread"]["messages"]["nodes"] == [{"text": "next"}]
    # modify, thread, page; delete; create, page (thread cached).
    assert result.upstream_calls == 6


@pytest.fixture
async def limited(make_settings: SettingsFactory) -> AsyncIterator[Gateway]:
    """The gateway with a budget of 4 upstream calls per operation and 2 in flight."""
    async for running in start_gateway(make_settings(max_upstream_calls=4, upstream_concurrency=2)):
        yield running


async def test_budget_exceeded_gives_typed_errors_and_partial_data(limited: Gateway) -> None:
    ids = [await new_thread(limited) for _ in range(6)]
    result = await limited.graphql.execute(
        "query($ids: [ID!]!) { threads(ids: $ids) { id } }", {"ids": ids}
    )
    assert result.status == 200
    assert [entry and entry["id"] for entry in result.data["threads"]] == [*ids[:4], None, None]
    assert result.codes == ["UPSTREAM_CALL_LIMIT"] * 2
    assert sorted(error["path"] for error in result.errors) == [["threads", 4], ["threads", 5]]
    assert result.upstream_calls == 4
    assert 1 < max_in_flight(result) <= 2
    accounting = result.body["extensions"]["upstream"]
    assert (accounting["attempts"], accounting["limit"]) == (4, 4)


async def test_budget_exceeded_in_nested_fields(limited: Gateway) -> None:
    ids = [await new_thread(limited, messages=1) for _ in range(3)]
    result = await limited.graphql.execute(
        """query($ids: [ID!]!) { threads(ids: $ids) { id
             messages(first: 1) { nodes { text } } } }""",
        {"ids": ids},
    )
    # Three thread calls and one page call fit; the other two pages do not.
    # Thread.messages is non-null, so a thread whose page failed is null.
    threads = result.data["threads"]
    assert sum(entry is not None for entry in threads) == 1
    assert [entry["messages"]["nodes"] for entry in threads if entry] == [[{"text": "m0"}]]
    assert result.codes == ["UPSTREAM_CALL_LIMIT"] * 2
    assert result.upstream_calls == 4


async def test_budget_exceeded_in_a_mutation_keeps_earlier_results(limited: Gateway) -> None:
    thread = await new_thread(limited)
    result = await limited.graphql.execute(
        """mutation($t: ID!) {
             a: updateThread(input: {id: $t, metadata: {n: "1"}}) { thread { metadata } }
             b: updateThread(input: {id: $t, metadata: {n: "2"}}) { thread { metadata } }
             c: updateThread(input: {id: $t, metadata: {n: "3"}}) { thread { metadata } }
             d: updateThread(input: {id: $t, metadata: {n: "4"}}) { thread { metadata } }
             e: updateThread(input: {id: $t, metadata: {n: "5"}}) { thread { metadata } } }""",
        {"t": thread},
    )
    assert result.codes == ["UPSTREAM_CALL_LIMIT"]
    assert result.errors[0]["path"] == ["e"]
    assert result.upstream_calls == 4
    assert result.data is None  # every payload is non-null: GraphQL nulls the whole result


async def test_accounting_matches_the_requests_the_upstream_saw(
    make_settings: SettingsFactory,
) -> None:
    """``calls`` and ``attempts`` checked against an independent count: a mocked upstream."""
    base = "http://upstream.test/v1"
    other = "thread_" + "b" * 24
    settings = make_settings(
        upstream_url=base, upstream_transport="httpx", max_retries=1, retry_backoff=0.0
    )
    with respx.mock(base_url=base, assert_all_called=False) as upstream:
        upstream.get(f"/threads/{THREAD_ID}").respond(json=thread_json())
        flaky = upstream.get(f"/threads/{other}")
        flaky.side_effect = [httpx.Response(503), httpx.Response(200, json=thread_json(other))]
        upstream.get(f"/threads/{THREAD_ID}/messages").respond(
            json=list_json([message_json(text="hi")])
        )
        upstream.get(f"/threads/{THREAD_ID}/messages/{MESSAGE_ID}").respond(json=message_json())
        async for gateway in start_gateway(settings):
            result = await gateway.graphql.execute(
                """query($t: ID!, $o: ID!, $m: ID!) {
                     a: thread(id: $t) { id messages { nodes { id thread { id } } } }
                     b: thread(id: $o) { id }
                     again: threads(ids: [$t, $o, $t]) { id }
                     m: message(threadId: $t, id: $m) { text } }""",
                {"t": THREAD_ID, "o": other, "m": MESSAGE_ID},
                headers={"Authorization": "Bearer caller"},
            )
        requests_seen = len(upstream.calls)
    assert not result.errors, result.errors
    accounting = result.body["extensions"]["upstream"]
    # Two threads and one page; the message came with the page. The flaky thread was
    # retried once: one call, two requests.
    assert accounting["calls"] == 3
    assert accounting["attempts"] == requests_seen == 4


# --- the sidebar: viewer { threads } (gateway/schema/viewer.py) ----------------------

SIDEBAR_PAGE = """query($first: Int) { viewer { threads(first: $first) {
    edges { cursor node { id createdAt lastActivityAt metadata toolResources { fileSearch {
      vectorStoreIds } } } }
    pageInfo { hasNextPage endCursor } } } }"""


async def test_a_sidebar_page_on_the_embedded_store_is_no_upstream_call(gateway: Gateway) -> None:
    made = {await new_thread(gateway, metadata={"n": str(n)}) for n in range(25)}
    result = await run(gateway, SIDEBAR_PAGE, first=20)
    edges = result.data["viewer"]["threads"]["edges"]
    assert len(edges) == 20 and {edge["node"]["id"] for edge in edges} <= made
    assert all(edge["node"]["metadata"]["n"] for edge in edges)
    assert result.data["viewer"]["threads"]["pageInfo"]["hasNextPage"] is True
    assert result.upstream_calls == 0  # one index query; the index carries the threads


async def test_a_sidebar_page_with_last_messages_is_one_call_per_thread(gateway: Gateway) -> None:
    for _ in range(3):
        await new_thread(gateway, messages=2)
    result = await run(
        gateway,
        """{ viewer { threads(first: 20) { nodes { id
             messages(first: 1) { nodes { text thread { id metadata } } } } } } }""",
    )
    nodes = result.data["viewer"]["threads"]["nodes"]
    assert [node["messages"]["nodes"][0]["text"] for node in nodes] == ["m1"] * 3
    # A page per thread; Message.thread is the thread the index primed.
    assert result.upstream_calls == 3


async def test_node_and_viewer_threads_share_the_thread_loader(gateway: Gateway) -> None:
    thread_id = await new_thread(gateway)
    result = await run(
        gateway,
        """query($t: ID!) { node(id: $t) { id ... on Thread { lastActivityAt } }
             again: node(id: $t) { id } thread(id: $t) { id lastActivityAt } }""",
        t=thread_id,
    )
    assert result.data["node"]["id"] == result.data["again"]["id"] == thread_id
    assert result.data["node"]["lastActivityAt"] == result.data["thread"]["lastActivityAt"]
    assert result.upstream_calls == 1  # lastActivityAt is an index lookup, never upstream


async def test_a_remote_sidebar_page_fetches_each_thread_once_for_its_metadata(
    make_settings: SettingsFactory,
) -> None:
    """Over a remote upstream the index knows ids and times: a page without metadata costs
    nothing upstream; with metadata, one call per distinct thread, shared with the rest."""
    base = "http://upstream.test/v1"
    ids = [THREAD_ID, "thread_" + "b" * 24, "thread_" + "c" * 24]
    settings = make_settings(
        upstream_url=base,
        upstream_transport="httpx",
        upstream_api_key="sk-server",
        auth_required=False,
        max_retries=0,
    )
    with respx.mock(base_url=base, assert_all_called=False) as upstream:
        for n, thread_id in enumerate(ids):
            upstream.get(f"/threads/{thread_id}").respond(
                json=thread_json(thread_id, metadata={"n": str(n)})
            )
        async for gateway in start_gateway(settings):
            seen = await run(gateway, "query($ids: [ID!]!) { threads(ids: $ids) { id } }", ids=ids)
            assert seen.upstream_calls == 3  # the reads that put them in the index
            bare = await run(
                gateway, "{ viewer { threads { nodes { id createdAt lastActivityAt } } } }"
            )
            assert sorted(node["id"] for node in bare.data["viewer"]["threads"]["nodes"]) == ids
            assert bare.upstream_calls == 0
            full = await run(
                gateway,
                """query($t: ID!) { viewer { threads { nodes { id metadata } } }
                     thread(id: $t) { metadata } }""",
                t=ids[1],
            )
            nodes = full.data["viewer"]["threads"]["nodes"]
            assert {node["id"]: node["metadata"]["n"] for node in nodes} == {
                ids[0]: "0",
                ids[1]: "1",
                ids[2]: "2",
            }
            assert full.upstream_calls == 3  # thread(id:) is one of the three
        requests_seen = len(upstream.calls)
    assert requests_seen == 6


async def test_an_owner_isolated_sidebar_costs_no_ownership_checks(
    make_settings: SettingsFactory,
) -> None:
    """The index already filtered by owner, and the stored threads it carries stand in for
    the ownership fetch: a page with each thread's last message is one call per page."""
    token = "sidebar-token-1d4e"
    settings = make_settings(auth_token_hashes=token_digest(token), owner_metadata_key="owner")
    headers = {"Authorization": f"Bearer {token}"}
    async for gateway in start_gateway(settings):
        fields = "\n".join(
            f't{n}: createThread(input: {{messages: [{{text: "first {n}"}}]}}) {{ thread {{ id }} }}'
            for n in range(4)
        )
        made = await gateway.graphql.execute(f"mutation {{ {fields} }}", headers=headers)
        assert not made.errors and made.upstream_calls == 4
        result = await gateway.graphql.execute(
            """{ viewer { threads { nodes { id metadata
                 messages(first: 1) { nodes { text } } } } } }""",
            headers=headers,
        )
        assert not result.errors, result.errors
        nodes = result.data["viewer"]["threads"]["nodes"]
        assert sorted(node["messages"]["nodes"][0]["text"] for node in nodes) == [
            f"first {n}" for n in range(4)
        ]
        assert result.upstream_calls == 4  # the four pages; no thread fetched to check its owner
