"""The npm ``graphql-ws`` and ``graphql-sse`` clients against a real ``serve`` process.

``tests/live/js/live.mjs`` (installed by ``scripts/setup.d/live-clients.sh``)
writes a seed message, subscribes with ``after`` it, then writes ten messages
at once (five through ``/v1``, five through GraphQL), racing the
subscription's start: all ten must arrive, once each, in order.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.live.server import LiveServer

JS = Path(__file__).resolve().parent / "js"
HANG_MS = 5_000  # a generous bound per event, not a speed target (see BENCHMARKS.md)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    running = LiveServer(tmp_path_factory.mktemp("live-js"))
    yield running
    running.stop()


def run_client(server: LiveServer, transport: str) -> Any:
    node = shutil.which("node")
    assert node is not None, "Node.js is needed: scripts/setup.d/live-clients.sh installs it"
    assert (JS / "node_modules" / ".installed-from-lock").is_file(), (
        "run scripts/setup.d/live-clients.sh (npm ci in tests/live/js)"
    )
    result = subprocess.run(
        [node, "live.mjs", server.base_url, transport],
        cwd=JS,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("transport", ["ws", "sse"])
def test_ten_messages_arrive_once_in_order(server: LiveServer, transport: str) -> None:
    outcome = run_client(server, transport)
    assert outcome["transport"] == transport
    assert len(outcome["sent"]) == 10
    assert outcome["received"] == outcome["sent"]
    assert all(lag < HANG_MS for lag in outcome["lagsMs"]), outcome["lagsMs"]
