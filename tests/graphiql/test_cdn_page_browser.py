"""The CDN fallback page's Content-Security-Policy, enforced by a real browser (Chromium).

The page and its headers are the app's own answer (assets missing, so the CDN
page). Chromium loads it at a test origin through Playwright's router; requests to
the CDN are recorded and refused (there is no internet here). What the policy must
do, as the browser enforces it: run the page's inline script (its hash is right),
let it ask the CDN for its files and open a WebSocket to its own origin, refuse a
request or WebSocket to any other origin, and refuse to be framed by another site.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Route, sync_playwright

from gateway.graphiql import VendoredAssets, install_graphiql
from tests.conftest import SettingsFactory

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
ORIGIN = "http://gateway.test"
ATTACKER = "http://attacker.test"

pytestmark = pytest.mark.timeout(90)

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', e => window.__violations.push(
    {directive: e.effectiveDirective, blocked: e.blockedURI}));
"""


OPEN_SOCKETS = """
for (const url of ['ws://gateway.test/graphql', 'ws://elsewhere.test/graphql']) {
    try { new WebSocket(url, 'graphql-transport-ws').onerror = () => null; } catch (e) {}
}
"""


@pytest.fixture
async def cdn_page(make_settings: SettingsFactory, tmp_path: Path) -> httpx.Response:
    app = FastAPI()
    (tmp_path / "vendor").mkdir()
    install_graphiql(app, make_settings(), assets=VendoredAssets(tmp_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN) as c:
        page = await c.get("/graphql", headers={"accept": "text/html"})
    assert "https://unpkg.com/" in page.text  # the fallback page
    return page


def test_the_browser_holds_the_cdn_page_to_its_policy(cdn_page: httpx.Response) -> None:
    assert CHROMIUM.exists(), "scripts/setup.d/chromium.sh installs Debian's chromium"
    cdn_requests: list[str] = []
    other_requests: list[str] = []
    headers = {
        name: cdn_page.headers[name]
        for name in ("content-type", "content-security-policy", "x-frame-options")
    }

    def route(route: Route) -> None:
        url = route.request.url
        if url.startswith("https://unpkg.com/"):
            cdn_requests.append(url)
            route.abort()
        elif url.startswith(f"{ORIGIN}/graphql"):
            route.fulfill(status=200, headers=headers, body=cdn_page.text)
        elif url == f"{ATTACKER}/":
            route.fulfill(
                status=200,
                headers={"content-type": "text/html"},
                body=f'<iframe id="f" src="{ORIGIN}/graphql"></iframe>',
            )
        else:
            other_requests.append(url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", route)
            page.add_init_script(RECORD_VIOLATIONS)
            page.goto(f"{ORIGIN}/graphql", wait_until="load")
            # The inline script ran: its first statement defined the example query.
            assert page.evaluate("typeof EXAMPLE_QUERY") == "string"
            page.evaluate("fetch('https://elsewhere.test/x').catch(() => null)")
            # Subscriptions: its own WebSocket origin is allowed, any other is not.
            page.evaluate(OPEN_SOCKETS)
            page.wait_for_function(
                "window.__violations.filter(v => v.directive === 'connect-src').length >= 2",
                timeout=10_000,
            )
            violations: list[dict[str, Any]] = page.evaluate("window.__violations")

            framing = browser.new_page()
            framing.route("**/*", route)
            # "load" waits for the iframe too; refused by frame-ancestors/X-Frame-Options,
            # it holds an error page instead of ours, so our script never runs there.
            framing.goto(f"{ATTACKER}/", wait_until="load")
            assert len(framing.frames) == 2
            framed_scripts = framing.frames[1].evaluate("typeof EXAMPLE_QUERY")
        finally:
            browser.close()

    assert [v for v in violations if v["directive"] != "connect-src"] == []
    assert [v["blocked"] for v in violations] == [
        "https://elsewhere.test/x",
        "ws://elsewhere.test/graphql",
    ]
    assert len(cdn_requests) >= 5  # scripts and styles were allowed to be asked for
    assert other_requests == []  # the blocked fetch never reached the network
    assert framed_scripts == "undefined"
