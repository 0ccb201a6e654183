"""``IndexMemo``: the index rows this process wrote, so a sighting that changes none writes none.

Why: over a remote upstream every thread read and every listed page is a sighting that
``ThreadRecorder`` writes to the state database (a write through the store's one writer,
fsync'd, awaited on the request path), although a chat screen read again and again (same
thread, same last message) leaves every row as it was. The memo remembers, per thread id,
the row this process last wrote (owner, ``created_at``, last activity) and when; a
sighting the row already reflects is not written again.

What it trusts, and for how long:

- **Other processes** (workers, replicas, ``copy-store``, an index rebuilt): unseen. An
  entry is trusted for ``ttl`` seconds after the write that confirmed it, so a row
  removed or changed elsewhere is written again on its first sighting after at most
  one ``ttl``. Raising an entry's last activity does not extend that time (an
  ``UPDATE`` does not say the row exists).
- **This process**: exact. A forget drops its threads' entries before its write (a
  holder's forget only the entries that are that holder's rows, as the table deletes
  only those) and whatever its outcome; a failed write is not memoised; a record that
  overlapped a forget of the same thread, or a record of it with another owner or
  ``created_at``, is not memoised (the database's order of the two is unknown), and
  a failed or unmemoised record drops the thread's entry (it may have landed); an
  activity write is memoised only onto the entry it started from, and not at all if
  a record of the thread ran meanwhile (it may have created the row after the
  ``UPDATE`` found none).
- **Activity of a thread the memo has no row for** is memoised too (an "activity
  only" entry, ``created_at is None``): writing a time at or before it again changes
  nothing unless the row was created since, and a record of this process replaces
  the entry (another process's: the ``ttl`` again).

Two requests seeing the same new thread at once both write: nothing is skipped on
the strength of a write still in flight. Bounded: the least recently used entries
past ``max_entries`` are dropped (a dropped entry only costs a write).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from gateway.store.thread_index import IndexEntry

__all__ = ["DEFAULT_MAX_ENTRIES", "DEFAULT_TTL_SECONDS", "IndexMemo"]

DEFAULT_MAX_ENTRIES = 10_000
DEFAULT_TTL_SECONDS = 60.0

Activity = Sequence[tuple[str, int]]


@dataclass(slots=True)
class _Row:
    owner: str | None
    created_at: int | None
    """``None``: activity only (no record of this process stands behind the entry)."""
    last_activity_at: int
    confirmed_at: float
    """The clock when the write that the entry trusts completed."""


@dataclass(eq=False, slots=True)
class _Write:
    """A write in flight: the threads it writes and those it must not memoise."""

    rows: dict[str, tuple[str | None, int] | None]
    """A record's owner and ``created_at`` per thread; ``None`` for an activity write."""
    spoilt: set[str] = field(default_factory=set)


