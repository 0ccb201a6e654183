"""Assembling the strawberry ``Schema`` for a given configuration, and its SDL."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import Any

from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry import Schema
from strawberry.extensions import AddValidationRules, SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.name_converter import NameConverter
from strawberry.types import ExecutionContext
from strawberry.types.execution import PreExecutionError

from gateway.config import Settings
from gateway.observability import OperationObserver
from gateway.schema.document_memo import DocumentMemo, MemoizedValidation
from gateway.schema.execution import executor_class
from gateway.schema.extensions import CallAccounting, ErrorMapping
from gateway.schema.hook_runner import GeneratorHookRunner
from gateway.schema.limits import (
    CACHED_DOCUMENT_CHARS,
    LimitedParser,
    PreExecutionChecks,
    cached_parser,
    limit_rules,
)
from gateway.schema.mutation import Mutation
from gateway.schema.oplog import OperationLog
from gateway.schema.plan import PlanLimits
from gateway.schema.query import Query
from gateway.schema.scalars import SCALARS
from gateway.schema.shape import ShapeLimits
from gateway.schema.subscription import Subscription

__all__ = ["GatewaySchema", "build_schema", "schema_sdl"]


class GatewaySchema(Schema):
    """A strawberry schema whose errors are logged by ``ErrorMapping`` alone, and whose
    extension hooks run through ``GeneratorHookRunner``.

    Strawberry's default logs every error with its traceback; expected errors
    (not found, rate limited, bad input) are not worth a traceback, and
    unexpected ones are logged once, without one, by ``ErrorMapping``.
    """

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return GeneratorHookRunner(execution_context, extensions)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None

    async def stream(self, *args: Any, **kwargs: Any) -> Any:
        """Strawberry's stream, with the limits' refusals as a first result.

        The shape and token limits refuse a document by raising in ``on_parse``
        (``LimitedParser``); on HTTP that becomes the 400 answer, but a stream
        would end with no answer at all. Here the refusal is the stream's one
        result, which graphql-transport-ws sends as the operation's ``error``.
        """
        source = await super().stream(*args, **kwargs)
        return _refusal_as_result(source)


async def _refusal_as_result(source: AsyncGenerator[Any, None]) -> AsyncGenerator[Any, None]:
    started = False
    try:
        async with aclosing(source):
            async for result in source:
                started = True
                yield result
    except GraphQLError as refusal:
        if started or not (refusal.extensions or {}).get("code"):
            raise
        yield PreExecutionError(data=None, errors=[refusal])


class MemoizedNameConverter(NameConverter):
    """Strawberry's name converter, each Python name camel-cased once.

    Strawberry converts every argument's name again on every call of its field
    (``convert_arguments``), with a regular expression: for the chat screen, seven
    conversions per operation. The names are the schema's own, so the memo is as
    bounded as the schema.
    """

    def __init__(self) -> None:
        super().__init__()
        self._converted: dict[str, str] = {}

    def apply_naming_config(self, name: str) -> str:
        converted = self._converted.get(name)
        if converted is None:
            converted = self._converted[name] = super().apply_naming_config(name)
        return converted


def build_schema(settings: Settings | None = None) -> GatewaySchema:
    """The executable schema, with the limits and extensions ``settings`` ask for.

    Order matters: ``OperationObserver`` and ``OperationLog`` first (their exits
    run last, once errors have their codes). The shape limits run at parse, before
    validation; the cost, at the executor's build (execution.py), once the
    variables are coerced. The validation rules are built here,
    once, so that they are the same classes on every request and the validation
    cache can hit.
    """
    settings = settings or Settings()
    rules = limit_rules(settings.max_depth)
    parser = cached_parser(256)
    memo = DocumentMemo(max_document_chars=CACHED_DOCUMENT_CHARS, size=256)
    shape = ShapeLimits(
        aliases=settings.max_aliases,
        selection_set_fields=settings.max_selection_set_fields,
        fragment_spreads=settings.max_fragment_spreads,
        selections=settings.max_selections,
        field_pairs=settings.max_field_pairs,
    )
    if not settings.introspection:
        rules = (*rules, NoSchemaIntrospectionCustomRule)
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        OperationObserver,
        OperationLog,
        ErrorMapping,
        lambda: AddValidationRules(list(rules)),
        lambda: LimitedParser(parser, settings.max_tokens, shape, memo),
        lambda: MemoizedValidation(memo),
        PreExecutionChecks,
    ]
    if settings.debug:
        extensions.append(CallAccounting)
    config = StrawberryConfig(
        batching_config={"max_operations": settings.max_batch_operations}
        if settings.allow_batching
        else None,
        name_converter=MemoizedNameConverter(),
    )
    executor = executor_class(
        PlanLimits(cost=settings.max_cost, aliased_results=settings.max_aliased_results),
        settings.max_response_bytes,
    )
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        scalar_overrides=SCALARS,
        config=config,
        execution_context_class=executor,
    )


def schema_sdl() -> str:
    """The SDL of the public contract, as written to ``schema.graphql``."""
    schema = GatewaySchema(
        query=Query, mutation=Mutation, subscription=Subscription, scalar_overrides=SCALARS
    )
    return schema.as_str() + "\n"
