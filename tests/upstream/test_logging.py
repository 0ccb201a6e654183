"""No secret and no upstream location in any log record, even with every logger at DEBUG."""

from __future__ import annotations

import logging

import httpx
import pytest
import respx

from gateway.upstream import UpstreamError
from tests.upstream.conftest import MakeClient
from tests.upstream.helpers import (
    CALLER_TOKEN,
    HOST,
    MESSAGE,
    SERVER_KEY,
    THREAD,
    error_envelope,
    open_session,
)

LOUD = ("", "gateway", "gateway.upstream", "httpx", "httpcore", "httpcore.connection")


@pytest.fixture
def everything_at_debug(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for name in LOUD:
        caplog.set_level(logging.DEBUG, logger=name or None)
    return caplog


def assert_clean(caplog: pytest.LogCaptureFixture) -> None:
    assert caplog.records, "the scenario should have logged something"
    for record in caplog.records:
        text = record.getMessage()
        for secret in (SERVER_KEY, CALLER_TOKEN, HOST):
            assert secret not in text, (record.name, text)
    for secret in (SERVER_KEY, CALLER_TOKEN, HOST):
        assert secret not in caplog.text


async def test_no_secret_or_host_is_logged(
    upstream: respx.MockRouter,
    make_client: MakeClient,
    everything_at_debug: pytest.LogCaptureFixture,
) -> None:
    upstream.get("/threads/thread_abc").mock(
        side_effect=[
            httpx.Response(503, json=error_envelope(SERVER_KEY)),
            httpx.Response(200, json=THREAD),
        ]
    )
    upstream.get("/threads/thread_gone").respond(404, json=error_envelope(CALLER_TOKEN))
    upstream.get("/threads/thread_down").mock(
        side_effect=httpx.ConnectError(f"cannot reach {HOST} with {SERVER_KEY}")
    )
    upstream.post("/threads/thread_abc/messages").mock(
        side_effect=[httpx.ConnectError(f"https://{HOST}/"), httpx.Response(200, json=MESSAGE)]
    )

    for client in (make_client(), make_client(api_key=None)):
        session = open_session(client, caller_token=CALLER_TOKEN)
        await session.get_thread("thread_abc")
        await session.create_message("thread_abc", {"content": "hi"})
        for thread_id in ("thread_gone", "thread_down"):
            with pytest.raises(UpstreamError) as caught:
                await session.get_thread(thread_id)
            logging.getLogger("gateway").exception(
                "as a careless handler would", exc_info=caught.value
            )
        upstream.get("/threads/thread_abc").mock(
            side_effect=[httpx.Response(503), httpx.Response(200, json=THREAD)]
        )
        upstream.post("/threads/thread_abc/messages").mock(
            side_effect=[httpx.ConnectError("x"), httpx.Response(200, json=MESSAGE)]
        )

    names = {record.name for record in everything_at_debug.records}
    assert {"httpx", "gateway.upstream"} <= names  # the scenario did reach both loggers
    retry_warnings = [r for r in everything_at_debug.records if r.name == "gateway.upstream"]
    assert any("getThread" in r.getMessage() and "503" in r.getMessage() for r in retry_warnings)
    httpx_lines = [r.getMessage() for r in everything_at_debug.records if r.name == "httpx"]
    assert any("/v1/threads/thread_abc" in line for line in httpx_lines)
    assert_clean(everything_at_debug)


def test_httpcore_connection_records_lose_their_host(
    make_client: MakeClient, everything_at_debug: pytest.LogCaptureFixture
) -> None:
    make_client()  # installs the redaction
    logging.getLogger("httpcore.connection").debug(
        f"connect_tcp.started host='{HOST}' port=443 local_address=None timeout=5.0"
    )
    logging.getLogger("httpcore.connection").debug(
        "start_tls.started ssl_context=<ssl.SSLContext object> server_hostname='%s' timeout=5.0",
        HOST,
    )
    messages = [r.getMessage() for r in everything_at_debug.records]
    assert messages == [
        "connect_tcp.started host=<redacted> port=443 local_address=None timeout=5.0",
        "start_tls.started ssl_context=<ssl.SSLContext object> server_hostname=<redacted> "
        "timeout=5.0",
    ]
