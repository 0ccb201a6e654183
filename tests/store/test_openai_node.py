"""The official ``openai`` Node SDK (npm ``openai``) auto-paginating against a live store.

The SDK asks for each next page as the original query plus ``after=<last_id>``,
so a list started with ``before`` (or with both cursors) sends ``after`` and
``before`` together: a 400 on page 2 in 0.1. ``tests/store/js`` holds the locked
SDK (``scripts/setup.d/openai-node.sh`` runs ``npm ci`` there) and
``paginate.mjs``, which iterates one list with ``for await`` and reports every id
it yielded and the query of every request it sent.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.store.server import ServerProcess

JS = Path(__file__).parent / "js"

pytestmark = pytest.mark.timeout(120)


def paginate(server: ServerProcess, thread_id: str, **query: Any) -> dict[str, Any]:
    node = shutil.which("node")
    assert node is not None, "Node.js is needed: scripts/setup.d/openai-node.sh"
    assert (JS / "node_modules" / "openai").is_dir(), "run scripts/setup.d/openai-node.sh"
    arguments = json.dumps(
        {"baseURL": f"{server.base_url}/v1", "threadId": thread_id, "query": query}
    )
    result = subprocess.run(
        [node, "paginate.mjs", arguments], cwd=JS, capture_output=True, text=True, timeout=90
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def thread_with(http: httpx.Client, count: int, order: str) -> tuple[str, list[str]]:
    """A thread of ``count`` messages and their ids in ``order``."""
    body = {"messages": [{"role": "user", "content": f"m{i}"} for i in range(count)]}
    thread_id: str = http.post("/threads", json=body).json()["id"]
    page = http.get(f"/threads/{thread_id}/messages", params={"order": order, "limit": 100})
    ids = [message["id"] for message in page.json()["data"]]
    assert len(ids) == count
    return thread_id, ids


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_a_list_started_with_before_paginates_to_its_end(
    server: ServerProcess, http: httpx.Client, order: str
) -> None:
    thread_id, ids = thread_with(http, 12, order)
    report = paginate(server, thread_id, order=order, limit=3, before=ids[8])
    assert report["ids"] == ids[5:8], "the page closest to the cursor"
    assert len(report["requests"]) == 2, "page 2 was fetched"
    assert report["requests"][1] == {
        "order": order,
        "limit": "3",
        "before": ids[8],
        "after": ids[7],
    }


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_a_window_paginates_page_by_page(
    server: ServerProcess, http: httpx.Client, order: str
) -> None:
    thread_id, ids = thread_with(http, 15, order)
    report = paginate(server, thread_id, order=order, limit=3, after=ids[1], before=ids[13])
    assert report["ids"] == ids[2:13]
    requests = report["requests"]
    assert len(requests) == 4, "11 messages at 3 a page"
    assert [query["after"] for query in requests] == [ids[1], ids[4], ids[7], ids[10]]
    assert {query["before"] for query in requests} == {ids[13]}
