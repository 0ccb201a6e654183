"""Every write the SQLite thread index receives, counted (and made to fail on demand)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from gateway.store.thread_index import IndexEntry
from gateway.store.thread_index_sqlite import SQLiteThreadIndex


@dataclass
class Writes:
    records: list[list[tuple[str, str | None]]] = field(default_factory=list)
    """Per ``record`` call: the ``(thread id, owner)`` of its entries."""
    activity: list[list[tuple[str, int]]] = field(default_factory=list)
    forgets: list[tuple[list[str], str | None]] = field(default_factory=list)
    failing_records: int = 0
    """How many of the next ``record`` calls fail (after being counted)."""


def count_writes(monkeypatch: pytest.MonkeyPatch) -> Writes:
    """Wrap ``SQLiteThreadIndex``'s three writes: the real table still does each one."""
    writes = Writes()
    record, record_activity, forget = (
        SQLiteThreadIndex.record,
        SQLiteThreadIndex.record_activity,
        SQLiteThreadIndex.forget,
    )

    async def counted_record(self: SQLiteThreadIndex, entries: Sequence[IndexEntry]) -> None:
        writes.records.append([(e.thread_id, e.owner) for e in entries])
        if writes.failing_records:
            writes.failing_records -= 1
            raise OSError("disk I/O error")
        await record(self, entries)

    async def counted_activity(
        self: SQLiteThreadIndex, activity: Sequence[tuple[str, int]]
    ) -> None:
        writes.activity.append(list(activity))
        await record_activity(self, activity)

    async def counted_forget(
        self: SQLiteThreadIndex, thread_ids: Sequence[str], *, owner: str | None = None
    ) -> None:
        writes.forgets.append((list(thread_ids), owner))
        await forget(self, thread_ids, owner=owner)

    monkeypatch.setattr(SQLiteThreadIndex, "record", counted_record)
    monkeypatch.setattr(SQLiteThreadIndex, "record_activity", counted_activity)
    monkeypatch.setattr(SQLiteThreadIndex, "forget", counted_forget)
    return writes
