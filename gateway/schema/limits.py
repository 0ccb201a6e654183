"""Limits checked before execution: tokens and shape (at parse), depth, variable text.

Every violation is a GraphQL error with ``extensions.code`` ``QUERY_TOO_COMPLEX``
and ``extensions.limit`` naming the limit, with ``maximum`` and, where known,
``actual`` (refusals.py); the response is HTTP 400 and nothing reaches the upstream.

Tokens are counted by the parser itself (``LimitedParser``, which also caches
parsed documents, replacing strawberry's ``ParserCache``), so an oversized
document is never fully parsed; the parsed document's shape (aliases, fields per
selection set, fragment spreads, selections, same-named pairs: shape.py) is
bounded right after, before graphql-core's validation may spend quadratic time
on it.

Depth depends on the document alone, so it is a validation rule, built once per
schema (``limit_rules``), which keeps the validation rules the same tuple on
every request and so lets the validation memo (document_memo.py) serve repeated
documents (strawberry's own ``QueryDepthLimiter`` builds new rule classes per
request when given as a factory, defeating the cache).

The cost and the aliased results depend on the coerced variables too: they are
the operation plan's (plan.py), checked by the gateway's executor (execution.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    TokenKind,
    parse,
)
from strawberry.extensions import SchemaExtension

from gateway.schema.context import Context
from gateway.schema.document_memo import DocumentMemo
from gateway.schema.errors import ErrorCode
from gateway.schema.refusals import bad_request, limit_error
from gateway.schema.shape import ShapeLimits, check_shape
from gateway.wire_contract import lone_surrogate_path

__all__ = [
    "LimitedParser",
    "PreExecutionChecks",
    "cached_parser",
    "limit_error",
    "limit_rules",
]

_TOKEN_MESSAGE = "Document contains more than"  # noqa: S105 (graphql-core's message)


# --- depth and aliases: document-only, cached validation rules ---------------------


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }


class _DepthMeter:
    """Depth of selection sets, each fragment measured once (no exponential blow-up).

    ``{ thread { id } }`` is 1 deep; ``ofType`` levels count 0 (see ``depth``).
    """

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self._fragments = fragments
        self._memo: dict[str, int] = {}
        self._active: set[str] = set()

    def depth(self, selection_set: SelectionSetNode | None) -> int:
        """0 for a selection of leaves; 1 more per level of nested fields."""
        if selection_set is None:
            return 0
        deepest = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.selection_set is not None:
                    # Introspection's ofType chains are linear (no fan-out) and as deep
                    # as the types' wrappers: GraphiQL's query must pass the limit.
                    step = 0 if selection.name.value == "ofType" else 1
                    deepest = max(deepest, step + self.depth(selection.selection_set))
            elif isinstance(selection, InlineFragmentNode):
                deepest = max(deepest, self.depth(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                deepest = max(deepest, self._fragment(selection.name.value))
        return deepest

    def _fragment(self, name: str) -> int:
        if name in self._memo:
            return self._memo[name]
        fragment = self._fragments.get(name)
        if fragment is None or name in self._active:  # unknown or cyclic: other rules report it
            return 0
        self._active.add(name)
        value = self.depth(fragment.selection_set)
        self._active.discard(name)
        self._memo[name] = value
        return value


def limit_rules(max_depth: int) -> tuple[type[ASTValidationRule], ...]:
    """The depth rule for this limit: build once per schema, reuse forever."""

    class MaxDepthRule(ASTValidationRule):
        def enter_document(self, node: DocumentNode, *_args: Any) -> None:
            meter = _DepthMeter(_fragments(node))
            for definition in node.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                depth = meter.depth(definition.selection_set)
                if depth > max_depth:
                    name = definition.name.value if definition.name else "anonymous"
                    self.report_error(
                        limit_error(
                            "depth",
                            max_depth,
                            depth,
                            f"Operation '{name}' is nested {depth} levels deep; "
                            f"the limit is {max_depth}.",
                        )
                    )

    return (MaxDepthRule,)


# --- tokens: the parser's limit, with our code -------------------------------------

Parse = Callable[..., DocumentNode]


# Documents longer than this are parsed every time, not cached: the cache is keyed by
# the whole text, and comments or long string literals cost no tokens, so a few
# hundred near-megabyte documents could otherwise pin a lot of memory.
CACHED_DOCUMENT_CHARS = 16_384


def cached_parser(maxsize: int = 256) -> Parse:
    """An LRU-cached ``graphql.parse`` for documents of ordinary size: build one per
    schema and share it across requests."""
    cached = lru_cache(maxsize=maxsize)(parse)

    def parse_document(source: str, **options: Any) -> DocumentNode:
        if len(source) > CACHED_DOCUMENT_CHARS:
            return parse(source, **options)
        return cached(source, **options)

    return parse_document


class LimitedParser(SchemaExtension):
    """Parses through a shared cache, stopping past ``max_tokens`` (replaces ``ParserCache``),
    then bounds the document's shape (shape.py) before validation may run on it.

    The token limit holds for the whole HTTP request: the operations of a batch
    share one context, and so one budget of ``max_tokens``; ten documents of 4,800
    tokens each cost one parse, not ten, before the rest are refused.

    graphql-core aborts parsing at the limit with a syntax error; that one becomes
    our ``QUERY_TOO_COMPLEX`` error (limit ``tokens``), answered with 400. Other
    syntax errors go on as they are. A document past a shape limit is refused the
    same way, so graphql-core's validation never sees it.
    """

    def __init__(
        self, parser: Parse, max_tokens: int, shape: ShapeLimits, memo: DocumentMemo
    ) -> None:
        self.parser = parser
        self.max_tokens = max_tokens
        self.shape = shape
        self.memo = memo  # a document's tokens and shape, counted once (document_memo.py)

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            request = context.context if isinstance(context.context, Context) else None
            if request is not None and request.tokens_per_operation:
                request.tokens_spent = 0  # a WebSocket's context outlives each operation
            allowed = self.max_tokens - (request.tokens_spent if request is not None else 0)
            if allowed <= 0:
                bad_request(context.context)
                raise self._too_many_tokens(shared=True)
            try:
                context.graphql_document = self.parser(context.query, max_tokens=allowed)
            except GraphQLSyntaxError as error:
                if not error.message.startswith(_TOKEN_MESSAGE, len("Syntax Error: ")):
                    raise
                bad_request(context.context)
                raise self._too_many_tokens(shared=allowed < self.max_tokens) from None
            document = context.graphql_document
            if request is not None:
                request.tokens_spent += self.memo.fact(
                    document, "tokens", lambda: token_count(document)
                )
            # Only "within the shape limits" is kept: a refusal is raised, and an
            # exception raised again would keep growing its traceback.
            within = self.memo.fact(
                document, "shape", lambda: check_shape(document, self.shape) is None
            )
            refused = None if within else check_shape(document, self.shape)
            if refused is not None:
                context.graphql_document = None
                bad_request(context.context)
                raise refused
        yield

    def _too_many_tokens(self, *, shared: bool) -> GraphQLError:
        together = " together" if shared else ""
        return limit_error(
            "tokens",
            self.max_tokens,
            None,
            f"The request's documents have more than {self.max_tokens} tokens{together}; "
            f"the limit is {self.max_tokens}.",
        )


def token_count(document: DocumentNode) -> int:
    """The document's tokens, as the parser's limit counts them (comments too)."""
    location = document.loc
    token = location.start_token if location is not None else None
    count = 0
    while token is not None:
        if token.kind not in _UNCOUNTED:
            count += 1
        token = token.next
    return count


_UNCOUNTED = frozenset((TokenKind.SOF, TokenKind.EOF))


# --- variable text, and the status of refusals in validation ---------------------


class PreExecutionChecks(SchemaExtension):
    """Refuses variable values that are not valid Unicode (lone surrogates, which JSON
    can carry): ``BAD_USER_INPUT``, 400, before execution; and answers a document a
    limit rule refused in validation (depth) with 400.

    Must come after ``MemoizedValidation`` in the extension list.
    """

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        bad_text = lone_surrogate_path(context.variables)
        if bad_text is not None and not context.pre_execution_errors:
            context.pre_execution_errors = [
                GraphQLError(
                    f"Variable value at {bad_text[:200]} is not valid Unicode "
                    "(it holds a lone surrogate).",
                    extensions={"code": ErrorCode.BAD_USER_INPUT},
                )
            ]
            bad_request(context.context)
        yield
        errors = context.pre_execution_errors or []
        if any((e.extensions or {}).get("code") == ErrorCode.QUERY_TOO_COMPLEX for e in errors):
            bad_request(context.context)
