"""``AllowedHosts``: refuse requests whose ``Host`` header names no allowed host.

Why: a web page on any site can make a browser send requests to
``http://127.0.0.1:8000`` under a DNS name it controls (DNS rebinding); the
browser then sends that name as ``Host``. The default gateway on loopback needs
no credential, so the allow-list is what keeps such a page from driving it.

``ALLOWED_HOSTS`` holds names (``api.example.com``), suffix patterns
(``*.example.com``) or ``*`` (every host). Unset, it is the loopback names plus
``HOST`` when the gateway listens on loopback, and every host otherwise (a
public listener's names are not known; set them). The port is not part of the
comparison. A refused request is **400**, before any route runs; a refused
WebSocket upgrade is closed before it is accepted (**403**).
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from gateway.errors import ErrorCode
from gateway.http_edge._answers import EdgeRefusalError, refuse

if TYPE_CHECKING:
    from collections.abc import Iterable

    from starlette.types import ASGIApp, Receive, Scope, Send

    from gateway.config import Settings

__all__ = ["LOOPBACK_NAMES", "AllowedHosts", "allowed_hosts_of", "host_name"]

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts_of(settings: Settings) -> tuple[str, ...] | None:
    """The allowed host patterns, or ``None`` when every host is allowed."""
    if settings.allowed_hosts is not None:
        patterns = tuple(pattern.lower() for pattern in settings.allowed_hosts)
        return None if "*" in patterns else patterns
    if _is_loopback(settings.host):
        return tuple(dict.fromkeys((*LOOPBACK_NAMES, settings.host.lower().strip("[]"))))
    return None


def host_name(header: str) -> str:
    """The name of a ``Host`` header value, without port or IPv6 brackets, lowercased."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    name, colon, port = header.rpartition(":")
    return name if colon and port.isdigit() else header


def _matches(name: str, patterns: Iterable[str]) -> bool:
    for pattern in patterns:
        if pattern.startswith("*."):
            if name.endswith(pattern[1:]) and len(name) > len(pattern) - 1:
                return True
        elif name == pattern.strip("[]"):
            return True
    return False


class AllowedHosts:
    """Outermost edge piece: a ``Host`` outside ``patterns`` gets a 400."""

    def __init__(self, app: ASGIApp, *, patterns: tuple[str, ...]) -> None:
        self.app = app
        self.patterns = patterns

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        hosts = [value for name, value in scope["headers"] if name == b"host"]
        name = host_name(hosts[0].decode("latin-1")) if len(hosts) == 1 else ""
        if name and _matches(name, self.patterns):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            # Closing before accepting refuses the upgrade (the server answers 403).
            await send({"type": "websocket.close", "code": 1008})
            return
        await refuse(
            scope,
            send,
            EdgeRefusalError(
                400,
                "The Host header names a host this gateway does not serve "
                "(see GATEWAY_ALLOWED_HOSTS).",
                ErrorCode.BAD_USER_INPUT,
            ),
        )
