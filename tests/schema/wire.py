"""Upstream wire objects for tests that mock the upstream."""

from __future__ import annotations

from typing import Any

THREAD_ID = "thread_abcdefghijklmnopqrstuvwx"
MESSAGE_ID = "msg_abcdefghijklmnopqrstuvwx"


def thread_json(thread_id: str = THREAD_ID, **extra: Any) -> dict[str, Any]:
    return {
        "id": thread_id,
        "object": "thread",
        "created_at": 1764118092,
        "metadata": {},
        "tool_resources": {},
        **extra,
    }


def message_json(
    message_id: str = MESSAGE_ID, thread_id: str = THREAD_ID, text: str = "hi", **extra: Any
) -> dict[str, Any]:
    return {
        "id": message_id,
        "object": "thread.message",
        "created_at": 1764118092,
        "thread_id": thread_id,
        "status": "completed",
        "incomplete_details": None,
        "completed_at": 1764118092,
        "incomplete_at": None,
        "role": "user",
        "content": [{"type": "text", "text": {"value": text, "annotations": []}}],
        "assistant_id": None,
        "run_id": None,
        "attachments": [],
        "metadata": {},
        **extra,
    }


def list_json(messages: list[dict[str, Any]], has_more: bool = False) -> dict[str, Any]:
    return {
        "object": "list",
        "data": messages,
        "first_id": messages[0]["id"] if messages else None,
        "last_id": messages[-1]["id"] if messages else None,
        "has_more": has_more,
    }


def error_json(
    message: str,
    type_: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}
