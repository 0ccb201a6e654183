"""``PostgresStore``: the ``StoreBackend`` on one PostgreSQL database (many processes, machines).

Driver: psycopg 3 (async) with psycopg_pool, chosen over asyncpg after measuring
both on this backend's own three statements at one client (``python -m
benchmarks.store --drivers``, BENCHMARKS.md "Store backends"): asyncpg answers
the reads faster (30-110 µs, 25-40 %, less at p50 on the loaded 2-core test
machine: binary protocol, a protocol-level asyncio transport), durable writes
are alike (the commit's fsync dominates). psycopg still wins on what the store
needs beyond that: it is fully typed (the store is checked with mypy
--strict; asyncpg ships no types), it is libpq, so a ``GATEWAY_STORE_URL``
means exactly what it means to ``psql`` (sslmode, service files, multiple
hosts, ``PG*`` variables), its pool is maintained with it, and its binary
wheel carries its libpq, so ``pip install 'messages-gateway[postgres]'`` is all
a machine needs. Per read the gap is less than what the gateway spends on
its in-process call to the store (about 175 µs), and the seam keeps a switch
of driver to this one module.

Connections are in autocommit mode, so an operation that is one statement is
one round trip and its own transaction; the few that need more statements
(a thread created with messages, a copied thread) open a transaction.

Order (``backend`` rule 2): ``seq`` is an identity column. A message insert
first locks its thread's row (``FOR UPDATE``) in the same statement, so the
inserts into one thread are serialised by the database and each takes its
``seq`` after the previous one committed: the sequence follows commit order,
whatever process or machine wrote. ``created_at`` is the database server's
clock (one clock for every replica), and not below the thread's latest
message the statement sees.

Lock order: every write that touches a thread's messages locks the thread's
row first (``_LOCK_THREAD``, or the ``FOR UPDATE`` of ``_CREATE_MESSAGE``), as
``delete_thread`` does (the thread row, then its messages by cascade); the
event log's advisory lock comes last (``_record_event``). One order, no cycle.

The SQL of a page comes from ``pagination`` (shared with SQLite, written with
``?`` placeholders); ``_pg`` turns those into psycopg's ``%s``. Statements
here are assembled from constants only; every value is a bound parameter.

This module imports psycopg at its top; ``locations`` imports it only for a
``postgresql://`` URL and turns a missing driver into an actionable message.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from gateway.store import wire
from gateway.store.backend import ImportOutcome, StoreCounts
from gateway.store.errors import NotFoundError, StoreOpenError
from gateway.store.events import (
    EVENT_LOG_CHANNEL,
    EVENT_LOG_KEEP,
    EVENT_LOG_LOCK,
    EVENT_LOG_PRUNE_EVERY,
    EventKind,
    deleted_message_object,
    deleted_thread_object,
)
from gateway.store.ids import new_thread_id
from gateway.store.locations import url_passwords
from gateway.store.migrations import POSTGRES_MIGRATIONS, SchemaTooNewError, plan
from gateway.store.pagination import cursor_kind, plan_page
from gateway.store.repository import (
    invalid_cursor,
    message_values,
    new_message_row,
    thread_values,
)
from gateway.store.rows import (
    MESSAGE_COLUMNS,
    THREAD_COLUMNS,
    MessagePage,
    MessageRow,
    ThreadRow,
)
from gateway.store.thread_index_postgres import PostgresThreadIndex
from gateway.store.validation import (
    ListQuery,
    MessageChanges,
    NewMessage,
    NewThread,
    ThreadChanges,
)

__all__ = ["MIGRATION_LOCK", "PostgresStore", "migrate_database"]

MIGRATION_LOCK = 0x4D475354
"""The advisory lock key under which migrations run ("MGST", the SQLite application id)."""

POOL_TIMEOUT_SECONDS = 10.0
"""Longest wait for a pooled connection before the operation fails (a 500, never a hang)."""

CONNECT_TIMEOUT_SECONDS = 10

HEALTH_TIMEOUT_SECONDS = 2.0
"""Longest a readiness probe waits for the database."""


def _pg(sql: str) -> str:
    """``?`` placeholders (shared SQL) as psycopg's ``%s``; our SQL has no other ``?`` or ``%``."""
    return sql.replace("?", "%s")


