"""The SQLite file: connections, schema, and turning open failures into one clear line.

Every connection runs in WAL mode with ``synchronous=FULL``: a commit returns
only once the write-ahead log is on disk, so an acknowledged write survives
``kill -9`` and power loss, and readers never block the writer (nor it them).

The file is stamped with an ``application_id`` and a schema version
(``user_version``): the store initialises an empty file, opens its own files,
and refuses anything else (another application's database, a newer schema)
instead of writing tables into it.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from gateway.store.errors import StoreOpenError

__all__ = [
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "check_store_path",
    "connect_reader",
    "connect_writer",
]

APPLICATION_ID = 0x4D475354  # "MGST": messages-gateway store
SCHEMA_VERSION = 1
BUSY_TIMEOUT_SECONDS = 5.0

_SCHEMA = (
    """
    CREATE TABLE threads (
        seq            INTEGER PRIMARY KEY,
        id             TEXT NOT NULL UNIQUE,
        created_at     INTEGER NOT NULL,
        metadata       TEXT NOT NULL,  -- JSON object
        tool_resources TEXT NOT NULL   -- JSON object
    )
    """,
    """
    CREATE TABLE messages (
        seq                INTEGER PRIMARY KEY,  -- insertion order: breaks created_at ties
        id                 TEXT NOT NULL UNIQUE,
        thread_id          TEXT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
        created_at         INTEGER NOT NULL,
        role               TEXT NOT NULL,
        status             TEXT NOT NULL,
        content            TEXT NOT NULL,  -- JSON array of content parts
        attachments        TEXT NOT NULL,  -- JSON array
        metadata           TEXT NOT NULL,  -- JSON object
        assistant_id       TEXT,
        run_id             TEXT,
        completed_at       INTEGER,
        incomplete_at      INTEGER,
        incomplete_details TEXT            -- JSON object or NULL
    )
    """,
    "CREATE INDEX messages_by_thread ON messages (thread_id, created_at, seq)",
)

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


def _initialise(conn: sqlite3.Connection, path: Path) -> None:
    """Create the schema in an empty file, or check that the file is this store's."""
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise _failure(path, f"cannot switch it to WAL mode (journal mode is {mode!r})")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    # An immediate transaction takes the write lock: it proves the file is
    # writable and keeps two processes from initialising it at once. What the
    # file holds is read only under that lock: another process may have just
    # initialised it.
    conn.execute("BEGIN IMMEDIATE")
    try:
        application_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_schema")]
        if application_id == 0 and not tables:
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        elif application_id != APPLICATION_ID:
            raise _failure(
                path,
                "it is an SQLite database of another application; "
                "point GATEWAY_STORE_PATH at a new file",
            )
        else:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise _failure(
                    path,
                    f"it was written by a newer messages-gateway (schema version {version}, "
                    f"this version knows {SCHEMA_VERSION})",
                )
        conn.execute("COMMIT")
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")


def connect_writer(path: Path) -> sqlite3.Connection:
    """Open (creating it if needed) the store file for writing; ``StoreOpenError`` if unusable."""
    _prepare_folder(path)
    try:
        conn = _connect(path)
    except sqlite3.Error as exc:
        raise _sqlite_failure(path, exc) from None
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            _initialise(conn, path)
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
            return conn


def connect_reader(path: Path) -> sqlite3.Connection:
    """A read-only connection to an initialised store file."""
    conn = _connect(path)
    conn.execute("PRAGMA query_only = ON")
    return conn


def check_store_path(path: Path) -> None:
    """Pre-flight for ``messages-gateway serve``: the store file is usable, or say why.

    Creates the folder and the file (with its schema) when missing, checks that
    an existing file is an SQLite database of this store, and that it is
    writable. It reads the schema rather than running ``PRAGMA quick_check``,
    whose cost grows with the size of the file, so startup stays fast.
    """
    connect_writer(path).close()
