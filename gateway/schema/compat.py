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
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import GraphQLField, GraphQLSchema
from strawberry import Schema
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

__all__ = ["BaseExecutor", "field_metadata", "graphql_core_schema", "strawberry_field_of"]

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
