"""A store file as messages-gateway 0.1 wrote it, for the upgrade and copy tests.

The DDL and stamps below are copied verbatim from 0.1 (``git show
3ddbdb6:gateway/store/sqlite.py``), frozen here on purpose: the code under
test moves on, this file must not. The rows are written the way 0.1's
repository wrote them (compact JSON text), with the cases an upgrade could
get wrong: ``created_at`` ties broken only by insertion order, a run id, an
incomplete message, non-ASCII text, a thread without messages.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

APPLICATION_ID_0_1 = 0x4D475354
SCHEMA_VERSION_0_1 = 1

SCHEMA_0_1 = (
    """
    CREATE TABLE threads (
        seq            INTEGER PRIMARY KEY,
        id             TEXT NOT NULL UNIQUE,
        created_at     INTEGER NOT NULL,
        metadata       TEXT NOT NULL,  -- JSON object
        tool_resources TEXT NOT NULL   -- JSON object
    )
    """,
    """
    CREATE TABLE messages (
        seq                INTEGER PRIMARY KEY,  -- insertion order: breaks created_at ties
        id                 TEXT NOT NULL UNIQUE,
        thread_id          TEXT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
        created_at         INTEGER NOT NULL,
        role               TEXT NOT NULL,
        status             TEXT NOT NULL,
        content            TEXT NOT NULL,  -- JSON array of content parts
        attachments        TEXT NOT NULL,  -- JSON array
        metadata           TEXT NOT NULL,  -- JSON object
        assistant_id       TEXT,
        run_id             TEXT,
        completed_at       INTEGER,
        incomplete_at      INTEGER,
        incomplete_details TEXT            -- JSON object or NULL
    )
    """,
    "CREATE INDEX messages_by_thread ON messages (thread_id, created_at, seq)",
)


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _text(value: str) -> str:
    return _dump([{"type": "text", "text": {"value": value, "annotations": []}}])


THREADS = 3
MESSAGES_PER_THREAD = 25


def make_0_1_store(path: Path) -> dict[str, list[str]]:
    """Write a 0.1 store file at ``path``; returns each thread's message ids in order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN IMMEDIATE")
    for statement in SCHEMA_0_1:
        conn.execute(statement)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID_0_1}")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION_0_1}")
    order: dict[str, list[str]] = {}
    for t in range(THREADS):
        thread_id = f"thread_legacy{t:018d}"
        conn.execute(
            "INSERT INTO threads (id, created_at, metadata, tool_resources) VALUES (?, ?, ?, ?)",
            (thread_id, 1_700_000_000 + t, _dump({"team": f"t{t}", "ünï": "çødé"}), "{}"),
        )
        order[thread_id] = []
        count = 0 if t == THREADS - 1 else MESSAGES_PER_THREAD  # the last thread is empty
        for m in range(count):
            message_id = f"msg_legacy{t:02d}{m:016d}"
            created = 1_700_000_100 + m // 5  # five messages per second: ties
            conn.execute(
                "INSERT INTO messages (id, thread_id, created_at, role, status, content, "
                "attachments, metadata, assistant_id, run_id, completed_at, incomplete_at, "
                "incomplete_details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    message_id,
                    thread_id,
                    created,
                    "assistant" if m % 2 else "user",
                    "incomplete" if m == 7 else "completed",
                    _text(f"message {m} of thread {t} ✓ — 日本語"),
                    _dump([{"file_id": "file-abc", "tools": [{"type": "file_search"}]}])
                    if m == 3
                    else "[]",
                    _dump({"m": str(m)}),
                    "asst_legacy" if m % 2 else None,
                    "run_legacy" if m % 4 == 0 else None,
                    None if m == 7 else created,
                    created if m == 7 else None,
                    _dump({"reason": "max_tokens"}) if m == 7 else None,
                ),
            )
            order[thread_id].append(message_id)
    conn.execute("COMMIT")
    conn.close()
    return order
