"""The error codes of DESIGN.md §5 and how an uncoded GraphQL error gets one.

A neutral module: it depends on graphql-core alone, so every layer that names a
code (the schema, the HTTP edge, authentication, observability) imports it
without importing the others. ``gateway.schema.errors`` says which exception
gets which code; ``gateway.schema.extensions`` applies it.
"""

from __future__ import annotations

from graphql import GraphQLError, GraphQLSyntaxError

__all__ = ["ErrorCode", "code_of_uncoded", "is_request_error"]


class ErrorCode:
    """The stable ``extensions.code`` values."""

    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    RATE_LIMITED = "RATE_LIMITED"
    UPSTREAM_TIMEOUT = "UPSTREAM_TIMEOUT"
    UPSTREAM_UNAVAILABLE = "UPSTREAM_UNAVAILABLE"
    UPSTREAM_ERROR = "UPSTREAM_ERROR"
    UPSTREAM_CALL_LIMIT = "UPSTREAM_CALL_LIMIT"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    # Requests refused before execution (gateway/schema/limits.py, gateway/http_edge):
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    BATCHING_DISABLED = "BATCHING_DISABLED"
    # Stopped while running (gateway/schema/execution.py):
    RESPONSE_TOO_LARGE = "RESPONSE_TOO_LARGE"
    # Subscriptions (gateway/live):
    SUBSCRIPTION_LIMIT = "SUBSCRIPTION_LIMIT"


def code_of_uncoded(
    error: GraphQLError, validation_errors: list[GraphQLError] | None = None
) -> str:
    """The code of a GraphQL error raised without an exception of ours.

    Syntax errors come first; validation errors (``validation_errors``, or any
    path-less error when they are not known) before execution; coercion errors of
    variable values (bad metadata, a oneOf input with two keys) from it, without a
    path. An error *with* a path is a value the schema could not show: one the
    upstream sent (a leaf that fails serialisation), so ``UPSTREAM_ERROR``.
    """
    if isinstance(error, GraphQLSyntaxError):
        return ErrorCode.GRAPHQL_PARSE_FAILED
    if error.path is not None:
        return ErrorCode.UPSTREAM_ERROR
    if validation_errors is None or any(error is seen for seen in validation_errors):
        return ErrorCode.GRAPHQL_VALIDATION_FAILED
    return ErrorCode.BAD_USER_INPUT


_REQUEST_ERROR_CODES = frozenset(
    (ErrorCode.GRAPHQL_PARSE_FAILED, ErrorCode.GRAPHQL_VALIDATION_FAILED, ErrorCode.BAD_USER_INPUT)
)


def is_request_error(error: GraphQLError) -> bool:
    """True for an error that stopped the request before execution (GraphQL-over-HTTP 400)."""
    return error.path is None and (error.extensions or {}).get("code") in _REQUEST_ERROR_CODES
