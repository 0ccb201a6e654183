"""The SQLite file: connections, schema, and turning open failures into one clear line.

Every connection runs in WAL mode with ``synchronous=FULL``: a commit returns
only once the write-ahead log is on disk, so an acknowledged write survives
``kill -9`` and power loss, and readers never block the writer (nor it them).

The file is stamped with an ``application_id`` and a schema version
(``user_version``): the store initialises an empty file, opens its own files
(migrating them forward, see ``migrations``), and refuses anything else
(another application's database, a newer schema) instead of writing into it.

Two checks guard the file while it is in use: ``FileIdentity`` (does the path
still name the file that was opened? see ``Database``) and ``read_sample``
(can real rows be read from the file as it is on disk? see ``/readyz``).
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from gateway.store.errors import StoreOpenError
from gateway.store.migrations import SCHEMA_VERSION, SQLITE_MIGRATIONS, SchemaTooNewError, plan
from gateway.wire_contract import ISSUED_ID_ALPHABET, MESSAGE_ID_PREFIX

__all__ = [
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "FileIdentity",
    "connect_reader",
    "connect_writer",
    "migrate_file",
    "read_sample",
]

APPLICATION_ID = 0x4D475354  # "MGST": messages-gateway store
BUSY_TIMEOUT_SECONDS = 5.0

_REASONS = {
    "file is not a database": "the file is not an SQLite database",
    "attempt to write a readonly database": "the file is read-only",
    "database is locked": "the file is locked by another process",
    "disk I/O error": "a disk I/O error occurred",
}


def _failure(path: Path, reason: str) -> StoreOpenError:
    return StoreOpenError(f"cannot use the store file '{path}': {reason}")


def _sqlite_failure(path: Path, exc: sqlite3.Error) -> StoreOpenError:
    text = str(exc)
    if text == "unable to open database file":
        if path.exists():
            return _failure(path, "the file cannot be opened (check its permissions)")
        return _failure(
            path, f"the file cannot be created in '{path.parent}' (is the folder writable?)"
        )
    return _failure(path, _REASONS.get(text, f"SQLite error: {text}"))


def _prepare_folder(path: Path) -> None:
    """Create the file's folder, explaining the usual ways that fails."""
    for ancestor in reversed(path.parents):
        if ancestor.exists() and not ancestor.is_dir():
            raise _failure(path, f"'{ancestor}' is not a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _failure(
            path, f"cannot create the folder '{path.parent}': {exc.strerror or exc}"
        ) from None
    if path.is_dir():
        raise _failure(path, "it is a folder, not a file")


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: transactions are begun and ended explicitly by the
    # caller. check_same_thread=False: each connection is still only used by the
    # one thread that owns it; closing may happen from another.
    return sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
    )


def _initialise(conn: sqlite3.Connection, path: Path) -> tuple[int, int]:
    """Create or migrate the schema, or refuse a file that is not this store's.

    Returns the schema version found and the version the file is at now.
    """
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise _failure(path, f"cannot switch it to WAL mode (journal mode is {mode!r})")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    # An immediate transaction takes the write lock: it proves the file is
    # writable and keeps two processes from initialising (or migrating) it at once;
    # everything that decides what to do is read under it.
    conn.execute("BEGIN IMMEDIATE")
    try:
        application_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_schema")]
        if application_id == 0 and not tables:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            version = 0
        elif application_id != APPLICATION_ID:
            raise _failure(
                path,
                "it is an SQLite database of another application; "
                "point GATEWAY_STORE_PATH at a new file",
            )
        else:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        try:
            pending = plan(version, SQLITE_MIGRATIONS)
        except SchemaTooNewError as exc:
            raise _failure(path, str(exc)) from None
        for migration in pending:
            for statement in migration.statements:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {migration.version}")
        conn.execute("COMMIT")
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    return version, pending[-1].version if pending else version


