"""Every touch of strawberry or graphql-core that is not their documented API, in one place.

Pinned versions (pyproject.toml) are what these were written against;
``tests/schema/test_compat.py`` checks each one, so a new release that moves them
fails there, with a clear name, rather than somewhere in the resolvers.

- ``BaseExecutor``: strawberry's subclass of graphql-core's ``Executor``
  (``strawberry.schema.schema.StrawberryGraphQLCoreExecutionContext``), which
  the gateway's executor extends (a custom ``execution_context_class`` must keep
  strawberry's resolve-info behaviour: resolvers see the plain coerced variables).
- ``strawberry_field_of``: the strawberry field behind a graphql-core field (its
  ``extensions["strawberry-definition"]``), where field ``metadata`` lives.
- ``graphql_core_schema``: the graphql-core schema inside a strawberry ``Schema``.
- ``PlainResolvers``: how strawberry resolves a field, for the fast completion
  (fast_completion.py): the names of the resolver wrappers its schema converter
  generates (a basic attribute field's, a union's ``resolve_type``, an object
  type's ``is_type_of``), the attribute marking a ``strawberry.cast`` object, and
  the strawberry definition behind a graphql-core type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import GraphQLField, GraphQLNamedType, GraphQLSchema
from strawberry import Schema
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import CustomGraphQLEnumType
from strawberry.types.cast import get_strawberry_type_cast
from strawberry.types.field import StrawberryField

__all__ = [
    "BaseExecutor",
    "PlainResolvers",
    "field_metadata",
    "graphql_core_schema",
    "strawberry_field_of",
]

BaseExecutor = StrawberryGraphQLCoreExecutionContext

_DEFINITION = "strawberry-definition"


def strawberry_field_of(field: GraphQLField) -> StrawberryField | None:
    """The strawberry field a graphql-core field was built from, if any."""
    definition = (field.extensions or {}).get(_DEFINITION)
    return definition if isinstance(definition, StrawberryField) else None


_NO_METADATA: Mapping[Any, Any] = {}


def field_metadata(field: GraphQLField) -> Mapping[Any, Any]:
    """The ``metadata=`` given to ``strawberry.field`` for this field (empty if none);
    read on every planned field, so not copied."""
    definition = strawberry_field_of(field)
    if definition is None or not definition.metadata:
        return _NO_METADATA
    return definition.metadata


def graphql_core_schema(schema: Schema) -> GraphQLSchema:
    """The graphql-core schema strawberry executes."""
    return schema._schema


class PlainResolvers:
    """Strawberry's generated resolvers, recognised by their qualified names.

    The fast completion calls what these wrappers would call (an attribute read, a
    method of the source) only for the wrappers it recognises; anything else (a
    resolver of the application's own, a wrapper of a newer release) is left to
    graphql-core, so a rename in strawberry costs speed, not correctness.
    """

    BASIC_FIELD = "GraphQLCoreConverter.from_resolver.<locals>._get_basic_result"
    SYNC_FIELD = "GraphQLCoreConverter.from_resolver.<locals>._resolver"
    UNION_TYPE = "StrawberryUnion.get_type_resolver.<locals>._resolve_union_type"
    IS_TYPE_OF = "GraphQLCoreConverter.from_object.<locals>._get_is_type_of.<locals>.is_type_of"

    @staticmethod
    def named(function: object, qualname: str) -> bool:
        return getattr(function, "__qualname__", None) == qualname

    @staticmethod
    def definition_of(graphql_type: GraphQLNamedType) -> Any:
        """The strawberry definition a graphql-core type was built from, if any."""
        return (graphql_type.extensions or {}).get(_DEFINITION)

    @staticmethod
    def enum_names(leaf_type: object) -> tuple[type, dict[Any, str]] | None:
        """For a strawberry enum: its Python class, and the GraphQL name of each value.

        ``CustomGraphQLEnumType.coerce_output_value`` gives a member of the class the
        name of the first GraphQL value equal to the member's value; so does this map.
        """
        if type(leaf_type) is not CustomGraphQLEnumType:
            return None
        names: dict[Any, str] = {}
        try:
            for name, value in leaf_type.values.items():
                names.setdefault(value.value, name)
        except TypeError:  # an unhashable value
            return None
        return leaf_type.wrapped_cls, names

    @staticmethod
    def is_cast(value: object) -> bool:
        """True for an object given a type by ``strawberry.cast``."""
        return get_strawberry_type_cast(value) is not None
