"""The framework-private touches of gateway/schema/compat.py still hold on these versions."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLSchema

from gateway.schema import build_schema
from gateway.schema.compat import (
    BaseExecutor,
    field_metadata,
    graphql_core_schema,
    strawberry_field_of,
)
from gateway.schema.costs import COST_KEY


def test_base_executor_is_strawberrys_default() -> None:
    @strawberry.type
    class Query:
        hello: str = "hi"

    assert strawberry.Schema(query=Query).execution_context_class is BaseExecutor


def test_the_strawberry_field_and_its_metadata_behind_a_graphql_core_field() -> None:
    schema = graphql_core_schema(build_schema())
    assert isinstance(schema, GraphQLSchema)
    thread = schema.get_type("Thread")
    messages = thread.fields["messages"]  # type: ignore[union-attr]
    definition = strawberry_field_of(messages)
    assert definition is not None and definition.python_name == "messages"
    assert COST_KEY in field_metadata(messages)
    assert field_metadata(thread.fields["id"]) == {}  # type: ignore[union-attr]


async def test_resolvers_see_the_executors_own_coerced_variables() -> None:
    """``Context.plan_for`` finds a plan by the identity of ``info.variable_values``."""
    seen: dict[str, Any] = {}

    class Recording(BaseExecutor):
        @classmethod
        def build(cls, *args: Any, **kwargs: Any) -> Any:
            executor = super().build(*args, **kwargs)
            seen["built"] = executor.variable_values.coerced  # type: ignore[union-attr]
            return executor

    @strawberry.type
    class Query:
        @strawberry.field
        def echo(self, info: strawberry.Info, n: int = 3) -> int:
            seen["resolved"] = info.variable_values
            return n

    schema = strawberry.Schema(query=Query, execution_context_class=Recording)
    result = await schema.execute("query($n: Int = 5) { echo(n: $n) }")
    assert result.errors is None and result.data == {"echo": 5}
    assert seen["resolved"] is seen["built"]
    assert seen["built"] == {"n": 5}
