"""PostgreSQL going away under a running store: a typed 500 in the error envelope
within a bound, never a hang or a trace; the store recovers once the server is back."""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
import pytest

from gateway.store import create_store_app
from gateway.store.postgres import PostgresStore
from tests.store.postgres import ThrowawayCluster, find_binaries

BOUND_SECONDS = 30.0


async def test_a_server_restart_is_a_500_then_recovered(caplog: pytest.LogCaptureFixture) -> None:
    binaries = find_binaries()
    if binaries is None:
        pytest.fail("Debian's PostgreSQL binaries are missing: run scripts/setup.d/postgres.sh")
    cluster = ThrowawayCluster(binaries).start()
    store = PostgresStore(cluster.url, location=cluster.url)
    try:
        await store.open()
        transport = httpx.ASGITransport(app=create_store_app(store, api_key=None))
        async with httpx.AsyncClient(transport=transport, base_url="http://store") as client:
            thread_id = (await client.post("/threads")).json()["id"]
            cluster.stop_server()
            started = time.monotonic()
            with caplog.at_level(logging.ERROR, logger="gateway.store"):
                failed = await client.get(f"/threads/{thread_id}")
            assert time.monotonic() - started < BOUND_SECONDS
            assert failed.status_code == 500
            assert failed.json()["error"]["type"] == "server_error"
            assert "Traceback" not in caplog.text
            assert any("get_thread failed" in record.message for record in caplog.records)
            reason = await store.health()
            assert reason is not None and reason.startswith("the store database")
            assert cluster.url not in reason

            cluster.start_server()
            deadline = time.monotonic() + BOUND_SECONDS
            while True:
                answer = await client.get(f"/threads/{thread_id}")
                if answer.status_code == 200 or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
            assert answer.status_code == 200, answer.text
            assert answer.json()["id"] == thread_id, "the acknowledged thread survived"
            assert await store.health() is None
    finally:
        await store.close()  # a no-op when it never opened
        cluster.stop()
