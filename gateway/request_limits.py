"""HTTP-level limits on ``/graphql``, enforced before anything parses the body.

``RequestLimits`` is a small ASGI middleware:

- a body over ``max_body_bytes`` gets **413** ``REQUEST_TOO_LARGE``. A declared
  ``Content-Length`` over the limit is refused without reading a byte; a chunked
  body (no ``Content-Length``) is counted as it arrives and refused as soon as it
  passes the limit, so memory stays bounded either way;
- a JSON array (a batch of operations) gets **400** ``BATCHING_DISABLED`` unless
  ``ALLOW_BATCHING`` is on (then strawberry runs the batch, at most
  ``MAX_BATCH_OPERATIONS`` operations, all sharing one upstream-call budget).

Both answers are GraphQL-shaped (``{"data": null, "errors": [...]}``).
``install_http_limits`` also puts CORS in front when ``CORS_ORIGINS`` is set.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from starlette.middleware.cors import CORSMiddleware

from gateway.schema.errors import ErrorCode

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from gateway.config import Settings

__all__ = ["RequestLimits", "install_http_limits"]

_WHITESPACE = b" \t\r\n"


def _error_body(message: str, code: str, **extra: object) -> bytes:
    error = {"message": message, "extensions": {"code": code, **extra}}
    return json.dumps({"data": None, "errors": [error]}).encode()


async def _answer(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestLimits:
    """Body size and batching checks for requests under ``path``."""

    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, allow_batching: bool, path: str = "/graphql"
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.allow_batching = allow_batching
        self.path = path.rstrip("/")

    def _too_large(self) -> bytes:
        return _error_body(
            f"The request body is larger than {self.max_body_bytes} bytes.",
            ErrorCode.REQUEST_TOO_LARGE,
            maximum=self.max_body_bytes,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in ("GET", "HEAD", "OPTIONS")
            or scope["path"].rstrip("/") != self.path
        ):
            await self.app(scope, receive, send)
            return
        declared = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
        if declared is not None and declared > self.max_body_bytes:
            await _answer(send, 413, self._too_large())
            return

        # Read the body (bounded), then replay it to the app.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await _answer(send, 413, self._too_large())
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)

        if not self.allow_batching and body.lstrip(_WHITESPACE)[:1] == b"[":
            await _answer(
                send,
                400,
                _error_body(
                    "Batched operations (a JSON array) are not enabled on this gateway; "
                    "send one operation per request.",
                    ErrorCode.BATCHING_DISABLED,
                ),
            )
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def install_http_limits(app: FastAPI, settings: Settings) -> None:
    """Add the body and batching limits, and CORS (outermost) when origins are configured."""
    app.add_middleware(
        RequestLimits,
        max_body_bytes=settings.max_body_bytes,
        allow_batching=settings.allow_batching,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-Request-Id"],
            max_age=600,
        )
