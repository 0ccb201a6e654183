"""Optional OpenTelemetry tracing: a span per GraphQL operation and per upstream call.

Only the OpenTelemetry *API* is used: the operator installs the ``otel`` extra and
configures an SDK and exporter (e.g. ``opentelemetry-instrument``). Until a tracer
provider is set, and without ``opentelemetry`` at all, ``Tracing`` does nothing.

Upstream calls: a span starts when the call's first HTTP request is sent (an
``httpx`` request hook on the client's pool), and its context goes upstream as W3C
``traceparent`` on that request and on every retry; the session's observer ends
it with the call's outcome. The span of the call in progress is held in a
``ContextVar``: a call runs within one asyncio task from its first request to its
observer, and concurrent calls run in tasks of their own.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from gateway.upstream import CallRecord

if TYPE_CHECKING:
    from gateway.upstream import UpstreamClient

try:
    from opentelemetry import context as otel_context
    from opentelemetry import propagate, trace
    from opentelemetry.trace import Span, SpanKind, StatusCode
except ImportError:  # pragma: no cover - the otel extra is not installed
    TRACING_AVAILABLE = False
else:
    TRACING_AVAILABLE = True

__all__ = ["TRACING_AVAILABLE", "OperationSpan", "Tracing"]

_TRACER_NAME = "messages-gateway"
_CALL: ContextVar[tuple[httpx.Request, Any] | None] = ContextVar(
    "gateway_upstream_call_span", default=None
)


@dataclass(slots=True)
class OperationSpan:
    """The span of one GraphQL operation, current until ``finish``."""

    span: Any
    token: object

    def finish(self, name: str | None, operation_type: str | None, outcome: str) -> None:
        span = self.span
        kind = operation_type or "operation"
        span.update_name(f"{kind} {name}" if name else kind)
        if name:
            span.set_attribute("graphql.operation.name", name)
        if operation_type:
            span.set_attribute("graphql.operation.type", operation_type)
        span.set_attribute("gateway.outcome", outcome)
        if outcome != "ok":
            span.set_status(StatusCode.ERROR, outcome)
        otel_context.detach(self.token)  # type: ignore[arg-type]
        span.end()


class Tracing:
    """Spans for one app; ``enabled`` is false when ``opentelemetry`` is not installed."""

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = TRACING_AVAILABLE if enabled is None else enabled and TRACING_AVAILABLE

    def _active(self) -> bool:
        """Is an SDK configured? Without one every span would be a no-op: skip the work.

        Asked each time: the operator's TracerProvider may be set after the app is built.
        """
        if not self.enabled:
            return False
        provider = trace.get_tracer_provider()
        return not isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider))

    def _tracer(self) -> Any:
        return trace.get_tracer(_TRACER_NAME)

    def start_operation(self) -> OperationSpan | None:
        """Start the operation's span and make it current (its name comes at ``finish``)."""
        if not self._active():
            return None
        span: Span = self._tracer().start_span("graphql.operation", kind=SpanKind.SERVER)
        token = otel_context.attach(trace.set_span_in_context(span))
        return OperationSpan(span, token)

    def instrument_client(self, upstream: UpstreamClient) -> None:
        """Hook the client's pool: every upstream request carries its call span's traceparent."""
        if not self.enabled:
            return
        upstream.add_event_hooks(request=self._on_request, response=self._on_response)

    async def _on_request(self, request: httpx.Request) -> None:
        if not self._active():
            return
        current = _CALL.get()
        if current is not None and current[0] is request:
            span = current[1]
            span.add_event("retry")
        else:
            if current is not None:  # a call that never reached its observer
                current[1].end()
            span = self._tracer().start_span(
                "upstream", kind=SpanKind.CLIENT, attributes={"http.request.method": request.method}
            )
            _CALL.set((request, span))
        propagate.inject(request.headers, context=trace.set_span_in_context(span))

    async def _on_response(self, response: httpx.Response) -> None:
        current = _CALL.get()
        if current is not None and current[0] is response.request:
            current[1].set_attribute("http.response.status_code", response.status_code)

    def end_upstream_call(self, record: CallRecord) -> None:
        """The session's observer: end the call's span (or record one: nothing was sent)."""
        if not self._active():
            return
        current = _CALL.get()
        if current is not None:
            _CALL.set(None)
            span = current[1]
        else:
            started = time.time_ns() - int(record.seconds * 1e9)
            span = self._tracer().start_span("upstream", kind=SpanKind.CLIENT, start_time=started)
        span.update_name(f"upstream {record.operation}")
        span.set_attribute("gateway.upstream.operation", record.operation)
        span.set_attribute("gateway.upstream.attempts", record.attempts)
        if record.status is not None:
            span.set_attribute("http.response.status_code", record.status)
        if record.error is not None:
            span.set_status(StatusCode.ERROR, record.error)
        span.end()
