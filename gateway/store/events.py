"""The event log's rows: every committed change to a thread or a message, as an event.

Each write of the embedded store records its events in the ``thread_events``
table in the same transaction as the change itself (``repository.record_event``
on SQLite, ``PostgresStore._record_event`` on PostgreSQL): an event exists if
and only if its change committed. ``seq`` follows commit order (SQLite: one
writer at a time holds the file's write lock; PostgreSQL: writers take
``EVENT_LOG_LOCK`` before inserting), so a reader that remembers the last
``seq`` it saw misses nothing and sees every thread's events in commit order.

``gateway.live`` reads the log (``EVENT_COLUMNS``) and fans the events out to
subscribers. The log is pruned as it grows: events older than the newest
``EVENT_LOG_KEEP`` are dropped every ``EVENT_LOG_PRUNE_EVERY`` events.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gateway.store.wire import dump

__all__ = [
    "EVENT_COLUMNS",
    "EVENT_LOG_CHANNEL",
    "EVENT_LOG_KEEP",
    "EVENT_LOG_LOCK",
    "EVENT_LOG_PRUNE_EVERY",
    "EventKind",
    "LoggedEvent",
    "deleted_message_object",
    "deleted_thread_object",
]

EVENT_COLUMNS = "seq, thread_id, kind, object, thread, committed_at"
"""The columns of a ``LoggedEvent``, in field order: ``LoggedEvent(*row)``."""

EVENT_LOG_KEEP = 100_000
EVENT_LOG_PRUNE_EVERY = 1_000

EVENT_LOG_LOCK = 0x4D474556
"""PostgreSQL advisory lock ("MGEV") that orders event inserts by commit."""

EVENT_LOG_CHANNEL = "gateway_thread_events"
"""PostgreSQL NOTIFY channel: the payload is the new event's ``seq`` (a wake-up only)."""


class EventKind(StrEnum):
    """What changed; the names of the GraphQL event types (DESIGN §4b)."""

    THREAD_CREATED = "ThreadCreated"
    THREAD_UPDATED = "ThreadUpdated"
    THREAD_DELETED = "ThreadDeleted"
    MESSAGE_CREATED = "MessageCreated"
    MESSAGE_UPDATED = "MessageUpdated"
    MESSAGE_DELETED = "MessageDeleted"


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """One committed change.

    ``object`` is JSON: the MessageObject or ThreadObject after the change, or
    ``{"id", "thread_id"}`` of what was deleted. ``thread`` is the ThreadObject
    after the change (before it, for a deleted thread), for the viewer's stream
    and its owner check; ``None`` when the thread was already gone.
    """

    seq: int
    thread_id: str
    kind: str
    object: str
    thread: str | None
    committed_at: float


def deleted_message_object(thread_id: str, message_id: str) -> str:
    return dump({"id": message_id, "thread_id": thread_id})


def deleted_thread_object(thread_id: str) -> str:
    return dump({"id": thread_id})
