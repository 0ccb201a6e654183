"""GraphiQL in a real browser (Debian's Chromium, driven by Playwright) against a real server.

The page must load with no request leaving 127.0.0.1, and a query typed into its
editor must run and show what the embedded store holds; a subscription must run
over a WebSocket to the page's own origin and show an event as it happens, with
the headers editor's bearer as its credential when the gateway wants one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Page, WebSocket, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from gateway.auth import token_digest
from tests.e2e.conftest import REPO_ROOT, GraphQLPost
from tests.store.server import ServerProcess

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = REPO_ROOT / "artifacts" / "graphiql.png"

pytestmark = pytest.mark.timeout(90)

_EDITOR_VALUE = "sel => document.querySelector(sel).CodeMirror.getValue()"
QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
RESPONSE_EDITOR = ".result-window .CodeMirror"
HEADERS_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"


def _create_thread(graphql: GraphQLPost) -> str:
    data = graphql(
        """mutation Seed($input: CreateThreadInput!) {
             createThread(input: $input) { thread { id } userErrors { message } } }""",
        input={
            "metadata": {"seeded": "browser-test"},
            "messages": [
                {"text": "Hello from the browser test"},
                {"role": "ASSISTANT", "text": "Hi, GraphiQL!"},
            ],
        },
    )
    assert data["createThread"]["userErrors"] == []
    thread_id: str = data["createThread"]["thread"]["id"]
    return thread_id


def _type_query(page: Page, query: str) -> None:
    page.click(QUERY_EDITOR)
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(query)
    page.keyboard.press("Escape")  # close the completion list, if one is open


def test_graphiql_loads_offline_and_runs_a_typed_query(
    gateway_server: ServerProcess, graphql: GraphQLPost
) -> None:
    assert CHROMIUM.exists(), "scripts/setup.d/chromium.sh installs Debian's chromium"
    thread_id = _create_thread(graphql)
    query = (
        f'query BrowserTest {{ thread(id: "{thread_id}") {{ id metadata '
        "messages(order: ASC) { nodes { role text } } } }"
    )

    requested: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("request", lambda request: requested.append(request.url))
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on(
                "console",
                lambda message: (
                    problems.append(f"console: {message.text}") if message.type == "error" else None
                ),
            )
            page.goto(f"{gateway_server.base_url}/graphql", wait_until="load")
            page.wait_for_selector(QUERY_EDITOR, timeout=20_000)

            # A first visit shows the gateway's commented, runnable example.
            default = page.evaluate(_EDITOR_VALUE, QUERY_EDITOR)
            assert "mutation CreateThread" in default
            assert "query NewestMessages" in default

            _type_query(page, query)
            assert " ".join(page.evaluate(_EDITOR_VALUE, QUERY_EDITOR).split()) == " ".join(
                query.split()
            )
            # GraphiQL parses the editor 100 ms after the last keystroke; run once it has.
            page.wait_for_function(
                "sel => document.querySelector(sel).CodeMirror.operationName === 'BrowserTest'",
                arg=QUERY_EDITOR,
                timeout=10_000,
            )
            page.keyboard.press("Control+Enter")
            page.wait_for_function(
                """sel => { const el = document.querySelector(sel);
                            return el && el.CodeMirror.getValue().includes('"data"'); }""",
                arg=RESPONSE_EDITOR,
                timeout=20_000,
            )
            shown = json.loads(page.evaluate(_EDITOR_VALUE, RESPONSE_EDITOR))
            page.click(QUERY_EDITOR)
            page.keyboard.press("Shift+Control+P")  # prettify, for the screenshot
            page.keyboard.press("Escape")
            page.wait_for_selector(".CodeMirror-hints", state="detached", timeout=5_000)
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()

    assert shown == {
        "data": {
            "thread": {
                "id": thread_id,
                "metadata": {"seeded": "browser-test"},
                "messages": {
                    "nodes": [
                        {"role": "USER", "text": "Hello from the browser test"},
                        {"role": "ASSISTANT", "text": "Hi, GraphiQL!"},
                    ]
                },
            }
        }
    }
    # Nothing but the gateway itself: no CDN, no font service, no telemetry.
    network = [url for url in requested if not url.startswith(("data:", "blob:"))]
    assert network, "the page made no request at all?"
    off_host = [url for url in network if urlsplit(url).hostname != "127.0.0.1"]
    assert off_host == []
    assert any(url.endswith("/graphql/static/vendor/graphiql.min.js") for url in network)
    assert problems == []
    assert SCREENSHOT.is_file() and SCREENSHOT.stat().st_size > 10_000


RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', e => window.__violations.push(
    {directive: e.effectiveDirective, blocked: e.blockedURI}));
"""


def _post_message(graphql: GraphQLPost, thread_id: str, text: str) -> None:
    data = graphql(
        """mutation Post($input: CreateMessageInput!) {
             createMessage(input: $input) { message { id } userErrors { message } } }""",
        input={"threadId": thread_id, "text": text},
    )
    assert data["createMessage"]["userErrors"] == []


@dataclass
class LiveRun:
    """What a subscription run in GraphiQL showed, sent and ran into."""

    posted: list[str] = field(default_factory=list)
    shown: str = ""
    sockets: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    problems_while_running: list[str] = field(default_factory=list)
    violations: list[dict[str, str]] = field(default_factory=list)


