"""``RelativeRedirects``: a redirect to this server never names the caller's ``Host``.

Starlette's trailing-slash redirect (``/graphql/`` to ``/graphql``) builds an
absolute ``Location`` from the request's ``Host`` header, so a forged ``Host``
would send the client elsewhere (and poison a cache in front). A ``Location``
that points back at the request's own host is rewritten to its path and query,
which every HTTP client resolves against the URL it asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RelativeRedirects"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def _relative(location: bytes, host: bytes) -> bytes:
    parts = urlsplit(location.decode("latin-1"))
    if not parts.netloc or parts.netloc.lower() != host.decode("latin-1").lower():
        return location
    path = parts.path or "/"
    # "//evil" would be a network-path reference: keep one leading slash.
    path = "/" + path.lstrip("/")
    return (path + (f"?{parts.query}" if parts.query else "")).encode("latin-1")


class RelativeRedirects:
    """Rewrites same-host absolute ``Location`` headers of redirects to relative ones."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = next((value for name, value in scope["headers"] if name == b"host"), b"")

        async def send_relative(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in _REDIRECTS:
                message["headers"] = [
                    (name, _relative(value, host) if name.lower() == b"location" else value)
                    for name, value in message.get("headers", [])
                ]
            await send(message)

        await self.app(scope, receive, send_relative)
