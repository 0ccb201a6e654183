"""The root ``Query``: every field asks the loaders, never the upstream directly."""

from __future__ import annotations

from collections.abc import Awaitable

import strawberry
from strawberry import ID, UNSET

from gateway.schema.arguments import check_id, page_request
from gateway.schema.context import Info
from gateway.schema.costs import id_count, page_size, upstream_field
from gateway.schema.enums import SortOrder
from gateway.schema.errors import ErrorCode, GatewayError
from gateway.schema.node import Node
from gateway.schema.prefetch import selected_pages
from gateway.schema.types import Message, MessageConnection, Thread, load_connection
from gateway.schema.viewer import Viewer, viewer_of
from gateway.upstream import NotFoundError, ThreadObject
from gateway.wire_contract import THREAD_ID_PREFIX

__all__ = ["Query"]


@strawberry.type
class Query:
    @upstream_field()
    async def thread(self, info: Info, id: ID) -> Thread | None:
        thread_id = check_id(id, "id")
        loaders = info.context.loaders
        pending = loaders.threads.load(thread_id)
        loaders.prefetch_pages(thread_id, selected_pages(info))
        return Thread.from_wire(await pending)

    @upstream_field(
        description=(
            "A thread by id (owner isolation as for thread(id:)); any other id: null with "
            "NOT_FOUND."
        )
    )
    async def node(self, info: Info, id: ID) -> Node | None:
        node_id = check_id(id, "id")
        if not node_id.startswith(THREAD_ID_PREFIX):
            raise GatewayError(
                f"No node with id '{node_id}': only threads are nodes.",
                ErrorCode.NOT_FOUND,
                {"id": node_id},
            )
        loaders = info.context.loaders
        pending = loaders.threads.load(node_id)
        loaders.prefetch_pages(node_id, selected_pages(info))
        return Thread.from_wire(await pending)

    @strawberry.field
    def viewer(self, info: Info) -> Viewer:
        return viewer_of(info)

    @upstream_field(id_count, id_count)
    def threads(self, info: Info, ids: list[ID]) -> list[Thread | None]:
        """One entry per id, in order; null where no thread exists."""
        limit = info.context.settings.max_ids
        if len(ids) > limit:
            raise GatewayError(
                f"'ids' may hold at most {limit} ids; got {len(ids)}.",
                ErrorCode.BAD_USER_INPUT,
                {"argument": "ids"},
            )
        for thread_id in ids:
            check_id(thread_id, "ids")
        # Each entry resolves (and fails) on its own: graphql-core awaits list items,
        # so one failed id gives an error at its index, not a null list.
        loaders = info.context.loaders
        pages = selected_pages(info)
        entries = []
        for thread_id in ids:
            entries.append(_thread_or_none(loaders.threads.load(thread_id)))
            loaders.prefetch_pages(thread_id, pages)
        return entries  # type: ignore[return-value]

    @upstream_field()
    async def message(self, info: Info, thread_id: ID, id: ID) -> Message | None:
        key = (check_id(thread_id, "threadId"), check_id(id, "id"))
        return Message.from_wire(await info.context.loaders.messages.load(key))

    @upstream_field(1, page_size)
    async def messages(
        self,
        info: Info,
        thread_id: ID,
        first: int | None = UNSET,
        after: str | None = UNSET,
        last: int | None = UNSET,
        before: str | None = UNSET,
        order: SortOrder = SortOrder.DESC,
        run_id: ID | None = UNSET,
    ) -> MessageConnection:
        request = page_request(
            thread_id,
            first=first,
            after=after,
            last=last,
            before=before,
            order=order,
            run_id=run_id,
        )
        return await load_connection(info, request)


async def _thread_or_none(pending: Awaitable[ThreadObject]) -> Thread | None:
    try:
        return Thread.from_wire(await pending)
    except NotFoundError:
        return None
