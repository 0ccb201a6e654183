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
        if path == STORE_PREFIX or path.startswith(STORE_PREFIX + "/"):
            error = APIError(self.message, code=self.code.lower())
            return error.to_json().encode()
        extensions = {"code": self.code, **self.extensions}
        return json.dumps(
            {"errors": [{"message": self.message, "extensions": extensions}]}
        ).encode()


async def refuse(scope: Scope, send: Send, refusal: EdgeRefusalError) -> None:
    """Send ``refusal`` as the whole response, with ``Connection: close``."""
    body = refusal.body_for(scope.get("path", ""))
    await send(
        {
            "type": "http.response.start",
            "status": refusal.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *refusal.headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
