"""The IDE page: the gateway's own (local assets) or strawberry's (CDN), and its default query."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from strawberry.http.ides import get_graphql_ide_html

__all__ = [
    "DEFAULT_QUERY",
    "cdn_content_security_policy",
    "local_content_security_policy",
    "render_cdn_page",
    "render_local_page",
    "websocket_origin",
]

_HERE = Path(__file__).parent

DEFAULT_QUERY = (_HERE / "default_query.graphql").read_text(encoding="utf-8")
"""What the editor shows on a first visit: a runnable, commented tour of the API."""

_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
"""A ``Host`` header fit to name in a policy: a name or bracketed IPv6, and a port."""


def websocket_origin(scheme: str, host: str) -> str | None:
    """The WebSocket origin of a page served at ``scheme://host``: ``ws://`` beside
    ``http``, ``wss://`` beside ``https``; ``None`` when ``host`` is not a plain host
    (never copied into a policy as it came)."""
    if scheme not in ("http", "https") or not _HOST.fullmatch(host):
        return None
    return ("wss" if scheme == "https" else "ws") + "://" + host.lower()


def _connect_src(websocket: str | None) -> str:
    """Requests to the gateway only: its HTTP origin, and its own WebSocket origin for
    subscriptions (CSP 3 lets ``'self'`` cover it too; older browsers need it named)."""
    return " ".join(["connect-src", "'self'", *([websocket] if websocket else [])])


def local_content_security_policy(websocket: str | None) -> str:
    """The local page loads nothing from elsewhere, and the browser holds it to that;
    it connects to the gateway only (``websocket``: see ``websocket_origin``)."""
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            # GraphiQL and CodeMirror set inline styles from script.
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            _connect_src(websocket),
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


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


def cdn_content_security_policy(page: str, websocket: str | None = None) -> str:
    """The policy of strawberry's CDN page, derived from the page itself: scripts and
    styles only from the origins it names (each file is also pinned by its SRI
    hash), its inline scripts by their SHA-256, requests only to the gateway (its
    WebSocket origin ``websocket`` included), and never framed."""
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
            _connect_src(websocket),
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )
