"""``Query.viewer``: the caller, and its threads as a Relay connection (DESIGN §4b).

``viewer.threads`` is one thread-index query per page (``gateway.thread_index``):
with owner isolation (``OWNER_METADATA_KEY``) only the threads stamped with the
caller's subject; in passthrough (remote upstream, no gateway auth: the caller's
bearer is its upstream key) only the rows recorded with the caller's key; else
every thread the gateway knows. Cursors are opaque
keysets (``cursors``); ``pageInfo`` is exact both ways.

What a page costs upstream: nothing on the embedded store (the index carries the
stored threads, which also prime the thread loader), and over a remote upstream
nothing either unless the selection asks for a field the index does not hold
(``metadata``, ``toolResources``): then each thread through the thread loader,
one call per distinct thread, shared with the rest of the operation. A thread the
upstream no longer has (deleted elsewhere) or no longer gives this caller is left
out of the page (and, when missing, out of the index). Messages cost what
``Thread.messages`` costs.
"""

from __future__ import annotations

import asyncio
import json

import strawberry
from strawberry import UNSET, Private
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from gateway.schema.arguments import relay_window
from gateway.schema.context import Info
from gateway.schema.costs import page_size, upstream_field
from gateway.schema.enums import SortOrder, ThreadOrderField
from gateway.schema.errors import ErrorCode, GatewayError
from gateway.schema.loaders import Loaders
from gateway.schema.types import PageInfo, Thread
from gateway.store import wire
from gateway.store.thread_index import IndexedThread, SortKey
from gateway.thread_index import (
    InvalidCursorError,
    ThreadPage,
    ThreadPageQuery,
    decode_cursor,
    encode_cursor,
)
from gateway.upstream import NotFoundError, ThreadObject

__all__ = ["ThreadConnection", "ThreadEdge", "Viewer"]

_UPSTREAM_ONLY_FIELDS = frozenset({"metadata", "toolResources"})
"""Thread fields a recorded (remote) index does not hold."""


@strawberry.type
class ThreadEdge:
    cursor: str
    node: Thread


@strawberry.type(description="Relay connection of the viewer's threads; cursors are opaque.")
class ThreadConnection:
    nodes: list[Thread]
    page_info: PageInfo
    cursors: Private[list[str]]

    @strawberry.field
    def edges(self) -> list[ThreadEdge]:
        return [
            ThreadEdge(cursor=cursor, node=node)
            for cursor, node in zip(self.cursors, self.nodes, strict=True)
        ]


def _selects(selections: list[Selection], names: frozenset[str]) -> bool:
    """Whether a node selection (fragments included) asks for any of ``names``."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name in names:
                return True
        elif isinstance(selection, (FragmentSpread, InlineFragment)) and _selects(
            selection.selections, names
        ):
            return True
    return False


def _node_selections(info: Info) -> list[Selection]:
    """The selections made on the connection's threads (``nodes``, ``edges.node``)."""
    found: list[Selection] = []

    def walk(selections: list[Selection], path: tuple[str, ...]) -> None:
        for selection in selections:
            if isinstance(selection, SelectedField):
                if selection.name == "nodes" and not path:
                    found.extend(selection.selections)
                elif selection.name == "edges" and not path:
                    walk(selection.selections, ("edges",))
                elif selection.name == "node" and path == ("edges",):
                    found.extend(selection.selections)
            elif isinstance(selection, (FragmentSpread, InlineFragment)):
                walk(selection.selections, path)

    for field in info.selected_fields:
        walk(field.selections, ())
    return found


def _stored(row: IndexedThread) -> ThreadObject:
    assert row.thread is not None
    found: ThreadObject = json.loads(wire.thread_json(row.thread))
    return found


def _placeholder(row: IndexedThread) -> ThreadObject:
    """A thread known by id and times only: no field of it reads the rest."""
    return {
        "id": row.thread_id,
        "object": "thread",
        "created_at": row.created_at,
        "metadata": None,
        "tool_resources": None,
    }


async def _threads(loaders: Loaders, info: Info, page: ThreadPage, *, exact: bool) -> list[Thread]:
    if exact:
        nodes = []
        for row in page.rows:
            if row.thread is None:  # gone between the index and the join: not in the page
                continue
            thread = _stored(row)
            loaders.known_thread(thread)
            nodes.append(Thread.from_wire(thread, activity=row.last_activity_at))
        return nodes
    if not _selects(_node_selections(info), _UPSTREAM_ONLY_FIELDS):
        return [Thread.from_wire(_placeholder(row), row.last_activity_at) for row in page.rows]
    fetched = await asyncio.gather(
        *(loaders.threads.load(row.thread_id) for row in page.rows), return_exceptions=True
    )
    nodes = []
    for row, outcome in zip(page.rows, fetched, strict=True):
        if isinstance(outcome, NotFoundError):
            continue
        if isinstance(outcome, GatewayError) and outcome.code == ErrorCode.FORBIDDEN:
            continue
        if isinstance(outcome, BaseException):
            raise outcome
        nodes.append(Thread.from_wire(outcome, activity=row.last_activity_at))
    return nodes


_EMPTY_PAGE = PageInfo(
    has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None
)


def _sort_key(row_of: Thread, sort: SortKey) -> int:
    if sort == "created_at":
        return row_of.created_at
    assert row_of.activity is not None
    return row_of.activity


@strawberry.type(description="The caller of this operation, and what belongs to it.")
class Viewer:
    subject: str | None = strawberry.field(
        description=(
            "The caller's subject (JWT sub, or token:<12 hex>); null when the gateway runs "
            "without authentication."
        )
    )
    owner: Private[str | None]
    """The owner filter: the subject under owner isolation, else ``None`` (every thread)."""
    isolated: Private[bool]

    @upstream_field(
        page_size,
        page_size,
        description=(
            "The caller's threads: with owner isolation, those stamped with the caller's "
            "subject; over a remote upstream without authentication, those read or made "
            "with the caller's bearer; otherwise every thread the gateway knows. Keyset "
            "cursors; pageInfo both ways."
        ),
    )
    async def threads(
        self,
        info: Info,
        first: int | None = UNSET,
        after: str | None = UNSET,
        last: int | None = UNSET,
        before: str | None = UNSET,
        order_by: ThreadOrderField = ThreadOrderField.LAST_ACTIVITY,
        order: SortOrder = SortOrder.DESC,
    ) -> ThreadConnection:
        """One index query; upstream only for fields the index lacks (module docstring)."""
        window = relay_window(first=first, after=after, last=last, before=before)
        sort: SortKey = order_by.value
        cursor = None
        if window.cursor is not None:
            argument = "before" if window.backward else "after"
            try:
                cursor = decode_cursor(sort, window.cursor)
            except InvalidCursorError:
                raise GatewayError(
                    f"Invalid '{argument}': not a cursor of viewer.threads ordered by "
                    f"{order_by.name}.",
                    ErrorCode.BAD_USER_INPUT,
                    {"argument": argument},
                ) from None
        index = info.context.thread_index
        if index is None or (self.isolated and self.owner is None):
            return ThreadConnection(nodes=[], page_info=_EMPTY_PAGE, cursors=[])
        page = await index.page(
            ThreadPageQuery(
                owner=self.owner,
                sort=sort,
                descending=order is SortOrder.DESC,
                backward=window.backward,
                cursor=cursor,
                limit=window.limit,
            )
        )
        # The index's threads; over a remote upstream, metadata through the thread loader.
        nodes = await _threads(info.context.loaders, info, page, exact=index.exact)
        cursors = [encode_cursor(sort, _sort_key(node, sort), node.id) for node in nodes]
        return ThreadConnection(
            nodes=nodes,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=cursors[0] if cursors else None,
                end_cursor=cursors[-1] if cursors else None,
            ),
            cursors=cursors,
        )


def viewer_of(info: Info) -> Viewer:
    """The viewer of this request: owner isolation is on with ``OWNER_METADATA_KEY``;
    in passthrough (no gateway auth, the caller's key forwarded) the caller's rows are
    its key's holder's."""
    context = info.context
    if context.index_holder is not None:
        return Viewer(subject=context.subject, owner=context.index_holder, isolated=True)
    isolated = context.settings.owner_metadata_key is not None
    return Viewer(
        subject=context.subject,
        owner=context.subject if isolated else None,
        isolated=isolated,
    )
