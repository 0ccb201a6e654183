"""``ThreadRecorder``: what the loaders saw, as index rows; a failing database loses nothing
of the caller's operation; a sighting the index already holds is not written again (its
memo), counted on the real SQLite table, alone and through the app over a mocked remote
upstream (respx)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import respx

from gateway.app import create_app
from gateway.auth import forwarded_key_holder, token_digest
from gateway.store import SQLiteStore
from gateway.store.thread_index import IndexEntry, IndexPage, IndexQuery
from gateway.thread_index import IndexMemo, ThreadRecorder
from gateway.upstream import ThreadObject
from tests.conftest import Gateway, SettingsFactory, start_gateway
from tests.schema.wire import THREAD_ID, error_json, list_json, message_json, thread_json
from tests.thread_index.counting import Writes, count_writes
from tests.upstream.helpers import FakeClock

KEY = "owner"


def _thread(thread_id: str, created_at: int, owner: str | None) -> ThreadObject:
    return {
        "id": thread_id,
        "object": "thread",
        "created_at": created_at,
        "metadata": {KEY: owner} if owner else {},
        "tool_resources": {},
    }


async def test_seen_threads_and_activity_become_rows(tmp_path: Path) -> None:
    async with SQLiteStore(tmp_path / "state.sqlite3") as store:
        recorder = ThreadRecorder(store.thread_index, KEY)
        await recorder.threads_seen([_thread("thread_a", 10, "ann"), _thread("thread_b", 20, None)])
        await recorder.activity_seen([("thread_a", 30), ("thread_unknown", 99)])
        await recorder.threads_seen([_thread("thread_a", 10, "ann")])  # read again: kept at 30
        page = await store.thread_index.page(IndexQuery(None, "last_activity_at", True, None, 10))
        assert [(row.thread_id, row.last_activity_at) for row in page.rows] == [
            ("thread_a", 30),
            ("thread_b", 20),
        ]
        owned = await store.thread_index.page(IndexQuery("ann", "created_at", True, None, 10))
        assert [row.thread_id for row in owned.rows] == ["thread_a"]
        await recorder.threads_gone(["thread_a"])
        assert await store.thread_index.last_activity(["thread_a", "thread_b"]) == {"thread_b": 20}


async def test_a_holders_recorder_writes_every_row_as_the_holders(tmp_path: Path) -> None:
    """Passthrough: the row's owner is the forwarded key's holder, not the metadata stamp."""
    async with SQLiteStore(tmp_path / "state.sqlite3") as store:
        recorder = ThreadRecorder(store.thread_index, None)
        holder = forwarded_key_holder("sk-alice")
        assert holder == f"key:{token_digest('sk-alice')[:12]}" and "sk-alice" not in holder
        assert forwarded_key_holder(None) == forwarded_key_holder("") == "key:none"
        await recorder.for_holder(holder).threads_seen(
            [_thread("thread_a", 10, "ann"), _thread("thread_b", 20, None)]
        )
        await recorder.for_holder("key:none").threads_seen([_thread("thread_c", 30, None)])
        for owner, expected in ((holder, ["thread_b", "thread_a"]), ("key:none", ["thread_c"])):
            page = await store.thread_index.page(IndexQuery(owner, "created_at", True, None, 10))
            assert [row.thread_id for row in page.rows] == expected
        stamped = await store.thread_index.page(IndexQuery("ann", "created_at", True, None, 10))
        assert stamped.rows == ()


class _BrokenTable:
    async def adopt_owner_key(self, key: str | None) -> None: ...

    async def page(self, query: IndexQuery) -> IndexPage:
        raise AssertionError("not used")

    async def last_activity(self, thread_ids: Sequence[str]) -> dict[str, int]:
        return {}

    async def record(self, entries: Sequence[IndexEntry]) -> None:
        raise OSError("disk full")

    async def record_activity(self, activity: Sequence[tuple[str, int]]) -> None:
        raise OSError("disk full")

    async def forget(self, thread_ids: Sequence[str], *, owner: str | None = None) -> None:
        raise OSError("disk full")


async def test_a_failing_index_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    recorder = ThreadRecorder(_BrokenTable(), KEY)
    with caplog.at_level(logging.WARNING, logger="gateway.thread_index"):
        await recorder.threads_seen([_thread("thread_a", 1, "ann")])
        await recorder.activity_seen([("thread_a", 2)])
        await recorder.threads_gone(["thread_a"])
    assert len(caplog.records) == 3
    assert all("disk full" in record.getMessage() for record in caplog.records)


async def test_holders_share_one_memo_and_forget_only_their_own_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Passthrough: a thread read with two keys is still listed under the last one (the
    memo is per thread, not per holder), and another key's 404 drops nothing of ours."""
    writes = count_writes(monkeypatch)
    async with SQLiteStore(tmp_path / "state.sqlite3") as store:
        recorder = ThreadRecorder(store.thread_index, None)
        alice, bob = recorder.for_holder("key:alice"), recorder.for_holder("key:bob")
        thread = _thread("thread_a", 10, None)

        async def listed(holder: str) -> list[str]:
            query = IndexQuery(holder, "created_at", True, None, 10)
            return [row.thread_id for row in (await store.thread_index.page(query)).rows]

        for reader in (alice, alice, bob, bob, alice, alice):
            await reader.threads_seen([thread])
        assert [owners for (owners,) in writes.records] == [
            ("thread_a", "key:alice"),
            ("thread_a", "key:bob"),
            ("thread_a", "key:alice"),
        ]
        assert await listed("key:alice") == ["thread_a"] and await listed("key:bob") == []
        await bob.threads_gone(["thread_a"])  # the table deletes only Bob's row: none
        await alice.threads_seen([thread])
        assert len(writes.records) == 3 and await listed("key:alice") == ["thread_a"]
        await alice.threads_gone(["thread_a"])
        assert await listed("key:alice") == []
        await alice.threads_seen([thread])  # forgotten: written again
        assert len(writes.records) == 4 and await listed("key:alice") == ["thread_a"]
        assert writes.forgets == [(["thread_a"], "key:bob"), (["thread_a"], "key:alice")]


