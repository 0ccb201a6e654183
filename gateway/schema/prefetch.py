"""Start a thread's message pages together with the thread itself.

``thread(id: T) { messages(last: 20) { ... } }`` needs two upstream calls, and
the second does not depend on the first: the page of thread ``T`` is fully
named by ``T`` and the field's arguments. Resolving field by field would still
wait for the thread before asking for the page, doubling the screen's latency.
So ``thread(id:)`` and ``threads(ids:)`` look at their selection set once, and
put every ``messages(...)`` page it selects into the page loader at the same
time as the thread; when ``Thread.messages`` runs, its page is already on the way.

The pages are read from the operation's plan (plan.py), made once per
operation from the schema and the coerced variables (literals, variables,
defaults), so the prefetched key is exactly the one the field will ask for. A
``messages`` field under a directive (``@include``/``@skip``) is left alone, as
is anything the plan does not hold: prefetching is an optimisation, never a change
of behaviour. Its one cost: when the thread does not exist, its page was asked
for too (one more call, which answers 404).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from graphql.pyutils import Path

from gateway.schema.arguments import PageKey, page_request
from gateway.schema.enums import SortOrder
from gateway.schema.errors import GatewayError
from gateway.schema.plan import PageArguments, ResponsePath

if TYPE_CHECKING:  # context.py imports the loaders, which import this module
    from gateway.schema.context import Info

__all__ = ["page_keys", "response_path", "selected_pages"]


def response_path(path: Path | None) -> ResponsePath:
    """``info.path`` as the plan keys it: response keys from the root, indices left out."""
    keys: list[str] = []
    while path is not None:
        if isinstance(path.key, str):
            keys.append(path.key)
        path = path.prev
    return tuple(reversed(keys))


def selected_pages(info: Info) -> list[PageArguments]:
    """The arguments of every ``messages`` page selected on this field's threads."""
    plan = info.context.plan_for(info)
    return plan.pages_at(response_path(info.path)) if plan is not None else []


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
