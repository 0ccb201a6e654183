"""``bounded_http_protocol``: uvicorn's HTTP/1.1 protocol, with a header deadline and a cap.

Why a protocol and not ASGI middleware: both bounds act before a request
exists. uvicorn arms no timer on a fresh connection (its keep-alive timeout
starts only after a first response) and none while request headers trickle in,
and its ``limit_concurrency`` only answers 503 once headers are complete, to the
newcomer, while the idle sockets that filled the slots stay open. So this
subclass of uvicorn's ``HttpToolsProtocol`` adds, per connection:

- **header deadline** (``HTTP_HEADER_TIMEOUT``): a request's headers must be
  complete within that many seconds of the connection opening, or of the first
  byte after the previous response; else **408** and close. Idle keep-alive
  connections are closed by uvicorn's own ``timeout_keep_alive``
  (``KEEPALIVE_TIMEOUT``);
- **header size**: more than ``MAX_HEADER_BYTES`` without the end of the headers
  is **431** and close (httptools itself has no limit);
- **connection cap** (``MAX_CONNECTIONS``): a connection past the cap first
  evicts the connection that has waited longest for its next request's headers
  (idle or slow, so it costs a well-behaved client at most a reconnect); when
  every connection is busy with a request, the newcomer gets **503** with
  ``Retry-After`` and is closed. The number of open sockets, and so of file
  descriptors, stays at the cap.

Every answer here is written before a request exists, so it is GraphQL-shaped
JSON without a route (``errors[0].extensions.code``).
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.schema.errors import ErrorCode

if TYPE_CHECKING:
    import asyncio

__all__ = ["MAX_HEADER_BYTES", "BoundedHttpProtocol", "bounded_http_protocol"]

MAX_HEADER_BYTES = 32 * 1024


def _raw_response(status: str, message: str, code: str, *extra: bytes) -> bytes:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()
    head = [
        f"HTTP/1.1 {status}".encode(),
        b"content-type: application/json",
        b"content-length: " + str(len(body)).encode(),
        b"connection: close",
        *extra,
    ]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


class BoundedHttpProtocol(HttpToolsProtocol):
    """Use ``bounded_http_protocol(...)``: it fills in the two class settings."""

    header_timeout: float = 10.0
    max_connections: int = 1000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._waiting_since: float | None = None  # waiting for a request's headers since
        self._header_bytes = 0
        self._evicted = False

    # --- connection cap ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._waiting_since = time.monotonic()
        if (
            len(self.connections) > self.max_connections
            and self._open_connections() > self.max_connections
            and not self._evict_one()
        ):
            self._answer_and_close(
                _raw_response(
                    "503 Service Unavailable",
                    f"The gateway holds its maximum of {self.max_connections} connections; "
                    "retry shortly.",
                    ErrorCode.RATE_LIMITED,
                    b"retry-after: 1",
                )
            )
            return
        self._arm_header_timer()

    def _open_connections(self) -> int:
        return sum(1 for c in self.connections if not getattr(c, "_evicted", False))

    def _evict_one(self) -> bool:
        """Close the connection waiting longest for headers; False when there is none."""
        waiting = [
            c
            for c in self.connections
            if isinstance(c, BoundedHttpProtocol)
            and c is not self
            and not c._evicted
            and c._waiting_since is not None
        ]
        if not waiting:
            return False
        victim = min(waiting, key=lambda c: c._waiting_since or 0.0)
        victim._evicted = True
        victim.transport.close()
        return True

    # --- header deadline and size -----------------------------------------------------
    def _arm_header_timer(self) -> None:
        if self._header_timer is None and not self.transport.is_closing():
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_late)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self._waiting_since is not None:
            self._answer_and_close(
                _raw_response(
                    "408 Request Timeout",
                    f"The request headers did not arrive within {self.header_timeout:g} seconds.",
                    ErrorCode.BAD_USER_INPUT,
                )
            )

    def _answer_and_close(self, response: bytes) -> None:
        self._evicted = True
        if not self.transport.is_closing():
            self.transport.write(response)
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self._waiting_since is None:
            super().data_received(data)
            return
        self._arm_header_timer()  # the first byte of a request after a keep-alive pause
        self._header_bytes += len(data)
        super().data_received(data)
        if self._waiting_since is not None and self._header_bytes > MAX_HEADER_BYTES:
            self._answer_and_close(
                _raw_response(
                    "431 Request Header Fields Too Large",
                    f"The request headers are larger than {MAX_HEADER_BYTES} bytes.",
                    ErrorCode.BAD_USER_INPUT,
                )
            )

    def on_headers_complete(self) -> None:
        self._cancel_header_timer()
        self._waiting_since = None
        self._header_bytes = 0
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        pipelined = bool(self.pipeline)
        super().on_response_complete()
        if not pipelined and not self.transport.is_closing() and self.cycle.response_complete:
            self._waiting_since = time.monotonic()  # idle: uvicorn's keep-alive timer runs

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        self._evicted = True
        super().connection_lost(exc)


def bounded_http_protocol(
    *, header_timeout: float, max_connections: int
) -> type[HttpToolsProtocol]:
    """The protocol class to hand to uvicorn (``Config(http=...)``) with these bounds."""
    return type(
        "BoundedHttpProtocol",
        (BoundedHttpProtocol,),
        {"header_timeout": header_timeout, "max_connections": max_connections},
    )
