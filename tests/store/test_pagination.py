"""Cursor pagination: ``after``/``before`` in both orders, ties, ``has_more``, edges.

The property test runs the store in-process for speed; many messages are
created in one transaction or concurrently, so ``created_at`` ties (same
second) are the rule, and only the insertion sequence can order them.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.store import StoreBackend, create_store_app
from tests.store.backends import query

Page = dict[str, Any]


@pytest.fixture
async def unchecked_client(store: StoreBackend) -> Any:
    """The store in-process without the spec-checking hook.

    The property test makes thousands of requests, and openapi-core takes
    about 10 ms per response; list responses are spec-checked by every other
    test here.
    """
    transport = httpx.ASGITransport(app=create_store_app(store, api_key=None))
    async with httpx.AsyncClient(transport=transport, base_url="http://embedded-store") as client:
        yield client


async def make_thread(client: httpx.AsyncClient, n: int, *, initial: int) -> tuple[str, list[str]]:
    """A thread with ``n`` messages, the first ``initial`` created with the thread (same
    second, one transaction), the rest concurrently. Returns the ids in creation order."""
    initial = min(initial, n)
    body = {"messages": [{"role": "user", "content": f"m{i}"} for i in range(initial)]}
    thread = (await client.post("/threads", json=body)).json()
    thread_id = thread["id"]
    # Creation order of the concurrent ones is the order of their commit; the store
    # tells it through (created_at, id) of the full ascending list, which the
    # property then checks against the walks. The initial ones are ordered by array order.
    await asyncio.gather(
        *(
            client.post(f"/threads/{thread_id}/messages", json={"role": "user", "content": f"m{i}"})
            for i in range(initial, n)
        )
    )
    full = await list_page(client, thread_id, order="asc", limit=100)
    ids = [message["id"] for message in full["data"]]
    assert len(ids) == n and not full["has_more"]
    texts = [message["content"][0]["text"]["value"] for message in full["data"]]
    assert texts[:initial] == [f"m{i}" for i in range(initial)], "array order is kept"
    assert sorted(texts) == sorted(f"m{i}" for i in range(n))
    created = [message["created_at"] for message in full["data"]]
    assert created == sorted(created), "ascending means by created_at first"
    return thread_id, ids


async def list_page(client: httpx.AsyncClient, thread_id: str, **params: Any) -> Page:
    response = await client.get(f"/threads/{thread_id}/messages", params=params)
    assert response.status_code == 200, response.text
    page: Page = response.json()
    return page


def ids_of(page: Page) -> list[str]:
    return [message["id"] for message in page["data"]]


def check_envelope(page: Page) -> None:
    data = ids_of(page)
    assert page["object"] == "list"
    assert page["first_id"] == (data[0] if data else None)
    assert page["last_id"] == (data[-1] if data else None)


async def walk_forward(
    client: httpx.AsyncClient, thread_id: str, order: str, limit: int, expected: list[str]
) -> None:
    page = await list_page(client, thread_id, order=order, limit=limit)
    seen: list[str] = []
    while True:
        check_envelope(page)
        start = len(seen)
        assert ids_of(page) == expected[start : start + limit]
        seen.extend(ids_of(page))
        assert page["has_more"] == (len(seen) < len(expected))
        if not page["has_more"]:
            break
        page = await list_page(client, thread_id, order=order, limit=limit, after=page["last_id"])
    assert seen == expected


async def walk_backward(
    client: httpx.AsyncClient, thread_id: str, order: str, limit: int, expected: list[str]
) -> None:
    """From the last message (in ``order``), page back with ``before=first_id``."""
    if not expected:
        return
    opposite = "desc" if order == "asc" else "asc"
    last = await list_page(client, thread_id, order=opposite, limit=1)
    assert ids_of(last) == expected[-1:]
    seen = ids_of(last)
    cursor = seen[0]
    while True:
        page = await list_page(client, thread_id, order=order, limit=limit, before=cursor)
        check_envelope(page)
        position = expected.index(cursor)
        start = max(0, position - limit)
        assert ids_of(page) == expected[start:position], "the closest items, in requested order"
        assert page["has_more"] == (start > 0), "more lies before the page"
        seen[:0] = ids_of(page)
        if not page["has_more"]:
            break
        cursor = page["first_id"]
    assert seen == expected


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    n=st.integers(min_value=0, max_value=60),
    initial=st.integers(min_value=0, max_value=60),
    limit=st.integers(min_value=1, max_value=25),
    order=st.sampled_from(["asc", "desc"]),
)
async def test_walks_visit_every_message_once_in_order(
    unchecked_client: httpx.AsyncClient, n: int, initial: int, limit: int, order: str
) -> None:
    """Forward with ``after=last_id`` and backward with ``before=first_id``, in either
    order, every page is exactly the expected slice and ``has_more`` is exact.
    (The examples share one database; each works in a thread of its own.)"""
    client = unchecked_client
    thread_id, ascending = await make_thread(client, n, initial=initial)
    expected = ascending if order == "asc" else ascending[::-1]
    await walk_forward(client, thread_id, order, limit, expected)
    await walk_backward(client, thread_id, order, limit, expected)


async def test_empty_thread_lists_null_ids(client: httpx.AsyncClient) -> None:
    thread = (await client.post("/threads")).json()
    for order in ("asc", "desc"):
        page = await list_page(client, thread["id"], order=order)
        assert page == {
            "object": "list",
            "data": [],
            "first_id": None,
            "last_id": None,
            "has_more": False,
        }


async def test_ties_are_ordered_by_insertion(client: httpx.AsyncClient) -> None:
    thread_id, ascending = await make_thread(client, 40, initial=40)
    page = await list_page(client, thread_id, order="asc", limit=100)
    assert len({message["created_at"] for message in page["data"]}) == 1, "one transaction"
    assert [m["content"][0]["text"]["value"] for m in page["data"]] == [f"m{i}" for i in range(40)]
    newest = await list_page(client, thread_id, limit=100)
    assert ids_of(newest) == ascending[::-1]


async def test_defaults_are_limit_20_and_desc(client: httpx.AsyncClient) -> None:
    thread_id, ascending = await make_thread(client, 25, initial=25)
    page = await list_page(client, thread_id)
    assert ids_of(page) == ascending[::-1][:20]
    assert page["has_more"] is True


async def test_limit_bounds_are_inclusive(client: httpx.AsyncClient) -> None:
    thread_id, ascending = await make_thread(client, 3, initial=3)
    assert ids_of(await list_page(client, thread_id, limit=1, order="asc")) == ascending[:1]
    assert ids_of(await list_page(client, thread_id, limit=100, order="asc")) == ascending


async def test_cursor_at_either_end(client: httpx.AsyncClient) -> None:
    thread_id, ascending = await make_thread(client, 5, initial=5)
    after_last = await list_page(client, thread_id, order="asc", after=ascending[-1])
    assert after_last["data"] == [] and after_last["has_more"] is False
    assert after_last["first_id"] is None
    before_first = await list_page(client, thread_id, order="asc", before=ascending[0])
    assert before_first["data"] == [] and before_first["has_more"] is False
    desc_before_last = await list_page(client, thread_id, order="desc", before=ascending[-1])
    assert desc_before_last["data"] == []


async def test_run_id_filter(client: httpx.AsyncClient, store: StoreBackend) -> None:
    thread_id, ascending = await make_thread(client, 6, initial=6)
    assert (await list_page(client, thread_id, run_id="run_abc"))["data"] == []

    # Runs are not part of this API, so messages with a run id can only come from
    # elsewhere (a future runs endpoint, an import): put two in directly.
    await query(
        store,
        "UPDATE messages SET run_id = 'run_abc' WHERE id IN (?, ?)",
        (ascending[1], ascending[4]),
    )
    page = await list_page(client, thread_id, run_id="run_abc", order="asc")
    assert ids_of(page) == [ascending[1], ascending[4]]
    assert [m["run_id"] for m in page["data"]] == ["run_abc", "run_abc"]
    after = await list_page(client, thread_id, run_id="run_abc", order="asc", after=ascending[2])
    assert ids_of(after) == [ascending[4]]


async def test_deleted_messages_leave_no_gap(client: httpx.AsyncClient) -> None:
    thread_id, ascending = await make_thread(client, 10, initial=10)
    for message_id in ascending[3:6]:
        response = await client.delete(f"/threads/{thread_id}/messages/{message_id}")
        assert response.status_code == 200
    remaining = ascending[:3] + ascending[6:]
    await walk_forward(client, thread_id, "asc", 3, remaining)
    await walk_backward(client, thread_id, "desc", 3, remaining[::-1])


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_unknown_query_parameters_and_empty_values_are_ignored(
    client: httpx.AsyncClient, order: str
) -> None:
    thread_id, ascending = await make_thread(client, 3, initial=3)
    page = await list_page(client, thread_id, order=order, after="", before="", foo="bar")
    expected = ascending if order == "asc" else ascending[::-1]
    assert ids_of(page) == expected


# --- after and before together: the window between the two cursors ------------------


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    n=st.integers(min_value=2, max_value=30),
    cut=st.tuples(st.integers(min_value=0, max_value=29), st.integers(min_value=0, max_value=29)),
    limit=st.integers(min_value=1, max_value=12),
    order=st.sampled_from(["asc", "desc"]),
)
async def test_after_and_before_walk_the_window_between_them(
    unchecked_client: httpx.AsyncClient, n: int, cut: tuple[int, int], limit: int, order: str
) -> None:
    """``after=A&before=B``: the messages strictly between A and B in the requested
    order, walked forward from A (``after=last_id``, ``before`` kept, as the SDKs
    do) until ``has_more`` is false; an inverted window (B not after A) is empty."""
    client = unchecked_client
    thread_id, ascending = await make_thread(client, n, initial=n // 2)
    expected_order = ascending if order == "asc" else ascending[::-1]
    start, end = cut[0] % n, cut[1] % n
    after, before = expected_order[start], expected_order[end]
    window = expected_order[start + 1 : end]  # empty when end <= start + 1
    page = await list_page(client, thread_id, order=order, limit=limit, after=after, before=before)
    seen: list[str] = []
    pages = 1
    while True:
        check_envelope(page)
        assert ids_of(page) == window[len(seen) : len(seen) + limit]
        seen.extend(ids_of(page))
        assert page["has_more"] == (len(seen) < len(window)), "more in the window"
        if not page["has_more"]:
            break
        page = await list_page(
            client, thread_id, order=order, limit=limit, after=page["last_id"], before=before
        )
        pages += 1
    assert seen == window
    assert pages == max(1, -(-len(window) // limit))


async def test_a_window_keeps_checking_both_cursors(client: httpx.AsyncClient) -> None:
    """Each cursor of a window must be a message of the thread, named in the 400."""
    thread_id, ascending = await make_thread(client, 3, initial=3)
    for params, bad in (
        ({"after": "msg_gone", "before": ascending[0]}, "after"),
        ({"after": ascending[0], "before": "msg_gone"}, "before"),
    ):
        response = await client.get(f"/threads/{thread_id}/messages", params=params)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert (error["param"], error["code"]) == (bad, "invalid_cursor")


async def test_a_cursor_no_store_can_hold_is_an_unknown_cursor(
    client: httpx.AsyncClient,
) -> None:
    """A NUL in ``after``/``before`` (PostgreSQL text cannot hold one): the 400 of an
    unknown cursor on every backend, never a 500; a missing thread is still a 404."""
    thread_id, ascending = await make_thread(client, 3, initial=3)
    for side in ("after", "before"):
        cursor = f"{ascending[0]}\x00b"
        response = await client.get(f"/threads/{thread_id}/messages", params={side: cursor})
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert (error["param"], error["code"]) == (side, "invalid_cursor")
        assert error["message"] == (
            f"Invalid '{side}': no message with id '{cursor}' in thread '{thread_id}'."
        )
        missing = await client.get(
            f"/threads/thread_000000000000000000000000/messages?{side}=msg_a%00b"
        )
        assert missing.status_code == 404, missing.text


async def test_run_id_filter_applies_inside_a_window(
    client: httpx.AsyncClient, store: StoreBackend
) -> None:
    thread_id, ascending = await make_thread(client, 6, initial=6)
    await query(
        store,
        "UPDATE messages SET run_id = 'run_w' WHERE id IN (?, ?, ?, ?)",
        tuple(ascending[index] for index in (0, 2, 3, 5)),
    )
    page = await list_page(
        client, thread_id, order="asc", run_id="run_w", after=ascending[0], before=ascending[5]
    )
    assert ids_of(page) == [ascending[2], ascending[3]]
    assert page["has_more"] is False


async def test_a_run_id_no_store_can_hold_is_an_empty_page(client: httpx.AsyncClient) -> None:
    """A NUL in ``run_id`` (PostgreSQL text cannot hold one): an empty page on every
    backend, never a 500; the thread is still checked."""
    thread_id, _ = await make_thread(client, 3, initial=3)
    page = await list_page(client, thread_id, run_id="run_\x00x")
    assert page["data"] == [] and page["has_more"] is False
    missing = await client.get("/threads/thread_000000000000000000000000/messages?run_id=%00")
    assert missing.status_code == 404
