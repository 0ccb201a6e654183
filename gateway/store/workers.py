"""The threads that own the SQLite connections, so that no SQLite call runs on the event loop.

Jobs are functions of a connection. A coroutine puts one on a queue with an
asyncio future, and the owning thread settles the future through
``loop.call_soon_threadsafe`` once the job is done (for a write: committed).

- ``WriterThread``: the only writer, so writes are serialised without lock
  contention. It practises *group commit*: the jobs already waiting when it
  starts a transaction all run in that one transaction, each inside its own
  savepoint, and one ``COMMIT`` (one fsync) makes them all durable. A job that
  fails rolls back to its savepoint and cannot disturb its neighbours; no
  future is settled with a result before the ``COMMIT`` returned, so nothing is
  acknowledged that is not on disk. Right before each ``COMMIT`` it runs its
  ``before_commit`` check (the store's: the path still names the open file);
  if that raises, the batch is rolled back and every job in it fails with it.
- ``ReaderThread``: a few of them share one queue, each with its own
  connection. With WAL, readers see the last committed state and never wait
  behind the writer's queue.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = ["Job", "JobQueue", "ReaderThread", "WriterThread"]

T = TypeVar("T")

MAX_BATCH = 64
"""Most write jobs committed together; bounds the latency one batch adds."""


@dataclass(slots=True)
class Job(Generic[T]):
    """One operation to run on a connection, and where its outcome goes."""

    operation: Callable[[sqlite3.Connection], T]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[T]

    def deliver(self, result: object, error: BaseException | None) -> None:
        """Settle the future from the worker thread (a no-op if nobody waits any more)."""
        with contextlib.suppress(RuntimeError):  # the event loop is closed
            self.loop.call_soon_threadsafe(_settle, self.future, result, error)


JobQueue = queue.SimpleQueue["Job[Any] | None"]
"""A queue of jobs; ``None`` tells one worker thread to finish."""


def _settle(future: asyncio.Future[Any], result: object, error: BaseException | None) -> None:
    if future.done():  # the waiting task was cancelled
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class _ConnectionThread(threading.Thread):
    """A daemon thread that opens its connection, then serves jobs until told to stop."""

    def __init__(
        self, name: str, jobs: JobQueue, connect: Callable[[], sqlite3.Connection]
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.jobs = jobs
        self.ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._connect = connect

    def run(self) -> None:
        try:
            conn = self._connect()
        except BaseException as exc:
            self.ready.set_exception(exc)
            return
        self.ready.set_result(None)
        try:
            self.serve(conn)
        finally:
            conn.close()

    def serve(self, conn: sqlite3.Connection) -> None:
        raise NotImplementedError


class ReaderThread(_ConnectionThread):
    """Runs each read job in its own read transaction (one consistent snapshot)."""

    def serve(self, conn: sqlite3.Connection) -> None:
        while (job := self.jobs.get()) is not None:
            try:
                conn.execute("BEGIN")
                try:
                    result = job.operation(conn)
                finally:
                    conn.execute("ROLLBACK")
            except Exception as exc:
                job.deliver(None, exc)
            else:
                job.deliver(result, None)


_Outcome = tuple["Job[Any]", object, "BaseException | None"]


class WriterThread(_ConnectionThread):
    """The single writer, committing the jobs waiting together (group commit)."""

    def __init__(
        self,
        name: str,
        jobs: JobQueue,
        connect: Callable[[], sqlite3.Connection],
        *,
        before_commit: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(name, jobs, connect)
        self._before_commit = before_commit

    def serve(self, conn: sqlite3.Connection) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            batch = [job]
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    extra = self.jobs.get_nowait()
                except queue.Empty:
                    break
                if extra is None:
                    stop = True
                    break
                batch.append(extra)
            self._commit(conn, batch)
            if stop:
                return

    def _commit(self, conn: sqlite3.Connection, batch: list[Job[Any]]) -> None:
        try:
            outcomes, retry = self._run_batch(conn, batch)
        except BaseException as exc:
            # BEGIN, a savepoint or COMMIT failed: nothing of the batch is stored.
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            for job in batch:
                job.deliver(None, exc)
            return
        for job, result, error in outcomes:
            job.deliver(result, error)
        if retry:
            self._commit(conn, retry)

    def _run_batch(
        self, conn: sqlite3.Connection, batch: list[Job[Any]]
    ) -> tuple[list[_Outcome], list[Job[Any]]]:
        """Run the batch in one transaction; return the outcomes and the jobs to run again.

        Some SQLite errors (disk full, I/O) abandon the whole transaction, not
        just the statement. Then the job that hit it fails, and the jobs that
        had succeeded before it, whose work was rolled back with it, run again
        in a fresh transaction together with the rest of the batch.
        """
        conn.execute("BEGIN IMMEDIATE")
        outcomes: list[_Outcome] = []
        for index, job in enumerate(batch):
            conn.execute("SAVEPOINT job")
            try:
                result = job.operation(conn)
            except Exception as exc:
                if not conn.in_transaction:
                    failed = [outcome for outcome in outcomes if outcome[2] is not None]
                    succeeded = [outcome[0] for outcome in outcomes if outcome[2] is None]
                    return [*failed, (job, None, exc)], [*succeeded, *batch[index + 1 :]]
                conn.execute("ROLLBACK TO job")
                conn.execute("RELEASE job")
                outcomes.append((job, None, exc))
            else:
                conn.execute("RELEASE job")
                outcomes.append((job, result, None))
        self._before_commit()
        conn.execute("COMMIT")
        return outcomes, []
