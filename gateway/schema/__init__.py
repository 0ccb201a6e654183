"""The GraphQL schema of DESIGN.md §4: types, inputs, query, mutation, loaders, errors."""

from gateway.schema.build import GatewaySchema, build_schema, schema_sdl
from gateway.schema.context import Context

__all__ = ["Context", "GatewaySchema", "build_schema", "schema_sdl"]