def _open_writer(path: Path) -> tuple[sqlite3.Connection, tuple[int, int]]:
    _prepare_folder(path)
    try:
        conn = _connect(path)
    except sqlite3.Error as exc:
        raise _sqlite_failure(path, exc) from None
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            versions = _initialise(conn, path)
        except sqlite3.OperationalError as exc:
            # Two processes switching a new file to WAL at once: SQLite answers one
            # of them "locked" at once, without waiting (it would deadlock). Retry.
            if str(exc) != "database is locked" or time.monotonic() > deadline:
                conn.close()
                raise _sqlite_failure(path, exc) from None
            time.sleep(0.02)
        except sqlite3.Error as exc:
            conn.close()
            raise _sqlite_failure(path, exc) from None
        except BaseException:
            conn.close()
            raise
        else:
            return conn, versions


def connect_writer(path: Path) -> sqlite3.Connection:
    """Open (creating or migrating it if needed) the store file for writing.

    ``StoreOpenError`` if the file is unusable.
    """
    return _open_writer(path)[0]


def migrate_file(path: Path) -> tuple[int, int]:
    """``messages-gateway migrate`` on a file: the schema version found, and the one now."""
    conn, versions = _open_writer(path)
    conn.close()
    return versions


def connect_reader(path: Path) -> sqlite3.Connection:
    """A read-only connection to an initialised store file."""
    conn = _connect(path)
    conn.execute("PRAGMA query_only = ON")
    return conn


@dataclass(frozen=True, slots=True)
class FileIdentity:
    """Which file a path names: device and inode, as ``stat`` reports them."""

    device: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> FileIdentity | None:
        """The identity of the file at ``path`` now; ``None`` when there is none."""
        try:
            status = os.stat(path)
        except OSError:
            return None
        return cls(status.st_dev, status.st_ino)


SAMPLE_ROWS = 8
"""Rows read per b-tree by ``read_sample``."""

# Only the leading columns of messages: ``content`` may run over many overflow
# pages, and the columns after it would have to be reached through them. Each
# query's parameters: its starting key (the random ones), then the row limit.
_SAMPLES = (
    "SELECT seq, id, created_at FROM threads ORDER BY seq DESC LIMIT ?",
    "SELECT seq, id, created_at FROM threads WHERE seq >= ? ORDER BY seq LIMIT ?",
    "SELECT seq, id, thread_id, created_at, role, status FROM messages ORDER BY seq DESC LIMIT ?",
    "SELECT seq, id, thread_id, created_at, role, status FROM messages "
    "WHERE seq >= ? ORDER BY seq LIMIT ?",
    "SELECT id FROM threads ORDER BY id DESC LIMIT ?",
    "SELECT id FROM messages WHERE id >= ? ORDER BY id LIMIT ?",
    "SELECT thread_id, created_at, seq FROM messages INDEXED BY messages_by_thread "
    "ORDER BY thread_id DESC, created_at DESC, seq DESC LIMIT ?",
)


def read_sample(path: Path) -> int:
    """Read a bounded sample of real rows from the file as it is on disk; the rows read.

    A fresh read-only connection, so no page cache of the store's own
    connections can hide a damaged page. Through every b-tree (both tables,
    the id indexes, the thread index) it reads the newest rows (the pages the
    latest writes touched) and, from a random starting key, a few more (so
    repeated probes cover the whole file over time). The cost is a constant
    number of page reads however large the file: ``PRAGMA quick_check`` would
    read every page, minutes for a large store, on every probe. A damaged page
    raises ``sqlite3.DatabaseError`` ("database disk image is malformed").
    """
    uri = f"file:{quote(str(path))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    try:
        conn.execute("BEGIN")
        highest = conn.execute(
            "SELECT (SELECT max(seq) FROM threads), (SELECT max(seq) FROM messages)"
        ).fetchone()
        draw = random.SystemRandom()
        thread_seq = draw.randint(0, highest[0] or 0)
        message_seq = draw.randint(0, highest[1] or 0)
        message_id = MESSAGE_ID_PREFIX + "".join(draw.choices(ISSUED_ID_ALPHABET, k=3))
        parameters: tuple[tuple[object, ...], ...] = (
            (),
            (thread_seq,),
            (),
            (message_seq,),
            (),
            (message_id,),
            (),
        )
        rows = 0
        for sql, values in zip(_SAMPLES, parameters, strict=True):
            rows += len(conn.execute(sql, (*values, SAMPLE_ROWS)).fetchall())
        return rows
    finally:
        conn.close()