_NOW = "floor(extract(epoch FROM clock_timestamp()))::bigint"
_INSERT_THREAD = (
    f"INSERT INTO threads ({THREAD_COLUMNS}) VALUES (%s, {_NOW}, %s, %s) RETURNING created_at"  # noqa: S608
)
_INSERT_MESSAGE = _pg(
    f"INSERT INTO messages ({MESSAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
)
_CREATE_MESSAGE = (
    "WITH thread AS (SELECT id FROM threads WHERE id = %(thread_id)s FOR UPDATE) "  # noqa: S608
    "INSERT INTO messages (id, thread_id, created_at, role, status, content, attachments, "
    "metadata, completed_at) "
    "SELECT %(id)s, thread.id, clock.now, %(role)s, 'completed', %(content)s, "
    "%(attachments)s, %(metadata)s, clock.now FROM thread, LATERAL (SELECT GREATEST("
    f"{_NOW}, (SELECT max(created_at) FROM messages WHERE thread_id = thread.id)) AS now) AS clock "
    f"RETURNING {MESSAGE_COLUMNS}"
)
_SELECT_THREAD = f"SELECT {THREAD_COLUMNS} FROM threads WHERE id = %s"  # noqa: S608
_SELECT_MESSAGE = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = %s AND thread_id = %s"  # noqa: S608
_THREAD_EXISTS = "SELECT 1 FROM threads WHERE id = %s"
_LOCK_THREAD = "SELECT 1 FROM threads WHERE id = %s FOR UPDATE"
"""Taken first by every write to a thread's messages: the lock order of ``delete_thread``
(thread row, then its messages by cascade), so a message write racing a thread delete waits
instead of deadlocking (the message-delete trigger locks the thread row too)."""
_CURSOR_KEY = "SELECT created_at, seq FROM messages WHERE id = %s AND thread_id = %s"
_INSERT_EVENT = (
    "WITH event AS (INSERT INTO thread_events (thread_id, kind, object, thread, committed_at) "
    "VALUES (%s, %s, %s, %s, extract(epoch FROM clock_timestamp())) RETURNING seq) "
    "SELECT seq, pg_notify(%s, seq::text) FROM event"
)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


_QUOTED = re.compile(r'"([^"]*)"')
BAD_URL_REASON = (
    "the URL is not a valid PostgreSQL connection URL (check its percent-encoding and its options)"
)
"""Why a connection could not even start: libpq's own text quotes the URL's tokens."""


def _connect_reason(exc: BaseException, conninfo: str) -> str:
    """The first line of a connect failure, unless it could quote the URL's password.

    libpq refuses a malformed URL (a ``ProgrammingError``) quoting the token it
    could not parse, which can be part of the password; a failure text that holds
    a password, or quotes a piece of one, is replaced by a generic reason too.
    """
    if isinstance(exc, psycopg.ProgrammingError):
        return BAD_URL_REASON
    text = _first_line(exc)
    passwords = url_passwords(conninfo)
    quoted = [token for token in _QUOTED.findall(text) if token]
    if any(secret in text for secret in passwords) or any(
        token in secret for token in quoted for secret in passwords
    ):
        return f"the connection failed ({type(exc).__name__})"
    return text


def _thread_not_found(thread_id: str) -> NotFoundError:
    return NotFoundError(f"No thread found with id '{thread_id}'.")


async def migrate_database(conninfo: str, location: str) -> tuple[int, int]:
    """Bring the database's schema to the current version, once however many processes try.

    Returns the version found and the version now. ``StoreOpenError`` (one line
    naming ``location``) when the database cannot be reached or is not usable.
    """

    def failure(reason: str) -> StoreOpenError:
        return StoreOpenError(f"cannot use the store database '{location}': {reason}")

    try:
        conn = await psycopg.AsyncConnection.connect(
            conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
        )
    except psycopg.Error as exc:
        raise failure(_connect_reason(exc, conninfo)) from None
    try:
        async with conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            found = await (await conn.execute("SELECT to_regclass('store_schema')")).fetchone()
            if found is None or found[0] is None:
                others = await (
                    await conn.execute(
                        "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() "
                        "AND tablename IN ('threads', 'messages')"
                    )
                ).fetchone()
                if others is not None and others[0]:
                    raise failure(
                        "it has tables 'threads'/'messages' of another application; "
                        "point GATEWAY_STORE_URL at a new database"
                    )
                await conn.execute(
                    "CREATE TABLE store_schema (version integer PRIMARY KEY, "
                    "description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
                )
                version = 0
            else:
                row = await (
                    await conn.execute("SELECT coalesce(max(version), 0) FROM store_schema")
                ).fetchone()
                version = int(row[0]) if row is not None else 0
            try:
                pending = plan(version, POSTGRES_MIGRATIONS)
            except SchemaTooNewError as exc:
                raise failure(str(exc)) from None
            for migration in pending:
                for statement in migration.statements:
                    await conn.execute(statement)  # constants of ``migrations``
                await conn.execute(
                    "INSERT INTO store_schema (version, description) VALUES (%s, %s)",
                    (migration.version, migration.description),
                )
    except psycopg.Error as exc:
        raise failure(_first_line(exc)) from None
    return version, pending[-1].version if pending else version