class IndexMemo:
    """One per app: shared by every request's ``ThreadRecorder`` (``for_holder`` ones too)."""

    def __init__(
        self,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        ttl: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1 or ttl <= 0:
            raise ValueError("IndexMemo needs max_entries >= 1 and ttl > 0")
        self._max_entries = max_entries
        self._ttl = ttl
        self._clock = clock
        self._rows: OrderedDict[str, _Row] = OrderedDict()
        self._recording: dict[str, list[_Write]] = {}
        """Records in flight, by thread."""
        self._moving: dict[str, list[_Write]] = {}
        """Activity writes in flight, by thread."""
        self._forgetting: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def _fresh(self, thread_id: str) -> _Row | None:
        row = self._rows.get(thread_id)
        if row is None:
            return None
        if self._clock() - row.confirmed_at > self._ttl:
            del self._rows[thread_id]
            return None
        self._rows.move_to_end(thread_id)
        return row

    def _keep(self, thread_id: str, row: _Row) -> None:
        self._rows[thread_id] = row
        self._rows.move_to_end(thread_id)
        while len(self._rows) > self._max_entries:
            self._rows.popitem(last=False)

    # --- what still needs writing ---------------------------------------------------

    def unrecorded(self, entries: Sequence[IndexEntry]) -> list[IndexEntry]:
        """The entries whose row this process has not written as they are (within ``ttl``)."""
        needed = []
        for entry in entries:
            row = self._fresh(entry.thread_id)
            if (
                row is None
                or row.created_at != entry.created_at
                or row.owner != entry.owner
                or row.last_activity_at < entry.last_activity_at
            ):
                needed.append(entry)
        return needed

    def unrecorded_activity(self, activity: Activity) -> list[tuple[str, int]]:
        """The ``(thread, time)`` pairs past the last activity this process wrote for them."""
        needed = []
        for thread_id, at in activity:
            row = self._fresh(thread_id)
            if row is None or row.last_activity_at < at:
                needed.append((thread_id, at))
        return needed

    # --- writes, memoised when they succeed ------------------------------------------

    async def record(
        self,
        entries: Sequence[IndexEntry],
        write: Callable[[Sequence[IndexEntry]], Awaitable[None]],
    ) -> None:
        """``write(entries)``; the rows it wrote are memoised if it succeeded unspoilt.

        Otherwise their entries are dropped: a failed write may still have landed,
        and a spoilt one leaves the row in an order the memo cannot know.
        """
        pending = _Write({e.thread_id: (e.owner, e.created_at) for e in entries})
        for thread_id, values in pending.rows.items():
            for other in self._recording.get(thread_id, ()):
                if other.rows[thread_id] != values:  # which of the two lands last is unknown
                    other.spoilt.add(thread_id)
                    pending.spoilt.add(thread_id)
            for moving in self._moving.get(thread_id, ()):
                moving.spoilt.add(thread_id)  # the row may be created after its UPDATE
        self._begin(self._recording, pending)
        try:
            await write(entries)
        except BaseException:
            pending.spoilt.update(pending.rows)
            raise
        finally:
            self._end(self._recording, pending)
            now = self._clock()
            for entry in entries:
                if entry.thread_id in pending.spoilt or entry.thread_id in self._forgetting:
                    self._rows.pop(entry.thread_id, None)
                    continue
                row = _Row(entry.owner, entry.created_at, entry.last_activity_at, now)
                self._keep(entry.thread_id, row)

    async def record_activity(
        self, activity: Activity, write: Callable[[Activity], Awaitable[None]]
    ) -> None:
        """``write(activity)``; if it succeeded, each time joins the entry it started from.

        Not when that entry changed meanwhile, nor when a record of the thread ran
        meanwhile (it may have created the row after this ``UPDATE`` found none).
        """
        pending = _Write(dict.fromkeys(thread_id for thread_id, _ in activity))
        pending.spoilt.update(
            thread_id for thread_id in pending.rows if thread_id in self._recording
        )
        started = {thread_id: self._fresh(thread_id) for thread_id in pending.rows}
        self._begin(self._moving, pending)
        try:
            await write(activity)
        finally:
            self._end(self._moving, pending)
        now = self._clock()
        for thread_id, at in activity:
            row = started[thread_id]
            if thread_id in pending.spoilt or self._rows.get(thread_id) is not row:
                continue
            if row is None:
                self._keep(thread_id, _Row(None, None, at, now))
            elif row.created_at is None:  # activity only: this write is its confirmation
                row.last_activity_at = max(row.last_activity_at, at)
                row.confirmed_at = now
            else:
                row.last_activity_at = max(row.last_activity_at, at)

    async def forget(
        self,
        thread_ids: Sequence[str],
        holder: str | None,
        write: Callable[[Sequence[str]], Awaitable[None]],
    ) -> None:
        """Drop the entries ``write`` may delete, then ``write(thread_ids)``.

        While it runs, and for the records that overlapped it, nothing of those
        threads is memoised: the database may apply the delete before or after them.
        """
        for thread_id in thread_ids:
            row = self._rows.get(thread_id)
            if row is not None and (holder is None or row.owner == holder):
                del self._rows[thread_id]
            self._forgetting[thread_id] = self._forgetting.get(thread_id, 0) + 1
            self._spoil_records(thread_id)
        try:
            await write(thread_ids)
        finally:
            for thread_id in thread_ids:
                self._spoil_records(thread_id)
                left = self._forgetting[thread_id] - 1
                if left:
                    self._forgetting[thread_id] = left
                else:
                    del self._forgetting[thread_id]

    def _spoil_records(self, thread_id: str) -> None:
        for pending in self._recording.get(thread_id, ()):
            pending.spoilt.add(thread_id)

    @staticmethod
    def _begin(registry: dict[str, list[_Write]], pending: _Write) -> None:
        for thread_id in pending.rows:
            registry.setdefault(thread_id, []).append(pending)

    @staticmethod
    def _end(registry: dict[str, list[_Write]], pending: _Write) -> None:
        for thread_id in pending.rows:
            writes = registry[thread_id]
            writes.remove(pending)
            if not writes:
                del registry[thread_id]
