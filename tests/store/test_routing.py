"""Routing on the raw path: encoded slashes stay inside one segment, whatever the mount."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest

from gateway.store.app import route_segments
from gateway.store.routes import match_route
from tests.store.server import ServerProcess, raw_request


def scope(path: str, raw_path: bytes | None, root_path: str = "") -> dict[str, Any]:
    result: dict[str, Any] = {"type": "http", "path": path, "root_path": root_path}
    if raw_path is not None:
        result["raw_path"] = raw_path
    return result


@pytest.mark.parametrize(
    ("path", "raw", "root", "segments"),
    [
        ("/threads/t1", b"/threads/t1", "", ["threads", "t1"]),
        ("/v1/threads/t1", b"/v1/threads/t1", "/v1", ["threads", "t1"]),
        # a proxy that strips its prefix from raw_path but reports it in root_path
        ("/api/v1/threads/t1", b"/v1/threads/t1", "/api/v1", ["threads", "t1"]),
        ("/v1/threads/a/b", b"/v1/threads/a%2Fb", "/v1", ["threads", "a/b"]),
        (
            "/v1/threads/a/b/messages",
            b"/v1/threads/a%2Fb%2Fmessages",
            "/v1",
            ["threads", "a/b/messages"],
        ),
        ("/v1/threads/..", b"/v1/threads/%2E%2E", "/v1", ["threads", ".."]),
        ("/v1/threads/é", b"/v1/threads/%C3%A9", "/v1", ["threads", "é"]),
        ("/v1/threads/t1", None, "/v1", ["threads", "t1"]),  # no raw_path: decoded path
        ("/v1", b"/v1", "/v1", []),
        ("/v1/threads", b"/v1/other", "/v1", None),  # path and raw path disagree
    ],
)
def test_route_segments(
    path: str, raw: bytes | None, root: str, segments: list[str] | None
) -> None:
    assert route_segments(scope(path, raw, root)) == segments


@pytest.mark.parametrize(
    ("segments", "template", "ids"),
    [
        (["threads"], "/threads", ()),
        (["threads", "t"], "/threads/{thread_id}", ("t",)),
        (["threads", "t", "messages"], "/threads/{thread_id}/messages", ("t",)),
        (
            ["threads", "t", "messages", "m"],
            "/threads/{thread_id}/messages/{message_id}",
            ("t", "m"),
        ),
    ],
)
def test_match_route(segments: list[str], template: str, ids: tuple[str, ...]) -> None:
    found = match_route(segments)
    assert found is not None
    route, matched_ids = found
    assert (route.template, matched_ids) == (template, ids)


@pytest.mark.parametrize(
    "segments",
    [
        [],
        [""],
        ["threads", ""],
        ["threads", "t", ""],
        ["threads", "t", "runs"],
        ["assistants"],
        ["threads", "t", "messages", "m", "files"],
        ["threads", "", "messages"],
    ],
)
def test_no_route(segments: list[str]) -> None:
    assert match_route(segments) is None


@pytest.mark.parametrize(
    "segments",
    [
        ["threads", "runs"],
        ["threads", "runs", "messages"],
        ["threads", "thread_x\n"],
        ["threads", "thread_x\x00", "messages"],
        ["threads", "thread_x", "messages", "msg_\x7f"],
        ["threads", "thread_x", "messages", "msg_\x85"],
    ],
)
def test_unserved_paths_match_no_route(segments: list[str]) -> None:
    assert match_route(segments) is None


# --- black box: unserved paths are the store's own 404 through the real server ------


UNSERVED = [
    ("POST", "/v1/threads/runs"),
    ("GET", "/v1/threads/runs"),
    ("GET", "/v1/threads/runs/run_x/steps"),
    ("POST", "/v1/threads/{t}/runs"),
    ("GET", "/v1/threads/{t}/runs/run_x"),
    ("POST", "/v1/assistants"),
    ("GET", "/v1/assistants/asst_x"),
    ("GET", "/v1/threads/{t}%0A"),
    ("GET", "/v1/threads/{t}%0A/messages"),
    ("POST", "/v1/threads/{t}%0D%0A/messages"),
    ("GET", "/v1/threads/{t}/messages/msg_x%00"),
    ("DELETE", "/v1/threads/{t}%7F"),
]


@pytest.mark.parametrize(("method", "target"), UNSERVED)
def test_unserved_paths_are_404_invalid_url_in_the_envelope(
    server: ServerProcess, method: str, target: str
) -> None:
    created = httpx.post(f"{server.base_url}/v1/threads", json={}, timeout=30.0)
    thread_id = created.json()["id"]
    sent = target.format(t=thread_id)
    status, payload = raw_request(server.port, method, sent, b"{}" if method == "POST" else b"")
    assert status == 404, payload
    assert json.loads(payload) == {
        "error": {
            "message": f"Invalid URL ({method} {sent})",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }


@pytest.mark.filterwarnings("ignore:The Assistants API is deprecated")
def test_create_and_run_gets_invalid_url(sdk: openai.OpenAI) -> None:
    """``client.beta.threads.create_and_run`` calls ``POST /v1/threads/runs``."""
    with pytest.raises(openai.NotFoundError) as raised:
        sdk.beta.threads.create_and_run(assistant_id="asst_x")
    assert raised.value.status_code == 404
    assert raised.value.message.endswith("Invalid URL (POST /v1/threads/runs)")
