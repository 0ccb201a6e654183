"""Every field whose resolver reaches the upstream declares its cost (gateway/schema/costs.py).

A resolver reaches the upstream through the request's loaders (``info.context.loaders``,
or ``load_connection``, which asks them): a field doing so without an ``UpstreamCost``
in its metadata would cost 0 in the operation plan, and so escape ``MAX_COST``.
"""

from __future__ import annotations

import inspect

from graphql import GraphQLObjectType

from gateway.schema import build_schema
from gateway.schema.compat import graphql_core_schema, strawberry_field_of
from gateway.schema.costs import COST_KEY, UpstreamCost, id_count, page_size

_REACHES_UPSTREAM = (
    "info.context.loaders",
    "load_connection(",
    ".session",
    "hub.thread_events(",  # the owner check and the replay (gateway.live.hub)
)


def _fields() -> dict[str, tuple[bool, UpstreamCost | None]]:
    """``Type.field``: (its resolver reaches the upstream, its declared cost)."""
    schema = graphql_core_schema(build_schema())
    found: dict[str, tuple[bool, UpstreamCost | None]] = {}
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            definition = strawberry_field_of(field)
            assert definition is not None, f"{type_.name}.{name}"
            resolver = definition.base_resolver
            source = inspect.getsource(resolver.wrapped_func) if resolver is not None else ""
            reaches = any(marker in source for marker in _REACHES_UPSTREAM)
            declared = (definition.metadata or {}).get(COST_KEY)
            found[f"{type_.name}.{name}"] = (reaches, declared)
    return found


def test_every_field_that_reaches_the_upstream_declares_its_cost() -> None:
    fields = _fields()
    reaching = sorted(name for name, (reaches, _) in fields.items() if reaches)
    undeclared = [name for name in reaching if fields[name][1] is None]
    assert not undeclared, f"fields reaching the upstream without a declared cost: {undeclared}"
    # ... and only they declare one (a cost on a free field would refuse good queries).
    declared = sorted(name for name, (_, cost) in fields.items() if cost is not None)
    assert declared == reaching
    assert reaching == sorted(
        [
            "Query.thread",
            "Query.node",
            "Query.threads",
            "Query.message",
            "Query.messages",
            "Thread.messages",
            "Message.thread",
            "Viewer.threads",
            "Subscription.threadEvents",
            *(
                f"Mutation.{name}"
                for name in (
                    "createThread",
                    "updateThread",
                    "deleteThread",
                    "createMessage",
                    "updateMessage",
                    "deleteMessage",
                )
            ),
        ]
    )


def test_declared_costs() -> None:
    fields = _fields()
    connection = fields["Thread.messages"][1]
    assert connection is not None
    assert connection.calls_for({}) == 1
    assert connection.fan_out_for({"first": 7}) == 7 == page_size({"last": 7})
    assert connection.fan_out_for({}) == 20
    assert connection.fan_out_for({"first": 10_000}) == 100
    threads = fields["Query.threads"][1]
    assert threads is not None
    assert threads.calls_for({"ids": ["a", "b"]}) == 2 == id_count({"ids": ["a", "b"]})
    # A page of the viewer's threads: at most one thread fetch per node (metadata
    # over a remote upstream), and a page's fan-out for the fields below.
    viewer_threads = fields["Viewer.threads"][1]
    assert viewer_threads is not None
    assert viewer_threads.calls_for({"first": 20}) == 20 == viewer_threads.fan_out_for({})
    assert viewer_threads.calls_for({"last": 7}) == 7
