"""Cheap, hand-written checks that a 2xx body is the object the operation returns.

This is the hot path, so no schema library: only the members the GraphQL layer
relies on are checked (ids, timestamps in Unix seconds, role and status within
the GraphQL enums, content, metadata, the list envelope), and the optional ones a
lenient provider may leave out are filled in with the spec's defaults (``null``
where the spec allows it), so that readers can index every member without
``.get``. The dicts are the parsed JSON, changed in place: no copies.

A check that fails raises ``ShapeError`` with a short reason that names a member,
never a value; the session turns it into ``UpstreamResponseError``.
"""

from __future__ import annotations

from typing import Any, cast

from gateway.upstream._types import (
    DeletedObject,
    ErrorBody,
    MessageList,
    MessageObject,
    ThreadObject,
)
from gateway.wire_contract import MESSAGE_ROLES, MESSAGE_STATUSES

__all__ = [
    "ShapeError",
    "deleted_message",
    "deleted_thread",
    "error_body",
    "message",
    "message_list",
    "thread",
]


class ShapeError(ValueError):
    """The body is not the expected object; the message says which member is wrong."""


def _object(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ShapeError(f"{what} is not a JSON object")
    return data


def _str(data: dict[str, Any], key: str, what: str) -> None:
    if not isinstance(data.get(key), str):
        raise ShapeError(f"{what} has no string '{key}'")


# Unix seconds up to 9999-12-31: a millisecond timestamp (or worse) is refused here
# rather than failing later when it is formatted as a DateTime.
_MAX_SECONDS = 253_402_300_799


def _timestamp(data: dict[str, Any], key: str, what: str, *, optional: bool = False) -> None:
    value = data.get(key)
    if value is None and optional:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _MAX_SECONDS:
        raise ShapeError(f"{what} has no Unix-seconds '{key}'")


def _choice(data: dict[str, Any], key: str, what: str, allowed: frozenset[str]) -> None:
    value = data.get(key)
    if not isinstance(value, str) or value not in allowed:  # a list is not even hashable
        raise ShapeError(f"{what} has an unknown '{key}'")


def _optional(data: dict[str, Any], key: str, what: str, kind: type) -> None:
    value = data.get(key)
    if value is not None and not isinstance(value, kind):
        raise ShapeError(f"{what} has a '{key}' of the wrong type")


def _metadata(data: dict[str, Any], what: str) -> None:
    value = data.get("metadata")
    if value is None:
        return
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ShapeError(f"{what} has a 'metadata' that is not a string map")


# The enums of the GraphQL contract: a value outside them cannot be shown.
_ROLES = frozenset(MESSAGE_ROLES)
_STATUSES = frozenset(MESSAGE_STATUSES)


_THREAD_DEFAULTS: tuple[tuple[str, Any], ...] = (
    ("object", "thread"),
    ("metadata", None),
    ("tool_resources", None),
)

_MESSAGE_DEFAULTS: tuple[tuple[str, Any], ...] = (
    ("object", "thread.message"),
    ("incomplete_details", None),
    ("completed_at", None),
    ("incomplete_at", None),
    ("assistant_id", None),
    ("run_id", None),
    ("attachments", None),
    ("metadata", None),
)


def thread(data: Any) -> ThreadObject:
    """A ThreadObject: string ``id``, integer ``created_at``."""
    obj = _object(data, "thread")
    _str(obj, "id", "thread")
    _timestamp(obj, "created_at", "thread")
    _metadata(obj, "thread")
    _optional(obj, "tool_resources", "thread", dict)
    for key, default in _THREAD_DEFAULTS:
        if key not in obj:
            obj[key] = default
    return cast(ThreadObject, obj)


_MESSAGE_KEYS = frozenset(key for key, _ in _MESSAGE_DEFAULTS)


def _plain_message(obj: Any) -> bool:
    """Does ``obj`` pass every check of ``message`` at once? One expression for the
    common case (a page holds up to 100 messages); ``message`` names what is wrong."""
    if type(obj) is not dict:
        return False
    get = obj.get
    role, status = get("role"), get("status")
    created, completed, incomplete = get("created_at"), get("completed_at"), get("incomplete_at")
    metadata, content = get("metadata"), get("content")
    attachments, details = get("attachments"), get("incomplete_details")
    return (
        type(get("id")) is str
        and type(get("thread_id")) is str
        and type(created) is int
        and 0 <= created <= _MAX_SECONDS
        and (completed is None or (type(completed) is int and 0 <= completed <= _MAX_SECONDS))
        and (incomplete is None or (type(incomplete) is int and 0 <= incomplete <= _MAX_SECONDS))
        and type(role) is str
        and role in _ROLES
        and type(status) is str
        and status in _STATUSES
        and (
            metadata is None
            or (type(metadata) is dict and all(type(v) is str for v in metadata.values()))
        )
        and (attachments is None or type(attachments) is list)
        and (details is None or type(details) is dict)
        and type(content) is list
        and all(type(part) is dict for part in content)
    )


def message(data: Any) -> MessageObject:
    """A MessageObject: string ids, known role and status, Unix-second timestamps,
    a list of parts, string-map metadata."""
    if _plain_message(data):
        if not data.keys() >= _MESSAGE_KEYS:
            for key, default in _MESSAGE_DEFAULTS:
                if key not in data:
                    data[key] = default
        return cast(MessageObject, data)
    obj = _object(data, "message")
    _str(obj, "id", "message")
    _str(obj, "thread_id", "message")
    _timestamp(obj, "created_at", "message")
    _timestamp(obj, "completed_at", "message", optional=True)
    _timestamp(obj, "incomplete_at", "message", optional=True)
    _choice(obj, "role", "message", _ROLES)
    _choice(obj, "status", "message", _STATUSES)
    _metadata(obj, "message")
    _optional(obj, "attachments", "message", list)
    _optional(obj, "incomplete_details", "message", dict)
    content = obj.get("content")
    if not isinstance(content, list):
        raise ShapeError("message has no list 'content'")
    for part in content:
        if not isinstance(part, dict):
            raise ShapeError("message 'content' holds a part that is not an object")
    for key, default in _MESSAGE_DEFAULTS:
        if key not in obj:
            obj[key] = default
    return cast(MessageObject, obj)


def message_list(data: Any) -> MessageList:
    """The list envelope: a ``data`` list of messages and a boolean ``has_more``."""
    obj = _object(data, "message list")
    items = obj.get("data")
    if not isinstance(items, list):
        raise ShapeError("message list has no list 'data'")
    if not isinstance(obj.get("has_more"), bool):
        raise ShapeError("message list has no boolean 'has_more'")
    for item in items:
        message(item)
    if "object" not in obj:
        obj["object"] = "list"
    if "first_id" not in obj:
        obj["first_id"] = items[0]["id"] if items else None
    if "last_id" not in obj:
        obj["last_id"] = items[-1]["id"] if items else None
    return cast(MessageList, obj)


def _deleted(data: Any, what: str, kind: str) -> DeletedObject:
    obj = _object(data, what)
    _str(obj, "id", what)
    if not isinstance(obj.get("deleted"), bool):
        raise ShapeError(f"{what} has no boolean 'deleted'")
    if "object" not in obj:
        obj["object"] = kind
    return cast(DeletedObject, obj)


def deleted_thread(data: Any) -> DeletedObject:
    return _deleted(data, "deleted thread", "thread.deleted")


def deleted_message(data: Any) -> DeletedObject:
    return _deleted(data, "deleted message", "thread.message.deleted")


def error_body(data: Any) -> ErrorBody | None:
    """The ``error`` member of an error response, normalised; ``None`` when there is none.

    Providers differ: ``code`` may be a number, ``error`` may be a bare string.
    """
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if isinstance(error, str):
        return ErrorBody(message=error, type="", param=None, code=None)
    if not isinstance(error, dict):
        return None
    text = error.get("message")
    kind = error.get("type")
    param = error.get("param")
    code = error.get("code")
    return ErrorBody(
        message=text if isinstance(text, str) else "",
        type=kind if isinstance(kind, str) else "",
        param=param if isinstance(param, str) else None,
        code=None if code is None or isinstance(code, dict | list) else str(code),
    )
