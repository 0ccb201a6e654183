"""The store's operations as synchronous functions of one SQLite connection.

They run on the database's threads (see ``database``), never on the event
loop: writes inside the transaction the writer opened for them, reads inside a
read transaction, so each sees one consistent snapshot. Each returns named
rows (``rows``) or raises an ``APIError``; an error rolls back whatever the
operation wrote. ``SQLiteStore`` (``sqlite_store``) puts them behind the
``StoreBackend`` protocol.

SQL text is only ever assembled from constants (column lists, ``ASC``/``DESC``);
every value is a bound parameter, hence the ``noqa: S608`` markers.

Order (``backend`` rule 2): ``seq`` is the rowid, assigned in the single
writer's transaction, which processes also serialise (``BEGIN IMMEDIATE``
takes the file's write lock), so it follows commit order. ``created_at`` is
read from the clock inside that transaction and never set below the thread's
latest message.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence

from gateway.store import wire
from gateway.store.backend import ImportOutcome, StoreCounts
from gateway.store.errors import InvalidRequestError, NotFoundError
from gateway.store.events import (
    EVENT_LOG_KEEP,
    EVENT_LOG_PRUNE_EVERY,
    EventKind,
    deleted_message_object,
    deleted_thread_object,
)
from gateway.store.ids import new_message_id, new_thread_id
from gateway.store.pagination import cursor_kind, plan_page
from gateway.store.rows import (
    MESSAGE_COLUMNS,
    THREAD_COLUMNS,
    MessagePage,
    MessageRow,
    ThreadRow,
)
from gateway.store.validation import (
    ListQuery,
    MessageChanges,
    NewMessage,
    NewThread,
    ThreadChanges,
)

__all__ = [
    "counts",
    "create_message",
    "create_thread",
    "delete_message",
    "delete_thread",
    "export_messages",
    "export_threads",
    "get_message",
    "get_thread",
    "import_thread",
    "list_messages",
    "modify_message",
    "modify_thread",
    "record_event",
]

_INSERT_MESSAGE = (
    f"INSERT INTO messages ({MESSAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
)
_INSERT_THREAD = f"INSERT INTO threads ({THREAD_COLUMNS}) VALUES (?, ?, ?, ?)"  # noqa: S608
_SELECT_MESSAGE = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ? AND thread_id = ?"  # noqa: S608
_SELECT_THREAD = f"SELECT {THREAD_COLUMNS} FROM threads WHERE id = ?"  # noqa: S608
_THREAD_EXISTS = "SELECT 1 FROM threads WHERE id = ?"
_LATEST_IN_THREAD = "SELECT max(created_at) FROM messages WHERE thread_id = ?"


def _now() -> int:
    return int(time.time())


def _thread_not_found(thread_id: str) -> NotFoundError:
    return NotFoundError(f"No thread found with id '{thread_id}'.")


def _require_thread(conn: sqlite3.Connection, thread_id: str) -> None:
    if conn.execute(_THREAD_EXISTS, (thread_id,)).fetchone() is None:
        raise _thread_not_found(thread_id)


def _message_not_found(conn: sqlite3.Connection, thread_id: str, message_id: str) -> NotFoundError:
    """The 404 for a message lookup that missed: the thread's, if the thread is gone too."""
    _require_thread(conn, thread_id)
    return NotFoundError(f"No message found with id '{message_id}'.")


def new_message_row(thread_id: str, message: NewMessage, now: int) -> MessageRow:
    """A new message: completed at creation. (Shared with the PostgreSQL backend.)"""
    return MessageRow(
        id=new_message_id(),
        thread_id=thread_id,
        created_at=now,
        role=message.role,
        status="completed",
        content=wire.dump(message.content),
        attachments=wire.dump(message.attachments),
        metadata=wire.dump(message.metadata),
        assistant_id=None,
        run_id=None,
        completed_at=now,
        incomplete_at=None,
        incomplete_details=None,
    )


def message_values(row: MessageRow) -> tuple[object, ...]:
    """The parameters of an insert of ``MESSAGE_COLUMNS``."""
    return (
        row.id,
        row.thread_id,
        row.created_at,
        row.role,
        row.status,
        row.content,
        row.attachments,
        row.metadata,
        row.assistant_id,
        row.run_id,
        row.completed_at,
        row.incomplete_at,
        row.incomplete_details,
    )


def thread_values(row: ThreadRow) -> tuple[object, ...]:
    """The parameters of an insert of ``THREAD_COLUMNS``."""
    return (row.id, row.created_at, row.metadata, row.tool_resources)


