"""One order for everyone (``backend`` rule 2), on each backend: two stores on one
database (as two processes or replicas would be), writing to one thread at once."""

from __future__ import annotations

import asyncio

from gateway.store import StoreBackend, create_backend, parse_store_url
from gateway.store.validation import ListQuery, new_message, new_thread
from tests.store.backends import query

WRITES = 200


async def walk(store: StoreBackend, thread_id: str) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    while True:
        page = await store.list_messages(thread_id, ListQuery(limit=37, order="asc", after=cursor))
        ids.extend(row.id for row in page.rows)
        if not page.has_more:
            return ids
        cursor = page.rows[-1].id


async def test_two_stores_on_one_database_agree_on_one_order(store_url: str) -> None:
    where = parse_store_url(store_url)
    first, second = create_backend(where), create_backend(where)
    await first.open()
    await second.open()
    try:
        thread = await first.create_thread(new_thread({}))
        writes = [
            (first if i % 2 else second).create_message(
                thread.id, new_message({"role": "user", "content": f"write {i}"})
            )
            for i in range(WRITES)
        ]
        acknowledged = await asyncio.gather(*writes)
        ids = {row.id for row in acknowledged}
        assert len(ids) == WRITES, "all distinct"

        seen_by_first = await walk(first, thread.id)
        seen_by_second = await walk(second, thread.id)
        assert len(seen_by_first) == WRITES and set(seen_by_first) == ids, "none lost, none doubled"
        assert seen_by_first == seen_by_second, "one order, whoever reads"

        # The listing order is the database's insertion order: by seq, and created_at
        # never goes back along it.
        stored = await query(
            first,
            "SELECT id, created_at FROM messages WHERE thread_id = ? ORDER BY seq",
            (thread.id,),
        )
        assert [row[0] for row in stored] == seen_by_first
        created = [row[1] for row in stored]
        assert created == sorted(created)

        # A write through one is read through the other at once.
        written = await second.create_message(
            thread.id, new_message({"role": "user", "content": "x"})
        )
        assert await first.get_message(thread.id, written.id) == written
        latest = await first.list_messages(thread.id, ListQuery(limit=1))
        assert latest.rows == (written,)
    finally:
        await first.close()
        await second.close()
