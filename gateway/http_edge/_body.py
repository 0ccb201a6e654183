"""``BoundedBody``: every request body arrives in time, within its size and a global budget.

Three bounds, one concern (reading a body), enforced on the ``receive`` channel
so they hold on every route (``/graphql`` and the store at ``/v1``):

- **time**: the whole body must arrive within ``HTTP_BODY_TIMEOUT`` seconds of the
  request's headers; a client that stalls or drips gets **408** and the
  connection is closed (a slow-body client cannot hold a connection and its
  buffer for longer);
- **size** (``/graphql``): over ``MAX_BODY_BYTES`` is **413** ``REQUEST_TOO_LARGE``;
  a declared ``Content-Length`` over it is refused without reading a byte, a
  chunked body as soon as it passes it;
- **memory, across requests**: bytes of bodies still being read or processed
  draw from one process-wide budget, ``MAX_BODY_BYTES_IN_FLIGHT``. The first
  64 KiB of each body are not drawn: uvicorn buffers that much per connection
  before it stops reading a socket, so it is already bounded by
  ``MAX_CONNECTIONS``, and small requests keep working while the budget is
  exhausted by large ones. A chunk the budget cannot hold is **503**
  ``RATE_LIMITED`` with ``Retry-After``. Total body memory is thus at most
  ``MAX_CONNECTIONS`` x 64 KiB + ``MAX_BODY_BYTES_IN_FLIGHT``.

When a bound is hit the app behind sees ``http.disconnect`` (as if the client
went away, which every ASGI app handles) and this piece sends the refusal.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.errors import ErrorCode
from gateway.http_edge._answers import EdgeRefusalError, refuse

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["UNCOUNTED_BYTES", "BodyBudget", "BoundedBody"]

UNCOUNTED_BYTES = 64 * 1024  # uvicorn's per-connection read buffer (HIGH_WATER_LIMIT)

_NO_BODY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class BodyBudget:
    """Bytes of request bodies the process may hold at once (one per app, shared)."""

    capacity: int
    used: int = 0

    def take(self, size: int) -> bool:
        if self.used + size > self.capacity:
            return False
        self.used += size
        return True

    def give_back(self, size: int) -> None:
        self.used -= size


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BoundedBody:
    """Time, size (on ``limited_path``) and memory bounds on request bodies."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        timeout: float,
        budget: BodyBudget,
        max_body_bytes: int,
        limited_path: str,
    ) -> None:
        self.app = app
        self.timeout = timeout
        self.budget = budget
        self.max_body_bytes = max_body_bytes
        self.limited_path = limited_path.rstrip("/")

    def _too_large(self) -> EdgeRefusalError:
        return EdgeRefusalError(
            413,
            f"The request body is larger than {self.max_body_bytes} bytes.",
            ErrorCode.REQUEST_TOO_LARGE,
            maximum=self.max_body_bytes,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _NO_BODY_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes if scope["path"].rstrip("/") == self.limited_path else None
        declared = _declared_length(scope)
        if limit is not None and declared is not None and declared > limit:
            await refuse(scope, send, self._too_large())
            return

        deadline = time.monotonic() + self.timeout
        received = 0
        drawn = 0
        complete = False
        refusal: EdgeRefusalError | None = None
        started = False

        async def bounded_receive() -> Message:
            nonlocal received, drawn, complete, refusal
            if refusal is not None or complete:
                return await receive() if refusal is None else {"type": "http.disconnect"}
            try:
                async with asyncio.timeout_at(asyncio.get_running_loop().time() + remaining()):
                    message = await receive()
            except TimeoutError:
                refusal = EdgeRefusalError(
                    408,
                    f"The request body did not arrive within {self.timeout:g} seconds.",
                    ErrorCode.BAD_USER_INPUT,
                )
                return {"type": "http.disconnect"}
            if message["type"] != "http.request":
                return message
            chunk_size = len(message.get("body", b""))
            received += chunk_size
            if limit is not None and received > limit:
                refusal = self._too_large()
                return {"type": "http.disconnect"}
            owed = max(0, received - UNCOUNTED_BYTES) - drawn
            if owed and not self.budget.take(owed):
                refusal = EdgeRefusalError(
                    503,
                    "The gateway is receiving too many request bodies at once; retry shortly.",
                    ErrorCode.RATE_LIMITED,
                    headers=((b"retry-after", b"1"),),
                    retryAfter=1,
                )
                return {"type": "http.disconnect"}
            drawn += owed
            complete = not message.get("more_body", False)
            return message

        def remaining() -> float:
            return max(0.0, deadline - time.monotonic())

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, bounded_receive, tracked_send)
            if refusal is not None and not started:
                await refuse(scope, send, refusal)
        finally:
            self.budget.give_back(drawn)
