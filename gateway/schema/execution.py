"""The gateway's executor: plans each operation before it runs, and bounds its response.

graphql-core builds one executor per operation, after coercing the variables
(defaults included). ``GatewayExecutor.build`` then makes the operation's plan
(plan.py) from those coerced variables, refuses the operation past ``MAX_COST``
or ``MAX_ALIASED_RESULTS`` (``QUERY_TOO_COMPLEX``, HTTP 400: it never executed),
and files the plan on the request's context, where ``thread(id:)`` and
``threads(ids:)`` find it for their prefetch (``Context.plan_for``).

While executing, every leaf value is counted as it is completed: its UTF-8 bytes
(strings), a small figure for numbers and booleans, and its response key. Once
the count passes ``MAX_RESPONSE_BYTES``, no further field is resolved (so no
further upstream call is made), and the response is one ``RESPONSE_TOO_LARGE``
error with ``data: null``: the large response is never built, let alone
serialised. Leaf values are the upstream's own objects, so the partial result
held until then costs references, not copies.

Plain sub-trees (attribute leaves, ``self``-only methods, the schema's unions) are
completed by ``FastCompletion`` (fast_completion.py) instead of field by field,
counting their leaves the same way; anything else, and any value it does not
expect, is completed by graphql-core as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import ExecutionResult, GraphQLError, GraphQLLeafType, GraphQLObjectType
from graphql.execution.executor import Executor
from graphql.type.definition import GraphQLResolveInfoHelpers

from gateway.schema.compat import BaseExecutor
from gateway.schema.cycles import weakly_bound
from gateway.schema.errors import ErrorCode
from gateway.schema.fast_completion import NOT_PLAIN, FastCompletion, supports_fast_completion
from gateway.schema.limits import CACHED_DOCUMENT_CHARS
from gateway.schema.plan import OperationPlan, PlanCache, PlanLimits
from gateway.schema.refusals import bad_request

__all__ = ["GatewayExecutor", "executor_class", "leaf_bytes"]

# Punctuation and quotes around a leaf in JSON, beyond its key and value.
_LEAF_OVERHEAD = 6


def leaf_bytes(value: Any) -> int:
    """About how many bytes ``value`` takes in the JSON response (never fewer)."""
    if isinstance(value, str):
        return len(value) if value.isascii() else len(value.encode("utf-8", "replace"))
    if value is None or isinstance(value, bool | int | float):
        return 8
    if isinstance(value, Mapping):
        return sum(leaf_bytes(k) + leaf_bytes(v) + 2 for k, v in value.items())
    if isinstance(value, list | tuple):
        return sum(leaf_bytes(item) + 1 for item in value)
    return len(str(value))


class _ResponseBudget:
    """Bytes left for one operation's response; shared by the executor and its copies."""

    __slots__ = ("exceeded", "left", "maximum")

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.left = maximum
        self.exceeded = False


class GatewayExecutor(BaseExecutor):
    """Set ``plan_limits`` and ``max_response_bytes`` by subclassing (``executor_class``)."""

    plan_limits = PlanLimits(cost=5000, aliased_results=1000)
    max_response_bytes = 16_000_000
    plans = PlanCache(max_document_chars=CACHED_DOCUMENT_CHARS)
    """Every operation's plan, made once for each document and variable values."""
    fast_completion = True
    """Complete plain sub-trees with ``FastCompletion`` (off: graphql-core completes all)."""
    budget: _ResponseBudget
    plan: OperationPlan
    fast: FastCompletion | None = None  # set by ``build``

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # graphql-core's helpers hold two bound methods of the executor: a cycle that
        # would leave the whole execution to the garbage collector (cycles.py).
        self.async_helpers = GraphQLResolveInfoHelpers(
            gather=weakly_bound(self.gather_async_work), track=weakly_bound(self.track_async_work)
        )

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> list[GraphQLError] | Executor[Any]:
        executor = super().build(*args, **kwargs)
        if not isinstance(executor, GatewayExecutor):
            return executor  # variable coercion failed: graphql-core's errors
        plan = cls.plans.plan(
            executor.schema,
            executor.operation,
            executor.fragment_definitions,
            executor.variable_values,
        )
        refusal = plan.refusal(cls.plan_limits)
        if refusal is not None:
            bad_request(executor.context_value)
            return [refusal]
        executor.plan = plan
        executor.budget = _ResponseBudget(cls.max_response_bytes)
        executor.fast = (
            FastCompletion(executor, leaf_bytes, _LEAF_OVERHEAD)
            if cls.fast_completion and supports_fast_completion(executor)
            else None
        )
        file_plan = getattr(executor.context_value, "file_plan", None)
        if file_plan is not None:
            file_plan(executor.variable_values.coerced, plan)
        return executor

    def build_per_event_executor(self, payload: Any) -> Executor[Any]:
        """A subscription's events are responses of their own: each gets a fresh budget."""
        executor = super().build_per_event_executor(payload)
        if isinstance(executor, GatewayExecutor):
            executor.budget = _ResponseBudget(self.max_response_bytes)
        return executor

    def complete_leaf_value(self, return_type: GraphQLLeafType, result: Any) -> Any:  # type: ignore[override]
        completed = super().complete_leaf_value(return_type, result)
        budget = self.budget
        if not budget.exceeded:
            budget.left -= leaf_bytes(completed) + _LEAF_OVERHEAD
            if budget.left < 0:
                budget.exceeded = True
        return completed

    def complete_object_value(
        self,
        return_type: GraphQLObjectType,
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        fast, budget = self.fast, self.budget
        if fast is not None and position_context is None and not budget.exceeded:
            completed = fast.complete(return_type, field_details_list, result)
            if completed is not NOT_PLAIN:
                budget.left -= fast.bytes
                if budget.left < 0:
                    budget.exceeded = True
                return completed
        return super().complete_object_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def execute_field(self, *args: Any, **kwargs: Any) -> Any:
        if self.budget.exceeded:
            return None  # the response is refused: resolve (and fetch) nothing more
        return super().execute_field(*args, **kwargs)

    def build_response(self, data: dict[str, Any] | None) -> Any:
        if self.budget.exceeded:
            self.run_async_work_finished_hook()
            maximum = self.budget.maximum
            error = GraphQLError(
                f"The response would pass {maximum} bytes (MAX_RESPONSE_BYTES); "
                "ask for fewer fields, fewer aliases or smaller pages.",
                extensions={"code": ErrorCode.RESPONSE_TOO_LARGE, "maximum": maximum},
            )
            return ExecutionResult(None, [error])
        return super().build_response(data)


def executor_class(plan_limits: PlanLimits, max_response_bytes: int) -> type[GatewayExecutor]:
    """The executor for these limits: build once per schema."""
    return type(
        "ConfiguredGatewayExecutor",
        (GatewayExecutor,),
        {"plan_limits": plan_limits, "max_response_bytes": max_response_bytes},
    )
