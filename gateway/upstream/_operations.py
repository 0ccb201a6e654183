"""The nine Threads & Messages operations, as a table: name, method, and the check of the answer.

``UpstreamSession`` has one method per row; each builds the URL (ids checked and
percent-encoded) and hands its ``Operation`` to the request loop, which reads
everything else from here: the operationId that names the call in errors, logs and
metrics; the HTTP method, which decides retries (``_retry.IDEMPOTENT_METHODS``) and
the circuit (reads and writes have one each, ``_breaker``); and the check that turns
a 2xx body into the typed object (``_validate``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from gateway.upstream import _validate as validate
from gateway.upstream._ids import check_id
from gateway.upstream._types import (
    JSONObject,
    ListMessagesParams,
)

__all__ = [
    "CREATE_MESSAGE",
    "CREATE_THREAD",
    "DELETE_MESSAGE",
    "DELETE_THREAD",
    "GET_MESSAGE",
    "GET_THREAD",
    "LIST_MESSAGES",
    "MODIFY_MESSAGE",
    "MODIFY_THREAD",
    "Operation",
    "encode_body",
    "list_query",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Operation(Generic[T]):
    """One upstream operation: its operationId, HTTP method and answer check."""

    name: str
    method: str
    decode: Callable[[Any], T]

    @property
    def reads(self) -> bool:
        """A read (GET) goes through the read circuit; anything else is a write."""
        return self.method == "GET"


CREATE_THREAD = Operation("createThread", "POST", validate.thread)
GET_THREAD = Operation("getThread", "GET", validate.thread)
MODIFY_THREAD = Operation("modifyThread", "POST", validate.thread)
DELETE_THREAD = Operation("deleteThread", "DELETE", validate.deleted_thread)
CREATE_MESSAGE = Operation("createMessage", "POST", validate.message)
LIST_MESSAGES = Operation("listMessages", "GET", validate.message_list)
GET_MESSAGE = Operation("getMessage", "GET", validate.message)
MODIFY_MESSAGE = Operation("modifyMessage", "POST", validate.message)
DELETE_MESSAGE = Operation("deleteMessage", "DELETE", validate.deleted_message)

_LIST_PARAMS = ("limit", "order", "after", "before", "run_id")


def encode_body(body: JSONObject) -> bytes:
    """A request body as compact UTF-8 JSON (NaN and infinities refused)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def list_query(operation: str, params: ListMessagesParams) -> str:
    """The listMessages query string, with only the parameters given, in a fixed order."""
    if not params:
        return ""
    given = cast("dict[str, object]", params)
    parts: list[str] = []
    for name in _LIST_PARAMS:
        value = given.get(name)
        if value is None:
            continue
        if name == "limit":
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError("limit must be an int")
            parts.append(f"limit={value}")
        elif name == "order":
            if value not in ("asc", "desc"):
                raise ValueError("order must be 'asc' or 'desc'")
            parts.append(f"order={value}")
        else:
            parts.append(f"{name}={check_id(name, value, operation=operation)}")
    return "?" + "&".join(parts) if parts else ""
