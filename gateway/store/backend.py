"""``StoreBackend``: the store's operations over validated values, whatever keeps them.

The HTTP layer (``routes``) validates a request into the small frozen values of
``validation``, asks a backend, and renders the named rows it gets back
(``wire``). Two backends implement the protocol and pass the same test suite
(``tests/store``, parametrized over both):

- ``SQLiteStore`` (``sqlite_store``): one file in WAL mode, one writer thread
  with group commit; the default, for one machine;
- ``PostgresStore`` (``postgres``): a connection pool over one PostgreSQL
  database, for many processes on many machines.

Contract of every backend (DESIGN.md §6):

1. An operation returns only once its write is durable (committed).
2. Messages are ordered by ``(created_at, seq)``; ``seq`` is an insertion
   sequence assigned by the database (the SQLite rowid, a PostgreSQL identity
   column), never by a process, and message inserts into one thread are
   serialised by the database, so the sequence follows commit order and every
   process sees one order. ``created_at`` is read inside the insert's
   transaction (PostgreSQL: the server's clock, one for every replica; SQLite:
   the machine's, the one machine sharing the file) and is never set below the
   thread's latest message.
3. An unknown thread or message raises ``NotFoundError`` with the API's text;
   a cursor that is not a message of the thread raises ``InvalidRequestError``
   naming ``after`` or ``before``.
4. Deleting a thread deletes its messages; nothing is ever left orphaned.

The last four methods serve ``copy-store``: they move stored rows as they are
(ids, timestamps, metadata), keeping each thread's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from gateway.store.rows import MessagePage, MessageRow, ThreadRow
from gateway.store.thread_index import ThreadIndexTable
from gateway.store.validation import (
    ListQuery,
    MessageChanges,
    NewMessage,
    NewThread,
    ThreadChanges,
)

__all__ = ["EXPORT_START", "ImportOutcome", "StoreBackend", "StoreCounts"]

EXPORT_START = (-(2**63), -(2**63))
"""The ``(created_at, seq)`` key before every message: ``export_messages``'s first page."""


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What ``import_thread`` added: the thread (unless it was there) and its missing messages."""

    thread_created: bool
    messages_created: int


@dataclass(frozen=True, slots=True)
class StoreCounts:
    threads: int
    messages: int


class StoreBackend(Protocol):
    """The embedded store's data, behind the nine operations (and the copy operations)."""

    @property
    def location(self) -> str:
        """Where the data is, for messages: a path or a URL without its password."""
        ...

    @property
    def is_open(self) -> bool: ...

    async def open(self) -> None:
        """Connect, and migrate the schema forward (``StoreOpenError`` if it cannot be used)."""
        ...

    async def close(self) -> None:
        """Finish the operations under way, then disconnect. Safe to call twice."""
        ...

    async def health(self) -> str | None:
        """``None`` when it can serve, else why not (for ``/readyz``; names no path or key)."""
        ...

    @property
    def thread_index(self) -> ThreadIndexTable:
        """The thread index in the same database (``thread_index``); usable once open."""
        ...

    # --- threads ------------------------------------------------------------------

    async def create_thread(self, thread: NewThread) -> ThreadRow:
        """The thread and its initial messages, in one transaction."""
        ...

    async def get_thread(self, thread_id: str) -> ThreadRow: ...

    async def modify_thread(self, thread_id: str, changes: ThreadChanges) -> ThreadRow:
        """Replace the fields given (the whole metadata map); keep the others."""
        ...

    async def delete_thread(self, thread_id: str) -> None: ...

    # --- messages -----------------------------------------------------------------

    async def create_message(self, thread_id: str, message: NewMessage) -> MessageRow: ...

    async def get_message(self, thread_id: str, message_id: str) -> MessageRow: ...

    async def list_messages(self, thread_id: str, query: ListQuery) -> MessagePage:
        """One page, as ``pagination`` defines it."""
        ...

    async def modify_message(
        self, thread_id: str, message_id: str, changes: MessageChanges
    ) -> MessageRow: ...

    async def delete_message(self, thread_id: str, message_id: str) -> None: ...

    # --- copying (copy-store) ------------------------------------------------------

    async def export_threads(self, *, after_seq: int, limit: int) -> list[tuple[int, ThreadRow]]:
        """Up to ``limit`` threads in insertion order past ``after_seq``, with their ``seq``."""
        ...

    async def export_messages(
        self, thread_id: str, *, after: tuple[int, int], limit: int
    ) -> list[tuple[int, MessageRow]]:
        """Up to ``limit`` messages of a thread in its order (ascending) past ``after``
        (a ``(created_at, seq)`` key; ``EXPORT_START`` for the first), with their ``seq``."""
        ...

    async def import_thread(
        self, thread: ThreadRow, messages: Sequence[MessageRow]
    ) -> ImportOutcome:
        """Store a thread and its messages as they are, skipping the ids already present.

        One transaction; the messages are given in their order and get their
        new ``seq`` in that order, so the thread's order is kept. Called again
        for the same thread with its next batch (``copy_store``), it appends.
        """
        ...

    async def counts(self) -> StoreCounts: ...