# --- through the app, over a remote upstream ---------------------------------------

BASE = "http://upstream.test/v1"
ALICE = "alice-token-3c9e1a"
BOB = "bob-token-7d20f4"
CREATED = 1764118092
READ = "query($t: ID!) { thread(id: $t) { id } }"
READ_MESSAGES = "query($t: ID!) { thread(id: $t) { id messages(first: 1) { nodes { id } } } }"
SIDEBAR = "{ viewer { threads(first: 50) { nodes { id lastActivityAt } } } }"
SIDEBAR_WITH_METADATA = "{ viewer { threads(first: 50) { nodes { id metadata } } } }"


def _seconds(date_time: str) -> int:
    return int(datetime.fromisoformat(date_time).timestamp())


def _subject(token: str) -> str:
    return f"token:{token_digest(token)[:12]}"


@dataclass
class Remote:
    gateway: Gateway
    upstream: respx.MockRouter
    writes: Writes
    memo: IndexMemo
    clock: FakeClock
    state_path: Path
    """The gateway's state database (its thread index)."""

    async def data(self, token: str, query: str, **variables: Any) -> Any:
        result = await self.gateway.graphql.execute(
            query, variables, headers={"Authorization": f"Bearer {token}"}
        )
        assert result.status == 200 and not result.errors, result.body
        return result.data

    async def sidebar(self, token: str) -> list[tuple[str, int]]:
        nodes = (await self.data(token, SIDEBAR))["viewer"]["threads"]["nodes"]
        return [(node["id"], _seconds(node["lastActivityAt"])) for node in nodes]

    def serve_thread(self, thread_id: str, owner: str, messages_at: int | None = None) -> None:
        """The upstream's thread (stamped with ``owner``) and its newest message."""
        self.upstream.get(f"/threads/{thread_id}").respond(
            json=thread_json(thread_id, metadata={"owner": _subject(owner)})
        )
        if messages_at is not None:
            self.upstream.get(f"/threads/{thread_id}/messages").respond(
                json=list_json([message_json(thread_id=thread_id, created_at=messages_at)])
            )

    def counts(self) -> tuple[int, int, int]:
        """``(records, activity writes, forgets)`` so far."""
        return len(self.writes.records), len(self.writes.activity), len(self.writes.forgets)


