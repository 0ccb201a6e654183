"""The object types: ``Thread``, ``Message`` and the message connection.

Each is built from the upstream's JSON by ``from_wire``: scalar fields become
plain attributes (cheap to resolve), while nested parts (content, attachments,
tool resources) are converted only when a query selects them.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import ID, UNSET, Private

from gateway.schema.arguments import PageRequest, page_request
from gateway.schema.content import MessageContent, content_from_wire, text_of
from gateway.schema.context import Info
from gateway.schema.costs import page_size, upstream_field
from gateway.schema.enums import (
    AttachmentTool,
    IncompleteReason,
    MessageRole,
    MessageStatus,
    SortOrder,
)
from gateway.schema.node import Node
from gateway.schema.scalars import DateTime, Metadata
from gateway.upstream import MessageList, MessageObject, ThreadObject

__all__ = [
    "Attachment",
    "CodeInterpreterResources",
    "FileSearchResources",
    "IncompleteDetails",
    "Message",
    "MessageConnection",
    "MessageEdge",
    "PageInfo",
    "Thread",
    "ToolResources",
    "load_connection",
]


@strawberry.type
class CodeInterpreterResources:
    file_ids: list[str]


@strawberry.type
class FileSearchResources:
    vector_store_ids: list[str]


@strawberry.type
class ToolResources:
    code_interpreter: CodeInterpreterResources | None
    file_search: FileSearchResources | None

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> ToolResources:
        code = raw.get("code_interpreter")
        search = raw.get("file_search")
        return cls(
            code_interpreter=(
                CodeInterpreterResources(file_ids=list(code.get("file_ids") or []))
                if isinstance(code, dict)
                else None
            ),
            file_search=(
                FileSearchResources(vector_store_ids=list(search.get("vector_store_ids") or []))
                if isinstance(search, dict)
                else None
            ),
        )


@strawberry.type
class IncompleteDetails:
    reason: IncompleteReason


@strawberry.type
class Attachment:
    file_id: str | None
    tools: list[AttachmentTool]


def _attachment(raw: dict[str, Any]) -> Attachment:
    tools = [
        AttachmentTool(tool["type"])
        for tool in raw.get("tools") or ()
        if isinstance(tool, dict) and tool.get("type") in ("code_interpreter", "file_search")
    ]
    return Attachment(file_id=raw.get("file_id"), tools=tools)


async def _last_activity_at(root: Thread, info: Info) -> DateTime:
    """From the index row the thread came with, else one batched index lookup."""
    if root.activity is not None:
        return max(root.activity, root.created_at)
    return await info.context.activity.of(root.id, root.created_at)


@strawberry.type
class Thread(Node):
    id: ID
    created_at: DateTime
    metadata: Metadata
    wire: Private[ThreadObject]
    activity: Private[int | None]
    """The last activity, when the thread came from the thread index."""

    @classmethod
    def from_wire(cls, thread: ThreadObject, activity: int | None = None) -> Thread:
        return cls(
            id=ID(thread["id"]),
            created_at=thread["created_at"],
            metadata=thread.get("metadata") or {},
            wire=thread,
            activity=activity,
        )

    last_activity_at: DateTime = strawberry.field(
        resolver=_last_activity_at,
        description=(
            "The later of createdAt and the newest message's createdAt (exact on the "
            "embedded store; over a remote upstream, as seen through this gateway: its "
            "writes, its reads, its polls)."
        ),
    )

    @strawberry.field
    def tool_resources(self) -> ToolResources | None:
        raw = self.wire.get("tool_resources")
        return ToolResources.from_wire(raw) if isinstance(raw, dict) else None

    @upstream_field(1, page_size)
    async def messages(
        self,
        info: Info,
        first: int | None = UNSET,
        after: str | None = UNSET,
        last: int | None = UNSET,
        before: str | None = UNSET,
        order: SortOrder = SortOrder.DESC,
        run_id: ID | None = UNSET,
    ) -> MessageConnection:
        request = page_request(
            self.id, first=first, after=after, last=last, before=before, order=order, run_id=run_id
        )
        return await load_connection(info, request)


_ROLES = {role.value: role for role in MessageRole}
_STATUSES = {status.value: status for status in MessageStatus}


@strawberry.type
class Message:
    id: ID
    thread_id: ID
    role: MessageRole
    status: MessageStatus
    created_at: DateTime
    completed_at: DateTime | None
    incomplete_at: DateTime | None
    assistant_id: ID | None
    run_id: ID | None
    metadata: Metadata
    wire: Private[MessageObject]

    @classmethod
    def from_wire(cls, message: MessageObject) -> Message:
        # The upstream client checked role and status against these enums (_validate.py);
        # a dict lookup costs a third of Enum's own ``MessageRole(value)``, 50 times a page.
        return cls(
            id=message["id"],  # type: ignore[arg-type]
            thread_id=message["thread_id"],  # type: ignore[arg-type]
            role=_ROLES[message["role"]],
            status=_STATUSES[message["status"]],
            created_at=message["created_at"],
            completed_at=message.get("completed_at"),
            incomplete_at=message.get("incomplete_at"),
            assistant_id=message.get("assistant_id"),  # type: ignore[arg-type]
            run_id=message.get("run_id"),  # type: ignore[arg-type]
            metadata=message.get("metadata") or {},
            wire=message,
        )

    @upstream_field()
    async def thread(self, info: Info) -> Thread | None:
        """The message's thread, through the thread loader (one call per distinct thread)."""
        return Thread.from_wire(await info.context.loaders.threads.load(self.thread_id))

    @strawberry.field
    def content(self) -> list[MessageContent]:
        return content_from_wire(self.wire["content"])

    @strawberry.field
    def text(self) -> str:
        """The text parts' values, in order, joined by a newline."""
        return text_of(self.wire["content"])

    @strawberry.field
    def incomplete_details(self) -> IncompleteDetails | None:
        details = self.wire.get("incomplete_details")
        if not isinstance(details, dict):
            return None
        try:
            return IncompleteDetails(reason=IncompleteReason(details.get("reason")))
        except ValueError:
            return None

    @strawberry.field
    def attachments(self) -> list[Attachment]:
        return [_attachment(a) for a in self.wire.get("attachments") or () if isinstance(a, dict)]


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class MessageEdge:
    cursor: str
    node: Message


@strawberry.type(description="Relay connection of messages; a cursor is the message id.")
class MessageConnection:
    nodes: list[Message]
    page_info: PageInfo

    @strawberry.field
    def edges(self) -> list[MessageEdge]:
        return [MessageEdge(cursor=node.id, node=node) for node in self.nodes]


def _connection(request: PageRequest, page: MessageList) -> MessageConnection:
    data = page["data"]
    if request.backward:
        data = data[::-1]
    nodes = [Message.from_wire(message) for message in data]
    more = bool(page["has_more"])
    cursor_given = request.cursor is not None
    return MessageConnection(
        nodes=nodes,
        page_info=PageInfo(
            has_next_page=cursor_given if request.backward else more,
            has_previous_page=more if request.backward else cursor_given,
            start_cursor=nodes[0].id if nodes else None,
            end_cursor=nodes[-1].id if nodes else None,
        ),
    )


async def load_connection(info: Info, request: PageRequest) -> MessageConnection:
    """One page of a thread's messages, through the page loader."""
    return _connection(request, await info.context.loaders.pages.load(request.key))
