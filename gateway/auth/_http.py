"""How a refused caller is answered over HTTP.

An unauthenticated request gets **HTTP 401** with a ``WWW-Authenticate: Bearer``
header and a GraphQL-shaped body (``{"errors": [{..., "extensions": {"code":
"UNAUTHENTICATED"}}]}``: no ``data``, nothing executed; in the media type the
client accepts, see ``gateway.graphql_over_http``), before the document is even
parsed: it costs no upstream call and no GraphQL work. GraphQL-over-HTTP lets a server answer a
request it refuses to process with a 4xx; a 401 is what HTTP clients, proxies and
Apollo/urql error links recognise. The GraphiQL page itself (a GET without a
``query``) is served without a credential: it executes nothing.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from gateway.auth._credentials import UnauthenticatedError
from gateway.errors import ErrorCode
from gateway.graphql_over_http import refusal_body, response_media_type

__all__ = ["executes_graphql", "unauthenticated_response"]

UNAUTHENTICATED = ErrorCode.UNAUTHENTICATED


def executes_graphql(request: Request) -> bool:
    """Would this request run an operation? (Not for the IDE page or a bare GET.)"""
    return request.method != "GET" or "query" in request.query_params


async def unauthenticated_response(request: Request, exc: Exception) -> JSONResponse:
    """The 401 answer; registered as the app's handler of ``UnauthenticatedError``."""
    message = exc.message if isinstance(exc, UnauthenticatedError) else "Unauthenticated."
    return JSONResponse(
        refusal_body(message, ErrorCode.UNAUTHENTICATED),
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="messages-gateway"'},
        media_type=response_media_type(request.headers.get("accept")),
    )
