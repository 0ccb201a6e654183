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

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from gateway.errors import code_of_uncoded

if TYPE_CHECKING:
    from gateway.observability._observability import Observability

__all__ = ["OperationObserver", "code_of", "outcome_of"]


def code_of(error: BaseException) -> str:
    """The error code an error gets in the response (``ErrorMapping`` or the HTTP layer).

    Errors raised before execution (syntax, validation, limits) may not be coded
    yet when the operation ends: a syntax error becomes ``GRAPHQL_PARSE_FAILED``,
    another GraphQL error without an original exception ``GRAPHQL_VALIDATION_FAILED``.
    """
    if isinstance(error, GraphQLError):
        code = (error.extensions or {}).get("code")
        if isinstance(code, str):
            return code
        if error.original_error is None:
            return code_of_uncoded(error)
    return "INTERNAL_SERVER_ERROR"


def outcome_of(execution_context: ExecutionContext) -> str:
    """``ok``, or the code of the first error of the operation's result."""
    result = execution_context.result
    errors = result.errors if result is not None else execution_context.pre_execution_errors
    if not errors:
        return "ok" if result is not None else "INTERNAL_SERVER_ERROR"
    return code_of(errors[0])


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
        span = observability.tracing.start_operation()
        started = time.perf_counter()
        outcome = "INTERNAL_SERVER_ERROR"
        try:
            yield
            outcome = outcome_of(execution_context)
        except Exception as exc:
            # Raised through the operation (e.g. by a parsing hook); strawberry turns
            # it into the response's error.
            outcome = code_of(exc)
            raise
        finally:
            seconds = time.perf_counter() - started
            name = execution_context.operation_name
            observability.metrics.observe_operation(name, outcome, seconds)
            if span is not None:
                span.finish(name, _operation_type(execution_context), outcome)
