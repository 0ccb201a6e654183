"""Mutation inputs and their translation into upstream request bodies.

Translation checks what the GraphQL type system cannot (exactly one of
``text``/``content``, a non-empty ``content``) and reports a problem as an
``InvalidInputError`` carrying the path into the input, which mutations turn into a
``UserError`` before any upstream call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import strawberry
from strawberry import ID, UNSET

from gateway.schema.enums import AttachmentTool, ImageDetail, MessageRole
from gateway.schema.scalars import Metadata
from gateway.upstream import JSONObject

__all__ = [
    "AttachmentInput",
    "CodeInterpreterResourcesInput",
    "CreateMessageInput",
    "CreateThreadInput",
    "DeleteMessageInput",
    "DeleteThreadInput",
    "FileSearchResourcesInput",
    "ImageFileInput",
    "ImageUrlInput",
    "InvalidInputError",
    "MessageContentInput",
    "ThreadMessageInput",
    "ToolResourcesInput",
    "UpdateMessageInput",
    "UpdateThreadInput",
    "message_body",
    "thread_body",
    "tool_resources_body",
]


@dataclass
class InvalidInputError(Exception):
    """Input the upstream would reject, found before calling it."""

    field: list[str]
    message: str


@strawberry.input
class ImageFileInput:
    file_id: str
    detail: ImageDetail | None = UNSET


@strawberry.input
class ImageUrlInput:
    url: str
    detail: ImageDetail | None = UNSET


@strawberry.input(one_of=True, description="Exactly one content part.")
class MessageContentInput:
    text: str | None = UNSET
    image_file: ImageFileInput | None = UNSET
    image_url: ImageUrlInput | None = UNSET


@strawberry.input
class AttachmentInput:
    file_id: str
    tools: list[AttachmentTool]


@strawberry.input
class CodeInterpreterResourcesInput:
    file_ids: list[str]


@strawberry.input
class FileSearchResourcesInput:
    vector_store_ids: list[str]


@strawberry.input
class ToolResourcesInput:
    code_interpreter: CodeInterpreterResourcesInput | None = UNSET
    file_search: FileSearchResourcesInput | None = UNSET


@strawberry.input(description="A message of a new thread: give exactly one of text or content.")
class ThreadMessageInput:
    role: MessageRole = MessageRole.USER
    text: str | None = UNSET
    content: list[MessageContentInput] | None = UNSET
    attachments: list[AttachmentInput] | None = UNSET
    metadata: Metadata | None = UNSET


@strawberry.input
class CreateThreadInput:
    messages: list[ThreadMessageInput] | None = UNSET
    metadata: Metadata | None = UNSET
    tool_resources: ToolResourcesInput | None = UNSET


@strawberry.input(description="A new message: give exactly one of text or content.")
class CreateMessageInput:
    thread_id: ID
    role: MessageRole = MessageRole.USER
    text: str | None = UNSET
    content: list[MessageContentInput] | None = UNSET
    attachments: list[AttachmentInput] | None = UNSET
    metadata: Metadata | None = UNSET


@strawberry.input
class UpdateThreadInput:
    id: ID
    metadata: Metadata | None = UNSET
    tool_resources: ToolResourcesInput | None = UNSET


@strawberry.input
class DeleteThreadInput:
    id: ID


@strawberry.input
class UpdateMessageInput:
    thread_id: ID
    id: ID
    metadata: Metadata


@strawberry.input
class DeleteMessageInput:
    thread_id: ID
    id: ID


def _given(value: object) -> bool:
    return value is not UNSET and value is not None


def _image(file_or_url: ImageFileInput | ImageUrlInput) -> JSONObject:
    if isinstance(file_or_url, ImageFileInput):
        image: JSONObject = {"file_id": file_or_url.file_id}
    else:
        image = {"url": file_or_url.url}
    if _given(file_or_url.detail):
        image["detail"] = file_or_url.detail.value  # type: ignore[union-attr]
    return image


def _part(part: MessageContentInput) -> JSONObject:
    if _given(part.text):
        return {"type": "text", "text": part.text}
    if _given(part.image_file):
        return {"type": "image_file", "image_file": _image(part.image_file)}  # type: ignore[arg-type]
    return {"type": "image_url", "image_url": _image(part.image_url)}  # type: ignore[arg-type]


def message_body(
    message: ThreadMessageInput | CreateMessageInput, path: Sequence[str] = ()
) -> JSONObject:
    """The upstream body of one message input (createMessage, or an item of createThread)."""
    has_text, has_content = _given(message.text), _given(message.content)
    if has_text == has_content:
        raise InvalidInputError([*path, "text"], "Give exactly one of 'text' or 'content'.")
    body: JSONObject = {"role": message.role.value}
    if has_text:
        body["content"] = message.text
    else:
        parts: list[MessageContentInput] = message.content  # type: ignore[assignment]
        if not parts:
            raise InvalidInputError([*path, "content"], "'content' needs at least one part.")
        body["content"] = [_part(part) for part in parts]
    if _given(message.attachments):
        body["attachments"] = [
            {"file_id": a.file_id, "tools": [{"type": tool.value} for tool in a.tools]}
            for a in message.attachments  # type: ignore[union-attr]
        ]
    if _given(message.metadata):
        body["metadata"] = message.metadata
    return body


def tool_resources_body(resources: ToolResourcesInput) -> JSONObject:
    body: JSONObject = {}
    if _given(resources.code_interpreter):
        body["code_interpreter"] = {"file_ids": list(resources.code_interpreter.file_ids)}  # type: ignore[union-attr]
    if _given(resources.file_search):
        body["file_search"] = {
            "vector_store_ids": list(resources.file_search.vector_store_ids)  # type: ignore[union-attr]
        }
    return body


def thread_body(thread: CreateThreadInput | UpdateThreadInput) -> JSONObject:
    """The upstream body of createThread or modifyThread."""
    body: JSONObject = {}
    if isinstance(thread, CreateThreadInput) and _given(thread.messages):
        body["messages"] = [
            message_body(message, ["messages", str(index)])
            for index, message in enumerate(thread.messages)  # type: ignore[arg-type]
        ]
    if _given(thread.metadata):
        body["metadata"] = thread.metadata
    if _given(thread.tool_resources):
        body["tool_resources"] = tool_resources_body(thread.tool_resources)  # type: ignore[arg-type]
    return body
