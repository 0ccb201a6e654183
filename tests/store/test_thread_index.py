"""The thread index kept by the store's own writes (triggers), on every backend.

Every write path (thread create/update/delete, message create/delete, the copy
path) updates ``thread_index`` in its own transaction; owners are read under the
key adopted by ``adopt_owner_key``. Through the backend seam, so both backends.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gateway.store import SQLiteStore, StoreBackend
from gateway.store.migrations import SQLITE_MIGRATIONS
from gateway.store.rows import ThreadRow
from gateway.store.sqlite import APPLICATION_ID
from gateway.store.thread_index import IndexEntry, IndexQuery, SortKey, page_sql
from gateway.store.validation import NewMessage, NewThread, ThreadChanges
from tests.store.backends import query

KEY = "owner"


def _message(text: str) -> NewMessage:
    return NewMessage(
        role="user",
        content=[{"type": "text", "text": {"value": text, "annotations": []}}],
        attachments=[],
        metadata={},
    )


async def _rows(store: StoreBackend) -> dict[str, tuple[str | None, int, int]]:
    found = await query(
        store, "SELECT thread_id, owner, created_at, last_activity_at FROM thread_index"
    )
    return {row[0]: (row[1], int(row[2]), int(row[3])) for row in found}


async def test_every_write_keeps_the_index_exact(store: StoreBackend) -> None:
    await store.thread_index.adopt_owner_key(KEY)
    mine = await store.create_thread(NewThread((_message("hi"),), {KEY: "alice"}, {}))
    other = await store.create_thread(NewThread((), {"topic": "x"}, {}))
    rows = await _rows(store)
    assert rows == {
        mine.id: ("alice", mine.created_at, mine.created_at),
        other.id: (None, other.created_at, other.created_at),
    }
    # Everything of ``mine`` 100 s older: a new message moves its activity to now,
    # and deleting that message moves it back to the older message's time.
    await query(store, "UPDATE messages SET created_at = created_at - 100")
    await query(
        store,
        "UPDATE thread_index SET created_at = created_at - 100, "
        "last_activity_at = last_activity_at - 100 WHERE thread_id = ?",
        (mine.id,),
    )
    posted = await store.create_message(mine.id, _message("later"))
    assert (await _rows(store))[mine.id][2] == posted.created_at >= mine.created_at
    await store.delete_message(mine.id, posted.id)
    assert (await _rows(store))[mine.id][2] == mine.created_at - 100  # the older message's
    copied = "thread_" + "c" * 24
    await store.import_thread(ThreadRow(copied, 5, "{}", "{}"), [])  # the copy path
    assert (await _rows(store))[copied] == (None, 5, 5)
    # Metadata changes change the owner; deleting the thread removes its row.
    await store.modify_thread(other.id, ThreadChanges({KEY: "bob"}, None))
    assert (await _rows(store))[other.id][0] == "bob"
    await store.delete_thread(mine.id)
    assert mine.id not in await _rows(store)


async def test_a_new_owner_key_recomputes_every_owner(store: StoreBackend) -> None:
    await store.thread_index.adopt_owner_key(KEY)
    thread = await store.create_thread(NewThread((), {KEY: "alice", "team": "red"}, {}))
    assert (await _rows(store))[thread.id][0] == "alice"
    await store.thread_index.adopt_owner_key("team")
    assert (await _rows(store))[thread.id][0] == "red"
    await store.thread_index.adopt_owner_key(None)
    assert (await _rows(store))[thread.id][0] is None


async def test_forgetting_for_an_owner_leaves_other_owners_rows(store: StoreBackend) -> None:
    """A recorded (remote) index's rows: a passthrough caller's 404 forgets its own only."""
    await store.thread_index.record(
        [
            IndexEntry("thread_a", "key:aaaaaaaaaaaa", 1, 1),
            IndexEntry("thread_b", "key:bbbbbbbbbbbb", 2, 2),
        ]
    )
    await store.thread_index.forget(["thread_a", "thread_b"], owner="key:bbbbbbbbbbbb")
    assert await _rows(store) == {"thread_a": ("key:aaaaaaaaaaaa", 1, 1)}
    await store.thread_index.forget(["thread_a"], owner="key:bbbbbbbbbbbb")
    assert set(await _rows(store)) == {"thread_a"}
    await store.thread_index.forget(["thread_a"])
    assert await _rows(store) == {}


async def test_keyset_pages_both_ways(store: StoreBackend) -> None:
    await store.thread_index.adopt_owner_key(KEY)
    made = [await store.create_thread(NewThread((), {KEY: "alice"}, {})) for _ in range(7)]
    await store.create_thread(NewThread((), {KEY: "bob"}, {}))
    expected = sorted(((t.created_at, t.id) for t in made), reverse=True)
    seen: list[tuple[int, str]] = []
    cursor = None
    pages = 0
    while True:
        page = await store.thread_index.page(
            IndexQuery("alice", "created_at", True, cursor, 3, with_threads=True)
        )
        pages += 1
        assert page.has_before == (cursor is not None)
        seen.extend((row.created_at, row.thread_id) for row in page.rows)
        assert all(row.thread is not None and row.thread.id == row.thread_id for row in page.rows)
        if not page.has_more:
            break
        cursor = seen[-1]
    assert seen == expected and pages == 3
    # Backward from the end: the scan runs ascending from the cursor.
    back = await store.thread_index.page(IndexQuery("alice", "created_at", False, expected[-1], 3))
    assert [(r.created_at, r.thread_id) for r in back.rows] == expected[-4:-1][::-1]
    assert back.has_more and back.has_before
    every = await store.thread_index.page(IndexQuery(None, "last_activity_at", True, None, 100))
    assert len(every.rows) == 8 and not every.has_more and not every.has_before


async def test_a_store_of_version_2_gets_its_index_filled(tmp_path: Path) -> None:
    """The migration to version 3 indexes the threads already there, with their activity."""
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    for migration in SQLITE_MIGRATIONS[:2]:
        for statement in migration.statements:
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 2")
    conn.execute("INSERT INTO threads VALUES (1, 'thread_old', 100, ?, '{}')", ('{"owner":"ann"}',))
    conn.execute(
        "INSERT INTO messages (id, thread_id, created_at, role, status, content, attachments, "
        "metadata) VALUES ('msg_old', 'thread_old', 250, 'user', 'completed', '[]', '[]', '{}')"
    )
    conn.commit()
    conn.close()
    async with SQLiteStore(path) as store:
        assert await _rows(store) == {"thread_old": (None, 100, 250)}
        await store.thread_index.adopt_owner_key(KEY)  # what the gateway does at start
        assert await _rows(store) == {"thread_old": ("ann", 100, 250)}


def test_a_page_is_one_bounded_index_range(tmp_path: Path) -> None:
    """SQLite's plan of a page after a cursor: a search of the owner's index, bounded by the
    cursor (not a scan from the top filtered row by row), and the join by primary key."""
    path = tmp_path / "plan.sqlite3"
    conn = sqlite3.connect(path)
    for migration in SQLITE_MIGRATIONS:
        for statement in migration.statements:
            conn.execute(statement)
    keys: tuple[tuple[SortKey, str], ...] = (
        ("last_activity_at", "activity"),
        ("created_at", "creation"),
    )
    for sort, index in keys:
        sql, params = page_sql(IndexQuery("ann", sort, True, (5, "thread_x"), 20, True))
        plan = " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
        bound = f"(owner=? AND ({sort},thread_id)<(?,?))"
        assert f"USING INDEX thread_index_by_owner_{index} {bound}" in plan
        assert "SCAN" not in plan
    conn.close()
