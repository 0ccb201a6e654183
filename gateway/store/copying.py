"""``copy_store``: every thread and message from one backend to another, as they are.

How a deployment moves from its SQLite file to PostgreSQL (or back): ids,
``created_at``, metadata and every other stored field are copied unchanged,
threads in their insertion order, each thread's messages in theirs (the target
assigns its own ``seq`` in that order, so every listing is the same).

Idempotent, hence safe to interrupt: each thread is copied in transactions of
the target of at most ``MESSAGES_PER_BATCH`` messages (the first creates the
thread; a thread that fits is one transaction), read from the source in the same
bounded pages, and whatever is already there (by id) is skipped, so running it
again after a crash or Ctrl-C finishes the job, in order, and duplicates
nothing. Messages added to the source in between are appended to their thread
on the next run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from gateway.store.backend import EXPORT_START, StoreBackend, StoreCounts
from gateway.store.rows import ThreadRow

__all__ = ["CopyProgress", "CopySummary", "copy_store", "terminal_progress"]

THREADS_PER_PAGE = 200
MESSAGES_PER_BATCH = 500
"""A thread's messages are read and written this many at a time: memory stays bounded
however long the thread."""


@dataclass(slots=True)
class CopySummary:
    """What a copy did: the threads and messages it wrote, and those it found already there."""

    threads_copied: int = 0
    threads_present: int = 0
    messages_copied: int = 0
    messages_present: int = 0

    @property
    def threads(self) -> int:
        return self.threads_copied + self.threads_present

    @property
    def messages(self) -> int:
        return self.messages_copied + self.messages_present


CopyProgress = Callable[[CopySummary, StoreCounts], None]
"""Called after each thread with the running summary and the source's totals."""


async def copy_store(
    source: StoreBackend,
    target: StoreBackend,
    *,
    progress: CopyProgress | None = None,
    messages_per_batch: int = MESSAGES_PER_BATCH,
) -> CopySummary:
    """Copy everything in ``source`` (open) into ``target`` (open); see the module docstring."""
    totals = await source.counts()
    summary = CopySummary()
    after = 0
    while page := await source.export_threads(after_seq=after, limit=THREADS_PER_PAGE):
        for _, thread in page:
            await _copy_thread(source, target, thread, summary, messages_per_batch)
            if progress is not None:
                progress(summary, totals)
        after = page[-1][0]
    return summary


async def _copy_thread(
    source: StoreBackend,
    target: StoreBackend,
    thread: ThreadRow,
    summary: CopySummary,
    messages_per_batch: int,
) -> None:
    """One thread, its messages in batches of at most ``messages_per_batch`` (in order)."""
    key = EXPORT_START
    created = False
    while True:
        batch = await source.export_messages(thread.id, after=key, limit=messages_per_batch)
        messages = [message for _, message in batch]
        outcome = await target.import_thread(thread, messages)
        created = created or outcome.thread_created
        summary.messages_copied += outcome.messages_created
        summary.messages_present += len(messages) - outcome.messages_created
        if len(batch) < messages_per_batch:
            break
        key = (batch[-1][1].created_at, batch[-1][0])
    if created:
        summary.threads_copied += 1
    else:
        summary.threads_present += 1


def terminal_progress(stream: TextIO) -> CopyProgress | None:
    """A progress bar on ``stream`` when it is a terminal (redrawn in place), else ``None``."""
    if not stream.isatty():
        return None
    width = 30

    def draw(summary: CopySummary, totals: StoreCounts) -> None:
        done = summary.messages
        fraction = done / totals.messages if totals.messages else 1.0
        filled = min(width, int(fraction * width))
        stream.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] "
            f"{summary.threads}/{totals.threads} threads, {done}/{totals.messages} messages"
        )
        if summary.threads >= totals.threads:
            stream.write("\n")
        stream.flush()

    return draw
