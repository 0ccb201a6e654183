"""Rendering stored rows (``rows``) as the API's JSON objects.

Content, attachments, metadata and tool resources are stored as JSON text, so
a response is assembled by splicing those texts between the scalar fields
instead of decoding them and encoding them again: rendering stays cheap on
the event loop, whichever backend read the row. Field names and order follow
the real API's responses.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from gateway.store.rows import MessagePage, MessageRow, ThreadRow

__all__ = [
    "deleted_json",
    "dump",
    "list_json",
    "message_json",
    "page_json",
    "thread_json",
]

_string = json.JSONEncoder(ensure_ascii=False).encode


def dump(value: Any) -> str:
    """The stored JSON text of a validated value: compact, UTF-8 kept as is."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _nullable_string(value: str | None) -> str:
    return "null" if value is None else _string(value)


def _nullable_int(value: int | None) -> str:
    return "null" if value is None else str(int(value))


def thread_json(row: ThreadRow) -> str:
    """A ThreadObject."""
    return (
        f'{{"id":{_string(row.id)},"object":"thread","created_at":{int(row.created_at)},'
        f'"metadata":{row.metadata},"tool_resources":{row.tool_resources}}}'
    )


def message_json(row: MessageRow) -> str:
    """A MessageObject."""
    return (
        f'{{"id":{_string(row.id)},"object":"thread.message",'
        f'"created_at":{int(row.created_at)},"assistant_id":{_nullable_string(row.assistant_id)},'
        f'"thread_id":{_string(row.thread_id)},"run_id":{_nullable_string(row.run_id)},'
        f'"role":{_string(row.role)},"status":{_string(row.status)},'
        f'"completed_at":{_nullable_int(row.completed_at)},'
        f'"incomplete_at":{_nullable_int(row.incomplete_at)},'
        f'"incomplete_details":{row.incomplete_details or "null"},'
        f'"content":{row.content},"attachments":{row.attachments},"metadata":{row.metadata}}}'
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


def page_json(page: MessagePage) -> str:
    """A page of messages as the list envelope."""
    rows = page.rows
    return list_json(
        [message_json(row) for row in rows],
        first_id=rows[0].id if rows else None,
        last_id=rows[-1].id if rows else None,
        has_more=page.has_more,
    )


def deleted_json(object_id: str, kind: str) -> str:
    """A deletion receipt: ``{"id", "object": kind, "deleted": true}``."""
    return f'{{"id":{_string(object_id)},"object":{_string(kind)},"deleted":true}}'
