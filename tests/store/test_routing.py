"""Routing on the raw path: encoded slashes stay inside one segment, whatever the mount."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.store.app import route_segments
from gateway.store.routes import match_route


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
