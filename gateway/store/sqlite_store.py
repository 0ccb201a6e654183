"""``SQLiteStore``: the ``StoreBackend`` of one SQLite file (the default).

Each operation is a ``repository`` function run by ``Database``: writes on the
single writer thread (group commit), reads on a reader thread, never on the
event loop. ``database`` is public for the tests and tools that need the file
itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from types import TracebackType

from gateway.store import repository
from gateway.store.backend import ImportOutcome, StoreCounts
from gateway.store.database import Database
from gateway.store.rows import MessagePage, MessageRow, ThreadRow
from gateway.store.thread_index_sqlite import SQLiteThreadIndex
from gateway.store.validation import (
    ListQuery,
    MessageChanges,
    NewMessage,
    NewThread,
    ThreadChanges,
)

__all__ = ["SQLiteStore"]


class SQLiteStore:
    """The store on the SQLite file at ``path`` (created, or migrated, when opened)."""

    def __init__(self, path: Path, *, readers: int = 2) -> None:
        self.database = Database(path, readers=readers)
        self._thread_index = SQLiteThreadIndex(self.database)

    @property
    def location(self) -> str:
        return str(self.database.path)

    @property
    def is_open(self) -> bool:
        return self.database.is_open

    @property
    def thread_index(self) -> SQLiteThreadIndex:
        return self._thread_index

    async def open(self) -> None:
        await self.database.open()

    async def close(self) -> None:
        await self.database.close()

    async def health(self) -> str | None:
        return await self.database.health()

    async def __aenter__(self) -> SQLiteStore:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def create_thread(self, thread: NewThread) -> ThreadRow:
        return await self.database.write(partial(repository.create_thread, thread=thread))

    async def get_thread(self, thread_id: str) -> ThreadRow:
        return await self.database.read(partial(repository.get_thread, thread_id=thread_id))

    async def modify_thread(self, thread_id: str, changes: ThreadChanges) -> ThreadRow:
        return await self.database.write(
            partial(repository.modify_thread, thread_id=thread_id, changes=changes)
        )

    async def delete_thread(self, thread_id: str) -> None:
        await self.database.write(partial(repository.delete_thread, thread_id=thread_id))

    async def create_message(self, thread_id: str, message: NewMessage) -> MessageRow:
        return await self.database.write(
            partial(repository.create_message, thread_id=thread_id, message=message)
        )

    async def get_message(self, thread_id: str, message_id: str) -> MessageRow:
        return await self.database.read(
            partial(repository.get_message, thread_id=thread_id, message_id=message_id)
        )

    async def list_messages(self, thread_id: str, query: ListQuery) -> MessagePage:
        return await self.database.read(
            partial(repository.list_messages, thread_id=thread_id, query=query)
        )

    async def modify_message(
        self, thread_id: str, message_id: str, changes: MessageChanges
    ) -> MessageRow:
        return await self.database.write(
            partial(
                repository.modify_message,
                thread_id=thread_id,
                message_id=message_id,
                changes=changes,
            )
        )

    async def delete_message(self, thread_id: str, message_id: str) -> None:
        await self.database.write(
            partial(repository.delete_message, thread_id=thread_id, message_id=message_id)
        )

    async def export_threads(self, *, after_seq: int, limit: int) -> list[tuple[int, ThreadRow]]:
        return await self.database.read(
            partial(repository.export_threads, after_seq=after_seq, limit=limit)
        )

    async def export_messages(
        self, thread_id: str, *, after: tuple[int, int], limit: int
    ) -> list[tuple[int, MessageRow]]:
        return await self.database.read(
            partial(repository.export_messages, thread_id=thread_id, after=after, limit=limit)
        )

    async def import_thread(
        self, thread: ThreadRow, messages: Sequence[MessageRow]
    ) -> ImportOutcome:
        return await self.database.write(
            partial(repository.import_thread, thread=thread, messages=messages)
        )

    async def counts(self) -> StoreCounts:
        return await self.database.read(repository.counts)
