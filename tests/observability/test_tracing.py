"""OpenTelemetry: spans for the operation and each upstream call, traceparent sent upstream."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
import respx
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.conftest import SettingsFactory, start_gateway
from tests.schema.wire import THREAD_ID, list_json, message_json, thread_json
from tests.store.server import REPO_ROOT

BASE = "http://upstream.test/v1"

_EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def _tracer_provider() -> None:
    # The global provider can be set once per process; every test here shares it.
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
    trace.set_tracer_provider(provider)
    if trace.get_tracer_provider() is not provider:  # set by an earlier module
        current = trace.get_tracer_provider()
        assert isinstance(current, TracerProvider)
        current.add_span_processor(SimpleSpanProcessor(_EXPORTER))


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


def _by_name(finished: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [span for span in finished if span.name == name]


async def test_operation_and_upstream_spans_share_the_trace(
    make_settings: SettingsFactory, spans: InMemorySpanExporter
) -> None:
    settings = make_settings(
        upstream_url=BASE, upstream_transport="httpx", upstream_api_key="sk-x", auth_required=False
    )
    with respx.mock(base_url=BASE, assert_all_called=True) as upstream:
        thread_route = upstream.get(f"/threads/{THREAD_ID}").respond(json=thread_json())
        page_route = upstream.get(f"/threads/{THREAD_ID}/messages").respond(
            json=list_json([message_json()])
        )
        async for gateway in start_gateway(settings):
            await gateway.graphql.data(
                "query Chat($id: ID!) { thread(id: $id) { id messages { nodes { id } } } }",
                {"id": THREAD_ID},
                operation_name="Chat",
            )
    finished = spans.get_finished_spans()
    [operation] = _by_name(finished, "query Chat")
    assert operation.attributes is not None
    assert operation.attributes["graphql.operation.name"] == "Chat"
    assert operation.attributes["gateway.outcome"] == "ok"
    [get_thread] = _by_name(finished, "upstream getThread")
    [list_messages] = _by_name(finished, "upstream listMessages")
    for call, route in ((get_thread, thread_route), (list_messages, page_route)):
        assert call.parent is not None and call.parent.span_id == operation.context.span_id
        assert call.context.trace_id == operation.context.trace_id
        assert call.kind == trace.SpanKind.CLIENT
        # The upstream saw this very span as its parent.
        sent = route.calls.last.request.headers["traceparent"]
        version, trace_id, parent_id, _flags = sent.split("-")
        assert version == "00"
        assert int(trace_id, 16) == call.context.trace_id
        assert int(parent_id, 16) == call.context.span_id
    assert list_messages.attributes is not None
    assert list_messages.attributes["http.response.status_code"] == 200


async def test_failed_call_and_operation_are_marked_as_errors(
    make_settings: SettingsFactory, spans: InMemorySpanExporter
) -> None:
    settings = make_settings(
        upstream_url=BASE,
        upstream_transport="httpx",
        upstream_api_key="sk-x",
        auth_required=False,
        max_retries=1,
        retry_backoff=0.0,
    )
    with respx.mock(base_url=BASE) as upstream:
        route = upstream.get(f"/threads/{THREAD_ID}").respond(503, json={"error": {"message": "x"}})
        async for gateway in start_gateway(settings):
            result = await gateway.graphql.execute(
                "query Lost($id: ID!) { thread(id: $id) { id } }", {"id": THREAD_ID}
            )
    assert result.codes == ["UPSTREAM_UNAVAILABLE"]
    finished = spans.get_finished_spans()
    [call] = _by_name(finished, "upstream getThread")
    assert call.status.status_code == trace.StatusCode.ERROR
    assert call.attributes is not None and call.attributes["gateway.upstream.attempts"] == 2
    # Both attempts carried the same span's traceparent.
    sent = {c.request.headers["traceparent"] for c in route.calls}
    assert len(route.calls) == 2 and len(sent) == 1
    [operation] = _by_name(finished, "query Lost")
    assert operation.status.status_code == trace.StatusCode.ERROR


def test_gateway_runs_unchanged_without_opentelemetry(tmp_path: pytest.TempPathFactory) -> None:
    program = f"""
import builtins
real_import = builtins.__import__
def without_otel(name, globals=None, locals=None, fromlist=(), level=0):
    # Recent FastAPI needs the OpenTelemetry API itself, so it cannot be uninstalled
    # here: the gateway's tracing module alone is made to see it missing.
    importer = (globals or {{}}).get("__name__", "")
    if importer.startswith("gateway.") and name.split(".")[0] == "opentelemetry":
        raise ImportError(name)
    return real_import(name, globals, locals, fromlist, level)
builtins.__import__ = without_otel
from fastapi.testclient import TestClient
from gateway.app import create_app
from gateway.config import Settings
from gateway.observability import TRACING_AVAILABLE
assert not TRACING_AVAILABLE
app = create_app(Settings(_env_file=None, store_path={str(tmp_path)!r} + "/s.sqlite3"))
with TestClient(app, base_url="http://localhost") as client:
    r = client.post("/graphql", json={{"query": "mutation {{ createThread {{ thread {{ id }} }} }}"}})
    assert r.status_code == 200 and r.json()["data"]["createThread"]["thread"]["id"], r.text
    assert "gateway_graphql_operations_total" in client.get("/metrics").text
print("ok")
"""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env = {k: v for k, v in env.items() if not k.startswith("GATEWAY_")}
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
