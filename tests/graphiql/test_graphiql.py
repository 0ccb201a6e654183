"""The GraphiQL page at GET /graphql: local assets, fallback, switch, and its neighbours."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from graphql import parse

from gateway.app import create_app
from gateway.graphiql import (
    DEFAULT_QUERY,
    VENDOR_FILES,
    VendoredAssets,
    install_graphiql,
    render_local_page,
)
from gateway.schema import schema_sdl
from tests.conftest import Gateway, SettingsFactory, start_gateway

HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def _local_urls(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/[^"]+)"', page)


def test_the_setup_vendored_every_asset() -> None:
    # scripts/setup.d/graphiql.sh runs before the tests (scripts/test.sh).
    assert VendoredAssets().missing == ()


async def test_browser_gets_the_local_page(gateway: Gateway) -> None:
    response = await gateway.http.get("/graphql", headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "unpkg" not in page and "https://" not in page.replace("http://www.w3.org", "")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self' ws://localhost;" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    urls = _local_urls(page)
    assert {f"/graphql/static/vendor/{name}" for name in VENDOR_FILES} <= set(urls)
    for url in urls:
        asset = await gateway.http.get(url)
        assert asset.status_code == 200, url
        assert asset.content
    # No inline script: only the JSON configuration block, which CSP does not run.
    assert re.findall(r"<script>", page) == []
    assert '"defaultQuery"' in page


async def test_operations_on_the_same_path_still_reach_graphql(gateway: Gateway) -> None:
    by_get = await gateway.http.get("/graphql", params={"query": "{ __typename }"}, headers=HTML)
    assert by_get.json()["data"] == {"__typename": "Query"}
    by_post = await gateway.http.post("/graphql", json={"query": "{ __typename }"}, headers=HTML)
    assert by_post.json()["data"] == {"__typename": "Query"}
    as_json = await gateway.http.get("/graphql", headers={"accept": "application/json"})
    assert as_json.status_code == 400  # no query: strawberry's answer, not the page


async def test_graphiql_false_serves_no_ide(make_settings: SettingsFactory) -> None:
    async for gateway in start_gateway(make_settings(graphiql=False)):
        page = await gateway.http.get("/graphql", headers=HTML)
        assert page.status_code == 404
        assert "GraphiQL" not in page.text and "graphiql" not in page.text.lower()
        static = await gateway.http.get("/graphql/static/vendor/graphiql.min.js")
        assert static.status_code == 404
        works = await gateway.http.post("/graphql", json={"query": "{ __typename }"})
        assert works.json()["data"] == {"__typename": "Query"}


async def test_missing_assets_fall_back_to_the_cdn_page(
    make_settings: SettingsFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = FastAPI()
    (tmp_path / "vendor").mkdir()
    with caplog.at_level(logging.INFO, logger="gateway.graphiql"):
        install_graphiql(app, make_settings(), assets=VendoredAssets(tmp_path))
    assert "falling back to strawberry's page" in caplog.text
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://localhost"
    ) as c:
        page = await c.get("/graphql", headers=HTML)
    assert page.status_code == 200
    assert "https://unpkg.com/graphiql" in page.text
    # Its own policy: only the CDN it loads from, its inline script by hash, never framed.
    assert page.headers["x-frame-options"] == "DENY"
    directives = dict(
        (part.split()[0], part.split()[1:])
        for part in page.headers["content-security-policy"].split("; ")
    )
    assert directives["default-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["connect-src"] == ["'self'", "ws://localhost"]
    assert directives["base-uri"] == ["'none'"]
    external = set(re.findall(r'(?:src|href)="(https://[^/"]+)/', page.text))
    assert external == {"https://unpkg.com"}
    inline = re.findall(r"<script>(.*?)</script>", page.text, flags=re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert directives["script-src"] == ["https://unpkg.com", f"'sha256-{digest}'"]
    assert directives["style-src"] == ["https://unpkg.com", "'unsafe-inline'"]


def test_local_assets_are_logged_at_startup(
    make_settings: SettingsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="gateway.graphiql"):
        create_app(make_settings())
    assert "served offline from the vendored assets" in caplog.text


async def test_default_query_runs_against_the_gateway(gateway: Gateway) -> None:
    # Through the public HTTP API of an isolated gateway (no .env, a fresh store): both
    # operations validate against the real schema, scalar literals included, and run.
    document = parse(DEFAULT_QUERY)
    names = [d.name.value for d in document.definitions if d.name]  # type: ignore[attr-defined]
    assert names == ["CreateThread", "NewestMessages"]
    assert DEFAULT_QUERY.startswith("#")
    created = await gateway.graphql.data(DEFAULT_QUERY, operation_name="CreateThread")
    assert created["createThread"]["userErrors"] == []
    thread_id = created["createThread"]["thread"]["id"]
    newest = await gateway.graphql.data(
        DEFAULT_QUERY, {"threadId": thread_id}, operation_name="NewestMessages"
    )
    texts = {node["text"] for node in newest["thread"]["messages"]["nodes"]}
    assert texts == {"Hello!", "Hi! How can I help?"}


def _directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


@pytest.mark.parametrize(
    ("base_url", "host", "connect_src"),
    [
        ("http://127.0.0.1:8000", None, ["'self'", "ws://127.0.0.1:8000"]),
        ("https://chat.example.com", None, ["'self'", "wss://chat.example.com"]),
        ("http://[::1]:8000", None, ["'self'", "ws://[::1]:8000"]),
        # Not a plain host: never copied into the policy (CSP 3's 'self' still covers ws).
        ("http://localhost", "evil.test; script-src *", ["'self'"]),
        ("http://localhost", "a b", ["'self'"]),
    ],
)
async def test_the_page_may_connect_only_to_its_own_websocket_origin(
    make_settings: SettingsFactory, base_url: str, host: str | None, connect_src: list[str]
) -> None:
    app = FastAPI()
    install_graphiql(app, make_settings())  # the vendored assets: the local page
    headers = HTML | ({"host": host} if host else {})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url) as c:
        page = await c.get("/graphql", headers=headers)
    assert page.status_code == 200
    assert "/graphql/static/vendor/graphiql.min.js" in page.text
    directives = _directives(page.headers["content-security-policy"])
    assert directives["connect-src"] == connect_src
    assert directives["default-src"] == ["'none'"] and directives["script-src"] == ["'self'"]


async def test_the_page_runs_subscriptions_over_the_bundled_graphql_ws(gateway: Gateway) -> None:
    # GraphiQL's UMD bundle carries the graphql-ws client: its fetcher creates one for
    # `subscriptionUrl`, so the page loads no client of its own (see graphiql-init.js).
    page = (await gateway.http.get("/graphql", headers=HTML)).text
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert scripts[-2:] == [
        "/graphql/static/vendor/graphiql.min.js",
        "/graphql/static/graphiql-init.js",
    ]
    bundle = (await gateway.http.get(scripts[-2])).text
    assert "GRAPHQL_TRANSPORT_WS_PROTOCOL = 'graphql-transport-ws'" in bundle
    assert "if (options.subscriptionUrl) return createWebsocketsFetcherFromUrl(" in bundle
    init = (await gateway.http.get(scripts[-1])).text
    assert "subscriptionUrl: subscriptionUrl.toString()" in init
    assert '"wss:" : "ws:"' in init


def test_page_config_cannot_close_its_script_element() -> None:
    page = render_local_page(endpoint="/graphql</script><script>alert(1)//", static_url="/s")
    assert "</script><script>alert(1)" not in page


async def test_schema_graphql_is_the_published_sdl(gateway: Gateway) -> None:
    response = await gateway.http.get("/graphql/schema.graphql")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == schema_sdl()


async def test_schema_graphql_follows_introspection(make_settings: SettingsFactory) -> None:
    async for gateway in start_gateway(make_settings(introspection=False)):
        response = await gateway.http.get("/graphql/schema.graphql")
        assert response.status_code == 404