def _run_live_subscription(
    base_url: str, graphql: GraphQLPost, thread_id: str, headers: str | None = None
) -> LiveRun:
    """Type a threadEvents subscription into GraphiQL (``headers``: the headers editor's
    JSON), run it, then create messages from Python until one shows in the result pane."""
    subscription = (
        f'subscription BrowserLive {{ threadEvents(threadId: "{thread_id}") {{ __typename '
        "... on MessageCreated { message { text } } } }"
    )
    run = LiveRun()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("pageerror", lambda error: run.problems.append(f"page error: {error}"))
            page.on(
                "console",
                lambda message: (
                    run.problems.append(f"console: {message.text}")
                    if message.type == "error"
                    else None
                ),
            )

            def on_socket(socket: WebSocket) -> None:
                run.sockets.append(socket.url)
                socket.on("framesent", lambda payload: run.sent.append(str(payload)))

            page.on("websocket", on_socket)
            page.add_init_script(RECORD_VIOLATIONS)
            page.goto(f"{base_url}/graphql", wait_until="load")
            page.wait_for_selector(QUERY_EDITOR, timeout=20_000)
            if headers is not None:
                page.get_by_role("button", name="Headers").click()
                page.wait_for_selector(HEADERS_EDITOR, timeout=10_000)
                page.evaluate(
                    "([sel, text]) => document.querySelector(sel).CodeMirror.setValue(text)",
                    [HEADERS_EDITOR, headers],
                )
            _type_query(page, subscription)
            page.wait_for_function(
                "sel => document.querySelector(sel).CodeMirror.operationName === 'BrowserLive'",
                arg=QUERY_EDITOR,
                timeout=10_000,
            )
            page.keyboard.press("Control+Enter")
            # The socket is open and the operation sent: now the server subscribes it.
            for _ in range(200):
                if any(_is_type(frame, "subscribe") for frame in run.sent):
                    break
                page.wait_for_timeout(100)
            assert any(_is_type(frame, "subscribe") for frame in run.sent), run.sent
            # A live event, not a replay: a message created after the subscription
            # started. The server may take a moment to subscribe the stream after
            # the frame arrives, so post again (bounded) until one is shown.
            for attempt in range(10):
                text = f"live from Python #{attempt}"
                _post_message(graphql, thread_id, text)
                run.posted.append(text)
                try:
                    page.wait_for_function(
                        """sel => { const el = document.querySelector(sel);
                                    return el && el.CodeMirror.getValue().includes('live from'); }""",
                        arg=RESPONSE_EDITOR,
                        timeout=3_000,
                    )
                except PlaywrightTimeoutError:
                    continue
                run.shown = page.evaluate(_EDITOR_VALUE, RESPONSE_EDITOR)
                break
            run.problems_while_running = list(run.problems)
            # The policy lets the page open no WebSocket but to its own origin.
            page.evaluate("try { new WebSocket('ws://elsewhere.test/graphql') } catch (e) {}")
            page.wait_for_function("window.__violations.length > 0", timeout=10_000)
            run.violations = page.evaluate("window.__violations")
        finally:
            browser.close()
    return run


def _is_type(frame: str, message_type: str) -> bool:
    return f'"type":"{message_type}"' in frame.replace(" ", "")


def _assert_event_shown(run: LiveRun, base_url: str) -> None:
    assert run.shown, f"no event shown after posting {run.posted}"
    event = json.loads(run.shown)["data"]["threadEvents"]
    assert event["__typename"] == "MessageCreated"
    assert event["message"]["text"] in run.posted
    # One socket, to the page's own origin on the same path, speaking graphql-transport-ws
    # (connection_init, then subscribe: the legacy subscriptions-transport-ws says start).
    assert run.sockets == [base_url.replace("http://", "ws://") + "/graphql"]
    assert any(_is_type(frame, "connection_init") for frame in run.sent)
    assert run.violations == [
        {"directive": "connect-src", "blocked": "ws://elsewhere.test/graphql"}
    ]
    # The probe's own CSP report is the one console error after the run.
    assert [p for p in run.problems if "elsewhere.test" not in p] == run.problems_while_running


def test_graphiql_runs_a_subscription_over_websocket(
    gateway_server: ServerProcess, graphql: GraphQLPost
) -> None:
    thread_id = _create_thread(graphql)
    run = _run_live_subscription(gateway_server.base_url, graphql, thread_id)
    _assert_event_shown(run, gateway_server.base_url)
    assert run.problems_while_running == []


AUTH_TOKEN = "graphiql-browser-token"


@pytest.fixture
def auth_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A gateway that wants a bearer: its .env (read from its working folder) says so."""
    (tmp_path / ".env").write_text(f"GATEWAY_AUTH_TOKEN_HASHES={token_digest(AUTH_TOKEN)}\n")
    server = ServerProcess(tmp_path / "data" / "messages.sqlite3", tmp_path)
    yield server
    server.stop()


def test_graphiql_subscription_authenticates_with_the_headers_editor(
    auth_server: ServerProcess,
) -> None:
    bearer = {"authorization": f"Bearer {AUTH_TOKEN}"}
    refused = httpx.post(f"{auth_server.base_url}/graphql", json={"query": "{ __typename }"})
    assert refused.status_code == 401  # the case: the gateway wants the credential

    def graphql(query: str, **variables: Any) -> Any:
        answer = httpx.post(
            f"{auth_server.base_url}/graphql",
            json={"query": query, "variables": variables},
            headers=bearer,
            timeout=30,
        )
        assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
        return answer.json()["data"]

    thread_id = _create_thread(graphql)
    run = _run_live_subscription(auth_server.base_url, graphql, thread_id, json.dumps(bearer))
    _assert_event_shown(run, auth_server.base_url)
    # The credential went in connection_init's payload (a browser WebSocket sends no
    # Authorization header); the only errors are the page's first, bearer-less
    # introspection (401) before the headers were set.
    assert any(_is_type(frame, "connection_init") and AUTH_TOKEN in frame for frame in run.sent)
    assert all("401" in problem for problem in run.problems_while_running)
