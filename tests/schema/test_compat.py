"""The framework-private touches of gateway/schema/compat.py still hold on these versions."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLSchema

from gateway.schema import build_schema
from gateway.schema.compat import (
    BaseExecutor,
    PlainResolvers,
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


def test_the_resolver_wrappers_the_fast_completion_recognises() -> None:
    """fast_completion.py calls past strawberry's wrappers it knows by name: the names hold."""
    schema = graphql_core_schema(build_schema())
    message = schema.get_type("Message")
    assert PlainResolvers.named(message.fields["id"].resolve, PlainResolvers.BASIC_FIELD)  # type: ignore[union-attr]
    assert PlainResolvers.named(message.fields["text"].resolve, PlainResolvers.SYNC_FIELD)  # type: ignore[union-attr]
    content = schema.get_type("MessageContent")
    assert PlainResolvers.named(content.resolve_type, PlainResolvers.UNION_TYPE)  # type: ignore[union-attr]
    assert PlainResolvers.definition_of(message).origin.__name__ == "Message"  # type: ignore[arg-type]

    small = strawberry.Schema(query=PetQuery)._schema
    pet = small.get_type("Pet")
    assert PlainResolvers.named(pet.is_type_of, PlainResolvers.IS_TYPE_OF)  # type: ignore[union-attr]
    assert PlainResolvers.enum_names(small.get_type("Colour")) == (Colour, {"red": "RED"})
    assert PlainResolvers.enum_names(small.get_type("String")) is None
    thing = Pet(name="x", colour=Colour.RED)
    assert not PlainResolvers.is_cast(thing)
    assert PlainResolvers.is_cast(strawberry.cast(Pet, Pet(name="y", colour=Colour.RED)))


@strawberry.interface
class Named:
    name: str


@strawberry.enum
class Colour(Enum):
    RED = "red"


@strawberry.type
class Pet(Named):
    colour: Colour


@strawberry.type
class PetQuery:
    pet: Pet
