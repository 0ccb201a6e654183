"""``Database``: the SQLite file, its threads, group commit, and open failures."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

import gateway.store.database as database_module
from gateway.store import Database, StoreOpenError
from gateway.store.errors import NotFoundError, StoreFileChangedError
from gateway.store.sqlite import (
    APPLICATION_ID,
    SAMPLE_ROWS,
    SCHEMA_VERSION,
    migrate_file,
    read_sample,
)


def insert_thread(thread_id: str) -> Any:
    def operation(conn: sqlite3.Connection) -> str:
        conn.execute(
            "INSERT INTO threads (id, created_at, metadata, tool_resources) "
            "VALUES (?, 0, '{}', '{}')",
            (thread_id,),
        )
        return thread_id

    return operation


def thread_ids(conn: sqlite3.Connection) -> list[str]:
    return [row[0] for row in conn.execute("SELECT id FROM threads ORDER BY seq")]


async def test_pragmas_for_durability(database: Database) -> None:
    def pragmas(conn: sqlite3.Connection) -> tuple[Any, ...]:
        return tuple(
            conn.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "synchronous", "foreign_keys", "application_id")
        )

    assert await database.write(pragmas) == ("wal", 2, 1, APPLICATION_ID)  # 2 = FULL


async def test_schema_is_created_with_its_index(database: Database) -> None:
    def schema(conn: sqlite3.Connection) -> tuple[set[str], int]:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_schema")}
        return names, conn.execute("PRAGMA user_version").fetchone()[0]

    names, version = await database.read(schema)
    assert {"threads", "messages", "messages_by_thread"} <= names
    assert version == SCHEMA_VERSION
    assert database.path.parent.is_dir()


async def test_reads_see_writes_once_acknowledged(database: Database) -> None:
    for index in range(20):
        await database.write(insert_thread(f"thread_{index}"))
        assert (await database.read(thread_ids))[-1] == f"thread_{index}"


async def test_reader_connections_cannot_write(database: Database) -> None:
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await database.read(insert_thread("thread_x"))


async def test_failed_write_is_rolled_back(database: Database) -> None:
    def insert_then_fail(conn: sqlite3.Connection) -> None:
        insert_thread("thread_doomed")(conn)
        raise NotFoundError("nope")

    with pytest.raises(NotFoundError):
        await database.write(insert_then_fail)
    assert await database.read(thread_ids) == []


class Gate:
    """A write job that holds the writer thread until opened, so others queue behind it."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, conn: sqlite3.Connection) -> None:
        self.entered.set()
        assert self.release.wait(10)


async def test_group_commit_isolates_a_failing_job(database: Database) -> None:
    gate = Gate()
    blocker = asyncio.ensure_future(database.write(gate))
    await asyncio.to_thread(gate.entered.wait, 10)

    def insert_then_fail(conn: sqlite3.Connection) -> None:
        insert_thread("thread_b")(conn)
        raise NotFoundError("b fails")

    # Queued while the writer is busy: they form one batch.
    jobs = [
        asyncio.ensure_future(database.write(insert_thread("thread_a"))),
        asyncio.ensure_future(database.write(insert_then_fail)),
        asyncio.ensure_future(database.write(insert_thread("thread_c"))),
    ]
    await asyncio.sleep(0.05)
    gate.release.set()
    await blocker
    results = await asyncio.gather(*jobs, return_exceptions=True)
    assert results[0] == "thread_a" and results[2] == "thread_c"
    assert isinstance(results[1], NotFoundError)
    assert await database.read(thread_ids) == ["thread_a", "thread_c"]


