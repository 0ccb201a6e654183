"""The nine operations, as synchronous functions of one SQLite connection.

They run on the database's threads (see ``database``), never on the event
loop: writes inside the transaction the writer opened for them, reads inside a
read transaction, so each sees one consistent snapshot. Each returns the
response body as JSON text (rendered by ``wire``) or raises an ``APIError``;
an error rolls back whatever the operation wrote.

SQL text is only ever assembled from constants (column lists, ``ASC``/``DESC``);
every value is a bound parameter, hence the ``noqa: S608`` markers.

Timestamps are taken here, on the writer thread, so that the order of
``created_at`` follows the order of commits.
"""

from __future__ import annotations

import sqlite3
import time

from gateway.store import wire
from gateway.store.errors import InvalidRequestError, NotFoundError
from gateway.store.ids import new_message_id, new_thread_id
from gateway.store.pagination import cursor_kind, plan_page
from gateway.store.validation import (
    ListQuery,
    MessageChanges,
    NewMessage,
    NewThread,
    ThreadChanges,
)

__all__ = [
    "create_message",
    "create_thread",
    "delete_message",
    "delete_thread",
    "get_message",
    "get_thread",
    "list_messages",
    "modify_message",
    "modify_thread",
]

_INSERT_MESSAGE = (
    f"INSERT INTO messages ({wire.MESSAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
)
_SELECT_MESSAGE = f"SELECT {wire.MESSAGE_COLUMNS} FROM messages WHERE id = ? AND thread_id = ?"  # noqa: S608
_SELECT_THREAD = f"SELECT {wire.THREAD_COLUMNS} FROM threads WHERE id = ?"  # noqa: S608
_THREAD_EXISTS = "SELECT 1 FROM threads WHERE id = ?"

Row = tuple[object, ...]


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


def _message_row(thread_id: str, message: NewMessage, now: int) -> Row:
    """A new message as a row of ``wire.MESSAGE_COLUMNS``: completed at creation."""
    return (
        new_message_id(),
        thread_id,
        now,
        message.role,
        "completed",
        wire.dump(message.content),
        wire.dump(message.attachments),
        wire.dump(message.metadata),
        None,
        None,
        now,
        None,
        None,
    )


# --- threads ------------------------------------------------------------------------


def create_thread(conn: sqlite3.Connection, thread: NewThread) -> str:
    """Insert a thread and its initial messages (one transaction: all or nothing)."""
    now = _now()
    row = (new_thread_id(), now, wire.dump(thread.metadata), wire.dump(thread.tool_resources))
    conn.execute(f"INSERT INTO threads ({wire.THREAD_COLUMNS}) VALUES (?, ?, ?, ?)", row)  # noqa: S608
    if thread.messages:
        conn.executemany(
            _INSERT_MESSAGE, [_message_row(row[0], message, now) for message in thread.messages]
        )
    return wire.thread_json(row)


def get_thread(conn: sqlite3.Connection, thread_id: str) -> str:
    row = conn.execute(_SELECT_THREAD, (thread_id,)).fetchone()
    if row is None:
        raise _thread_not_found(thread_id)
    return wire.thread_json(row)


def modify_thread(conn: sqlite3.Connection, thread_id: str, changes: ThreadChanges) -> str:
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
        f"UPDATE threads SET {', '.join(assignments)} WHERE id = ? RETURNING {wire.THREAD_COLUMNS}",  # noqa: S608
        (*values, thread_id),
    ).fetchone()
    if row is None:
        raise _thread_not_found(thread_id)
    return wire.thread_json(row)


def delete_thread(conn: sqlite3.Connection, thread_id: str) -> str:
    """Delete a thread and every message in it."""
    conn.execute("DELETE FROM messages WHERE thread_id = ?", (thread_id,))
    if conn.execute("DELETE FROM threads WHERE id = ?", (thread_id,)).rowcount == 0:
        raise _thread_not_found(thread_id)
    return wire.deleted_json(thread_id, "thread.deleted")


# --- messages -----------------------------------------------------------------------


def create_message(conn: sqlite3.Connection, thread_id: str, message: NewMessage) -> str:
    _require_thread(conn, thread_id)
    row = _message_row(thread_id, message, _now())
    conn.execute(_INSERT_MESSAGE, row)
    return wire.message_json(row)


def get_message(conn: sqlite3.Connection, thread_id: str, message_id: str) -> str:
    row = conn.execute(_SELECT_MESSAGE, (message_id, thread_id)).fetchone()
    if row is None:
        raise _message_not_found(conn, thread_id, message_id)
    return wire.message_json(row)


def modify_message(
    conn: sqlite3.Connection, thread_id: str, message_id: str, changes: MessageChanges
) -> str:
    """Replace the metadata map (the only thing a client may change on a message)."""
    if changes.metadata is None:
        return get_message(conn, thread_id, message_id)
    row = conn.execute(
        f"UPDATE messages SET metadata = ? WHERE id = ? AND thread_id = ? "  # noqa: S608
        f"RETURNING {wire.MESSAGE_COLUMNS}",
        (wire.dump(changes.metadata), message_id, thread_id),
    ).fetchone()
    if row is None:
        raise _message_not_found(conn, thread_id, message_id)
    return wire.message_json(row)


def delete_message(conn: sqlite3.Connection, thread_id: str, message_id: str) -> str:
    deleted = conn.execute(
        "DELETE FROM messages WHERE id = ? AND thread_id = ?", (message_id, thread_id)
    ).rowcount
    if deleted == 0:
        raise _message_not_found(conn, thread_id, message_id)
    return wire.deleted_json(message_id, "thread.message.deleted")


def list_messages(conn: sqlite3.Connection, thread_id: str, query: ListQuery) -> str:
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
            raise InvalidRequestError(
                f"Invalid '{side}': no message with id '{cursor_id}' in thread '{thread_id}'.",
                param=side,
                code="invalid_cursor",
            )
        params.extend(key)
    if query.run_id is not None:
        params.append(query.run_id)
    params.append(query.limit + 1)
    plan = plan_page(
        order=query.order,
        cursor=cursor_kind(after=query.after, before=query.before),
        by_run=query.run_id is not None,
        columns=wire.MESSAGE_COLUMNS,
    )
    rows = conn.execute(plan.sql, params).fetchall()
    has_more = len(rows) > query.limit
    del rows[query.limit :]
    if plan.reverse:
        rows.reverse()
    return wire.list_json(
        [wire.message_json(row) for row in rows],
        first_id=rows[0][0] if rows else None,
        last_id=rows[-1][0] if rows else None,
        has_more=has_more,
    )
