"""The GraphQL HTTP endpoint: strawberry's FastAPI router, made safe under concurrency.

Strawberry's router keeps the per-request "sub-response" (where resolvers and
extensions set status codes and headers) on the router instance, which every
concurrent request shares; this router keeps it on the request instead. The
context getter stores it there (``remember_sub_response``).
"""

from __future__ import annotations

from fastapi import Request, Response
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from gateway.response_json import encode_response
from gateway.schema import Context
from gateway.schema.extensions import code_of_uncoded, is_request_error

__all__ = ["GatewayGraphQLRouter", "remember_sub_response"]


def remember_sub_response(request: Request, response: Response) -> None:
    """Keep this request's sub-response where ``get_sub_response`` will look."""
    request.state.sub_response = response


class GatewayGraphQLRouter(GraphQLRouter[Context, None]):
    async def get_sub_response(self, request: Request) -> Response:
        response: Response = request.state.sub_response
        return response

    def encode_json(self, data: object) -> bytes:
        """Responses are encoded by orjson (``gateway.response_json``)."""
        return encode_response(data)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """Set the GraphQL-over-HTTP status: 400 when the request never executed.

        Errors reach here already coded by ``ErrorMapping``, except a syntax error,
        which strawberry reports outside the extensions' reach: it is coded here.
        """
        errors = result.errors or []
        for error in errors:
            if not (error.extensions or {}).get("code"):
                error.extensions = {**(error.extensions or {}), "code": code_of_uncoded(error)}
        if errors and result.data is None and all(is_request_error(e) for e in errors):
            request.state.sub_response.status_code = 400
        return await super().process_result(request, result)
