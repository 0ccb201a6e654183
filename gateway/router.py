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

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, StarletteRequestAdapter
from fastapi import Request, Response, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.http.streaming import SSETransport
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from gateway.auth import UnauthenticatedError
from gateway.errors import ErrorCode, code_of_uncoded, is_request_error
from gateway.graphql_over_http import response_media_type
from gateway.http_edge import checked_operation
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


def connection_authorization(context: Context) -> str | None:
    """A WebSocket's credential: ``connection_init`` payload ``{"authorization": "Bearer …"}``,
    else the upgrade request's ``Authorization`` header."""
    params = context.connection_params or {}
    given = params.get("authorization", params.get("Authorization"))
    if isinstance(given, str):
        return given
    request = getattr(context, "request", None)
    header = request.headers.get("authorization") if request is not None else None
    return header if isinstance(header, str) else None


class TextFrames(ASGIWebSocketAdapter):
    """graphql-transport-ws messages are text frames: strawberry would send our orjson
    bytes as binary frames, which clients (graphql-ws, gql) refuse."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        encoded = self.view.encode_json(message)
        try:
            await self.ws.send_text(encoded.decode() if isinstance(encoded, bytes) else encoded)
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class PingingTransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with keep-alive: a ``ping`` every ``keepalive_seconds`` once the
    connection is acknowledged (the client answers ``pong``), so idle streams survive
    proxies that drop silent connections, and a dead peer is found by the failed send."""

    async def handle(self) -> None:
        pinger = asyncio.create_task(self._ping())
        try:
            await super().handle()
        finally:
            pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pinger

    async def _ping(self) -> None:
        interval: float = getattr(self.view, "keepalive_seconds", 15.0)
        while True:
            await asyncio.sleep(interval)
            if self.connection_acknowledged:
                await self.send_message({"type": "ping"})


class ScopedRequestAdapter(StarletteRequestAdapter):
    """Strawberry's view of a Starlette request, which also shows the request itself."""

    @property
    def request(self) -> Request:
        return self._request


def _is_plain_json(content_type: str | None) -> bool:
    """``application/json``, parameters aside: what strawberry reads as one JSON body."""
    if content_type is None:
        return False
    return content_type.partition(";")[0].strip().lower() == "application/json"


class GatewayGraphQLRouter(GraphQLRouter[Context, None]):
    request_adapter_class = ScopedRequestAdapter
    websocket_adapter_class = TextFrames
    graphql_transport_ws_handler_class = PingingTransportWS

    def __init__(self, *args: Any, keepalive_seconds: float = 15.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keepalive_seconds = keepalive_seconds

        class KeptAliveSSE(SSETransport):
            """graphql-sse with the same keep-alive (a ``: ping`` comment)."""

            def __init__(self) -> None:
                super().__init__(heartbeat_interval=keepalive_seconds)

        self.stream_transport_classes_by_protocol = {
            **self.stream_transport_classes_by_protocol,
            GRAPHQL_SSE_PROTOCOL: KeptAliveSSE,
        }

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Authenticate the WebSocket at ``connection_init``; a refusal closes it (4403)."""
        if context.authorize is not None:
            try:
                await context.authorize(connection_authorization(context))
            except UnauthenticatedError:
                raise ConnectionRejectionError({"code": "UNAUTHENTICATED"}) from None
        acknowledged: UnsetType = UNSET  # a connection_ack without payload
        return acknowledged

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """The operation ``WellFormedOperations`` already parsed and checked, when it did
        (a plain JSON ``POST`` of one operation); strawberry's parse of the body otherwise."""
        checked = (
            checked_operation(request.request.scope)
            if isinstance(request, ScopedRequestAdapter)
            and request.method == "POST"
            and _is_plain_json(request.content_type)
            else None
        )
        if checked is None:
            return await super().parse_http_body(request)
        transport = self._get_stream_transport_from_headers(request.headers)
        return GraphQLRequestData(
            query=checked["query"],
            variables=checked.get("variables"),
            operation_name=checked.get("operationName"),
            extensions=checked.get("extensions"),
            protocol=transport.protocol if transport else "http",
        )

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
