"""``messages-gateway serve`` on an unusable store file: a quick exit with one clear
line on stderr, never a traceback. Each test's processes run in parallel."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.store.server import SERVE_COMMAND, free_port, server_env


@dataclass
class Outcome:
    returncode: int
    stderr: str
    stdout: str
    seconds: float


def serve(store_path: Path, cwd: Path) -> Outcome:
    started = time.monotonic()
    completed = subprocess.run(
        SERVE_COMMAND,
        cwd=cwd,
        env=server_env(store_path, port=free_port()),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return Outcome(
        completed.returncode, completed.stderr, completed.stdout, time.monotonic() - started
    )


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder the server process cannot create files in.

    Root ignores permission bits, so under root the folder is also made
    immutable (``chattr +i``), which stops root too.
    """
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    immutable = False
    if os.geteuid() == 0:
        try:
            subprocess.run(["chattr", "+i", str(folder)], check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError):
            pytest.skip("running as root, and the folder cannot be made immutable")
        immutable = True
    yield folder
    if immutable:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    folder.chmod(0o755)


def assert_refused(cases: list[tuple[Path, str]], cwd: Path) -> None:
    """Serve each store path (in parallel): exit 2, one line naming the path and reason."""
    with ThreadPoolExecutor(len(cases)) as pool:
        outcomes = list(pool.map(lambda case: serve(case[0], cwd), cases))
    for (path, reason), outcome in zip(cases, outcomes, strict=True):
        assert outcome.returncode == 2, outcome
        assert outcome.seconds < 30
        assert outcome.stderr.strip() == (
            f"messages-gateway: cannot use the store file '{path}': {reason}"
        ), outcome
        assert "Traceback" not in outcome.stderr + outcome.stdout


def test_unusable_store_files_exit_quickly_with_a_clear_message(tmp_path: Path) -> None:
    """Runs everywhere, root or not: no folder permissions are involved."""
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(os.urandom(8192))
    regular_file = tmp_path / "regular-file"
    regular_file.write_text("I am a file")
    assert_refused(
        [
            (garbage, "the file is not an SQLite database"),
            (regular_file / "messages.sqlite3", f"'{regular_file}' is not a folder"),
        ],
        tmp_path,
    )
    assert garbage.read_bytes()[:16] != b"SQLite format 3\x00", "the file is left alone"


def test_read_only_folder_exits_quickly_with_a_clear_message(
    tmp_path: Path, read_only_folder: Path
) -> None:
    """The only case that may skip: as root, when the folder cannot be made immutable."""
    folder = read_only_folder
    assert_refused(
        [
            (
                folder / "messages.sqlite3",
                f"the file cannot be created in '{folder}' (is the folder writable?)",
            )
        ],
        tmp_path,
    )
    assert list(folder.iterdir()) == []
