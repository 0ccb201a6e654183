"""``ThreadRecorder``: what the loaders saw, as index rows; a failing database loses nothing
of the caller's operation."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pytest

from gateway.auth import forwarded_key_holder, token_digest
from gateway.store import SQLiteStore
from gateway.store.thread_index import IndexEntry, IndexPage, IndexQuery
from gateway.thread_index import ThreadRecorder
from gateway.upstream import ThreadObject

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