def record_event(conn: sqlite3.Connection, kind: EventKind, thread_id: str, obj: str) -> None:
    """Log one change in the write's own transaction (the hook of ``gateway.store.events``).

    Called by every write below; the thread as it is now (before a deletion,
    which records first) goes with the event, for the viewer's stream.
    """
    found = conn.execute(_SELECT_THREAD, (thread_id,)).fetchone()
    thread = wire.thread_json(ThreadRow(*found)) if found is not None else None
    seq = conn.execute(
        "INSERT INTO thread_events (thread_id, kind, object, thread, committed_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (thread_id, str(kind), obj, thread, time.time()),
    ).lastrowid
    if seq is not None and seq % EVENT_LOG_PRUNE_EVERY == 0:
        conn.execute("DELETE FROM thread_events WHERE seq <= ?", (seq - EVENT_LOG_KEEP,))


# --- threads ------------------------------------------------------------------------


def create_thread(conn: sqlite3.Connection, thread: NewThread) -> ThreadRow:
    """Insert a thread and its initial messages (one transaction: all or nothing)."""
    now = _now()
    row = ThreadRow(
        id=new_thread_id(),
        created_at=now,
        metadata=wire.dump(thread.metadata),
        tool_resources=wire.dump(thread.tool_resources),
    )
    conn.execute(_INSERT_THREAD, thread_values(row))
    record_event(conn, EventKind.THREAD_CREATED, row.id, wire.thread_json(row))
    for message in thread.messages:
        message_row = new_message_row(row.id, message, now)
        conn.execute(_INSERT_MESSAGE, message_values(message_row))
        record_event(conn, EventKind.MESSAGE_CREATED, row.id, wire.message_json(message_row))
    return row


def get_thread(conn: sqlite3.Connection, thread_id: str) -> ThreadRow:
    row = conn.execute(_SELECT_THREAD, (thread_id,)).fetchone()
    if row is None:
        raise _thread_not_found(thread_id)
    return ThreadRow(*row)


def modify_thread(conn: sqlite3.Connection, thread_id: str, changes: ThreadChanges) -> ThreadRow:
    """Replace the metadata map and/or the tool resources; absent fields stay as they are."""
    assignments: list[str] = []
    values: list[object] = []
    if changes.metadata is not None:
        assignments.append("metadata = ?")
        values.append(wire.dump(changes.metadata))
    if changes.tool_resources is not None:
        assignments.append("tool_resources = ?")
        values.append(wire.dump(changes.tool_resources))
    if not assignments:
        return get_thread(conn, thread_id)
    row = conn.execute(
        f"UPDATE threads SET {', '.join(assignments)} WHERE id = ? RETURNING {THREAD_COLUMNS}",  # noqa: S608
        (*values, thread_id),
    ).fetchone()
    if row is None:
        raise _thread_not_found(thread_id)
    updated = ThreadRow(*row)
    record_event(conn, EventKind.THREAD_UPDATED, thread_id, wire.thread_json(updated))
    return updated


def delete_thread(conn: sqlite3.Connection, thread_id: str) -> None:
    """Delete a thread and every message in it."""
    record_event(conn, EventKind.THREAD_DELETED, thread_id, deleted_thread_object(thread_id))
    conn.execute("DELETE FROM messages WHERE thread_id = ?", (thread_id,))
    if conn.execute("DELETE FROM threads WHERE id = ?", (thread_id,)).rowcount == 0:
        raise _thread_not_found(thread_id)


# --- messages -----------------------------------------------------------------------


def create_message(conn: sqlite3.Connection, thread_id: str, message: NewMessage) -> MessageRow:
    _require_thread(conn, thread_id)
    latest = conn.execute(_LATEST_IN_THREAD, (thread_id,)).fetchone()[0]
    row = new_message_row(thread_id, message, max(_now(), latest or 0))
    conn.execute(_INSERT_MESSAGE, message_values(row))
    record_event(conn, EventKind.MESSAGE_CREATED, thread_id, wire.message_json(row))
    return row


def get_message(conn: sqlite3.Connection, thread_id: str, message_id: str) -> MessageRow:
    row = conn.execute(_SELECT_MESSAGE, (message_id, thread_id)).fetchone()
    if row is None:
        raise _message_not_found(conn, thread_id, message_id)
    return MessageRow(*row)