@asynccontextmanager
async def _remote(
    make_settings: SettingsFactory, monkeypatch: pytest.MonkeyPatch, max_entries: int
) -> AsyncIterator[Remote]:
    settings = make_settings(
        upstream_url=BASE,
        upstream_transport="httpx",  # respx intercepts httpx's own transport
        upstream_api_key="sk-server-5b1f",
        auth_token_hashes=f"{token_digest(ALICE)},{token_digest(BOB)}",
        owner_metadata_key="owner",
        max_retries=0,
    )
    clock = FakeClock()
    memo = IndexMemo(max_entries=max_entries, ttl=60.0, clock=clock)
    writes = count_writes(monkeypatch)
    with respx.mock(base_url=BASE, assert_all_called=False) as upstream:
        async for gateway in start_gateway(settings, create_app(settings, index_memo=memo)):
            yield Remote(gateway, upstream, writes, memo, clock, settings.store_path)


@pytest.fixture
async def remote(
    make_settings: SettingsFactory, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Remote]:
    async with _remote(make_settings, monkeypatch, max_entries=10_000) as running:
        yield running


async def test_a_thread_read_again_and_again_is_recorded_once(remote: Remote) -> None:
    remote.serve_thread(THREAD_ID, ALICE, messages_at=CREATED + 100)
    for _ in range(5):
        assert (await remote.data(ALICE, READ, t=THREAD_ID))["thread"] == {"id": THREAD_ID}
    assert remote.writes.records == [[(THREAD_ID, _subject(ALICE))]]
    assert remote.counts() == (1, 0, 0)
    for _ in range(5):  # the chat screen: the thread and its last message
        await remote.data(ALICE, READ_MESSAGES, t=THREAD_ID)
    assert remote.writes.activity == [[(THREAD_ID, CREATED + 100)]]
    for _ in range(3):  # the sidebar reads each thread for its metadata: nothing new
        nodes = (await remote.data(ALICE, SIDEBAR_WITH_METADATA))["viewer"]["threads"]["nodes"]
        assert [node["id"] for node in nodes] == [THREAD_ID]
    assert remote.counts() == (1, 1, 0)
    assert await remote.sidebar(ALICE) == [(THREAD_ID, CREATED + 100)]
    assert await remote.sidebar(BOB) == []
    assert len(remote.upstream.calls) == 5 + 5 * 2 + 3


async def test_a_changed_owner_and_a_newer_message_are_recorded(remote: Remote) -> None:
    remote.serve_thread(THREAD_ID, ALICE, messages_at=CREATED + 100)
    await remote.data(ALICE, READ, t=THREAD_ID)
    await remote.data(ALICE, READ_MESSAGES, t=THREAD_ID)
    assert remote.counts() == (1, 1, 0)
    remote.serve_thread(THREAD_ID, ALICE, messages_at=CREATED + 250)  # posted elsewhere
    for _ in range(3):
        await remote.data(ALICE, READ_MESSAGES, t=THREAD_ID)
    assert remote.writes.activity[1:] == [[(THREAD_ID, CREATED + 250)]]
    assert await remote.sidebar(ALICE) == [(THREAD_ID, CREATED + 250)]
    remote.serve_thread(THREAD_ID, BOB)  # its metadata changed elsewhere: Bob's now
    for _ in range(3):
        await remote.data(BOB, READ, t=THREAD_ID)
    assert remote.writes.records[1:] == [[(THREAD_ID, _subject(BOB))]]
    assert remote.counts() == (2, 2, 0)
    assert await remote.sidebar(ALICE) == []
    assert await remote.sidebar(BOB) == [(THREAD_ID, CREATED + 250)]  # activity kept


