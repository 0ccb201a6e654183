"""Schema extensions: the error mapping of DESIGN.md §5 and the call accounting.

``ErrorMapping`` is the one place where exceptions become GraphQL errors: known
failures get their ``extensions.code`` (errors.describe), GraphQL syntax and
validation errors keep their message and get a code of their own, and anything
unexpected is masked to ``INTERNAL_SERVER_ERROR`` and logged without its
traceback or arguments (which may hold secrets).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from gateway.errors import ErrorCode, code_of_uncoded, is_request_error
from gateway.schema.errors import describe

__all__ = ["CallAccounting", "ErrorMapping", "code_of_uncoded", "is_request_error"]

logger = logging.getLogger("gateway.graphql")


def _where(exc: BaseException) -> str:
    """``file:line`` of the innermost frame: enough to find a bug, not a stack trace."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno}"


class ErrorMapping(SchemaExtension):
    """Give every error in the result a stable code, and mask the unexpected ones."""

    def __init__(self) -> None:
        self._validation_errors: list[GraphQLError] = []

    def on_validate(self) -> Iterator[None]:
        yield
        self._validation_errors = list(self.execution_context.pre_execution_errors or [])

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [self._map(error) for error in result.errors]

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """A subscription's results (each event, or the error that ends it) are coded
        one by one, before the transport sends them."""
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = [self._map(error) for error in errors]
        yield

    def _map(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is not None and any(error is seen for seen in self._validation_errors):
            # A literal graphql-core could not parse (an Int of 4,301 digits makes
            # ``int()`` raise): a validation error of the caller's document, not a
            # fault of ours. Its message quotes the literal, so it is cut short.
            return _with_code(_shortened(error), "GRAPHQL_VALIDATION_FAILED")
        if original is None or isinstance(original, GraphQLError):
            return _with_code(error, code_of_uncoded(error, self._validation_errors))
        described = describe(original)
        if described is None:
            context = self.execution_context.context
            logger.error(
                "unexpected %s at %s in operation %s (request %s)",
                type(original).__name__,
                _where(original),
                self.execution_context.operation_name or "-",
                getattr(context, "request_id", "-"),
            )
            described = ("Internal server error.", {"code": ErrorCode.INTERNAL_SERVER_ERROR})
        message, extensions = described
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=extensions,
        )


_MAX_MESSAGE = 300


def _shortened(error: GraphQLError) -> GraphQLError:
    if len(error.message) <= _MAX_MESSAGE:
        return error
    return GraphQLError(
        error.message[: _MAX_MESSAGE - 1] + "…",
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=error.extensions,
    )


def _with_code(error: GraphQLError, code: str) -> GraphQLError:
    if error.extensions and "code" in error.extensions:
        return error
    error.extensions = {**(error.extensions or {}), "code": code}
    return error


class CallAccounting(SchemaExtension):
    """Reports what the operation cost upstream, in ``extensions.upstream`` (debug mode).

    - ``calls``: logical upstream calls the call budget admitted (each counts once,
      however many times it was retried; a call refused by the budget does not count);
    - ``attempts``: HTTP requests actually sent, retries included;
    - ``limit``: the budget (``MAX_UPSTREAM_CALLS``);
    - ``maxInFlight``: the most calls in flight at once (at most ``UPSTREAM_CONCURRENCY``).

    Read from the operation's upstream session after execution, so the figures are
    exact, not estimated; ``tests/schema/test_call_counts.py`` relies on them.
    """

    def get_results(self) -> dict[str, Any]:
        session = getattr(self.execution_context.context, "session", None)
        if session is None:
            return {}
        return {
            "upstream": {
                "calls": session.calls,
                "attempts": session.attempts,
                "limit": session.max_calls,
                "maxInFlight": session.max_in_flight,
            }
        }
