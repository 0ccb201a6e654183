"""``Database``: the store's SQLite file, used from asyncio without blocking the loop.

One writer thread and a few reader threads own the connections (see
``workers``); coroutines hand them operations and await the outcome. The
application's lifespan opens and closes it; sub-applications mounted under
``/v1`` run no lifespan of their own.

The file's identity (device and inode) is taken when it opens. A file deleted
or replaced under a running store stays open, and SQLite would go on
committing into the old inode; so before every commit the writer checks that
the path still names that file, and refuses the writes
(``StoreFileChangedError``, a 503) when it does not. ``health()`` reports the
same, and whether real rows can be read from the file as it is on disk.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from gateway.store.errors import StoreFileChangedError
from gateway.store.sqlite import FileIdentity, connect_reader, connect_writer, read_sample
from gateway.store.workers import Job, JobQueue, ReaderThread, WriterThread

__all__ = ["Database"]

T = TypeVar("T")

logger = logging.getLogger("gateway.store")


@dataclass(frozen=True, slots=True)
class _Workers:
    writes: JobQueue
    reads: JobQueue
    writer: WriterThread
    readers: tuple[ReaderThread, ...]

    def stop(self) -> None:
        """Ask every thread to finish once the jobs queued before now are done."""
        self.writes.put(None)
        for _ in self.readers:
            self.reads.put(None)

    def join(self) -> None:
        self.writer.join()
        for reader in self.readers:
            reader.join()


class Database:
    """The embedded store's SQLite file.

    ``open()`` creates the folder and the schema if needed (``StoreOpenError``
    if the file is unusable); ``write()`` runs an operation in a transaction
    committed (durably: WAL, ``synchronous=FULL``) before it returns; ``read()``
    runs one against the last committed state. ``close()`` finishes the queued
    operations first.
    """

    def __init__(self, path: Path, *, readers: int = 2) -> None:
        if readers < 1:
            raise ValueError("a Database needs at least one reader thread")
        self._path = Path(path)
        self._reader_count = readers
        self._workers: _Workers | None = None
        self._identity: FileIdentity | None = None
        self._health_probe: asyncio.Future[str | None] | None = None

    @property
    def path(self) -> Path:
        return self._path

    @property
    def is_open(self) -> bool:
        return self._workers is not None

    async def open(self) -> None:
        """Start the threads and open the file; raises ``StoreOpenError`` if it is unusable."""
        if self._workers is not None:
            raise RuntimeError("the store is already open")
        writes: JobQueue = JobQueue()
        reads: JobQueue = JobQueue()
        writer = WriterThread(
            "store-writer",
            writes,
            partial(connect_writer, self._path),
            before_commit=self._check_identity,
        )
        writer.start()
        await asyncio.wrap_future(writer.ready)  # the schema exists once this returns
        self._identity = FileIdentity.of(self._path)  # no write job can come before open()
        readers = tuple(
            ReaderThread(f"store-reader-{index}", reads, partial(connect_reader, self._path))
            for index in range(self._reader_count)
        )
        for reader in readers:
            reader.start()
        workers = _Workers(writes=writes, reads=reads, writer=writer, readers=readers)
        try:
            for reader in readers:
                await asyncio.wrap_future(reader.ready)
        except BaseException:
            workers.stop()
            await asyncio.to_thread(workers.join)
            raise
        self._workers = workers

    async def close(self) -> None:
        """Finish the queued operations, then close the connections. Safe to call twice."""
        workers, self._workers = self._workers, None
        if workers is None:
            return
        workers.stop()
        await asyncio.to_thread(workers.join)

    def _file_changed(self) -> bool:
        return FileIdentity.of(self._path) != self._identity

    def _check_identity(self) -> None:
        """Before each commit (on the writer thread): the path still names the open file."""
        if self._file_changed():
            logger.error(
                "store file %s was deleted or replaced while open: refusing writes", self._path
            )
            raise StoreFileChangedError

    async def health(self) -> str | None:
        """``None`` if the store can serve, else why not (for ``/readyz``; names no path).

        Checks the file's identity, then reads a bounded sample of real rows on a
        fresh connection (``sqlite.read_sample``) in a worker thread. Concurrent
        callers share one probe, so a flood of ``/readyz`` costs one at a time.
        """
        if self._workers is None:
            return "the store is not open"
        if self._file_changed():
            return "the store file was deleted or replaced while open"
        if self._health_probe is None or self._health_probe.done():
            self._health_probe = asyncio.ensure_future(self._read_sample())
        return await asyncio.shield(self._health_probe)

    async def _read_sample(self) -> str | None:
        try:
            await asyncio.to_thread(read_sample, self._path)
        except sqlite3.Error as exc:
            logger.error("store file %s failed the readiness read: %s", self._path, exc)
            return f"the store file cannot be read ({exc})"
        return None

    async def __aenter__(self) -> Database:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def _running(self) -> _Workers:
        if self._workers is None:
            raise RuntimeError("the store is not open")
        return self._workers

    @staticmethod
    async def _submit(jobs: JobQueue, operation: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        job: Job[Any] = Job(operation, loop, future)
        jobs.put(job)
        return await future

    async def write(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``operation`` in a write transaction; return once it is committed.

        If ``operation`` raises, its changes are rolled back and the exception
        is raised here. Waiting writes are committed in groups (see ``workers``).
        """
        return await self._submit(self._running().writes, operation)

    async def read(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``operation`` in a read transaction on one of the reader threads."""
        try:
            return await self._submit(self._running().reads, operation)
        except sqlite3.Error:
            if self._file_changed():
                raise StoreFileChangedError from None
            raise
