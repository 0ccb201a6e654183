"""The store's versioned schema: one list of migrations per backend, applied in order.

A schema version is a number; version ``N`` means the same tables and indexes
on both backends. A store records the version it is at (SQLite:
``PRAGMA user_version``; PostgreSQL: the ``store_schema`` table, one row per
migration applied). Opening a store migrates it forward; a store at a version
this code does not know (written by a newer messages-gateway) is refused,
never written to.

Version 1 is the schema of 0.1 (a 0.1 SQLite file is at version 1 and is
upgraded in place). Migrations run under a lock, so several processes
starting together migrate once: ``BEGIN IMMEDIATE`` (the SQLite file's write
lock) or ``pg_advisory_xact_lock`` (PostgreSQL), and in one transaction with
the version change, so a failure leaves the store at its old version.

Why not a migration tool: the ones that serve both SQLite and PostgreSQL
(alembic, yoyo) bring SQLAlchemy or their own connection handling, and the
store has a dozen statements of DDL; this runner is the two loops in
``sqlite`` and ``postgres`` plus ``plan``, tested in ``tests/store/test_migrations.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.store.thread_index_schema import THREAD_INDEX_POSTGRES, THREAD_INDEX_SQLITE

__all__ = [
    "POSTGRES_MIGRATIONS",
    "SCHEMA_VERSION",
    "SQLITE_MIGRATIONS",
    "THREAD_EVENTS_VERSION",
    "Migration",
    "SchemaTooNewError",
    "plan",
]


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


class SchemaTooNewError(Exception):
    """The store was written by a newer messages-gateway: its schema is unknown here."""

    def __init__(self, found: int, known: int) -> None:
        super().__init__(
            f"it was written by a newer messages-gateway (schema version {found}, "
            f"this version knows {known})"
        )
        self.found = found
        self.known = known


THREAD_EVENTS_VERSION = 4
"""The version that adds the event log (``gateway.live``). Planned as 4, after the
thread index of issue 12 (version 3 on its branch): one constant to renumber at the merge."""

SQLITE_MIGRATIONS = (
    Migration(
        1,
        "threads and messages (the 0.1 schema)",
        (
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
        ),
    ),
    Migration(
        2,
        "an index for listing a thread's messages of one run",
        ("CREATE INDEX messages_by_run ON messages (thread_id, run_id, created_at, seq)",),
    ),
    Migration(
        3,
        "the thread index: each thread's owner and last activity, kept by triggers",
        THREAD_INDEX_SQLITE,
    ),
    Migration(
        THREAD_EVENTS_VERSION,
        "the event log of thread and message changes (subscriptions)",
        (
            # AUTOINCREMENT: a sequence number is never reused once pruned.
            """
            CREATE TABLE thread_events (
                seq          INTEGER PRIMARY KEY AUTOINCREMENT,  -- commit order
                thread_id    TEXT NOT NULL,
                kind         TEXT NOT NULL,
                object       TEXT NOT NULL,  -- JSON: the message, thread, or deleted ids
                thread       TEXT,           -- JSON: the thread after the change
                committed_at REAL NOT NULL   -- unix seconds, for delivery lag
            )
            """,
            "CREATE INDEX thread_events_by_thread ON thread_events (thread_id, seq)",
        ),
    ),
)

POSTGRES_MIGRATIONS = (
    Migration(
        1,
        "threads and messages",
        (
            # JSON columns are text: the validated, compact JSON is kept byte for
            # byte (jsonb would reorder keys) and spliced into responses as is.
            """
            CREATE TABLE threads (
                seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                id             text NOT NULL UNIQUE,
                created_at     bigint NOT NULL,
                metadata       text NOT NULL,
                tool_resources text NOT NULL
            )
            """,
            """
            CREATE TABLE messages (
                seq                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                id                 text NOT NULL UNIQUE,
                thread_id          text NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
                created_at         bigint NOT NULL,
                role               text NOT NULL,
                status             text NOT NULL,
                content            text NOT NULL,
                attachments        text NOT NULL,
                metadata           text NOT NULL,
                assistant_id       text,
                run_id             text,
                completed_at       bigint,
                incomplete_at      bigint,
                incomplete_details text
            )
            """,
            "CREATE INDEX messages_by_thread ON messages (thread_id, created_at, seq)",
        ),
    ),
    Migration(
        2,
        "an index for listing a thread's messages of one run",
        ("CREATE INDEX messages_by_run ON messages (thread_id, run_id, created_at, seq)",),
    ),
    Migration(
        3,
        "the thread index: each thread's owner and last activity, kept by triggers",
        THREAD_INDEX_POSTGRES,
    ),
    Migration(
        THREAD_EVENTS_VERSION,
        "the event log of thread and message changes (subscriptions)",
        (
            # seq follows commit order: writers take the event log's advisory lock
            # before inserting (gateway.store.postgres, record_events).
            """
            CREATE TABLE thread_events (
                seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                thread_id    text NOT NULL,
                kind         text NOT NULL,
                object       text NOT NULL,
                thread       text,
                committed_at double precision NOT NULL
            )
            """,
            "CREATE INDEX thread_events_by_thread ON thread_events (thread_id, seq)",
        ),
    ),
)

SCHEMA_VERSION = SQLITE_MIGRATIONS[-1].version
"""The version this code writes, on every backend."""


def plan(current: int, migrations: tuple[Migration, ...]) -> tuple[Migration, ...]:
    """The migrations that bring a store at ``current`` to ``SCHEMA_VERSION``.

    Raises ``SchemaTooNewError`` for a version beyond the last one known.
    """
    latest = migrations[-1].version
    if current > latest:
        raise SchemaTooNewError(current, latest)
    return tuple(migration for migration in migrations if migration.version > current)
