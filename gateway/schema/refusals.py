"""The one shape of a refused request: a ``QUERY_TOO_COMPLEX`` error naming its limit.

Every limit of the GraphQL layer (shape.py, limits.py, plan.py) refuses with
``extensions.code`` ``QUERY_TOO_COMPLEX``, ``extensions.limit`` naming the limit,
``maximum`` and, where known, ``actual``; such a request never executed, so it is
answered with HTTP 400 (``bad_request``).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from gateway.schema.errors import ErrorCode

__all__ = ["bad_request", "limit_error"]


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


def bad_request(context: object) -> None:
    """GraphQL-over-HTTP: a request refused before execution is a 400."""
    response = getattr(context, "response", None)
    if response is not None:
        response.status_code = 400
