"""Store operations at one client, per backend: ``python -m benchmarks.store`` (BENCHMARKS.md).

For each backend (SQLite in a temporary folder; PostgreSQL in a database made
for the run on ``--postgres-url``'s server, dropped at the end) it seeds a
thread of 100 messages, then times, one operation at a time through the
``StoreBackend`` protocol (no HTTP, so the backend is what is measured):

- **create**: ``create_message`` on that thread (a durable commit each);
- **list 20**: ``list_messages(limit=20)``, the chat screen's page;
- **get**: ``get_message`` of a random message of the thread.

It reports p50 and p99 latency and operations per second (1 / mean latency).

``--drivers`` also runs the same three statements the PostgreSQL backend sends
(the locked-thread insert, the page query, the lookup) with psycopg 3 and with
asyncpg (``pip install asyncpg``; not a dependency of the gateway), each on one
connection with its statements prepared, to compare the drivers themselves.

Bounded: ``--ops`` operations per measure (default 2000), after a warm-up of 100.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from gateway.store import StoreBackend, create_backend, parse_store_url
from gateway.store.ids import new_message_id
from gateway.store.pagination import plan_page
from gateway.store.rows import MESSAGE_COLUMNS
from gateway.store.validation import ListQuery, new_message, new_thread

WARMUP = 100
SEED = 100

Operation = Callable[[], Awaitable[object]]


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_us": ordered[len(ordered) // 2] * 1e6,
        "p99_us": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e6,
        "ops_per_s": 1 / statistics.fmean(ordered),
    }


async def _time(operation: Operation, count: int) -> dict[str, float]:
    for _ in range(WARMUP):
        await operation()
    samples = []
    clock = time.perf_counter
    for _ in range(count):
        started = clock()
        await operation()
        samples.append(clock() - started)
    return _summary(samples)


async def bench_backend(store: StoreBackend, count: int) -> dict[str, dict[str, float]]:
    thread = await store.create_thread(new_thread({}))
    body = new_message({"role": "user", "content": "a message of a typical length, " * 4})
    ids = [(await store.create_message(thread.id, body)).id for _ in range(SEED)]
    page = ListQuery(limit=20)
    pick = random.Random(7).choice
    return {
        "create": await _time(lambda: store.create_message(thread.id, body), count),
        "list 20": await _time(lambda: store.list_messages(thread.id, page), count),
        "get": await _time(lambda: store.get_message(thread.id, pick(ids)), count),
    }


def _create_database(admin_url: str) -> str:
    import psycopg

    name = f"gateway_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


def _drop_database(admin_url: str, url: str) -> None:
    import psycopg

    name = url.rpartition("/")[2]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def bench_drivers(url: str, count: int) -> dict[str, dict[str, dict[str, float]]]:
    """The PostgreSQL backend's three statements, psycopg 3 against asyncpg."""
    import asyncpg  # type: ignore[import-not-found,unused-ignore]
    import psycopg

    from gateway.store.postgres import _CREATE_MESSAGE, _SELECT_MESSAGE, _pg

    store = create_backend(parse_store_url(url))
    await store.open()  # migrates
    thread = await store.create_thread(new_thread({}))
    body = new_message({"role": "user", "content": "a message of a typical length, " * 4})
    ids = [(await store.create_message(thread.id, body)).id for _ in range(SEED)]
    await store.close()
    page_sql = _pg(plan_page(order="desc", cursor=None, by_run=False, columns=MESSAGE_COLUMNS).sql)
    pick = random.Random(7).choice
    content = '[{"type":"text","text":{"value":"x","annotations":[]}}]'

    def create_params() -> dict[str, Any]:
        return {
            "thread_id": thread.id,
            "id": new_message_id(),
            "role": "user",
            "content": content,
            "attachments": "[]",
            "metadata": "{}",
        }

    results: dict[str, dict[str, dict[str, float]]] = {}
    pg = await psycopg.AsyncConnection.connect(url, autocommit=True, prepare_threshold=0)

    async def pg_one(sql: str, params: Any) -> object:
        return await (await pg.execute(sql, params)).fetchall()

    results["psycopg"] = {
        "create": await _time(lambda: pg_one(_CREATE_MESSAGE, create_params()), count),
        "list 20": await _time(lambda: pg_one(page_sql, (thread.id, 21)), count),
        "get": await _time(lambda: pg_one(_SELECT_MESSAGE, (pick(ids), thread.id)), count),
    }
    await pg.close()

    apg = await asyncpg.connect(url)
    numbered_create = _CREATE_MESSAGE
    for index, name in enumerate(
        ("thread_id", "id", "role", "content", "attachments", "metadata"), start=1
    ):
        numbered_create = numbered_create.replace(f"%({name})s", f"${index}")

    def numbered(sql: str) -> str:
        parts = sql.split("%s")
        return "".join(
            part + (f"${i}" if i < len(parts) else "") for i, part in enumerate(parts, 1)
        )

    select_message = numbered(_SELECT_MESSAGE)
    page = numbered(page_sql)

    async def apg_create() -> object:
        p = create_params()
        return await apg.fetch(
            numbered_create,
            p["thread_id"],
            p["id"],
            p["role"],
            p["content"],
            p["attachments"],
            p["metadata"],
        )

    results["asyncpg"] = {
        "create": await _time(apg_create, count),
        "list 20": await _time(lambda: apg.fetch(page, thread.id, 21), count),
        "get": await _time(lambda: apg.fetch(select_message, pick(ids), thread.id), count),
    }
    await apg.close()
    return results


def _table(title: str, rows: dict[str, dict[str, dict[str, float]]]) -> str:
    lines = [
        f"**{title}**",
        "",
        "| | operation | p50 µs | p99 µs | ops/s |",
        "|---|---|---:|---:|---:|",
    ]
    for name, operations in rows.items():
        for operation, figures in operations.items():
            lines.append(
                f"| {name} | {operation} | {figures['p50_us']:.0f} | {figures['p99_us']:.0f} "
                f"| {figures['ops_per_s']:.0f} |"
            )
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> None:
    backends: dict[str, dict[str, dict[str, float]]] = {}
    if args.backend in ("sqlite", "all"):
        with tempfile.TemporaryDirectory() as folder:
            store = create_backend(parse_store_url(f"sqlite:///{Path(folder) / 'bench.db'}"))
            await store.open()
            try:
                backends["sqlite"] = await bench_backend(store, args.ops)
            finally:
                await store.close()
    if args.backend in ("postgresql", "all") or args.drivers:
        url = _create_database(args.postgres_url)
        try:
            if args.backend in ("postgresql", "all"):
                store = create_backend(parse_store_url(url))
                await store.open()
                try:
                    backends["postgresql"] = await bench_backend(store, args.ops)
                finally:
                    await store.close()
            if args.drivers:
                print(
                    _table(
                        "PostgreSQL drivers, the backend's statements",
                        await bench_drivers(url, args.ops),
                    )
                )
                print()
        finally:
            _drop_database(args.postgres_url, url)
    if backends:
        print(_table(f"Store backends at one client ({args.ops} operations each)", backends))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "all"), default="all")
    parser.add_argument("--ops", type=int, default=2000, help="operations per measure")
    parser.add_argument(
        "--postgres-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a server where a database can be made for the run (default: the local one)",
    )
    parser.add_argument("--drivers", action="store_true", help="also psycopg vs asyncpg")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
