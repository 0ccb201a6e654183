"""The IDE on an app: its page at ``GET <path>`` for browsers, its files at ``<path>/static``.

The page shares its path with the GraphQL endpoint, which also answers ``GET``
(queries via GET). ``IDERoute`` therefore matches only what strawberry would have
answered with its own IDE — a ``GET`` without a ``query`` parameter that accepts
HTML — and lets every other request fall through to the GraphQL router, wherever
that router sits in the app's routes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache, partial
from urllib.parse import parse_qs

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Match, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from gateway.config import Settings
from gateway.graphiql._assets import VendoredAssets
from gateway.graphiql._page import (
    cdn_content_security_policy,
    local_content_security_policy,
    render_cdn_page,
    render_local_page,
    websocket_origin,
)

__all__ = ["IDERoute", "install_graphiql", "wants_ide"]

logger = logging.getLogger("gateway.graphiql")


def wants_ide(scope: Scope) -> bool:
    """Would strawberry render its IDE for this request? (GET, no ``query``, accepts HTML.)"""
    if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
        return False
    query_string = scope.get("query_string", b"").decode("latin-1")
    if "query" in parse_qs(query_string, keep_blank_values=True):
        return False
    for name, value in scope.get("headers", ()):
        if name == b"accept":
            accept = value.decode("latin-1")
            return "text/html" in accept or "*/*" in accept
    return False


class IDERoute(Route):
    """A route that only claims requests for the IDE page (see ``wants_ide``)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is Match.FULL and wants_ide(scope):
            return match, child_scope
        return Match.NONE, {}


def install_graphiql(
    app: FastAPI,
    settings: Settings,
    *,
    path: str = "/graphql",
    assets: VendoredAssets | None = None,
) -> None:
    """Serve the IDE at ``path`` when ``settings.graphiql``; do nothing otherwise."""
    if not settings.graphiql:
        logger.info("GraphiQL is off (GATEWAY_GRAPHIQL=false)")
        return
    assets = assets or VendoredAssets()
    static_url = path.rstrip("/") + "/static"
    policy_for: Callable[[str | None], str]
    if assets.complete:
        page = render_local_page(endpoint=path, static_url=static_url)
        policy_for = local_content_security_policy
        logger.info("GraphiQL at %s: served offline from the vendored assets", path)
    else:
        page = render_cdn_page()
        policy_for = partial(cdn_content_security_policy, page)
        logger.warning(
            "GraphiQL at %s: vendored assets missing (%s); falling back to strawberry's page, "
            "which loads them from a CDN. Run scripts/setup.d/graphiql.sh to serve them locally.",
            path,
            ", ".join(assets.missing),
        )

    # The policy names the page's own WebSocket origin (subscriptions), so it follows
    # the request's scheme and Host; one policy per origin, kept (the Host allow-list
    # bounds the origins, and the cache bounds them when every host is allowed).
    policy_of = lru_cache(maxsize=64)(policy_for)
    headers = {
        "X-Frame-Options": "DENY",  # frame-ancestors 'none', for browsers without CSP 2
        "Cache-Control": "no-cache",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }

    async def ide(request: Request) -> Response:
        websocket = websocket_origin(request.url.scheme, request.headers.get("host", ""))
        policy = {"Content-Security-Policy": policy_of(websocket)}
        return HTMLResponse(page, headers=headers | policy)

    # First in the routing table: it must be seen before the GraphQL router's GET route.
    app.router.routes.insert(0, IDERoute(path, ide, methods=["GET"], include_in_schema=False))
    app.mount(static_url, StaticFiles(directory=assets.static_dir), name="graphiql-static")
