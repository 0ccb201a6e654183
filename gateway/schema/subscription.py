"""``Subscription``: live threads (DESIGN §4b, §13), over graphql-transport-ws and graphql-sse.

The resolvers ask the live hub (``gateway.live.hub``) of the connection
(``Context.live``) and turn each of its items into the event type of the
same name. ``threadEvents`` reaches the upstream (the owner check, and the
replay after ``after``), so it declares its cost like any other field.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry import ID, UNSET

from gateway.errors import ErrorCode
from gateway.live.hub import LiveAccess, StreamItem
from gateway.schema.context import Info
from gateway.schema.costs import upstream_cost
from gateway.schema.errors import GatewayError
from gateway.schema.types import Message, Thread
from gateway.store.events import EventKind

__all__ = [
    "MessageCreated",
    "MessageDeleted",
    "MessageUpdated",
    "Subscription",
    "ThreadCreated",
    "ThreadDeleted",
    "ThreadEvent",
    "ThreadUpdated",
    "ViewerThreadEvent",
]


@strawberry.type
class MessageCreated:
    message: Message


@strawberry.type
class MessageUpdated:
    message: Message


@strawberry.type
class MessageDeleted:
    thread_id: ID
    message_id: ID


@strawberry.type
class ThreadCreated:
    thread: Thread


@strawberry.type
class ThreadUpdated:
    thread: Thread


@strawberry.type
class ThreadDeleted:
    thread_id: ID


ThreadEvent = Annotated[
    MessageCreated | MessageUpdated | MessageDeleted | ThreadUpdated | ThreadDeleted,
    strawberry.union("ThreadEvent"),
]
ViewerThreadEvent = Annotated[
    ThreadCreated | ThreadUpdated | ThreadDeleted, strawberry.union("ViewerThreadEvent")
]


def _event(
    item: StreamItem,
) -> (
    MessageCreated | MessageUpdated | MessageDeleted | ThreadCreated | ThreadUpdated | ThreadDeleted
):
    obj = item.object
    if item.kind == EventKind.MESSAGE_CREATED:
        return MessageCreated(message=Message.from_wire(obj))  # type: ignore[arg-type]
    if item.kind == EventKind.MESSAGE_UPDATED:
        return MessageUpdated(message=Message.from_wire(obj))  # type: ignore[arg-type]
    if item.kind == EventKind.MESSAGE_DELETED:
        return MessageDeleted(thread_id=ID(obj["thread_id"]), message_id=ID(obj["id"]))
    if item.kind == EventKind.THREAD_CREATED:
        return ThreadCreated(thread=Thread.from_wire(obj))  # type: ignore[arg-type]
    if item.kind == EventKind.THREAD_UPDATED:
        return ThreadUpdated(thread=Thread.from_wire(obj))  # type: ignore[arg-type]
    return ThreadDeleted(thread_id=ID(obj["id"]))


def _access(info: Info) -> LiveAccess:
    access = info.context.live
    if access is None:
        raise GatewayError(
            "Subscriptions are served over WebSocket (graphql-transport-ws) or "
            "server-sent events (graphql-sse) on /graphql.",
            ErrorCode.BAD_USER_INPUT,
        )
    return access


@strawberry.type
class Subscription:
    @strawberry.subscription(  # type: ignore[untyped-decorator]
        description=(
            "Every change to one thread, in commit order. With `after` (a message id the "
            "client already has): first a MessageCreated for every message created after "
            "it, oldest first, then live events."
        ),
        metadata=upstream_cost(),
    )
    async def thread_events(
        self, info: Info, thread_id: ID, after: ID | None = UNSET
    ) -> AsyncGenerator[ThreadEvent, None]:
        access = _access(info)
        async with access.hub.slot(access, "threadEvents"):
            async for item in access.hub.thread_events(access, str(thread_id), after or None):
                yield _event(item)  # type: ignore[misc]

    @strawberry.subscription(  # type: ignore[untyped-decorator]
        description=(
            "Changes to the viewer's thread list: created, updated (metadata, tool "
            "resources, or new activity: lastActivityAt moved), deleted."
        )
    )
    async def viewer_thread_events(self, info: Info) -> AsyncGenerator[ViewerThreadEvent, None]:
        access = _access(info)
        async with access.hub.slot(access, "viewerThreadEvents"):
            async for item in access.hub.viewer_events(access):
                yield _event(item)  # type: ignore[misc]
