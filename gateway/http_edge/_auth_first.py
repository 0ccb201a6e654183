"""``AuthenticateFirst``: the credential is checked from the headers, before the body.

Why: an auth-enabled gateway must not spend memory or time on bodies of callers
it will refuse anyway. Without this, a caller with no credential could make the
gateway buffer ``MAX_BODY_BYTES`` per connection before the 401 (the operation's
context, where authentication happens too, is only built after the body is
parsed). A request that would run an operation (any ``POST``, a ``GET`` with
``query``) and carries no valid credential gets the **401** at once, with
``Connection: close``: the body is never read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request

from gateway.auth import UnauthenticatedError, executes_graphql, unauthenticated_response

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

    from gateway.auth import Authenticator

__all__ = ["AuthenticateFirst"]


class AuthenticateFirst:
    """Refuses operations on ``path`` without a valid credential, before reading a byte."""

    def __init__(self, app: ASGIApp, *, authenticator: Authenticator, path: str) -> None:
        self.app = app
        self.authenticator = authenticator
        self.path = path.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] == "OPTIONS"
            or scope["path"].rstrip("/") != self.path
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if executes_graphql(request):
            try:
                await self.authenticator.authenticate(request.headers.get("authorization"))
            except UnauthenticatedError as exc:
                response = await unauthenticated_response(request, exc)
                response.headers["connection"] = "close"
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
