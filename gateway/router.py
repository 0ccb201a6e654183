"""The GraphQL HTTP endpoint: strawberry's FastAPI router, made safe under concurrency
and speaking GraphQL-over-HTTP with both media types (``gateway.graphql_over_http``).

Strawberry's router keeps the per-request "sub-response" (where resolvers and
extensions set status codes and headers) on the router instance, which every
concurrent request shares; this router keeps it on the request instead. The
context getter stores it there (``remember_sub_response``).

Strawberry answers every request as ``application/json`` and writes ``"data":
null`` for a request that never executed; this router answers in the media type
the client accepts, and leaves ``data`` out when execution never started.
"""

from __future__ import annotations

from fastapi import Request, Response
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from gateway.errors import ErrorCode, code_of_uncoded, is_request_error
from gateway.graphql_over_http import response_media_type
from gateway.response_json import encode_response
from gateway.schema import Context

__all__ = ["GatewayGraphQLRouter", "remember_sub_response"]


def remember_sub_response(request: Request, response: Response) -> None:
    """Keep this request's sub-response where ``get_sub_response`` will look."""
    request.state.sub_response = response


def never_executed(result: ExecutionResult) -> bool:
    """True when the request stopped before execution (parse, validation, limits,
    variable coercion): no data, and no error from a field (every field error has a path)
    nor one that stopped a running execution (``RESPONSE_TOO_LARGE``)."""
    errors = result.errors or []
    return (
        result.data is None
        and bool(errors)
        and all(
            e.path is None and (e.extensions or {}).get("code") != ErrorCode.RESPONSE_TOO_LARGE
            for e in errors
        )
    )


class GatewayGraphQLRouter(GraphQLRouter[Context, None]):
    async def get_sub_response(self, request: Request) -> Response:
        """This request's sub-response, carrying the media type negotiated from
        ``Accept``: it is the one per-request object ``create_response`` is handed."""
        response: Response = request.state.sub_response
        response.media_type = response_media_type(request.headers.get("accept"))
        return response

    def encode_json(self, data: object) -> bytes:
        """Responses are encoded by orjson (``gateway.response_json``)."""
        return encode_response(data)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """Set the GraphQL-over-HTTP status (400 when the request never executed
        because it was malformed) and leave ``data`` out of a request never executed.

        Errors reach here already coded by ``ErrorMapping``, except a syntax error,
        which strawberry reports outside the extensions' reach: it is coded here.
        """
        errors = result.errors or []
        for error in errors:
            if not (error.extensions or {}).get("code"):
                error.extensions = {**(error.extensions or {}), "code": code_of_uncoded(error)}
        if errors and result.data is None and all(is_request_error(e) for e in errors):
            request.state.sub_response.status_code = 400
        processed = await super().process_result(request, result)
        if never_executed(result):
            processed.pop("data", None)
        return processed

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        """Strawberry's response, in the media type negotiated for this request."""
        response = Response(
            self.encode_json(response_data),
            media_type=sub_response.media_type,
            status_code=sub_response.status_code or 200,
        )
        response.headers.raw.extend(sub_response.headers.raw)
        return response
