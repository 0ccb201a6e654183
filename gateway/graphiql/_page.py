"""The IDE page: the gateway's own (local assets) or strawberry's (CDN), and its default query."""

from __future__ import annotations

import html
import json
from pathlib import Path

from strawberry.http.ides import get_graphql_ide_html

__all__ = ["CONTENT_SECURITY_POLICY", "DEFAULT_QUERY", "render_cdn_page", "render_local_page"]

_HERE = Path(__file__).parent

DEFAULT_QUERY = (_HERE / "default_query.graphql").read_text(encoding="utf-8")
"""What the editor shows on a first visit: a runnable, commented tour of the API."""

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        # GraphiQL and CodeMirror set inline styles from script.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
"""The local page loads nothing from elsewhere, and the browser holds it to that."""

_TEMPLATE = (_HERE / "page.html").read_text(encoding="utf-8")


def render_local_page(*, endpoint: str, static_url: str) -> str:
    """The page that loads GraphiQL from ``static_url`` and sends operations to ``endpoint``.

    The configuration travels as JSON in a non-executable ``<script>`` block, read by
    ``static/graphiql-init.js``: no inline script, so the strict CSP above holds.
    """
    config = json.dumps({"endpoint": endpoint, "defaultQuery": DEFAULT_QUERY})
    # Inside <script>, only "</" could end the element early; JSON allows "<\/".
    config = config.replace("</", "<\\/")
    return _TEMPLATE.replace("{{static}}", html.escape(static_url.rstrip("/"), quote=True)).replace(
        "{{config}}", config
    )


def render_cdn_page() -> str:
    """Strawberry's GraphiQL page, which loads its assets from a CDN (the fallback)."""
    return get_graphql_ide_html("graphiql")
