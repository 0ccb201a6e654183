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
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.errors import ErrorCode

if TYPE_CHECKING:
    import asyncio

__all__ = [
    "MAX_HEADER_BYTES",
    "BoundedHttpProtocol",
    "ConnectionRegistry",
    "bounded_http_protocol",
]

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


class ConnectionRegistry:
    """One server's bounded connections: how many are open, which wait for headers.

    ``waiting`` is insertion-ordered, oldest first, so finding the connection to
    evict is O(1) however many are open (an accept storm must stay cheap).
    """

    def __init__(self) -> None:
        self.open = 0
        self.waiting: dict[BoundedHttpProtocol, None] = {}


class BoundedHttpProtocol(HttpToolsProtocol):
    """Use ``bounded_http_protocol(...)``: it fills in the class settings and registry."""

    header_timeout: float = 10.0
    max_connections: int = 1000
    registry: ConnectionRegistry = ConnectionRegistry()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._counted = False

    # --- connection cap ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.registry.open += 1
        self._counted = True
        if self.registry.open > self.max_connections and not self._evict_one():
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
        self._start_waiting()
        self._arm_header_timer()

    def _evict_one(self) -> bool:
        """Close the connection waiting longest for headers; False when there is none."""
        victim = next(iter(self.registry.waiting), None)
        if victim is None:
            return False
        victim._forget()
        victim.transport.close()
        return True

    def _start_waiting(self) -> None:
        self.registry.waiting.pop(self, None)
        self.registry.waiting[self] = None  # the newest waiter

    @property
    def _awaiting_headers(self) -> bool:
        return self in self.registry.waiting

    def _forget(self) -> None:
        """Leave the registry (closing, closed or handed over): no longer counted."""
        self.registry.waiting.pop(self, None)
        if self._counted:
            self._counted = False
            self.registry.open -= 1

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
        if self._awaiting_headers:
            self._answer_and_close(
                _raw_response(
                    "408 Request Timeout",
                    f"The request headers did not arrive within {self.header_timeout:g} seconds.",
                    ErrorCode.BAD_USER_INPUT,
                )
            )

    def _answer_and_close(self, response: bytes) -> None:
        self._forget()
        if not self.transport.is_closing():
            self.transport.write(response)
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if not self._awaiting_headers:
            super().data_received(data)
            return
        self._arm_header_timer()  # the first byte of a request after a keep-alive pause
        self._header_bytes += len(data)
        super().data_received(data)
        if self._awaiting_headers and self._header_bytes > MAX_HEADER_BYTES:
            self._answer_and_close(
                _raw_response(
                    "431 Request Header Fields Too Large",
                    f"The request headers are larger than {MAX_HEADER_BYTES} bytes.",
                    ErrorCode.BAD_USER_INPUT,
                )
            )

    def on_headers_complete(self) -> None:
        self._cancel_header_timer()
        self.registry.waiting.pop(self, None)
        self._header_bytes = 0
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        pipelined = bool(self.pipeline)
        super().on_response_complete()
        if not pipelined and not self.transport.is_closing() and self.cycle.response_complete:
            self._start_waiting()  # idle: uvicorn's keep-alive timer runs

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        self._forget()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        self._cancel_header_timer()
        self._forget()  # the WebSocket protocol owns the connection from here
        super().handle_websocket_upgrade()


def bounded_http_protocol(
    *, header_timeout: float, max_connections: int
) -> type[HttpToolsProtocol]:
    """The protocol class to hand to uvicorn (``Config(http=...)``) with these bounds."""
    return type(
        "BoundedHttpProtocol",
        (BoundedHttpProtocol,),
        {
            "header_timeout": header_timeout,
            "max_connections": max_connections,
            "registry": ConnectionRegistry(),
        },
    )