class PostgresStore:
    """The store on the PostgreSQL database at ``conninfo`` (migrated when opened)."""

    def __init__(
        self, conninfo: str, *, location: str, min_connections: int = 1, max_connections: int = 10
    ) -> None:
        self._conninfo = conninfo
        self._location = location
        self._min = min_connections
        self._max = max_connections
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[tuple[Any, ...]]] | None = None
        self._thread_index = PostgresThreadIndex(lambda: self.pool)

    @property
    def location(self) -> str:
        return self._location

    @property
    def is_open(self) -> bool:
        return self._pool is not None

    @property
    def thread_index(self) -> PostgresThreadIndex:
        return self._thread_index

    @property
    def pool(self) -> AsyncConnectionPool[psycopg.AsyncConnection[tuple[Any, ...]]]:
        """The connection pool (for tests and tools that need the database itself)."""
        if self._pool is None:
            raise RuntimeError("the store is not open")
        return self._pool

    async def open(self) -> None:
        if self._pool is not None:
            raise RuntimeError("the store is already open")
        await migrate_database(self._conninfo, self._location)
        pool: AsyncConnectionPool[psycopg.AsyncConnection[tuple[Any, ...]]] = AsyncConnectionPool(
            self._conninfo,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_SECONDS},
            min_size=self._min,
            max_size=self._max,
            timeout=POOL_TIMEOUT_SECONDS,
            open=False,
            name="store",
        )
        try:
            await pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS)
        except Exception as exc:
            await pool.close()
            raise StoreOpenError(
                f"cannot use the store database '{self._location}': "
                f"{_connect_reason(exc, self._conninfo)}"
            ) from None
        self._pool = pool

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def health(self) -> str | None:
        """A round trip on a pooled connection, bounded by ``HEALTH_TIMEOUT_SECONDS``."""
        if self._pool is None:
            return "the store is not open"
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS):
                await self._one("SELECT count(*) FROM (SELECT 1 FROM threads LIMIT 1) AS t", ())
        except TimeoutError:
            return "the store database did not answer in time"
        except Exception as exc:
            return f"the store database cannot be read ({type(exc).__name__})"
        return None

    async def __aenter__(self) -> PostgresStore:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def _one(self, sql: str, params: Sequence[object] | dict[str, object]) -> Any:
        async with self.pool.connection() as conn:
            return await (await conn.execute(sql, params)).fetchone()

    async def _require_thread(self, conn: psycopg.AsyncConnection[Any], thread_id: str) -> None:
        if await (await conn.execute(_THREAD_EXISTS, (thread_id,))).fetchone() is None:
            raise _thread_not_found(thread_id)

    async def _record_event(
        self,
        conn: psycopg.AsyncConnection[Any],
        kind: EventKind,
        thread_id: str,
        obj: str,
        *,
        deleted: ThreadRow | None = None,
    ) -> None:
        """Log one change in the write's own transaction (the hook of ``gateway.store.events``).

        Called last in each write, once its row locks are held: the advisory lock
        (held to commit) then makes ``seq`` follow commit order without a lock
        cycle. The NOTIFY is delivered at commit, and only then, as a wake-up for
        every listening process. The thread as it is now (``deleted``: as it was)
        goes with the event.
        """
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (EVENT_LOG_LOCK,))
        if deleted is None:
            found = await (await conn.execute(_SELECT_THREAD, (thread_id,))).fetchone()
            deleted = ThreadRow(*found) if found is not None else None
        thread = wire.thread_json(deleted) if deleted is not None else None
        row = await (
            await conn.execute(
                _INSERT_EVENT, (thread_id, str(kind), obj, thread, EVENT_LOG_CHANNEL)
            )
        ).fetchone()
        if row is not None and int(row[0]) % EVENT_LOG_PRUNE_EVERY == 0:
            await conn.execute(
                "DELETE FROM thread_events WHERE seq <= %s", (int(row[0]) - EVENT_LOG_KEEP,)
            )

    async def _message_not_found(self, thread_id: str, message_id: str) -> NotFoundError:
        async with self.pool.connection() as conn:
            await self._require_thread(conn, thread_id)
        return NotFoundError(f"No message found with id '{message_id}'.")

    # --- threads --------------------------------------------------------------------

    async def create_thread(self, thread: NewThread) -> ThreadRow:
        thread_id = new_thread_id()
        metadata = wire.dump(thread.metadata)
        tool_resources = wire.dump(thread.tool_resources)
        async with self.pool.connection() as conn, conn.transaction():
            found = await (
                await conn.execute(_INSERT_THREAD, (thread_id, metadata, tool_resources))
            ).fetchone()
            assert found is not None  # RETURNING of an insert
            created_at = int(found[0])
            row = ThreadRow(thread_id, created_at, metadata, tool_resources)
            await self._record_event(
                conn, EventKind.THREAD_CREATED, thread_id, wire.thread_json(row)
            )
            for message in thread.messages:
                message_row = new_message_row(thread_id, message, created_at)
                await conn.execute(_INSERT_MESSAGE, message_values(message_row))
                await self._record_event(
                    conn, EventKind.MESSAGE_CREATED, thread_id, wire.message_json(message_row)
                )
        return row

    async def get_thread(self, thread_id: str) -> ThreadRow:
        row = await self._one(_SELECT_THREAD, (thread_id,))
        if row is None:
            raise _thread_not_found(thread_id)
        return ThreadRow(*row)

    async def modify_thread(self, thread_id: str, changes: ThreadChanges) -> ThreadRow:
        assignments: list[str] = []
        values: list[object] = []
        if changes.metadata is not None:
            assignments.append("metadata = %s")
            values.append(wire.dump(changes.metadata))
        if changes.tool_resources is not None:
            assignments.append("tool_resources = %s")
            values.append(wire.dump(changes.tool_resources))
        if not assignments:
            return await self.get_thread(thread_id)
        async with self.pool.connection() as conn, conn.transaction():
            row = await (
                await conn.execute(
                    f"UPDATE threads SET {', '.join(assignments)} WHERE id = %s "  # noqa: S608
                    f"RETURNING {THREAD_COLUMNS}",
                    (*values, thread_id),
                )
            ).fetchone()
            if row is None:
                raise _thread_not_found(thread_id)
            updated = ThreadRow(*row)
            await self._record_event(
                conn, EventKind.THREAD_UPDATED, thread_id, wire.thread_json(updated)
            )
        return updated

    async def delete_thread(self, thread_id: str) -> None:
        """Delete the thread; its messages go with it (``ON DELETE CASCADE``)."""
        async with self.pool.connection() as conn, conn.transaction():
            found = await (
                await conn.execute(
                    f"DELETE FROM threads WHERE id = %s RETURNING {THREAD_COLUMNS}",  # noqa: S608
                    (thread_id,),
                )
            ).fetchone()
            if found is None:
                raise _thread_not_found(thread_id)
            await self._record_event(
                conn,
                EventKind.THREAD_DELETED,
                thread_id,
                deleted_thread_object(thread_id),
                deleted=ThreadRow(*found),
            )

    # --- messages -------------------------------------------------------------------

    async def create_message(self, thread_id: str, message: NewMessage) -> MessageRow:
        draft = new_message_row(thread_id, message, 0)
        async with self.pool.connection() as conn, conn.transaction():
            row = await (
                await conn.execute(
                    _CREATE_MESSAGE,
                    {
                        "thread_id": thread_id,
                        "id": draft.id,
                        "role": draft.role,
                        "content": draft.content,
                        "attachments": draft.attachments,
                        "metadata": draft.metadata,
                    },
                )
            ).fetchone()
            if row is None:
                raise _thread_not_found(thread_id)
            created = MessageRow(*row)
            await self._record_event(
                conn, EventKind.MESSAGE_CREATED, thread_id, wire.message_json(created)
            )
        return created

    async def get_message(self, thread_id: str, message_id: str) -> MessageRow:
        row = await self._one(_SELECT_MESSAGE, (message_id, thread_id))
        if row is None:
            raise await self._message_not_found(thread_id, message_id)
        return MessageRow(*row)

    async def modify_message(
        self, thread_id: str, message_id: str, changes: MessageChanges
    ) -> MessageRow:
        if changes.metadata is None:
            return await self.get_message(thread_id, message_id)
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(_LOCK_THREAD, (thread_id,))
            row = await (
                await conn.execute(
                    f"UPDATE messages SET metadata = %s WHERE id = %s AND thread_id = %s "  # noqa: S608
                    f"RETURNING {MESSAGE_COLUMNS}",
                    (wire.dump(changes.metadata), message_id, thread_id),
                )
            ).fetchone()
            updated = MessageRow(*row) if row is not None else None
            if updated is not None:
                await self._record_event(
                    conn, EventKind.MESSAGE_UPDATED, thread_id, wire.message_json(updated)
                )
        if updated is None:
            raise await self._message_not_found(thread_id, message_id)
        return updated

    async def delete_message(self, thread_id: str, message_id: str) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(_LOCK_THREAD, (thread_id,))
            cursor = await conn.execute(
                "DELETE FROM messages WHERE id = %s AND thread_id = %s", (message_id, thread_id)
            )
            deleted = cursor.rowcount
            if deleted:
                await self._record_event(
                    conn,
                    EventKind.MESSAGE_DELETED,
                    thread_id,
                    deleted_message_object(thread_id, message_id),
                )
        if deleted == 0:
            raise await self._message_not_found(thread_id, message_id)

    async def list_messages(self, thread_id: str, query: ListQuery) -> MessagePage:
        """One page (see ``pagination``); the common first page is one round trip."""
        params: list[object] = [thread_id]
        kind = cursor_kind(after=query.after, before=query.before)
        plan_ = plan_page(
            order=query.order,
            cursor=kind,
            by_run=query.run_id is not None,
            columns=MESSAGE_COLUMNS,
        )
        async with self.pool.connection() as conn:
            for side, cursor_id in (("after", query.after), ("before", query.before)):
                if cursor_id is None:
                    continue
                # A NUL: no stored id has one (PostgreSQL text cannot hold it), so the
                # cursor is unknown, as SQLite answers, not a driver error.
                key = (
                    None
                    if "\x00" in cursor_id
                    else await (await conn.execute(_CURSOR_KEY, (cursor_id, thread_id))).fetchone()
                )
                if key is None:
                    await self._require_thread(conn, thread_id)
                    raise invalid_cursor(side, cursor_id, thread_id)
                params.extend(key)
            if query.run_id is not None:
                params.append(query.run_id)
            params.append(query.limit + 1)
            if query.run_id is not None and "\x00" in query.run_id:
                # PostgreSQL text cannot hold NUL, so no stored run id has one: the
                # page is empty (as SQLite answers), not a driver error.
                fetched = []
            else:
                fetched = await (await conn.execute(_pg(plan_.sql), params)).fetchall()
            if not fetched and kind is None:
                # An empty page: of an empty thread, or of no thread at all.
                await self._require_thread(conn, thread_id)
        rows = [MessageRow(*row) for row in fetched]
        has_more = len(rows) > query.limit
        del rows[query.limit :]
        if plan_.reverse:
            rows.reverse()
        return MessagePage(tuple(rows), has_more)

    # --- copying --------------------------------------------------------------------

    async def export_threads(self, *, after_seq: int, limit: int) -> list[tuple[int, ThreadRow]]:
        async with self.pool.connection() as conn:
            found = await (
                await conn.execute(
                    f"SELECT seq, {THREAD_COLUMNS} FROM threads WHERE seq > %s "  # noqa: S608
                    "ORDER BY seq LIMIT %s",
                    (after_seq, limit),
                )
            ).fetchall()
        return [(int(row[0]), ThreadRow(*row[1:])) for row in found]

    async def export_messages(
        self, thread_id: str, *, after: tuple[int, int], limit: int
    ) -> list[tuple[int, MessageRow]]:
        async with self.pool.connection() as conn:
            found = await (
                await conn.execute(
                    f"SELECT seq, {MESSAGE_COLUMNS} FROM messages WHERE thread_id = %s "  # noqa: S608
                    "AND (created_at, seq) > (%s, %s) ORDER BY created_at, seq LIMIT %s",
                    (thread_id, *after, limit),
                )
            ).fetchall()
        return [(int(row[0]), MessageRow(*row[1:])) for row in found]

    async def import_thread(
        self, thread: ThreadRow, messages: Sequence[MessageRow]
    ) -> ImportOutcome:
        async with self.pool.connection() as conn, conn.transaction():
            created = await conn.execute(
                f"INSERT INTO threads ({THREAD_COLUMNS}) VALUES (%s, %s, %s, %s) "  # noqa: S608
                "ON CONFLICT (id) DO NOTHING",
                thread_values(thread),
            )
            added = 0
            if messages:
                # Pipelined, in order: each row takes its seq in the order given.
                async with conn.cursor() as cursor:
                    await cursor.executemany(
                        _INSERT_MESSAGE + " ON CONFLICT (id) DO NOTHING",
                        [message_values(message) for message in messages],
                    )
                    added = cursor.rowcount  # summed over the rows
        return ImportOutcome(thread_created=created.rowcount == 1, messages_created=added)

    async def counts(self) -> StoreCounts:
        row = await self._one(
            "SELECT (SELECT count(*) FROM threads), (SELECT count(*) FROM messages)", ()
        )
        return StoreCounts(threads=int(row[0]), messages=int(row[1]))
