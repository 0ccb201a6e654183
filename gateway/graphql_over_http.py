"""GraphQL-over-HTTP (DESIGN.md §5): the response's media type, and refusals without ``data``.

A client says which media type it reads in ``Accept``. With
``application/graphql-response+json`` (what Apollo Client 4 asks for first) the
response has that type, and a client may trust its status: a request that could
not be parsed or validated is a 4xx and the body still holds the GraphQL errors.
With ``application/json``, ``*/*`` or no ``Accept`` at all (legacy clients) the
response is ``application/json``. The status rule is the same for both (a request
refused before execution is a 4xx, one that executed is a 200), so only the
``Content-Type`` differs.

A request that never executed has no ``data`` key at all (``"data": null`` would
say that execution started and failed at the root): ``refusal_body`` builds the
bodies the gateway writes itself (401, 413, ...), ``GatewayGraphQLRouter`` drops
the key from strawberry's results.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APPLICATION_JSON",
    "GRAPHQL_RESPONSE_JSON",
    "refusal_body",
    "response_media_type",
]

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"


def _quality(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value.strip())))
            except ValueError:
                return 0.0
    return 1.0


def response_media_type(accept: str | None) -> str:
    """The media type of a GraphQL response to a request with this ``Accept`` header.

    ``application/graphql-response+json`` only when the client names it (with a
    non-zero quality no lower than that of ``application/json``); wildcards and a
    missing header mean ``application/json``, as the spec asks for legacy clients.
    """
    if not accept:
        return APPLICATION_JSON
    graphql_quality = 0.0
    json_quality = 0.0
    for media_range in accept[:1024].split(","):
        kind, *parameters = media_range.split(";")
        kind = kind.strip().lower()
        if kind == GRAPHQL_RESPONSE_JSON:
            graphql_quality = max(graphql_quality, _quality(parameters))
        elif kind == APPLICATION_JSON:
            json_quality = max(json_quality, _quality(parameters))
    if graphql_quality > 0 and graphql_quality >= json_quality:
        return GRAPHQL_RESPONSE_JSON
    return APPLICATION_JSON


def refusal_body(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    """The body of a request refused before execution: errors, and no ``data`` key."""
    return {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
