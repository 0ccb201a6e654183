"""The answers the HTTP edge gives on its own, before any route runs.

Every refusal is in the shape the caller's client reads: on ``/v1`` (the
embedded store) the OpenAI error envelope, everywhere else a GraphQL-shaped body
``{"errors": [{"message", "extensions": {"code", ...}}]}`` with no ``data`` key
(nothing executed, GraphQL-over-HTTP). Each one closes the connection: the edge
answers early, and the rest of that request's bytes are never read.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from gateway.graphql_over_http import APPLICATION_JSON, refusal_body, response_media_type
from gateway.store.errors import APIError

if TYPE_CHECKING:
    from starlette.types import Scope, Send

__all__ = ["STORE_PREFIX", "EdgeRefusalError", "refuse"]

STORE_PREFIX = "/v1"


class EdgeRefusalError(Exception):
    """A request the edge answers itself: status, message, GraphQL code, extras."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str,
        *,
        headers: tuple[tuple[bytes, bytes], ...] = (),
        **extensions: object,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers
        self.extensions = extensions

    def body_for(self, path: str) -> bytes:
        """The envelope of the route the request was for."""
        if _is_store_path(path):
            error = APIError(self.message, code=self.code.lower())
            return error.to_json().encode()
        return json.dumps(refusal_body(self.message, self.code, **self.extensions)).encode()


def _is_store_path(path: str) -> bool:
    return path == STORE_PREFIX or path.startswith(STORE_PREFIX + "/")


def _media_type(scope: Scope) -> str:
    """The store's JSON on ``/v1``; elsewhere the GraphQL media type the caller accepts."""
    if _is_store_path(scope.get("path", "")):
        return APPLICATION_JSON
    accept = next(
        (value.decode("latin-1") for name, value in scope.get("headers", ()) if name == b"accept"),
        None,
    )
    return response_media_type(accept)


async def refuse(scope: Scope, send: Send, refusal: EdgeRefusalError) -> None:
    """Send ``refusal`` as the whole response, with ``Connection: close``."""
    body = refusal.body_for(scope.get("path", ""))
    await send(
        {
            "type": "http.response.start",
            "status": refusal.status,
            "headers": [
                (b"content-type", _media_type(scope).encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *refusal.headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
