"""Observability: Prometheus metrics, readiness, and optional OpenTelemetry tracing.

``Observability`` is one per app (``create_app``), with its own
``CollectorRegistry``: two apps in one process never share a metric.

- ``/metrics``: operations by name and outcome (``ok`` or the error code), upstream
  calls by upstream operation and status, loader batch sizes, circuit breaker state.
- ``/readyz``: a cheap upstream check (``_readiness``).
- tracing: a span per GraphQL operation and per upstream call, with W3C
  ``traceparent`` sent upstream, when ``opentelemetry`` is installed (the ``otel``
  extra); without it, nothing changes.

The pieces plug in at three points: the session ``observer`` (upstream calls),
the ``OperationObserver`` schema extension (operations, loaders, the operation
span), and ``attach`` in the lifespan (breaker state, trace propagation).
"""

from gateway.observability._extension import OperationObserver
from gateway.observability._metrics import GatewayMetrics
from gateway.observability._observability import Observability
from gateway.observability._readiness import PROBE_THREAD_ID, Readiness, check_readiness
from gateway.observability._tracing import TRACING_AVAILABLE, Tracing

__all__ = [
    "PROBE_THREAD_ID",
    "TRACING_AVAILABLE",
    "GatewayMetrics",
    "Observability",
    "OperationObserver",
    "Readiness",
    "Tracing",
    "check_readiness",
]
