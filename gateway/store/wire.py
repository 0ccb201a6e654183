"""Rendering stored rows as the API's JSON objects.

Content, attachments, metadata and tool resources are stored as JSON text, so
a response is assembled by splicing those texts between the scalar fields
instead of decoding them and encoding them again. That keeps rendering cheap
and lets it run on the database thread, off the event loop. Field names and
order follow the real API's responses.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

__all__ = [
    "MESSAGE_COLUMNS",
    "THREAD_COLUMNS",
    "deleted_json",
    "dump",
    "list_json",
    "message_json",
    "thread_json",
]

THREAD_COLUMNS = "id, created_at, metadata, tool_resources"
"""The ``threads`` columns ``thread_json`` reads, in its tuple order."""

MESSAGE_COLUMNS = (
    "id, thread_id, created_at, role, status, content, attachments, metadata, "
    "assistant_id, run_id, completed_at, incomplete_at, incomplete_details"
)
"""The ``messages`` columns ``message_json`` reads, in its tuple order."""

_string = json.JSONEncoder(ensure_ascii=False).encode


def dump(value: Any) -> str:
    """The stored JSON text of a validated value: compact, UTF-8 kept as is."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _nullable_string(value: str | None) -> str:
    return "null" if value is None else _string(value)


def _nullable_int(value: int | None) -> str:
    return "null" if value is None else str(int(value))


def thread_json(row: Sequence[Any]) -> str:
    """A ThreadObject from a row of ``THREAD_COLUMNS``."""
    thread_id, created_at, metadata, tool_resources = row
    return (
        f'{{"id":{_string(thread_id)},"object":"thread","created_at":{int(created_at)},'
        f'"metadata":{metadata},"tool_resources":{tool_resources}}}'
    )


def message_json(row: Sequence[Any]) -> str:
    """A MessageObject from a row of ``MESSAGE_COLUMNS``."""
    (
        message_id,
        thread_id,
        created_at,
        role,
        status,
        content,
        attachments,
        metadata,
        assistant_id,
        run_id,
        completed_at,
        incomplete_at,
        incomplete_details,
    ) = row
    return (
        f'{{"id":{_string(message_id)},"object":"thread.message",'
        f'"created_at":{int(created_at)},"assistant_id":{_nullable_string(assistant_id)},'
        f'"thread_id":{_string(thread_id)},"run_id":{_nullable_string(run_id)},'
        f'"role":{_string(role)},"status":{_string(status)},'
        f'"completed_at":{_nullable_int(completed_at)},'
        f'"incomplete_at":{_nullable_int(incomplete_at)},'
        f'"incomplete_details":{incomplete_details or "null"},'
        f'"content":{content},"attachments":{attachments},"metadata":{metadata}}}'
    )


def list_json(
    items: Sequence[str], *, first_id: str | None, last_id: str | None, has_more: bool
) -> str:
    """A list envelope around already rendered objects (ids null when empty)."""
    return (
        f'{{"object":"list","data":[{",".join(items)}],'
        f'"first_id":{_nullable_string(first_id)},"last_id":{_nullable_string(last_id)},'
        f'"has_more":{"true" if has_more else "false"}}}'
    )


def deleted_json(object_id: str, kind: str) -> str:
    """A deletion receipt: ``{"id", "object": kind, "deleted": true}``."""
    return f'{{"id":{_string(object_id)},"object":{_string(kind)},"deleted":true}}'
