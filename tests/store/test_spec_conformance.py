"""Responses against the upstream spec, beyond what the event hooks already check.

Every response of every other test is validated by a client hook; here each
operation is exercised with the richest payloads the spec allows, the one
deliberate deviation is made explicit, and every error status is checked
against ``ErrorResponse``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from openapi_core.validation.response.exceptions import InvalidData

from gateway.store import SQLiteStore, create_store_app
from tests.store.spec import SpecChecker

RICH_MESSAGE = {
    "role": "user",
    "content": [
        {"type": "text", "text": "Ünïcödé ✓ and emoji 🎉"},
        {"type": "image_file", "image_file": {"file_id": "file_1", "detail": "high"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/x.png", "detail": "auto"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
    ],
    "attachments": [
        {"file_id": "file_2", "tools": [{"type": "code_interpreter"}, {"type": "file_search"}]}
    ],
    "metadata": {"k" * 64: "v" * 512, **{f"key{i}": "" for i in range(15)}},
}


async def test_all_nine_operations_match_the_spec(
    client: httpx.AsyncClient, spec_checker: SpecChecker
) -> None:
    checked = spec_checker.checked
    thread = await client.post(
        "/threads",
        json={
            "messages": [RICH_MESSAGE, {"role": "assistant", "content": "plain"}],
            "metadata": {"a": "b"},
            "tool_resources": {
                "code_interpreter": {"file_ids": [f"file_{i}" for i in range(20)]},
                "file_search": {"vector_store_ids": ["vs_1"]},
            },
        },
    )
    assert thread.status_code == 200
    thread_id = thread.json()["id"]
    assert thread.json()["tool_resources"]["code_interpreter"]["file_ids"][-1] == "file_19"

    responses = [
        await client.get(f"/threads/{thread_id}"),
        await client.post(f"/threads/{thread_id}", json={"metadata": {"x": "y"}}),
        await client.post(
            f"/threads/{thread_id}",
            json={"tool_resources": {"code_interpreter": {}}, "metadata": None},
        ),
        await client.post(f"/threads/{thread_id}/messages", json=RICH_MESSAGE),
        await client.get(f"/threads/{thread_id}/messages", params={"order": "asc", "limit": 2}),
    ]
    message = responses[3].json()
    responses += [
        await client.get(f"/threads/{thread_id}/messages/{message['id']}"),
        await client.post(
            f"/threads/{thread_id}/messages/{message['id']}", json={"metadata": {"n": "1"}}
        ),
        await client.delete(f"/threads/{thread_id}/messages/{message['id']}"),
        await client.delete(f"/threads/{thread_id}"),
    ]
    assert [r.status_code for r in responses] == [200] * len(responses)
    assert spec_checker.checked == checked + 1 + len(responses)

    assert responses[2].json()["tool_resources"] == {"code_interpreter": {"file_ids": []}}
    assert responses[2].json()["metadata"] == {"x": "y"}, "null metadata leaves it unchanged"
    assert message["content"][0] == {
        "type": "text",
        "text": {"value": "Ünïcödé ✓ and emoji 🎉", "annotations": []},
    }
    assert message["content"][1:] == RICH_MESSAGE["content"][1:]  # type: ignore[index]
    assert message["metadata"] == RICH_MESSAGE["metadata"]
    assert responses[6].json()["metadata"] == {"n": "1"}
    assert responses[7].json() == {
        "id": message["id"],
        "object": "thread.message.deleted",
        "deleted": True,
    }
    assert responses[8].json() == {"id": thread_id, "object": "thread.deleted", "deleted": True}


async def test_empty_list_deviates_from_the_spec_with_null_ids(
    client: httpx.AsyncClient, spec_checker: SpecChecker
) -> None:
    """The one deliberate deviation (DESIGN.md §6): like the live API, an empty list has
    null first_id/last_id, which the spec's types do not allow."""
    thread_id = (await client.post("/threads")).json()["id"]
    response = await client.get(f"/threads/{thread_id}/messages")
    body = response.json()
    assert body["first_id"] is None and body["last_id"] is None
    spec_checker.check(response)  # passes: validated with only that deviation patched
    with pytest.raises(InvalidData):
        spec_checker.check_with_strict_spec(response)


async def test_create_thread_with_an_empty_body(client: httpx.AsyncClient) -> None:
    for content in (b"", b"{}", b"  \n"):
        response = await client.post("/threads", content=content)
        assert response.status_code == 200, content
        assert response.json()["metadata"] == {}
        assert response.json()["tool_resources"] == {}


async def test_every_error_status_uses_the_error_envelope(
    tmp_path: Path, spec_checker: SpecChecker, caplog: pytest.LogCaptureFixture
) -> None:
    closed = SQLiteStore(tmp_path / "store.sqlite3")  # left closed: every operation fails
    app = create_store_app(closed, api_key="key", max_body_bytes=1024)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://embedded-store",
        headers={"Authorization": "Bearer key"},
    ) as http:
        responses = {
            400: await http.get("/threads/nope"),
            401: await http.get("/threads/nope", headers={"Authorization": "Bearer no"}),
            404: await http.get("/nope"),
            405: await http.delete("/threads"),
            413: await http.post("/threads", content=b" " * 2048),
        }
        with caplog.at_level(logging.ERROR, logger="gateway.store"):
            responses[500] = await http.get("/threads/thread_abc")
    for status, response in responses.items():
        assert response.status_code == status
        assert response.headers["content-type"] == "application/json"
        spec_checker.validate_error(response.json())
    assert responses[405].headers["allow"] == "POST"
    assert responses[500].json() == {
        "error": {
            "message": "Internal server error",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }
    [record] = caplog.records
    assert "get_thread" in record.getMessage() and "not open" in record.getMessage()
    assert record.exc_info is None, "no traceback in the log (DESIGN.md §5)"


async def test_request_ids(client: httpx.AsyncClient) -> None:
    given = await client.post("/threads", headers={"X-Request-Id": "req-123"})
    assert given.headers["x-request-id"] == "req-123"
    fresh = await client.post("/threads")
    assert fresh.headers["x-request-id"].startswith("req_")
    odd = await client.post("/threads", headers={"X-Request-Id": "a b"})
    assert odd.headers["x-request-id"] != "a b"
