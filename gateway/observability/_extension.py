"""``OperationObserver``: the schema extension that times and counts each GraphQL operation.

It is the first extension of the schema, so its ``on_operation`` wraps every other
one: it sees the result after ``ErrorMapping`` gave each error its code. It finds
the app's ``Observability`` through the request (``request.app.state``), so a
schema executed outside an app (tests, ``schema.execute``) observes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

if TYPE_CHECKING:
    from gateway.observability._observability import Observability

__all__ = ["OperationObserver", "outcome_of"]


def outcome_of(execution_context: ExecutionContext) -> str:
    """``ok``, or the code of the result's first error (``INTERNAL_SERVER_ERROR`` if none)."""
    result = execution_context.result
    if result is None:
        return "INTERNAL_SERVER_ERROR"
    if not result.errors:
        return "ok"
    code = (result.errors[0].extensions or {}).get("code")
    return code if isinstance(code, str) else "INTERNAL_SERVER_ERROR"


def _observability_of(execution_context: ExecutionContext) -> Observability | None:
    request = getattr(execution_context.context, "request", None)
    app = getattr(request, "app", None)
    found = getattr(getattr(app, "state", None), "observability", None)
    return found


def _operation_type(execution_context: ExecutionContext) -> str | None:
    try:
        return execution_context.operation_type.value
    except Exception:  # no document (a parse error): no type
        return None


class OperationObserver(SchemaExtension):
    """Counts, times and traces each operation by name and outcome."""

    def on_operation(self) -> Iterator[None]:
        execution_context = self.execution_context
        observability = _observability_of(execution_context)
        if observability is None:
            yield
            return
        loaders = getattr(execution_context.context, "loaders", None)
        if loaders is not None:
            observability.instrument(loaders)
        span = observability.tracing.start_operation()
        started = time.perf_counter()
        outcome = "INTERNAL_SERVER_ERROR"
        try:
            yield
            outcome = outcome_of(execution_context)
        finally:
            seconds = time.perf_counter() - started
            name = execution_context.operation_name
            observability.metrics.observe_operation(name, outcome, seconds)
            if span is not None:
                span.finish(name, _operation_type(execution_context), outcome)
