"""The store file shared by several processes (workers, replicas on one machine)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import httpx

from gateway.store.sqlite import APPLICATION_ID, SCHEMA_VERSION
from tests.store.server import REPO_ROOT, ServerProcess

ROUNDS = 10
PROCESSES = 4
ROUND_SECONDS = 0.25
# Each process opens file k of ROUNDS at the same instant as the others: it sleeps
# until just before it, then spins (a sleep alone wakes too unevenly).
OPEN_AT_ONCE = """
import sys, time
from pathlib import Path
from gateway.store import StoreOpenError
from gateway.store.sqlite import migrate_file
folder, first, rounds, step = Path(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
for k in range(rounds):
    at = first + k * step
    time.sleep(max(0.0, at - time.time() - 0.005))
    while time.time() < at:
        pass
    try:
        migrate_file(folder / f"round-{k}" / "messages.sqlite3")
    except StoreOpenError as exc:
        print(exc)
"""


def test_processes_creating_one_new_file_at_once_all_succeed(tmp_path: Path) -> None:
    """The file's contents are judged under the write lock, so a process that found
    it empty a moment ago does not refuse it once another has initialised it."""
    first = time.time() + 1.5  # after every process has imported the store
    arguments = [str(tmp_path), str(first), str(ROUNDS), str(ROUND_SECONDS)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_AT_ONCE, *arguments],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    failures = [process.communicate(timeout=60)[0].strip() for process in processes]
    assert [process.returncode for process in processes] == [0] * PROCESSES
    for round_ in range(ROUNDS):
        with (
            closing(sqlite3.connect(tmp_path / f"round-{round_}" / "messages.sqlite3")) as conn,
            conn,
        ):
            assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
            assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_schema")}
            assert {"threads", "messages", "messages_by_thread"} <= tables
    assert failures == [""] * PROCESSES


def test_a_write_waits_for_another_process_holding_the_write_lock(tmp_path: Path) -> None:
    """Writers in different processes take turns on the file: a server's write
    waits while another process holds the lock (within the busy timeout), then
    commits, instead of failing."""
    server = ServerProcess(tmp_path / "data" / "messages.sqlite3", tmp_path)
    try:
        with httpx.Client(base_url=f"{server.base_url}/v1", timeout=30) as http:
            thread_id = http.post("/threads").json()["id"]
            other = sqlite3.connect(server.store_path, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")  # this process now holds the write lock
            with ThreadPoolExecutor(1) as pool:
                writing = pool.submit(
                    http.post,
                    f"/threads/{thread_id}/messages",
                    json={"role": "user", "content": "x"},
                )
                time.sleep(1.0)
                assert not writing.done(), "the write waits for the lock"
                other.execute("ROLLBACK")
                other.close()
                response = writing.result(timeout=30)
            assert response.status_code == 200, response.text
            listed = http.get(f"/threads/{thread_id}/messages").json()["data"]
            assert [message["id"] for message in listed] == [response.json()["id"]]
    finally:
        server.stop()
