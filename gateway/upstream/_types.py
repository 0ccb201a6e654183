"""The upstream wire objects, as typed dictionaries.

They are the JSON the Threads & Messages API returns, kept as plain dicts end to
end: parsing them into classes would cost CPU on the hot path for nothing, and the
GraphQL types read them directly.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

__all__ = [
    "DeletedObject",
    "ErrorBody",
    "JSONObject",
    "ListMessagesParams",
    "MessageList",
    "MessageObject",
    "ThreadObject",
]

JSONObject = dict[str, Any]


class ThreadObject(TypedDict):
    id: str
    object: Literal["thread"]
    created_at: int
    metadata: dict[str, str] | None
    tool_resources: JSONObject | None


class MessageObject(TypedDict):
    id: str
    object: Literal["thread.message"]
    created_at: int
    thread_id: str
    status: str
    incomplete_details: JSONObject | None
    completed_at: int | None
    incomplete_at: int | None
    role: str
    content: list[JSONObject]
    assistant_id: str | None
    run_id: str | None
    attachments: list[JSONObject] | None
    metadata: dict[str, str] | None


class MessageList(TypedDict):
    object: Literal["list"]
    data: list[MessageObject]
    first_id: str | None
    last_id: str | None
    has_more: bool


class DeletedObject(TypedDict):
    id: str
    object: str
    deleted: bool


class ErrorBody(TypedDict):
    """The ``error`` member of the upstream error envelope."""

    message: str
    type: str
    param: str | None
    code: str | None


class ListMessagesParams(TypedDict):
    """Query parameters of listMessages; absent keys are not sent."""

    limit: NotRequired[int]
    order: NotRequired[Literal["asc", "desc"]]
    after: NotRequired[str]
    before: NotRequired[str]
    run_id: NotRequired[str]
