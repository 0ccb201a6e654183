"""The GraphiQL IDE at ``GET /graphql``, served by the gateway itself so that it works offline.

Strawberry's own page loads React and GraphiQL from a CDN. This package serves a
page of its own instead, whose scripts and styles come from
``/graphql/static/vendor/``: the npm packages pinned in ``ui/graphiql/`` and copied
there at set-up by ``scripts/setup.d/graphiql.sh`` (never at request time, never
committed). Only when those files are absent (a plain ``pip install`` without the
set-up) does the gateway fall back to strawberry's CDN page; it logs which one it
serves when the app is built. Both run subscriptions over graphql-transport-ws
on the same path (GraphiQL's bundle carries the graphql-ws client); each page's
policy lets it connect only to the gateway, its own WebSocket origin included.

``GATEWAY_GRAPHIQL=false`` installs nothing: ``GET /graphql`` asking for HTML is
then strawberry's 404.
"""

from gateway.graphiql._assets import VENDOR_FILES, VendoredAssets
from gateway.graphiql._page import DEFAULT_QUERY, render_cdn_page, render_local_page
from gateway.graphiql._routes import install_graphiql, wants_ide

__all__ = [
    "DEFAULT_QUERY",
    "VENDOR_FILES",
    "VendoredAssets",
    "install_graphiql",
    "render_cdn_page",
    "render_local_page",
    "wants_ide",
]