async def test_a_forgotten_thread_is_recorded_on_its_next_sighting(remote: Remote) -> None:
    remote.serve_thread(THREAD_ID, ALICE)
    await remote.data(ALICE, READ, t=THREAD_ID)
    missing = remote.upstream.get(f"/threads/{THREAD_ID}")
    missing.respond(404, json=error_json("No thread found.", code="not_found"))
    gone = await remote.gateway.graphql.execute(
        READ, {"t": THREAD_ID}, headers={"Authorization": f"Bearer {ALICE}"}
    )
    assert gone.codes == ["NOT_FOUND"]
    assert remote.writes.forgets == [([THREAD_ID], None)]
    assert await remote.sidebar(ALICE) == []
    remote.serve_thread(THREAD_ID, ALICE)  # found again (a replica restored it)
    for _ in range(3):
        await remote.data(ALICE, READ, t=THREAD_ID)
    assert remote.counts() == (2, 0, 1)
    assert await remote.sidebar(ALICE) == [(THREAD_ID, CREATED)]
    remote.upstream.delete(f"/threads/{THREAD_ID}").respond(
        json={"id": THREAD_ID, "object": "thread.deleted", "deleted": True}
    )
    deleted = await remote.data(
        ALICE,
        "mutation($t: ID!) { deleteThread(input: {id: $t}) { deletedThreadId } }",
        t=THREAD_ID,
    )
    assert deleted["deleteThread"]["deletedThreadId"] == THREAD_ID
    assert remote.counts() == (2, 0, 2) and await remote.sidebar(ALICE) == []
    await remote.data(ALICE, READ, t=THREAD_ID)  # the upstream still answers it: recorded
    assert remote.counts() == (3, 0, 2)
    assert await remote.sidebar(ALICE) == [(THREAD_ID, CREATED)]


async def test_a_row_removed_elsewhere_is_back_one_ttl_later(remote: Remote) -> None:
    """Another replica's forget is unseen by this memo: trusted until the TTL runs out."""
    remote.serve_thread(THREAD_ID, ALICE, messages_at=CREATED + 100)
    await remote.data(ALICE, READ, t=THREAD_ID)
    await remote.data(ALICE, READ_MESSAGES, t=THREAD_ID)
    with closing(sqlite3.connect(remote.state_path)) as elsewhere, elsewhere:
        elsewhere.execute("DELETE FROM thread_index WHERE thread_id = ?", (THREAD_ID,))
    remote.clock.now += 59
    await remote.data(ALICE, READ_MESSAGES, t=THREAD_ID)
    assert remote.counts() == (1, 1, 0) and await remote.sidebar(ALICE) == []
    remote.clock.now += 2
    await remote.data(ALICE, READ, t=THREAD_ID)
    assert remote.counts() == (2, 1, 0)
    assert await remote.sidebar(ALICE) == [(THREAD_ID, CREATED)]
    await remote.data(ALICE, READ_MESSAGES, t=THREAD_ID)  # the activity is written again too
    assert remote.counts() == (2, 2, 0)
    assert await remote.sidebar(ALICE) == [(THREAD_ID, CREATED + 100)]


async def test_a_failed_record_is_written_on_the_next_sighting(remote: Remote) -> None:
    remote.serve_thread(THREAD_ID, ALICE)
    remote.writes.failing_records = 1
    await remote.data(ALICE, READ, t=THREAD_ID)  # the read itself succeeds
    assert await remote.sidebar(ALICE) == []
    for _ in range(3):
        await remote.data(ALICE, READ, t=THREAD_ID)
    assert remote.writes.records == [[(THREAD_ID, _subject(ALICE))]] * 2
    assert await remote.sidebar(ALICE) == [(THREAD_ID, CREATED)]


async def test_the_apps_memo_stays_within_its_bound(
    make_settings: SettingsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [f"thread_{letter * 24}" for letter in "abc"]
    async with _remote(make_settings, monkeypatch, max_entries=2) as remote:
        sizes = []
        for thread_id in ids:
            remote.serve_thread(thread_id, ALICE)
            await remote.data(ALICE, READ, t=thread_id)
            sizes.append(len(remote.memo))
        assert sizes == [1, 2, 2]
        await remote.data(ALICE, READ, t=ids[2])  # the most recent: still memoised
        await remote.data(ALICE, READ, t=ids[0])  # the least recent was dropped
        assert [thread_id for ((thread_id, _),) in remote.writes.records] == [*ids, ids[0]]
        assert len(remote.memo) == 2
        assert sorted(thread_id for thread_id, _ in await remote.sidebar(ALICE)) == ids