async def test_group_commit_recovers_when_sqlite_abandons_the_transaction(
    database: Database,
) -> None:
    """Some SQLite errors (disk full, I/O) roll back the whole transaction. The jobs of
    the batch that had succeeded are run again; none is acknowledged without being stored."""
    gate = Gate()
    blocker = asyncio.ensure_future(database.write(gate))
    await asyncio.to_thread(gate.entered.wait, 10)
    runs: list[str] = []

    def counted(thread_id: str) -> Any:
        def operation(conn: sqlite3.Connection) -> str:
            runs.append(thread_id)
            return str(insert_thread(thread_id)(conn))

        return operation

    def abandon(conn: sqlite3.Connection) -> None:
        insert_thread("thread_lost")(conn)
        conn.execute("ROLLBACK")  # what SQLite does itself on SQLITE_FULL
        raise sqlite3.OperationalError("database or disk is full")

    jobs = [
        asyncio.ensure_future(database.write(counted("thread_a"))),
        asyncio.ensure_future(database.write(abandon)),
        asyncio.ensure_future(database.write(counted("thread_c"))),
    ]
    await asyncio.sleep(0.05)
    gate.release.set()
    await blocker
    results = await asyncio.gather(*jobs, return_exceptions=True)
    assert results[0] == "thread_a" and results[2] == "thread_c"
    assert isinstance(results[1], sqlite3.OperationalError)
    assert runs == ["thread_a", "thread_a", "thread_c"]
    assert await database.read(thread_ids) == ["thread_a", "thread_c"]


async def test_reads_do_not_wait_behind_the_writer(database: Database) -> None:
    await database.write(insert_thread("thread_visible"))
    gate = Gate()
    blocker = asyncio.ensure_future(database.write(gate))
    await asyncio.to_thread(gate.entered.wait, 10)
    queued = asyncio.ensure_future(database.write(insert_thread("thread_queued")))
    try:
        seen = await asyncio.wait_for(database.read(thread_ids), timeout=5)
        assert seen == ["thread_visible"]
    finally:
        gate.release.set()
    await blocker
    await queued


async def test_a_cancelled_caller_does_not_break_the_writer(database: Database) -> None:
    gate = Gate()
    blocker = asyncio.ensure_future(database.write(gate))
    await asyncio.to_thread(gate.entered.wait, 10)
    abandoned = asyncio.ensure_future(database.write(insert_thread("thread_abandoned")))
    await asyncio.sleep(0.01)
    abandoned.cancel()
    gate.release.set()
    await blocker
    assert await database.write(insert_thread("thread_next")) == "thread_next"
    # The cancelled write was already queued: it still commits (it was never acknowledged).
    assert await database.read(thread_ids) == ["thread_abandoned", "thread_next"]


