"""The test harness's ``ServerProcess`` is not fooled by another process on its port."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.store import server as server_module
from tests.store.server import ServerProcess


class _Healthy(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def impostor() -> Iterator[int]:
    """Something else listening on a port, answering 200 to ``/healthz``; its port."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Healthy)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_a_port_taken_after_free_port_is_not_mistaken_for_ours(
    tmp_path: Path, impostor: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``free_port()`` hands out the impostor's port first (as if it had been taken
    between the check and the bind): the server must start again on another port."""
    real_free_port = server_module.free_port
    ports = iter([impostor])
    monkeypatch.setattr(server_module, "free_port", lambda: next(ports, None) or real_free_port())
    running = ServerProcess(tmp_path / "messages.sqlite3", tmp_path)
    try:
        assert running.port != impostor
        assert running.process.poll() is None
        response = httpx.get(f"{running.base_url}/v1/threads/thread_nope", timeout=5.0)
        assert response.status_code == 404
        assert response.json()["error"]["message"] == "No thread found with id 'thread_nope'."
    finally:
        running.stop()
