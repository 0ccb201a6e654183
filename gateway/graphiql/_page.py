"""The IDE page: the gateway's own (local assets) or strawberry's (CDN), and its default query."""

from __future__ import annotations

import base64
import hashlib
import html
import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from strawberry.http.ides import get_graphql_ide_html

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "DEFAULT_QUERY",
    "cdn_content_security_policy",
    "render_cdn_page",
    "render_local_page",
]

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


class _PageResources(HTMLParser):
    """The origins a page loads scripts and styles from, and its inline scripts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.script_origins: set[str] = set()
        self.style_origins: set[str] = set()
        self.inline_scripts: list[str] = []
        self._script: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script":
            source = attributes.get("src")
            if source:
                self.script_origins.add(_origin(source))
            else:
                self._script = []
        elif tag == "link" and attributes.get("rel") == "stylesheet":
            self.style_origins.add(_origin(attributes.get("href") or ""))

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.inline_scripts.append("".join(self._script))
            self._script = None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc:
        raise ValueError(f"the CDN page loads from a non-HTTPS origin: {url!r}")
    return f"https://{parts.netloc}"


def cdn_content_security_policy(page: str) -> str:
    """The policy of strawberry's CDN page, derived from the page itself: scripts and
    styles only from the origins it names (each file is also pinned by its SRI
    hash), its inline scripts by their SHA-256, requests only to the gateway, and
    never framed."""
    resources = _PageResources()
    resources.feed(page)
    resources.close()
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in resources.inline_scripts
    ]
    origins = sorted(resources.script_origins | resources.style_origins)
    return "; ".join(
        (
            "default-src 'none'",
            " ".join(["script-src", *sorted(resources.script_origins), *hashes]),
            # The page's own <style> block, and GraphiQL's inline styles set from script.
            " ".join(["style-src", *sorted(resources.style_origins), "'unsafe-inline'"]),
            "img-src 'self' data:",
            " ".join(["font-src", *origins, "data:"]),
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )
