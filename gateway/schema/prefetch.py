"""Start a thread's message pages together with the thread itself.

``thread(id: T) { messages(last: 20) { ... } }`` needs two upstream calls, and
the second does not depend on the first: the page of thread ``T`` is fully
named by ``T`` and the field's arguments. Resolving field by field would still
wait for the thread before asking for the page, doubling the screen's latency.
So ``thread(id:)`` and ``threads(ids:)`` look at their selection set once, and
put every ``messages(...)`` page it selects into the page loader at the same
time as the thread; when ``Thread.messages`` runs, its page is already on the way.

The selection is read with graphql-core's own argument coercion (literals,
variables, defaults), so the prefetched key is exactly the one the field will
ask for. A ``messages`` field under a directive (``@include``/``@skip``) is left
alone, as is anything this module does not understand: prefetching is an
optimisation, never a change of behaviour. Its one cost: when the thread does not
exist, its page was asked for too (one more call, which answers 404).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLResolveInfo,
    InlineFragmentNode,
    SelectionNode,
    get_argument_values,
)

from gateway.schema.arguments import PageKey, page_request
from gateway.schema.enums import SortOrder
from gateway.schema.errors import GatewayError

__all__ = ["selected_pages"]

PageArguments = dict[str, Any]


class _Variables:
    """The coerced variables, in the shape ``get_argument_values`` reads."""

    __slots__ = ("coerced", "sources")

    def __init__(self, coerced: dict[str, Any]) -> None:
        self.coerced = coerced
        self.sources: dict[str, Any] = {}


def _messages_fields(
    selections: Iterable[SelectionNode], info: GraphQLResolveInfo[Any]
) -> Iterator[FieldNode]:
    for node in selections:
        if node.directives:
            continue
        if isinstance(node, FieldNode):
            if node.name.value == "messages":
                yield node
        elif isinstance(node, InlineFragmentNode):
            condition = node.type_condition
            if condition is None or condition.name.value == "Thread":
                yield from _messages_fields(node.selection_set.selections, info)
        elif isinstance(node, FragmentSpreadNode):
            fragment = info.fragments.get(node.name.value)
            if fragment is not None and fragment.type_condition.name.value == "Thread":
                yield from _messages_fields(fragment.selection_set.selections, info)


def selected_pages(info: GraphQLResolveInfo[Any]) -> list[PageArguments]:
    """The arguments of every ``messages`` field selected on this field's threads."""
    thread_type = info.schema.type_map.get("Thread")
    if not isinstance(thread_type, GraphQLObjectType):
        return []
    field: GraphQLField = thread_type.fields["messages"]
    given: Any = info.variable_values  # strawberry: the coerced dict; graphql-core: a container
    variables = _Variables(dict(getattr(given, "coerced", given)))
    pages: list[PageArguments] = []
    try:
        for node in info.field_nodes:
            if node.selection_set is None:
                continue
            for messages in _messages_fields(node.selection_set.selections, info):
                pages.append(get_argument_values(field, messages, variables))  # type: ignore[arg-type]
    except Exception:  # not understood: prefetch nothing, the fields resolve as usual
        return []
    return pages


def page_keys(thread_id: str, pages: list[PageArguments]) -> Iterator[PageKey]:
    """The page-loader keys ``Thread.messages`` will use for ``thread_id``."""
    for arguments in pages:
        order = arguments.get("order", SortOrder.DESC)
        if not isinstance(order, SortOrder):
            continue
        try:
            request = page_request(
                thread_id,
                first=arguments.get("first"),
                after=arguments.get("after"),
                last=arguments.get("last"),
                before=arguments.get("before"),
                order=order,
                run_id=arguments.get("runId"),
            )
        except GatewayError:
            continue  # the field itself will report it
        yield request.key
