"""``/readyz`` of a real server on each backend: the backend's own health answers it."""

from __future__ import annotations

import httpx

from tests.store.server import ServerProcess


def test_ready_on_each_backend(server: ServerProcess) -> None:
    response = httpx.get(f"{server.base_url}/readyz", timeout=30.0)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready"}
