"""Assembling the strawberry ``Schema`` for a given configuration, and its SDL."""

from __future__ import annotations

from collections.abc import Callable

from graphql import GraphQLError
from strawberry import Schema
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.types import ExecutionContext

from gateway.config import Settings
from gateway.schema.extensions import CallAccounting, ErrorMapping
from gateway.schema.mutation import Mutation
from gateway.schema.query import Query
from gateway.schema.scalars import SCALARS

__all__ = ["GatewaySchema", "build_schema", "schema_sdl"]


class GatewaySchema(Schema):
    """A strawberry schema whose errors are logged by ``ErrorMapping`` alone.

    Strawberry's default logs every error with its traceback; expected errors
    (not found, rate limited, bad input) are not worth a traceback, and
    unexpected ones are logged once, without one, by ``ErrorMapping``.
    """

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None


def build_schema(settings: Settings | None = None) -> GatewaySchema:
    """The executable schema, with the limits and extensions ``settings`` ask for."""
    settings = settings or Settings()
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        ErrorMapping,
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: QueryDepthLimiter(max_depth=settings.max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    if settings.debug:
        extensions.append(CallAccounting)
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        scalar_overrides=SCALARS,
    )


def schema_sdl() -> str:
    """The SDL of the public contract, as written to ``schema.graphql``."""
    schema = GatewaySchema(query=Query, mutation=Mutation, scalar_overrides=SCALARS)
    return schema.as_str() + "\n"
