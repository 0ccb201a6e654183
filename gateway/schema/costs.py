"""What a field costs upstream, declared on the field itself.

Every field whose resolver reaches the upstream (through the loaders) declares an
``UpstreamCost`` in its strawberry ``metadata`` (``upstream_cost(...)``), next to
its resolver; the operation plan (plan.py) reads it from the schema while walking
the document. There is no side table to forget a field in:
``tests/schema/test_costs.py`` fails for a resolver that asks the loaders without
declaring what it costs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import strawberry

from gateway.wire_contract import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

__all__ = [
    "COST_KEY",
    "UpstreamCost",
    "id_count",
    "page_size",
    "upstream_cost",
    "upstream_field",
    "upstream_mutation",
]

_Resolver = TypeVar("_Resolver", bound=Callable[..., Any])

COST_KEY = "gateway.upstream_cost"
"""The key of a field's ``UpstreamCost`` in its strawberry ``metadata``."""

Arguments = Mapping[str, Any]
"""A field's coerced argument values, by GraphQL name (variables and defaults applied)."""


@dataclass(frozen=True, slots=True)
class UpstreamCost:
    """One field: ``calls`` upstream calls per instance, and ``fan_out`` instances of its
    children per instance (a page's size, the number of ids). Either may be a function
    of the field's coerced arguments."""

    calls: Callable[[Arguments], int] | int
    fan_out: Callable[[Arguments], int] | int

    def calls_for(self, arguments: Arguments) -> int:
        return self.calls(arguments) if callable(self.calls) else self.calls

    def fan_out_for(self, arguments: Arguments) -> int:
        return self.fan_out(arguments) if callable(self.fan_out) else self.fan_out


def upstream_cost(
    calls: Callable[[Arguments], int] | int = 1, fan_out: Callable[[Arguments], int] | int = 1
) -> dict[str, UpstreamCost]:
    """The ``metadata=`` of a field that reaches the upstream."""
    return {COST_KEY: UpstreamCost(calls, fan_out)}


def page_size(arguments: Arguments) -> int:
    """The most items a connection page can hold: ``first``/``last``, 20 when absent."""
    for name in ("first", "last"):
        value = arguments.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return min(max(value, 1), MAX_PAGE_SIZE)
    return DEFAULT_PAGE_SIZE


def id_count(arguments: Arguments) -> int:
    """How many ids ``threads(ids:)`` asks for."""
    ids = arguments.get("ids")
    return len(ids) if isinstance(ids, list) else 1


def upstream_field(
    calls: Callable[[Arguments], int] | int = 1,
    fan_out: Callable[[Arguments], int] | int = 1,
    *,
    description: str | None = None,
) -> Callable[[_Resolver], _Resolver]:
    """``@strawberry.field`` for a resolver that reaches the upstream, with its cost."""
    decorate: Callable[[_Resolver], _Resolver] = strawberry.field(
        metadata=upstream_cost(calls, fan_out), description=description
    )
    return decorate


def upstream_mutation() -> Callable[[_Resolver], _Resolver]:
    """``@strawberry.mutation`` with its cost: one upstream call."""
    decorate: Callable[[_Resolver], _Resolver] = strawberry.mutation(metadata=upstream_cost())
    return decorate
