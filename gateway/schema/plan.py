"""One operation plan per request: cost, aliased results and prefetch, from one walk.

The plan is derived from the schema and the operation, with the variables as
graphql-core coerced them for execution (defaults included, so
``query($n: Int = 100) { ... messages(first: $n) ... }`` is priced at 100, not at
the default page size). It walks the operation once, fragments expanded where
they are spread (the shape limits of shape.py have bounded that expansion), with
the type of every selection set known, and collects:

- ``cost``: upstream calls the operation can make, at most. A field's price is
  the ``UpstreamCost`` declared on it (costs.py): ``calls`` per instance, and
  ``fan_out`` instances of its children (a page's size, the number of ids); each
  field is multiplied by the fan-out of every field above it. Loaders
  de-duplicate, so the real number of calls is often smaller, never larger.
- ``aliased_results``: how many times aliased fields resolve, each alias counted
  once per list item it sits in (50 aliases on ``text`` under a page of 10 is 500).
- ``pages``: for every field of type ``Thread``, by its response path (list
  indices left out), the arguments of each ``messages`` page selected on it, so
  ``thread(id:)`` and ``threads(ids:)`` can start those pages with the thread
  (prefetch.py). A page under ``@include``/``@skip`` is left out: prefetching is
  an optimisation, never a change of behaviour.

``OperationPlan.refusal`` is the ``QUERY_TOO_COMPLEX`` error of a plan past
``MAX_COST`` or ``MAX_ALIASED_RESULTS``; the executor (execution.py) answers with it
instead of executing.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values

from gateway.schema.compat import field_metadata
from gateway.schema.costs import COST_KEY, UpstreamCost
from gateway.schema.refusals import limit_error

__all__ = [
    "OperationPlan",
    "PageArguments",
    "PlanCache",
    "PlanLimits",
    "ResponsePath",
    "plan_document",
    "plan_operation",
]

PageArguments = dict[str, Any]
"""The coerced arguments of one ``Thread.messages`` selection."""

ResponsePath = tuple[str, ...]
"""Response keys from the root to a field, list indices left out."""

_Composite = GraphQLObjectType | GraphQLInterfaceType


@dataclass(frozen=True, slots=True)
class PlanLimits:
    """``MAX_COST`` and ``MAX_ALIASED_RESULTS``."""

    cost: int
    aliased_results: int


@dataclass(slots=True)
class OperationPlan:
    """What one operation will ask of the upstream, known before it executes."""

    cost: int = 0
    aliased_results: int = 0
    pages: dict[ResponsePath, list[PageArguments]] = field(default_factory=dict)

    def refusal(self, limits: PlanLimits) -> GraphQLError | None:
        """The error of the first limit this plan passes, if any."""
        if self.cost > limits.cost:
            return limit_error(
                "cost",
                limits.cost,
                self.cost,
                f"This operation could make up to {self.cost} upstream calls; the limit "
                f"is {limits.cost}. Ask for smaller pages (first/last) or fewer ids.",
            )
        if self.aliased_results > limits.aliased_results:
            return limit_error(
                "aliasedResults",
                limits.aliased_results,
                self.aliased_results,
                f"Aliased fields would resolve {self.aliased_results} times (each alias "
                f"counted once per list item it is in); the limit is "
                f"{limits.aliased_results}.",
            )
        return None

    def pages_at(self, path: ResponsePath) -> list[PageArguments]:
        """The ``messages`` pages selected on the thread field at ``path``."""
        return self.pages.get(path, [])


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: VariableValues,
    ) -> None:
        self._schema = schema
        self._fragments = fragments
        self._variables = variables
        self._thread = schema.get_type("Thread")
        self.plan = OperationPlan()

    def selections(
        self,
        parent: _Composite,
        selection_set: SelectionSetNode,
        multiplier: int,
        path: ResponsePath,
        prefetchable: bool,
        chain: frozenset[str] = frozenset(),
    ) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self._field(parent, selection, multiplier, path, prefetchable)
                continue
            ok = prefetchable and not selection.directives
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = self._type(condition.name.value, parent) if condition else parent
                self.selections(on, selection.selection_set, multiplier, path, ok, chain)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self._fragments.get(name)
                if fragment is None or name in chain:
                    continue
                on = self._type(fragment.type_condition.name.value, parent)
                self.selections(on, fragment.selection_set, multiplier, path, ok, chain | {name})

    def _type(self, name: str, parent: _Composite) -> _Composite:
        found = self._schema.get_type(name)
        return found if isinstance(found, _Composite) else parent

    def _field(
        self,
        parent: _Composite,
        node: FieldNode,
        multiplier: int,
        path: ResponsePath,
        prefetchable: bool,
    ) -> None:
        name = node.name.value
        definition = parent.fields.get(name)
        if definition is None:  # __typename, __schema, __type: no upstream
            return
        key = (node.alias or node.name).value
        if node.alias is not None:
            self.plan.aliased_results += multiplier
        declared = field_metadata(definition).get(COST_KEY)
        is_page = parent is self._thread and name == "messages"
        arguments: dict[str, Any] = {}
        if isinstance(declared, UpstreamCost) or is_page:
            arguments = get_argument_values(definition, node, self._variables)
        fan_out = 1
        if isinstance(declared, UpstreamCost):
            self.plan.cost += multiplier * declared.calls_for(arguments)
            fan_out = declared.fan_out_for(arguments)
        if is_page and prefetchable and not node.directives:
            self.plan.pages.setdefault(path, []).append(arguments)
        child = get_named_type(definition.type)
        if node.selection_set is not None and isinstance(child, _Composite):
            self.selections(
                child,
                node.selection_set,
                multiplier * max(fan_out, 0),
                (*path, key),
                not node.directives,
            )


def plan_operation(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: VariableValues,
) -> OperationPlan:
    """The plan of ``operation``, with ``variables`` as coerced for its execution."""
    root = schema.get_root_type(operation.operation)
    walk = _Walk(schema, fragments, variables)
    if root is not None:
        walk.selections(root, operation.selection_set, 1, (), True)
    return walk.plan


class PlanCache:
    """Plans of repeated operations: the same document (one parsed object for one text,
    limits.py's parser cache) with the same variable values has the same plan.

    A chat screen repeats one operation with the same variables (polling, refetches):
    its walk was a few per cent of the CPU per operation. Bounded: ``size`` entries,
    the least recently used leaving first; an operation parsed anew for each request
    (a document past ``max_document_chars``: give the parser cache's bound) or with
    variables longer than ``max_variables_chars`` as JSON is planned every time.
    Plans are never changed once made, so one plan serves every operation repeating it.
    """

    def __init__(
        self, max_document_chars: int, size: int = 256, max_variables_chars: int = 2048
    ) -> None:
        self._max_document_chars = max_document_chars
        self._size = size
        self._max_variables_chars = max_variables_chars
        # (id(schema), id(operation), variables) -> (schema, operation, plan): the
        # objects the ids name, held so an id is never reused while its entry lives.
        self._plans: OrderedDict[
            tuple[int, int, str], tuple[GraphQLSchema, OperationDefinitionNode, OperationPlan]
        ] = OrderedDict()
        self.hits = 0

    def plan(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: VariableValues,
    ) -> OperationPlan:
        """``plan_operation``'s plan, made once for each (operation, variable values)."""
        if operation.loc is None or len(operation.loc.source.body) > self._max_document_chars:
            return plan_operation(schema, operation, fragments, variables)
        values = json.dumps(variables.coerced, sort_keys=True, default=repr)
        if len(values) > self._max_variables_chars:
            return plan_operation(schema, operation, fragments, variables)
        key = (id(schema), id(operation), values)
        entry = self._plans.get(key)
        if entry is not None:
            self._plans.move_to_end(key)
            self.hits += 1
            return entry[2]
        plan = plan_operation(schema, operation, fragments, variables)
        self._plans[key] = (schema, operation, plan)
        if len(self._plans) > self._size:
            self._plans.popitem(last=False)
        return plan


def plan_document(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: dict[str, Any] | None = None,
) -> OperationPlan | list[GraphQLError]:
    """The plan of one operation of a valid document, coercing ``variables`` as
    execution does (graphql-core's errors when they do not coerce)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return [GraphQLError("No such operation in the document.")]
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    if isinstance(coerced, list):
        return coerced
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    return plan_operation(schema, operation, fragments, coerced)
