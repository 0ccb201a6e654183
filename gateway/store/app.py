"""``create_store_app``: the store's REST API as an ASGI application.

A small hand-rolled front instead of FastAPI routing, for three reasons:

- the API must answer *every* failure in the OpenAI error envelope: unknown
  URLs, wrong methods, malformed JSON, oversized bodies, unexpected exceptions;
  there is no framework default (422, plain-text 404) left to leak;
- it routes on the *raw* path, decoding each segment on its own: ASGI servers
  decode ``%2F`` into ``/`` in ``scope["path"]``, which would let
  ``thread_x%2Fmessages`` reach the message list of ``thread_x``;
- the gateway calls it in-process on every GraphQL request, so the less
  machinery per request the better.

It is wrapped in a ``Starlette`` application (``StoreApplication``) so that it
mounts and tests like any other; it needs no lifespan (the gateway's lifespan
opens the store).
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from collections.abc import Iterable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.store.backend import StoreBackend
from gateway.store.errors import (
    APIError,
    AuthenticationError,
    InternalServerError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
)
from gateway.store.routes import CONTROL_CHARACTER, Call, match_route
from gateway.wire_contract import is_request_id

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "StoreAPI",
    "StoreApplication",
    "StoreMount",
    "create_store_app",
    "route_segments",
    "shown_path",
]

logger = logging.getLogger("gateway.store")

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
"""Largest request body accepted: room for a long message, not for abuse."""


class _ClientDisconnectedError(Exception):
    """The client went away before sending its whole body: there is nobody to answer."""


def route_segments(scope: Scope) -> list[str] | None:
    """The path below the mount point as segments, each percent-decoded on its own.

    ``scope["path"]`` is already decoded, so ``a%2Fb`` and ``a/b`` look alike
    there; the raw path keeps them apart. The route part of the raw path is
    found as its shortest tail of segments that decodes to the route path
    (``path`` minus ``root_path``), which holds whether or not the server kept
    the mount prefix in ``raw_path``. ``None`` when the two disagree: no route.
    """
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    route = path[len(root) :] if root and path.startswith(root) else path
    raw: bytes | None = scope.get("raw_path")
    if raw is None:  # the server does not say; the decoded path is all there is
        return route.split("/")[1:]
    decoded = [
        unquote_to_bytes(part).decode("utf-8", "replace")
        for part in raw.split(b"?", 1)[0].split(b"/")
    ]
    for start in range(len(decoded) - 1, 0, -1):
        tail = decoded[start:]
        if "/" + "/".join(tail) == route:
            return tail
    return [] if route in ("", "/") else None


def shown_path(scope: Scope) -> str:
    """The request path for an error message, its control characters percent-encoded.

    ``Invalid URL (GET /v1/threads/thread_%0A)`` shows what was sent; a raw
    newline or NUL would make the message, and every log line quoting it, lie.
    """
    path: str = scope["path"]
    return CONTROL_CHARACTER.sub(lambda found: f"%{ord(found.group()):02X}", path)


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientDisconnectedError
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"The request body is larger than {limit} bytes.")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class StoreAPI:
    """The bare ASGI callable: authenticate, route, run, answer in JSON."""

    def __init__(
        self,
        store: StoreBackend,
        *,
        api_key: str | None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self._store = store
        self._api_key = None if api_key is None else api_key.encode()
        self._max_body_bytes = max_body_bytes

    def _authenticate(self, authorization: bytes | None) -> None:
        """Require ``Authorization: Bearer <key>`` when a key is configured."""
        if self._api_key is None:
            return
        if authorization is None or authorization[:7].lower() != b"bearer ":
            raise AuthenticationError
        if not hmac.compare_digest(authorization[7:].strip(), self._api_key):
            raise AuthenticationError

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # no websockets; lifespan is the host app's business
            return
        method: str = scope["method"]
        authorization: bytes | None = None
        request_id: bytes | None = None
        content_length = 0
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"x-request-id" and is_request_id(value):
                request_id = value
            elif name == b"content-length" and value.isdigit():
                content_length = int(value)
        extra_headers: tuple[tuple[bytes, bytes], ...] = ()
        operation = "-"
        try:
            self._authenticate(authorization)
            segments = route_segments(scope)
            found = None if segments is None else match_route(segments)
            if found is None:
                raise NotFoundError(f"Invalid URL ({method} {shown_path(scope)})")
            route, ids = found
            handler = route.methods.get(method)
            if handler is None:
                allow = tuple(route.methods)
                raise MethodNotAllowedError(
                    f"Invalid method for URL ({method} {shown_path(scope)}): "
                    f"expected one of {', '.join(allow)}.",
                    allow=allow,
                )
            operation = handler.__name__
            body = b""
            if method == "POST":
                if content_length > self._max_body_bytes:
                    raise PayloadTooLargeError(
                        f"The request body is larger than {self._max_body_bytes} bytes."
                    )
                body = await _read_body(receive, self._max_body_bytes)
            query: dict[str, str] = {}
            if scope.get("query_string"):
                query = dict(parse_qsl(scope["query_string"].decode("utf-8", "replace"), True))
            status, payload = 200, await handler(self._store, Call(ids, query, body))
        except _ClientDisconnectedError:
            return
        except APIError as exc:
            status, payload, extra_headers = exc.status_code, exc.to_json(), exc.headers
        except Exception as exc:
            # Logged without a traceback (DESIGN.md §5): the type and message say
            # what failed; nothing of it reaches the client.
            logger.error("store operation %s failed: %s: %s", operation, type(exc).__name__, exc)
            error = InternalServerError()
            status, payload = error.status_code, error.to_json()
        await _respond(send, status, payload, request_id, extra_headers)


async def _respond(
    send: Send,
    status: int,
    payload: str,
    request_id: bytes | None,
    extra_headers: Iterable[tuple[bytes, bytes]],
) -> None:
    body = payload.encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id or b"req_" + secrets.token_hex(16).encode()),
        *extra_headers,
    ]
    start: MutableMapping[str, Any] = {
        "type": "http.response.start",
        "status": status,
        "headers": headers,
    }
    await send(start)
    await send({"type": "http.response.body", "body": body})


class StoreMount(Mount):
    """``Mount`` for the store: every path below the prefix reaches it, newlines too.

    Starlette compiles a mount's pattern as ``^/v1/(?P<path>.*)$`` without
    ``DOTALL``, so ``/v1/threads/x%0A/messages`` (a decoded newline) matched no
    route and got the host framework's ``{"detail": "Not Found"}`` instead of
    the store's own 404 in the OpenAI envelope. The same pattern, compiled with
    ``DOTALL``, hands those paths to the store, which refuses them itself.
    """

    def __init__(self, path: str, app: ASGIApp) -> None:
        super().__init__(path, app=app)
        self.path_regex = re.compile(self.path_regex.pattern, re.DOTALL)


class StoreApplication(Starlette):
    """A ``Starlette`` application whose HTTP traffic goes straight to ``StoreAPI``.

    ``StoreAPI`` answers every request and every error itself, so Starlette's
    routing and middleware stack would only add work on the gateway's hot path
    (measured: about 35 µs of 175 µs for a thread lookup). Other scopes
    (lifespan, when served standalone; websockets) go through Starlette as usual.
    """

    def __init__(self, api: StoreAPI) -> None:
        super().__init__()
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope["app"] = self
            await self.api(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def create_store_app(
    store: StoreBackend,
    *,
    api_key: str | None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> StoreApplication:
    """The store's REST API, to mount at ``/v1`` (or call in-process at ``/threads...``).

    ``api_key``: when set, every request must carry ``Authorization: Bearer
    <api_key>``; ``None`` leaves the API open (the default, on loopback).
    The store must be opened by the host application's lifespan.
    """
    return StoreApplication(StoreAPI(store, api_key=api_key, max_body_bytes=max_body_bytes))
