"""``IndexMemo``: a sighting already written is skipped; nothing needed ever is, whatever
overlaps it (the writes are held open with events to make every interleaving happen)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from gateway.store.thread_index import IndexEntry
from gateway.thread_index import IndexMemo
from tests.upstream.helpers import FakeClock

A, B, C = "thread_a", "thread_b", "thread_c"


@dataclass
class Table:
    """Write functions that count their calls and wait for ``release`` while ``held``."""

    calls: list[object] = field(default_factory=list)
    held: bool = False
    failing: bool = False
    release: asyncio.Event = field(default_factory=asyncio.Event)
    started: asyncio.Event = field(default_factory=asyncio.Event)

    async def write(self, what: object) -> None:
        self.calls.append(what)
        self.started.set()
        if self.held:
            await self.release.wait()
        if self.failing:
            raise OSError("disk full")

    async def record(self, entries: Sequence[IndexEntry]) -> None:
        await self.write(list(entries))

    async def activity(self, activity: Sequence[tuple[str, int]]) -> None:
        await self.write(list(activity))

    async def forget(self, thread_ids: Sequence[str]) -> None:
        await self.write(list(thread_ids))


def entry(thread_id: str, owner: str | None = "ann", created_at: int = 10) -> IndexEntry:
    return IndexEntry(thread_id, owner, created_at, created_at)


async def test_what_was_written_is_skipped_and_what_changed_is_not() -> None:
    memo, table = IndexMemo(clock=FakeClock()), Table()
    assert memo.unrecorded([entry(A), entry(B)]) == [entry(A), entry(B)]
    await memo.record([entry(A), entry(B)], table.record)
    assert len(memo) == 2 and len(table.calls) == 1
    assert memo.unrecorded([entry(A), entry(B)]) == []
    changed = [entry(A, owner="bob"), entry(B, created_at=11), entry(C)]
    assert memo.unrecorded([*changed, entry(A)]) == changed
    assert memo.unrecorded_activity([(A, 10), (A, 9), (A, 11), (C, 1)]) == [(A, 11), (C, 1)]
    await memo.record_activity([(A, 30)], table.activity)
    assert memo.unrecorded_activity([(A, 30), (A, 31)]) == [(A, 31)]
    assert memo.unrecorded([entry(A)]) == []  # its row's activity (30) never moves back


async def test_an_entry_is_trusted_for_the_ttl_only() -> None:
    clock = FakeClock()
    memo, table = IndexMemo(ttl=60.0, clock=clock), Table()
    await memo.record([entry(A)], table.record)
    clock.now += 45
    await memo.record_activity([(A, 20)], table.activity)  # does not extend the trust
    clock.now += 15
    assert memo.unrecorded([entry(A)]) == [] and memo.unrecorded_activity([(A, 20)]) == []
    clock.now += 0.5
    assert memo.unrecorded([entry(A)]) == [entry(A)]
    assert memo.unrecorded_activity([(A, 20)]) == [(A, 20)]
    assert len(memo) == 0  # an expired entry is dropped when found
    # Activity only (no row known): each write of it is its confirmation.
    await memo.record_activity([(B, 5)], table.activity)
    clock.now += 50
    await memo.record_activity([(B, 6)], table.activity)
    clock.now += 50
    assert memo.unrecorded_activity([(B, 6)]) == []
    clock.now += 11
    assert memo.unrecorded_activity([(B, 6)]) == [(B, 6)]


async def test_the_memo_is_bounded_least_recently_used_first() -> None:
    memo, table = IndexMemo(max_entries=3, clock=FakeClock()), Table()
    for n in range(3):
        await memo.record([entry(f"thread_{n}")], table.record)
    assert memo.unrecorded([entry("thread_0")]) == []  # used: now the most recent
    await memo.record([entry("thread_3")], table.record)
    assert len(memo) == 3
    assert memo.unrecorded([entry(f"thread_{n}") for n in range(4)]) == [entry("thread_1")]
    sizes = []
    for n in range(4, 8):
        await memo.record([entry(f"thread_{n}")], table.record)
        sizes.append(len(memo))
    await memo.record([entry(f"thread_{n}") for n in range(8, 20)], table.record)
    sizes.append(len(memo))
    assert sizes == [3, 3, 3, 3, 3]
    assert memo.unrecorded([entry(f"thread_{n}") for n in (7, 17, 18, 19)]) == [entry("thread_7")]


async def test_a_failed_record_is_not_memoised_and_drops_what_it_overwrote() -> None:
    memo, table = IndexMemo(clock=FakeClock()), Table()
    await memo.record([entry(A)], table.record)
    table.failing = True
    with pytest.raises(OSError, match="disk full"):
        await memo.record([entry(A, owner="bob"), entry(B)], table.record)
    # It may have landed: neither the new rows nor the old one are trusted.
    assert memo.unrecorded([entry(A), entry(A, owner="bob"), entry(B)]) == [
        entry(A),
        entry(A, owner="bob"),
        entry(B),
    ]
    assert len(memo) == 0


async def test_a_failed_activity_write_is_not_memoised() -> None:
    memo, table = IndexMemo(clock=FakeClock()), Table(failing=True)
    with pytest.raises(OSError):
        await memo.record_activity([(A, 5)], table.activity)
    assert memo.unrecorded_activity([(A, 5)]) == [(A, 5)] and len(memo) == 0


async def test_activity_of_an_unrecorded_thread_is_memoised_until_a_record() -> None:
    memo, table = IndexMemo(clock=FakeClock()), Table()
    await memo.record_activity([(A, 50)], table.activity)
    assert memo.unrecorded_activity([(A, 50)]) == []
    assert memo.unrecorded([entry(A)]) == [entry(A)]  # the row itself is unknown
    await memo.record([entry(A)], table.record)  # the row as written: activity 10
    assert memo.unrecorded_activity([(A, 50)]) == [(A, 50)]
    assert len(table.calls) == 2


async def test_a_forget_drops_entries_and_a_holders_only_its_own() -> None:
    memo, table = IndexMemo(clock=FakeClock()), Table()
    await memo.record([entry(A, "key:alice"), entry(B, "key:bob")], table.record)
    await memo.forget([A, B], "key:alice", table.forget)
    assert memo.unrecorded([entry(A, "key:alice"), entry(B, "key:bob")]) == [entry(A, "key:alice")]
    await memo.forget([B], None, table.forget)
    assert memo.unrecorded([entry(B, "key:bob")]) == [entry(B, "key:bob")]
    table.failing = True
    await memo.record([entry(C)], Table().record)
    with pytest.raises(OSError):
        await memo.forget([C], None, table.forget)
    assert memo.unrecorded([entry(C)]) == [entry(C)]  # dropped whatever the outcome
    assert len(table.calls) == 4


@pytest.mark.parametrize("forget_first", [True, False])
async def test_a_record_overlapping_a_forget_is_not_memoised(forget_first: bool) -> None:
    """Either way round, the database may apply the delete last: the next sighting writes."""
    memo = IndexMemo(clock=FakeClock())
    first, second = Table(held=True), Table(held=True)
    if forget_first:
        outer = asyncio.create_task(memo.forget([A], None, first.forget))
        await first.started.wait()
        inner = asyncio.create_task(memo.record([entry(A)], second.record))
    else:
        outer = asyncio.create_task(memo.record([entry(A)], first.record))
        await first.started.wait()
        inner = asyncio.create_task(memo.forget([A], None, second.forget))
    await second.started.wait()
    second.release.set()
    await inner  # ends inside the outer write
    first.release.set()
    await outer
    assert memo.unrecorded([entry(A)]) == [entry(A)] and len(memo) == 0
    assert len(first.calls) == len(second.calls) == 1


async def test_a_record_that_outlives_an_overlapping_forget_is_not_memoised() -> None:
    memo = IndexMemo(clock=FakeClock())
    forgetting, recording = Table(held=True), Table(held=True)
    forget = asyncio.create_task(memo.forget([A], None, forgetting.forget))
    await forgetting.started.wait()
    record = asyncio.create_task(memo.record([entry(A), entry(B)], recording.record))
    await recording.started.wait()
    forgetting.release.set()
    await forget
    recording.release.set()
    await record
    assert memo.unrecorded([entry(A), entry(B)]) == [entry(A)]  # B was not forgotten


async def test_concurrent_records_memoise_only_when_they_agree() -> None:
    memo = IndexMemo(clock=FakeClock())
    tables = [Table(held=True) for _ in range(3)]
    writes = [
        asyncio.create_task(memo.record([entry(A, "ann"), entry(B, "ann")], tables[0].record)),
        asyncio.create_task(memo.record([entry(A, "ann")], tables[1].record)),
        asyncio.create_task(memo.record([entry(B, "bob")], tables[2].record)),
    ]
    for table in tables:
        await table.started.wait()
    for table in reversed(tables):
        table.release.set()
    await asyncio.gather(*writes)
    # A: two writes of the same row, whichever lands last. B: ann or bob, unknown.
    assert memo.unrecorded([entry(A, "ann"), entry(B, "ann"), entry(B, "bob")]) == [
        entry(B, "ann"),
        entry(B, "bob"),
    ]


@pytest.mark.parametrize("record_first", [True, False])
async def test_activity_overlapping_a_record_is_not_memoised(record_first: bool) -> None:
    """The record may have created the row after the activity's UPDATE found none, even
    a record that failed (it may have landed) and so left no entry behind."""
    memo = IndexMemo(clock=FakeClock())
    recording, moving = Table(held=True, failing=True), Table(held=True)
    if record_first:
        record = asyncio.create_task(memo.record([entry(A)], recording.record))
        await recording.started.wait()
    activity = asyncio.create_task(memo.record_activity([(A, 40)], moving.activity))
    await moving.started.wait()
    if not record_first:
        record = asyncio.create_task(memo.record([entry(A)], recording.record))
        await recording.started.wait()
    recording.release.set()
    with pytest.raises(OSError):
        await record
    moving.release.set()
    await activity
    assert len(memo) == 0
    assert memo.unrecorded_activity([(A, 40)]) == [(A, 40)]
    await memo.record_activity([(A, 40)], moving.activity)  # alone, it is memoised
    assert memo.unrecorded_activity([(A, 40)]) == []
    assert len(moving.calls) == 2 and len(recording.calls) == 1


async def test_activity_joins_only_the_entry_it_started_from() -> None:
    memo = IndexMemo(clock=FakeClock())
    await memo.record([entry(A, "key:alice")], Table().record)
    moving = Table(held=True)
    activity = asyncio.create_task(memo.record_activity([(A, 40)], moving.activity))
    await moving.started.wait()
    await memo.forget([A], "key:alice", Table().forget)
    moving.release.set()
    await activity
    assert len(memo) == 0
    assert memo.unrecorded_activity([(A, 40)]) == [(A, 40)]


async def test_a_slower_activity_write_does_not_lower_a_later_ones_entry() -> None:
    memo, slow = IndexMemo(clock=FakeClock()), Table(held=True)
    older = asyncio.create_task(memo.record_activity([(A, 40)], slow.activity))
    await slow.started.wait()
    await memo.record_activity([(A, 50)], Table().activity)
    slow.release.set()
    await older
    assert memo.unrecorded_activity([(A, 50), (A, 51)]) == [(A, 51)]


async def test_nothing_is_skipped_on_the_strength_of_a_write_in_flight() -> None:
    memo, held = IndexMemo(clock=FakeClock()), Table(held=True)
    first = asyncio.create_task(memo.record([entry(A)], held.record))
    await held.started.wait()
    assert memo.unrecorded([entry(A)]) == [entry(A)]  # a second request writes too
    await memo.record([entry(A)], Table().record)
    held.release.set()
    await first
    assert memo.unrecorded([entry(A)]) == []


def test_a_memo_needs_room_and_time() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        IndexMemo(max_entries=0)
    with pytest.raises(ValueError, match="ttl"):
        IndexMemo(ttl=0)
