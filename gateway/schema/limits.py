"""Limits checked before execution: depth, aliases, tokens and static cost.

Every violation is a GraphQL error with ``extensions.code`` ``QUERY_TOO_COMPLEX``
and ``extensions.limit`` naming the limit (``depth``, ``aliases``, ``tokens``,
``cost``), with ``maximum`` and, where known, ``actual``; the response is HTTP 400
and nothing reaches the upstream.

Tokens are counted by the parser itself (``LimitedParser``, which also caches
parsed documents, replacing strawberry's ``ParserCache``), so an oversized
document is never fully parsed.

Depth and aliases depend on the document alone, so they are validation rules:
their classes are built once per schema (``limit_rules``), which keeps the
validation rules the same tuple on every request and so lets strawberry's
``ValidationCache`` serve repeated documents (strawberry's own
``QueryDepthLimiter``/``MaxAliasesLimiter`` build new rule classes per request
when given as factories, defeating the cache).

The cost also depends on variables (``first: $n``, ``ids: $ids``), so
``QueryCost`` computes it per request, right after validation: each field that
reaches the upstream counts one call, multiplied by the sizes of the lists it sits
in (``first``/``last``, 20 when absent, for a connection; the number of ids for
``threads(ids:)``). It is an upper bound: the loaders' de-duplication often makes
the real number of calls smaller, never larger.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
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
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValueNode,
    VariableNode,
    parse,
)
from strawberry.extensions import SchemaExtension

from gateway.schema.errors import ErrorCode
from gateway.wire_contract import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, lone_surrogate_path

__all__ = [
    "LimitedParser",
    "QueryCost",
    "UpstreamCost",
    "cached_parser",
    "limit_error",
    "limit_rules",
    "operation_cost",
]

_TOKEN_MESSAGE = "Document contains more than"  # noqa: S105 (graphql-core's message)


def limit_error(limit: str, maximum: int, actual: int | None, message: str) -> GraphQLError:
    """The error of one violated limit, with its stable code and figures."""
    extensions: dict[str, Any] = {
        "code": ErrorCode.QUERY_TOO_COMPLEX,
        "limit": limit,
        "maximum": maximum,
    }
    if actual is not None:
        extensions["actual"] = actual
    return GraphQLError(message, extensions=extensions)


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


def limit_rules(max_depth: int, max_aliases: int) -> tuple[type[ASTValidationRule], ...]:
    """The depth and alias rules for these limits: build once per schema, reuse forever."""

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

    class MaxAliasesRule(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self._aliases = 0

        def enter_field(self, node: FieldNode, *_args: Any) -> None:
            if node.alias is not None:
                self._aliases += 1

        def leave_document(self, *_args: Any) -> None:
            if self._aliases > max_aliases:
                self.report_error(
                    limit_error(
                        "aliases",
                        max_aliases,
                        self._aliases,
                        f"The document uses {self._aliases} aliases; the limit is {max_aliases}.",
                    )
                )

    return MaxDepthRule, MaxAliasesRule


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
    """Parses through a shared cache, stopping past ``max_tokens`` (replaces ``ParserCache``).

    graphql-core aborts parsing at the limit with a syntax error; that one becomes
    our ``QUERY_TOO_COMPLEX`` error (limit ``tokens``), answered with 400. Other
    syntax errors go on as they are.
    """

    def __init__(self, parser: Parse, max_tokens: int) -> None:
        self.parser = parser
        self.max_tokens = max_tokens

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            try:
                context.graphql_document = self.parser(context.query, max_tokens=self.max_tokens)
            except GraphQLSyntaxError as error:
                if not error.message.startswith(_TOKEN_MESSAGE, len("Syntax Error: ")):
                    raise
                _bad_request(context.context)
                raise limit_error(
                    "tokens",
                    self.max_tokens,
                    None,
                    f"The document has more than {self.max_tokens} tokens; "
                    f"the limit is {self.max_tokens}.",
                ) from None
        yield


# --- cost: per request, from the document and the variables ------------------------


@dataclass(frozen=True, slots=True)
class UpstreamCost:
    """What one field costs: ``calls`` upstream calls, and what its children are multiplied by.

    Either value may be a callable of the field's argument values.
    """

    calls: Callable[[Mapping[str, Any]], int] | int
    multiplier: Callable[[Mapping[str, Any]], int] | int


def _page_size(args: Mapping[str, Any]) -> int:
    for name in ("first", "last"):
        value = args.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return min(max(value, 1), MAX_PAGE_SIZE)
    return DEFAULT_PAGE_SIZE


def _id_count(args: Mapping[str, Any]) -> int:
    ids = args.get("ids")
    if isinstance(ids, list):
        return len(ids)
    return 1


_MUTATION = UpstreamCost(1, 1)

COSTS: dict[tuple[str, str], UpstreamCost] = {
    ("Query", "thread"): UpstreamCost(1, 1),
    ("Query", "threads"): UpstreamCost(_id_count, _id_count),
    ("Query", "message"): UpstreamCost(1, 1),
    ("Query", "messages"): UpstreamCost(1, _page_size),
    ("Thread", "messages"): UpstreamCost(1, _page_size),
    ("Message", "thread"): UpstreamCost(1, 1),
    ("Mutation", "createThread"): _MUTATION,
    ("Mutation", "updateThread"): _MUTATION,
    ("Mutation", "deleteThread"): _MUTATION,
    ("Mutation", "createMessage"): _MUTATION,
    ("Mutation", "updateMessage"): _MUTATION,
    ("Mutation", "deleteMessage"): _MUTATION,
}
"""Fields that reach the upstream, by (parent type, field name); all others cost 0."""

# What a field's type is, where it matters for cost: the parent type of its children.
_CHILD_TYPE: dict[tuple[str, str], str] = {
    ("Query", "thread"): "Thread",
    ("Query", "threads"): "Thread",
    ("Query", "message"): "Message",
    ("Query", "messages"): "MessageConnection",
    ("Thread", "messages"): "MessageConnection",
    ("Message", "thread"): "Thread",
    ("MessageConnection", "nodes"): "Message",
    ("MessageConnection", "edges"): "MessageEdge",
    ("MessageEdge", "node"): "Message",
    ("CreateThreadPayload", "thread"): "Thread",
    ("UpdateThreadPayload", "thread"): "Thread",
    ("CreateMessagePayload", "message"): "Message",
    ("UpdateMessagePayload", "message"): "Message",
    ("Mutation", "createThread"): "CreateThreadPayload",
    ("Mutation", "updateThread"): "UpdateThreadPayload",
    ("Mutation", "deleteThread"): "DeleteThreadPayload",
    ("Mutation", "createMessage"): "CreateMessagePayload",
    ("Mutation", "updateMessage"): "UpdateMessagePayload",
    ("Mutation", "deleteMessage"): "DeleteMessagePayload",
}


def _value(node: ValueNode, variables: Mapping[str, Any]) -> Any:
    if isinstance(node, VariableNode):
        return variables.get(node.name.value)
    if isinstance(node, IntValueNode):
        try:
            return int(node.value)
        except ValueError:
            return None
    if isinstance(node, ListValueNode):
        return list(node.values)
    return None


class _CostMeter:
    def __init__(self, document: DocumentNode, variables: Mapping[str, Any]) -> None:
        self._fragments = _fragments(document)
        self._variables = variables
        self._memo: dict[tuple[str, str], int] = {}
        self._active: set[str] = set()

    def cost(self, parent: str, selection_set: SelectionSetNode | None) -> int:
        """Calls for one instance of ``parent`` resolving ``selection_set``."""
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(parent, selection)
            elif isinstance(selection, InlineFragmentNode):
                total += self.cost(parent, selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(parent, selection.name.value)
        return total

    def _field(self, parent: str, node: FieldNode) -> int:
        key = (parent, node.name.value)
        child = _CHILD_TYPE.get(key)
        price = COSTS.get(key)
        if child is None and price is None:
            return 0
        args = {arg.name.value: _value(arg.value, self._variables) for arg in node.arguments or ()}
        calls = multiplier = 0
        if price is not None:
            calls = price.calls(args) if callable(price.calls) else price.calls
            multiplier = price.multiplier(args) if callable(price.multiplier) else price.multiplier
        else:
            multiplier = 1
        nested = self.cost(child, node.selection_set) if child is not None else 0
        return calls + multiplier * nested

    def _fragment(self, parent: str, name: str) -> int:
        fragment = self._fragments.get(name)
        if fragment is None or name in self._active:
            return 0
        # A fragment's type condition names the type its fields are on.
        on = fragment.type_condition.name.value
        key = (on, name)
        if key not in self._memo:
            self._active.add(name)
            self._memo[key] = self.cost(on, fragment.selection_set)
            self._active.discard(name)
        return self._memo[key]


def operation_cost(
    document: DocumentNode, operation_name: str | None, variables: Mapping[str, Any] | None
) -> int:
    """The static cost of the operation ``operation_name`` picks (0 if none matches)."""
    meter = _CostMeter(document, variables or {})
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if operation_name is not None and (
            definition.name is None or definition.name.value != operation_name
        ):
            continue
        root = "Mutation" if definition.operation.value == "mutation" else "Query"
        return meter.cost(root, definition.selection_set)
    return 0


class QueryCost(SchemaExtension):
    """Rejects an operation whose static cost exceeds ``max_cost``, before it executes.

    It also refuses variable values that are not valid Unicode (lone surrogates,
    which JSON can carry): ``BAD_USER_INPUT``, 400.

    Must come after ``ValidationCache`` in the extension list: it runs once
    validation has found the document valid.
    """

    def __init__(self, max_cost: int) -> None:
        self.max_cost = max_cost

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        bad_text = lone_surrogate_path(context.variables)
        if bad_text is not None and not context.pre_execution_errors:
            context.pre_execution_errors = [
                GraphQLError(
                    f"Variable value at {bad_text[:200]} is not valid Unicode "
                    "(it holds a lone surrogate).",
                    extensions={"code": ErrorCode.BAD_USER_INPUT},
                )
            ]
            _bad_request(context.context)
        if document is not None and not context.pre_execution_errors:
            cost = operation_cost(document, context.operation_name, context.variables)
            if cost > self.max_cost:
                context.pre_execution_errors = [
                    limit_error(
                        "cost",
                        self.max_cost,
                        cost,
                        f"This operation could make up to {cost} upstream calls; the limit "
                        f"is {self.max_cost}. Ask for smaller pages (first/last) or fewer ids.",
                    )
                ]
        yield
        errors = context.pre_execution_errors or []
        if any((e.extensions or {}).get("code") == ErrorCode.QUERY_TOO_COMPLEX for e in errors):
            _bad_request(context.context)


def _bad_request(context: object) -> None:
    """GraphQL-over-HTTP: a request refused before execution is a 400."""
    response = getattr(context, "response", None)
    if response is not None:
        response.status_code = 400