async def test_close_finishes_queued_writes(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    database = Database(path)
    await database.open()
    pending = [
        asyncio.ensure_future(database.write(insert_thread(f"thread_{i}"))) for i in range(50)
    ]
    await asyncio.sleep(0)  # let every job reach the queue
    await database.close()
    assert [job.result() for job in pending] == [f"thread_{i}" for i in range(50)]
    async with Database(path) as reopened:
        assert len(await reopened.read(thread_ids)) == 50


async def test_lifecycle_errors(tmp_path: Path) -> None:
    database = Database(tmp_path / "store.sqlite3")
    with pytest.raises(RuntimeError, match="not open"):
        await database.read(thread_ids)
    await database.open()
    assert database.is_open
    with pytest.raises(RuntimeError, match="already open"):
        await database.open()
    await database.close()
    await database.close()  # twice is fine
    assert not database.is_open
    with pytest.raises(RuntimeError, match="not open"):
        await database.write(insert_thread("thread_late"))
    with pytest.raises(ValueError, match="reader"):
        Database(tmp_path / "x.sqlite3", readers=0)


# --- files that cannot be used ----------------------------------------------------------


def garbage_file(tmp_path: Path) -> Path:
    path = tmp_path / "garbage.sqlite3"
    path.write_bytes(bytes(range(256)) * 64)
    return path


def file_parent(tmp_path: Path) -> Path:
    parent = tmp_path / "a-file"
    parent.write_text("not a folder")
    return parent / "sub" / "store.sqlite3"


def other_application(tmp_path: Path) -> Path:
    path = tmp_path / "other.sqlite3"
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    return path


def newer_schema(tmp_path: Path) -> Path:
    path = tmp_path / "newer.sqlite3"
    migrate_file(path)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    return path


def a_folder(tmp_path: Path) -> Path:
    path = tmp_path / "folder.sqlite3"
    path.mkdir()
    return path


UNUSABLE = [
    (garbage_file, "not an SQLite database"),
    (file_parent, "is not a folder"),
    (other_application, "another application"),
    (newer_schema, "newer messages-gateway"),
    (a_folder, "is a folder"),
]


@pytest.mark.parametrize(("make", "reason"), UNUSABLE, ids=[make.__name__ for make, _ in UNUSABLE])
async def test_unusable_files_are_refused_clearly(tmp_path: Path, make: Any, reason: str) -> None:
    path = make(tmp_path)
    with pytest.raises(StoreOpenError) as preflight:
        migrate_file(path)
    message = str(preflight.value)
    assert message.startswith(f"cannot use the store file '{path}': ")
    assert reason in message
    assert "\n" not in message
    database = Database(path)
    with pytest.raises(StoreOpenError, match=reason):
        await database.open()
    assert not database.is_open


async def test_migrate_file_creates_and_then_accepts_a_store(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "store.sqlite3"
    migrate_file(path)
    assert path.is_file()
    migrate_file(path)  # its own file: fine
    async with Database(path) as database:
        await database.write(insert_thread("thread_kept"))
    migrate_file(path)
    async with Database(path) as database:
        assert await database.read(thread_ids) == ["thread_kept"]


# --- the file's identity and health -------------------------------------------------


async def test_writes_are_refused_while_the_path_names_another_file(
    database: Database, tmp_path: Path
) -> None:
    """The check runs right before COMMIT: the whole group is rolled back, every job
    fails with ``StoreFileChangedError``, and the file back in place serves again."""
    assert await database.write(insert_thread("thread_kept")) == "thread_kept"
    aside = tmp_path / "aside.sqlite3"
    database.path.rename(aside)
    outcomes = await asyncio.gather(
        *(database.write(insert_thread(f"thread_lost{index}")) for index in range(5)),
        return_exceptions=True,
    )
    assert len(outcomes) == 5
    assert all(isinstance(outcome, StoreFileChangedError) for outcome in outcomes), outcomes
    assert (await database.health() or "").startswith("the store file was deleted or replaced")
    aside.rename(database.path)
    assert await database.read(thread_ids) == ["thread_kept"], "nothing of the refused group"
    assert await database.health() is None
    assert await database.write(insert_thread("thread_after")) == "thread_after"


async def test_health_reads_a_sample_on_a_fresh_connection(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Concurrent probes share one sample read; a read error is the reason."""
    calls: list[Path] = []

    def counting(path: Path) -> int:
        calls.append(path)
        return read_sample(path)

    monkeypatch.setattr(database_module, "read_sample", counting)
    assert await asyncio.gather(*(database.health() for _ in range(10))) == [None] * 10
    assert len(calls) == 1, "one probe in flight at a time"

    def broken(path: Path) -> int:
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(database_module, "read_sample", broken)
    assert await database.health() == (
        "the store file cannot be read (database disk image is malformed)"
    )


async def test_health_of_a_closed_store(tmp_path: Path) -> None:
    assert await Database(tmp_path / "never-opened.sqlite3").health() == "the store is not open"


async def test_read_sample_is_bounded(database: Database) -> None:
    def fill(conn: sqlite3.Connection) -> None:
        for index in range(50):
            insert_thread(f"thread_{index:02d}")(conn)
        conn.executemany(
            "INSERT INTO messages (id, thread_id, created_at, role, status, content, "
            "attachments, metadata) VALUES (?, 'thread_00', 0, 'user', 'completed', '[]', "
            "'[]', '{}')",
            [(f"msg_{index:03d}",) for index in range(200)],
        )

    await database.write(fill)
    rows = await asyncio.to_thread(read_sample, database.path)
    assert 3 * SAMPLE_ROWS <= rows <= 7 * SAMPLE_ROWS
