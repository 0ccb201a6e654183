"""The store file under a running server: deleted, replaced or damaged (black box).

A real ``messages-gateway serve`` process per test (each one ruins its file):

- deleted or replaced: SQLite keeps the old inode open and would go on
  committing into it, acknowledging writes nobody can read again (0.1 did).
  Now every write is refused with a 503 in the OpenAI envelope, nothing is
  acknowledged, and ``/readyz`` fails;
- damaged data pages (the file overwritten on disk, as a failing disk or a
  stray ``dd`` would): ``/readyz`` fails, since readiness reads a sample of real
  rows on a fresh connection (0.1's probe of a missing thread stayed at 200).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.store.sqlite import connect_writer
from tests.store.server import ServerProcess

pytestmark = pytest.mark.timeout(120)

UNREADY_WITHIN = 30.0
"""Seconds /readyz may take to notice (a hang bound, not a speed claim: it is the next probe)."""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    running = ServerProcess(tmp_path / "data" / "messages.sqlite3", tmp_path)
    yield running
    running.stop()


def create_thread(server: ServerProcess, text: str) -> httpx.Response:
    body = {"messages": [{"role": "user", "content": text}], "metadata": {"k": text}}
    return httpx.post(f"{server.base_url}/v1/threads", json=body, timeout=30.0)


def readyz(server: ServerProcess) -> httpx.Response:
    return httpx.get(f"{server.base_url}/readyz", timeout=30.0)


def wait_unready(server: ServerProcess) -> dict[str, Any]:
    deadline = time.monotonic() + UNREADY_WITHIN
    while True:
        response = readyz(server)
        if response.status_code != 200 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert response.status_code == 503, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "unavailable"
    return body


def assert_write_refused(server: ServerProcess) -> None:
    """Every kind of write is a 503 in the envelope; none is acknowledged."""
    thread_id = ready_thread_id(server)
    writes = [
        ("POST", "/v1/threads", {"messages": [{"role": "user", "content": "lost?"}]}),
        ("POST", f"/v1/threads/{thread_id}/messages", {"role": "user", "content": "lost?"}),
        ("POST", f"/v1/threads/{thread_id}", {"metadata": {"k": "changed"}}),
        ("DELETE", f"/v1/threads/{thread_id}", None),
    ]
    for method, path, body in writes:
        response = httpx.request(method, server.base_url + path, json=body, timeout=30.0)
        assert response.status_code == 503, (method, path, response.text)
        assert response.json() == {
            "error": {
                "message": "The store is unavailable: its file was deleted or replaced while "
                "the server ran; restart the server.",
                "type": "server_error",
                "param": None,
                "code": "store_file_changed",
            }
        }
    # GraphQL writes go through the same store: not acknowledged either.
    mutation = 'mutation { createThread(input: {metadata: {k: "v"}}) { thread { id } } }'
    answer = httpx.post(f"{server.base_url}/graphql", json={"query": mutation}, timeout=30.0)
    payload = answer.json()
    assert (payload.get("data") or {}).get("createThread") is None, payload
    assert payload["errors"], payload


_thread_ids: dict[int, str] = {}


def ready_thread_id(server: ServerProcess) -> str:
    return _thread_ids[server.port]


def healthy_start(server: ServerProcess) -> None:
    created = create_thread(server, "before")
    assert created.status_code == 200, created.text
    _thread_ids[server.port] = created.json()["id"]
    assert readyz(server).status_code == 200


def test_a_deleted_file_refuses_writes_and_readiness(server: ServerProcess) -> None:
    healthy_start(server)
    os.unlink(server.store_path)
    assert_write_refused(server)
    assert "deleted or replaced" in wait_unready(server)["reason"]
    assert "deleted or replaced" in server.log
    # A read of the unlinked file either still finds the old inode's pages (SQLite
    # reads through its open descriptor) or fails with "disk I/O error", depending on
    # what SQLite has cached: never a 500, and a failure is the same typed 503.
    thread_id = ready_thread_id(server)
    read = httpx.get(f"{server.base_url}/v1/threads/{thread_id}", timeout=30.0)
    assert read.status_code in (200, 503), read.text
    if read.status_code == 503:
        assert read.json()["error"]["code"] == "store_file_changed"
    else:
        assert read.json()["id"] == thread_id


def test_a_replaced_file_refuses_writes_and_readiness(
    server: ServerProcess, tmp_path: Path
) -> None:
    healthy_start(server)
    other = tmp_path / "other.sqlite3"
    connect_writer(other).close()  # a valid, empty store file of its own
    os.replace(other, server.store_path)
    assert_write_refused(server)
    assert "deleted or replaced" in wait_unready(server)["reason"]


def test_a_file_moved_away_and_back_lost_nothing_and_serves_again(
    server: ServerProcess, tmp_path: Path
) -> None:
    """While the file is away, writes are refused and none lands; the check is of
    identity, not a latch, so the same file back at its path serves again."""
    healthy_start(server)
    thread_id = ready_thread_id(server)
    aside = tmp_path / "aside.sqlite3"
    os.rename(server.store_path, aside)
    assert_write_refused(server)
    assert "deleted or replaced" in wait_unready(server)["reason"]
    os.rename(aside, server.store_path)
    assert readyz(server).status_code == 200
    thread = httpx.get(f"{server.base_url}/v1/threads/{thread_id}", timeout=30.0)
    assert thread.status_code == 200 and thread.json()["metadata"] == {"k": "before"}
    listed = httpx.get(f"{server.base_url}/v1/threads/{thread_id}/messages", timeout=30.0)
    assert [m["content"][0]["text"]["value"] for m in listed.json()["data"]] == ["before"]
    with closing(sqlite3.connect(server.store_path, timeout=10.0)) as conn, conn:
        assert conn.execute("SELECT count(*) FROM threads").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM messages").fetchone() == (1,)
    assert create_thread(server, "accepted").status_code == 200


def _damage_message_pages(path: Path) -> int:
    """Checkpoint the WAL into the file, then overwrite every page of the messages
    table and its indexes with garbage; returns the pages hit.

    The header, the schema and the threads' pages stay intact, so the file still
    opens as this store's and a thread lookup (0.1's whole readiness probe) works.
    """
    with closing(sqlite3.connect(path, timeout=10.0)) as conn, conn:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0, "the checkpoint ran to completion"
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = [
            row[0]
            for row in conn.execute(
                "SELECT pageno FROM dbstat WHERE name IN "
                "('messages', 'messages_by_thread', 'sqlite_autoindex_messages_1')"
            )
        ]
    with path.open("r+b") as file:
        for page in pages:
            file.seek((page - 1) * page_size)
            file.write(b"\xa5" * page_size)
        file.flush()
        os.fsync(file.fileno())
    return len(pages)


def test_damaged_message_pages_fail_readiness(server: ServerProcess) -> None:
    healthy_start(server)
    for index in range(30):  # more rows, more pages
        assert create_thread(server, f"row {index} " + "x" * 500).status_code == 200
    assert readyz(server).status_code == 200
    assert _damage_message_pages(server.store_path) >= 3
    reason = wait_unready(server)["reason"]
    assert "cannot be read" in reason and "malformed" in reason, reason


def test_readiness_reads_are_bounded_on_a_large_file(server: ServerProcess, tmp_path: Path) -> None:
    """A store of 2,200 messages, 200 of 200 KB: /readyz reads a sample, not the file.

    Measured from outside the process: the server's read bytes (``/proc/<pid>/io``,
    ``rchar``) across ten probes stay far below one pass over the file."""
    healthy_start(server)
    big = "y" * 200_000
    with httpx.Client(base_url=f"{server.base_url}/v1", timeout=30.0) as http:
        for index in range(40):
            body = {"messages": [{"role": "user", "content": big}] * 5}
            assert http.post("/threads", json=body).status_code == 200, index
        for index in range(20):
            body = {"messages": [{"role": "user", "content": f"m{i}"} for i in range(100)]}
            assert http.post("/threads", json=body).status_code == 200, index
    with closing(sqlite3.connect(server.store_path, timeout=10.0)) as conn, conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    file_size = server.store_path.stat().st_size
    assert file_size > 40 * 1_000_000

    def read_bytes() -> int:
        for line in Path(f"/proc/{server.process.pid}/io").read_text().splitlines():
            if line.startswith("rchar:"):
                return int(line.split()[1])
        raise AssertionError("no rchar")

    before = read_bytes()
    for _ in range(10):
        assert readyz(server).status_code == 200
    read = read_bytes() - before
    assert read < file_size // 4, f"{read} bytes read for 10 probes of a {file_size}-byte file"
