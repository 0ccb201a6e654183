"""``messages-gateway copy-store``: a 0.1 SQLite file to PostgreSQL and back, the same
to every client; interrupted copies finish on the next run without duplicates."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.store import StoreBackend, create_backend, parse_store_url
from gateway.store.backend import StoreCounts
from gateway.store.copying import CopySummary, copy_store, terminal_progress
from gateway.store.migrations import SCHEMA_VERSION
from gateway.store.rows import MessageRow
from tests.store.backends import listing, query_at
from tests.store.legacy import MESSAGES_PER_THREAD, SCHEMA_VERSION_0_1, THREADS, make_0_1_store
from tests.store.postgres import PostgresServer, create_database, drop_database
from tests.store.server import server_env

LEGACY_MESSAGES = (THREADS - 1) * MESSAGES_PER_THREAD


async def opened(url: str) -> StoreBackend:
    store = create_backend(parse_store_url(url))
    await store.open()
    return store


def copy_command(source: str, target: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", "copy-store", "--from", source, "--to", target],
        cwd=cwd,
        env=server_env(cwd / "unused.sqlite3"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    url = create_database(postgres_server)
    yield url
    drop_database(postgres_server, url)


async def test_0_1_file_to_postgres_and_back_gives_identical_listings(
    tmp_path: Path, postgres_url: str
) -> None:
    legacy = f"sqlite:///{tmp_path / 'legacy.sqlite3'}"
    back = f"sqlite:///{tmp_path / 'back' / 'messages.sqlite3'}"
    make_0_1_store(tmp_path / "legacy.sqlite3")

    there = copy_command(legacy, postgres_url, tmp_path)
    assert there.returncode == 0, there.stderr
    assert there.stdout.strip() == (
        f"messages-gateway: copied {THREADS} threads and {LEGACY_MESSAGES} messages "
        f"from {tmp_path / 'legacy.sqlite3'} to {postgres_url}; "
        "0 threads and 0 messages were already there"
    )
    assert there.stderr == "", "no progress bar when stderr is not a terminal"
    returned = copy_command(postgres_url, back, tmp_path)
    assert returned.returncode == 0, returned.stderr

    views = []
    for url in (legacy, postgres_url, back):
        store = await opened(url)
        try:
            assert await store.counts() == StoreCounts(THREADS, LEGACY_MESSAGES)
            views.append(await listing(store))
        finally:
            await store.close()
    assert len(views[0]) > THREADS * 4, "threads, pages both ways and by run were compared"
    assert views[0] == views[1] == views[2]
    # and the order of the rows themselves, ties included
    rows = "SELECT id, created_at FROM messages ORDER BY created_at, seq"
    assert query_at(legacy, rows) == query_at(postgres_url, rows) == query_at(back, rows)

    again = copy_command(legacy, postgres_url, tmp_path)
    assert again.returncode == 0, again.stderr
    assert "copied 0 threads and 0 messages" in again.stdout
    assert f"{THREADS} threads and {LEGACY_MESSAGES} messages were already there" in again.stdout


class Interrupted(Exception):
    pass


def test_a_missing_source_file_is_refused_and_not_created(tmp_path: Path, store_url: str) -> None:
    """A typo in ``--from``: one line, exit 2, no empty store made and "copied"."""
    missing = tmp_path / "typo.sqlite3"
    done = copy_command(f"sqlite:///{missing}", store_url, tmp_path)
    assert done.returncode == 2, done.stdout
    assert done.stderr == f"messages-gateway: the source store file {missing} does not exist\n"
    assert done.stdout == ""
    assert not missing.exists()


def test_an_older_source_is_migrated_forward_as_documented(
    tmp_path: Path, postgres_url: str
) -> None:
    """A 0.1 source file is opened as the gateway opens a store: migrated, data unchanged."""
    legacy = tmp_path / "legacy.sqlite3"
    make_0_1_store(legacy)
    before = query_at(f"sqlite:///{legacy}", "SELECT id, content FROM messages ORDER BY id")
    assert query_at(f"sqlite:///{legacy}", "PRAGMA user_version") == [(SCHEMA_VERSION_0_1,)]
    done = copy_command(f"sqlite:///{legacy}", postgres_url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert query_at(f"sqlite:///{legacy}", "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    after = query_at(f"sqlite:///{legacy}", "SELECT id, content FROM messages ORDER BY id")
    assert len(before) == LEGACY_MESSAGES
    assert after == before


async def test_an_interrupted_copy_finishes_on_the_next_run(tmp_path: Path, store_url: str) -> None:
    """Into each backend: stopped after the first thread, run again, nothing doubled."""
    make_0_1_store(tmp_path / "legacy.sqlite3")
    source = await opened(f"sqlite:///{tmp_path / 'legacy.sqlite3'}")
    target = await opened(store_url)
    try:

        def stop_after_one(summary: CopySummary, totals: StoreCounts) -> None:
            if summary.threads == 1:
                raise Interrupted

        with pytest.raises(Interrupted):
            await copy_store(source, target, progress=stop_after_one)
        partial = await target.counts()
        assert partial == StoreCounts(1, MESSAGES_PER_THREAD), "whole threads, or nothing"

        # A message added to a copied thread in between is appended by the next run.
        first = (await source.export_threads(after_seq=0, limit=1))[0][1]
        from gateway.store.validation import new_message

        added = await source.create_message(first.id, new_message({"role": "user", "content": "x"}))

        summary = await copy_store(source, target)
        assert summary == CopySummary(
            threads_copied=THREADS - 1,
            threads_present=1,
            messages_copied=LEGACY_MESSAGES - MESSAGES_PER_THREAD + 1,
            messages_present=MESSAGES_PER_THREAD,
        )
        assert await target.counts() == await source.counts()
        assert await listing(target) == await listing(source)
        assert (await target.get_message(first.id, added.id)) == added
    finally:
        await source.close()
        await target.close()


def test_the_progress_bar_draws_only_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert terminal_progress(io.StringIO()) is None
    screen = Terminal()
    draw = terminal_progress(screen)
    assert draw is not None
    totals = StoreCounts(threads=2, messages=10)
    draw(CopySummary(threads_copied=1, messages_copied=5), totals)
    draw(CopySummary(threads_copied=1, threads_present=1, messages_copied=10), totals)
    assert screen.getvalue() == (
        "\r[###############...............] 1/2 threads, 5/10 messages"
        "\r[##############################] 2/2 threads, 10/10 messages\n"
    )


def test_the_command_draws_its_bar_on_a_terminal(tmp_path: Path) -> None:
    """stderr a pseudo-terminal: the bar is drawn, and ends at the totals."""
    import os
    import pty

    make_0_1_store(tmp_path / "legacy.sqlite3")
    source = f"sqlite:///{tmp_path / 'legacy.sqlite3'}"
    target = f"sqlite:///{tmp_path / 'copy.sqlite3'}"
    controller, terminal = pty.openpty()
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "gateway", "copy-store", "--from", source, "--to", target],
            cwd=tmp_path,
            env=server_env(tmp_path / "unused.sqlite3"),
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
            timeout=120,
            check=False,
        )
        os.close(terminal)
        drawn = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal side is closed and drained
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(controller)
    assert completed.returncode == 0, drawn
    text = drawn.decode()
    assert text.count("\r[") == THREADS, "redrawn once per thread"
    assert f"{THREADS}/{THREADS} threads, {LEGACY_MESSAGES}/{LEGACY_MESSAGES} messages" in text
    assert f"copied {THREADS} threads" in completed.stdout


class CountingSource:
    """A source whose ``export_messages`` pages are recorded (their sizes, in order)."""

    def __init__(self, store: StoreBackend) -> None:
        self.store = store
        self.pages: list[int] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)

    async def export_messages(
        self, thread_id: str, *, after: tuple[int, int], limit: int
    ) -> list[tuple[int, MessageRow]]:
        page = await self.store.export_messages(thread_id, after=after, limit=limit)
        self.pages.append(len(page))
        return page


async def test_a_long_thread_is_copied_in_bounded_batches(tmp_path: Path, store_url: str) -> None:
    """From each backend (the 0.1 file's threads, 7 messages in batches of 3), in order."""
    make_0_1_store(tmp_path / "legacy.sqlite3")
    legacy = await opened(f"sqlite:///{tmp_path / 'legacy.sqlite3'}")
    middle = await opened(store_url)
    back = await opened(f"sqlite:///{tmp_path / 'back.sqlite3'}")
    try:
        await copy_store(legacy, middle)
        source = CountingSource(middle)
        summary = await copy_store(source, back, messages_per_batch=3)  # type: ignore[arg-type]
        assert summary.messages_copied == LEGACY_MESSAGES
        assert max(source.pages) == 3
        per_thread = -(-MESSAGES_PER_THREAD // 3) + (MESSAGES_PER_THREAD % 3 == 0)
        full = THREADS - 1  # the 0.1 file's last thread has no messages: one empty page
        assert len(source.pages) == full * per_thread + 1
        assert sum(source.pages) == LEGACY_MESSAGES
        assert await listing(back) == await listing(middle) == await listing(legacy)
    finally:
        for store in (legacy, middle, back):
            await store.close()