def modify_message(
    conn: sqlite3.Connection, thread_id: str, message_id: str, changes: MessageChanges
) -> MessageRow:
    """Replace the metadata map (the only thing a client may change on a message)."""
    if changes.metadata is None:
        return get_message(conn, thread_id, message_id)
    row = conn.execute(
        f"UPDATE messages SET metadata = ? WHERE id = ? AND thread_id = ? "  # noqa: S608
        f"RETURNING {MESSAGE_COLUMNS}",
        (wire.dump(changes.metadata), message_id, thread_id),
    ).fetchone()
    if row is None:
        raise _message_not_found(conn, thread_id, message_id)
    updated = MessageRow(*row)
    record_event(conn, EventKind.MESSAGE_UPDATED, thread_id, wire.message_json(updated))
    return updated


def delete_message(conn: sqlite3.Connection, thread_id: str, message_id: str) -> None:
    deleted = conn.execute(
        "DELETE FROM messages WHERE id = ? AND thread_id = ?", (message_id, thread_id)
    ).rowcount
    if deleted == 0:
        raise _message_not_found(conn, thread_id, message_id)
    record_event(
        conn,
        EventKind.MESSAGE_DELETED,
        thread_id,
        deleted_message_object(thread_id, message_id),
    )


def invalid_cursor(side: str, cursor_id: str, thread_id: str) -> InvalidRequestError:
    """The 400 of a cursor that is not a message of the thread. (Shared with PostgreSQL.)"""
    return InvalidRequestError(
        f"Invalid '{side}': no message with id '{cursor_id}' in thread '{thread_id}'.",
        param=side,
        code="invalid_cursor",
    )


def list_messages(conn: sqlite3.Connection, thread_id: str, query: ListQuery) -> MessagePage:
    """One page of a thread's messages; see ``pagination`` for the cursor semantics."""
    _require_thread(conn, thread_id)
    params: list[object] = [thread_id]
    cursors = (("after", query.after), ("before", query.before))
    for side, cursor_id in cursors:
        if cursor_id is None:
            continue
        key = conn.execute(
            "SELECT created_at, seq FROM messages WHERE id = ? AND thread_id = ?",
            (cursor_id, thread_id),
        ).fetchone()
        if key is None:
            raise invalid_cursor(side, str(cursor_id), thread_id)
        params.extend(key)
    if query.run_id is not None:
        params.append(query.run_id)
    params.append(query.limit + 1)
    plan = plan_page(
        order=query.order,
        cursor=cursor_kind(after=query.after, before=query.before),
        by_run=query.run_id is not None,
        columns=MESSAGE_COLUMNS,
    )
    rows = [MessageRow(*row) for row in conn.execute(plan.sql, params)]
    has_more = len(rows) > query.limit
    del rows[query.limit :]
    if plan.reverse:
        rows.reverse()
    return MessagePage(tuple(rows), has_more)


# --- copying ------------------------------------------------------------------------


def export_threads(
    conn: sqlite3.Connection, after_seq: int, limit: int
) -> list[tuple[int, ThreadRow]]:
    found = conn.execute(
        f"SELECT seq, {THREAD_COLUMNS} FROM threads WHERE seq > ? ORDER BY seq LIMIT ?",  # noqa: S608
        (after_seq, limit),
    )
    return [(row[0], ThreadRow(*row[1:])) for row in found]


def export_messages(
    conn: sqlite3.Connection, thread_id: str, after: tuple[int, int], limit: int
) -> list[tuple[int, MessageRow]]:
    """One bounded page of a thread's messages past ``after`` (``(created_at, seq)``)."""
    found = conn.execute(
        f"SELECT seq, {MESSAGE_COLUMNS} FROM messages WHERE thread_id = ? "  # noqa: S608
        "AND (created_at, seq) > (?, ?) ORDER BY created_at, seq LIMIT ?",
        (thread_id, *after, limit),
    )
    return [(int(row[0]), MessageRow(*row[1:])) for row in found]


def import_thread(
    conn: sqlite3.Connection, thread: ThreadRow, messages: Sequence[MessageRow]
) -> ImportOutcome:
    created = conn.execute(
        f"INSERT INTO threads ({THREAD_COLUMNS}) VALUES (?, ?, ?, ?) "  # noqa: S608
        "ON CONFLICT (id) DO NOTHING",
        thread_values(thread),
    ).rowcount
    added = 0
    for message in messages:
        added += conn.execute(
            _INSERT_MESSAGE + " ON CONFLICT (id) DO NOTHING", message_values(message)
        ).rowcount
    return ImportOutcome(thread_created=created == 1, messages_created=added)


def counts(conn: sqlite3.Connection) -> StoreCounts:
    threads = conn.execute("SELECT count(*) FROM threads").fetchone()[0]
    messages = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    return StoreCounts(threads=threads, messages=messages)
