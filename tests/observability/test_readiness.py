"""/readyz against the embedded store and against a real (tiny) upstream on loopback."""

from __future__ import annotations

import asyncio
import time

import pytest

from gateway.app import create_app
from gateway.config import Settings
from gateway.observability import PROBE_THREAD_ID, check_readiness
from tests.conftest import Gateway, SettingsFactory, start_gateway

KEY = "sk-readiness-secret-5e1f"


class TinyUpstream:
    """An HTTP/1.1 server on 127.0.0.1 answering every request with ``status``."""

    def __init__(self, status: int = 404, *, hang: bool = False) -> None:
        self.status = status
        self.hang = hang
        self.port = 0
        self.seen: list[tuple[str, dict[str, str]]] = []
        self._server: asyncio.Server | None = None
        self._released = asyncio.Event()

    async def start(self, *, retry_for: float = 0.0) -> None:
        """Listen on ``self.port`` (any free port the first time).

        Re-binding a port just released can fail for a moment, or for good if another
        process took it meanwhile: retry for ``retry_for`` seconds, then fail clearly.
        """
        self._released.clear()
        deadline = time.monotonic() + retry_for
        while True:
            try:
                self._server = await asyncio.start_server(
                    self._answer, "127.0.0.1", self.port, reuse_address=True
                )
                break
            except OSError as error:
                if self.port == 0 or time.monotonic() >= deadline:
                    pytest.fail(f"cannot listen on 127.0.0.1:{self.port} again: {error}")
                await asyncio.sleep(0.1)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._released.set()
        self._server.close()
        await self._server.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines if ": " in line)
        self.seen.append((request_line, {k.lower(): v for k, v in headers.items()}))
        if self.hang:
            await self._released.wait()
        body = b'{"error": {"message": "nope", "type": "invalid_request_error"}}'
        writer.write(
            f"HTTP/1.1 {self.status} X\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()


def remote_settings(make_settings: SettingsFactory, port: int, **overrides: object) -> Settings:
    return make_settings(
        upstream_url=f"http://127.0.0.1:{port}",
        upstream_api_key=KEY,
        auth_required=False,
        **overrides,
    )


async def test_embedded_store_is_ready(gateway: Gateway) -> None:
    response = await gateway.http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_remote_upstream_down_then_back(make_settings: SettingsFactory) -> None:
    upstream = TinyUpstream(404)
    await upstream.start()
    port = upstream.port
    async for gateway in start_gateway(remote_settings(make_settings, port)):
        ready = await gateway.http.get("/readyz")
        assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
        request_line, headers = upstream.seen[-1]
        assert request_line == f"GET /v1/threads/{PROBE_THREAD_ID} HTTP/1.1"
        assert headers["authorization"] == f"Bearer {KEY}"
        assert headers["openai-beta"] == "assistants=v2"

        await upstream.stop()
        down = await gateway.http.get("/readyz")
        assert down.status_code == 503
        body = down.json()
        assert body["status"] == "unavailable"
        assert "unreachable" in body["reason"]
        assert "127.0.0.1" not in down.text and str(port) not in down.text
        assert KEY not in down.text

        await upstream.start(retry_for=5.0)  # the same port again
        assert upstream.port == port
        back = await gateway.http.get("/readyz")
        assert (back.status_code, back.json()) == (200, {"status": "ready"})
    await upstream.stop()


@pytest.mark.parametrize(
    ("status", "ready"), [(401, True), (404, True), (500, False), (503, False)]
)
async def test_any_answer_below_500_is_ready(
    make_settings: SettingsFactory, status: int, ready: bool
) -> None:
    upstream = TinyUpstream(status)
    await upstream.start()
    try:
        async for gateway in start_gateway(remote_settings(make_settings, upstream.port)):
            response = await gateway.http.get("/readyz")
    finally:
        await upstream.stop()
    assert response.status_code == (200 if ready else 503)
    if not ready:
        assert response.json() == {
            "status": "unavailable",
            "reason": f"upstream answered {status}",
        }


async def test_a_silent_upstream_fails_within_the_timeout(make_settings: SettingsFactory) -> None:
    upstream = TinyUpstream(hang=True)
    await upstream.start()
    settings = remote_settings(make_settings, upstream.port, connect_timeout=0.2, read_timeout=0.3)
    try:
        async for gateway in start_gateway(settings):
            started = time.monotonic()
            response = await gateway.http.get("/readyz")
            elapsed = time.monotonic() - started
    finally:
        await upstream.stop()
    assert response.status_code == 503
    assert response.json()["reason"] == "upstream did not answer within 0.5s"
    # Not a speed check: a generous bound proving the check gives up instead of hanging
    # (the upstream never answers until it is stopped).
    assert elapsed < 10.0


async def test_not_ready_before_the_lifespan_started(make_settings: SettingsFactory) -> None:
    readiness = await check_readiness(make_settings(), None)
    assert (readiness.ready, readiness.reason) == (False, "starting up")


class _Store:
    def __init__(self, reason: str | None) -> None:
        self.reason = reason
        self.asked = 0

    async def health(self) -> str | None:
        self.asked += 1
        return self.reason


async def test_embedded_readiness_asks_the_store_first(make_settings: SettingsFactory) -> None:
    """An unhealthy store file is not ready whatever the in-process probe would say."""
    settings = make_settings()
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        upstream = app.state.upstream
        sick = _Store("the store file was deleted or replaced while open")
        readiness = await check_readiness(settings, upstream, sick)
        assert (readiness.ready, sick.asked) == (False, 1)
        assert readiness.reason == (
            "embedded store: the store file was deleted or replaced while open"
        )
        well = _Store(None)
        assert (await check_readiness(settings, upstream, well)).ready
        assert well.asked == 1
