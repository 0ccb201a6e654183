"""``LeanGraphQLRoute``: plain GraphQL over HTTP (``POST``, ``GET ?query=``) without
FastAPI's per-request dependency solving.

Strawberry's FastAPI router serves ``/graphql`` through ``APIRoute`` with
``Depends(context_getter)``: every operation pays for FastAPI's dependency solving,
its ``request_response`` wrappers and exit stacks, and strawberry's merging
dependency, before the context getter runs at all. Measured in-process
(``benchmarks.profile --screen chat-like-mesh``), that was several per cent of the
gateway's CPU per operation. This route does the same work directly: it builds the
request and the sub-response the way FastAPI does, calls the app's context getter,
fills in what strawberry's dependency would (``request``, ``background_tasks``,
``response``) and runs the router.

It claims only what it serves identically: ``GET``/``POST`` over HTTP that does not
ask for an event stream. Everything else (the WebSocket, graphql-sse, the IDE page,
other methods and their 405) falls through to strawberry's routes, which stay
installed behind it. Middleware (hosts, CORS, auth, body bounds, observability) and
exception handlers are the app's and see the request exactly as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from cross_web import HTTPException
from starlette.background import BackgroundTasks
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Match, Route
from starlette.types import Scope

from gateway.router import GatewayGraphQLRouter
from gateway.schema import Context

__all__ = ["LeanGraphQLRoute"]

ContextGetter = Callable[[Request, Response], Awaitable[Context]]

_METHODS = ("GET", "POST")


def is_event_stream(scope: Scope) -> bool:
    """Does the request accept ``text/event-stream`` (a graphql-sse subscription)?"""
    for name, value in scope.get("headers", ()):
        if name == b"accept" and b"text/event-stream" in value:
            return True
    return False


class LeanGraphQLRoute(Route):
    """``router``'s plain HTTP operations at ``path``, with ``context_getter`` called directly."""

    def __init__(
        self, path: str, router: GatewayGraphQLRouter, context_getter: ContextGetter
    ) -> None:
        self.router = router
        self.context_getter = context_getter
        super().__init__(path, self.serve, methods=list(_METHODS), include_in_schema=False)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """A full match for what this route serves, none otherwise (never partial: a
        method it does not serve is strawberry's routes' to answer, 405 included)."""
        if scope["type"] != "http" or scope["method"] not in _METHODS or is_event_stream(scope):
            return Match.NONE, {}
        match, child_scope = super().matches(scope)
        if match is Match.FULL:
            return match, child_scope
        return Match.NONE, {}

    async def serve(self, request: Request) -> Response:
        """What strawberry's ``handle_http_post``/``handle_http_get`` answer under FastAPI."""
        # FastAPI's sub-response: no content-length, no status until someone sets one.
        sub_response = Response()
        del sub_response.headers["content-length"]
        sub_response.status_code = None  # type: ignore[assignment]
        context = await self.context_getter(request, sub_response)
        background_tasks = BackgroundTasks()
        context.request = request
        context.background_tasks = background_tasks
        context.response = sub_response
        try:
            response = await self.router.run(request, context=context, root_value=None)
        except HTTPException as e:
            response = PlainTextResponse(e.reason, status_code=e.status_code)
        if response.background is None:
            response.background = background_tasks
        return response
