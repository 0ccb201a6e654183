"""The Prometheus metrics of one app, in a registry of its own.

Label values stay bounded: operation names are what clients send, so only
well-formed GraphQL names are kept, and past ``max_operation_names`` distinct
ones the rest are counted as ``other``; outcomes are ``ok`` or an error code from
the fixed set of DESIGN.md §5; upstream statuses are HTTP statuses or one of
``timeout``, ``connection_error``, ``circuit_open``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gateway.upstream import BreakerState, CallRecord

__all__ = ["ANONYMOUS", "OTHER", "GatewayMetrics", "LiveCounts"]

ANONYMOUS = "anonymous"
"""The operation label of an operation without a name."""
OTHER = "other"
"""The operation label once too many distinct names were seen."""

_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
_CODE = re.compile(r"[A-Z][A-Z_]{0,47}")
_NO_RESPONSE = {
    "UpstreamTimeoutError": "timeout",
    "UpstreamConnectionError": "connection_error",
    "CircuitOpenError": "circuit_open",
}
_BREAKER_STATES: tuple[BreakerState, ...] = ("closed", "open", "half_open")
_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_BATCH_SIZES = (1, 2, 3, 5, 10, 20, 50, 100)


class _BreakerCollector(Collector):
    """Reads a circuit breaker's state at scrape time (open turns half-open by the clock)."""

    def __init__(self, state: Callable[[], BreakerState | None], name: str, help_text: str) -> None:
        self._state = state
        self._name = name
        self._help = help_text

    def collect(self) -> Iterable[Metric]:
        current = self._state()
        family = GaugeMetricFamily(self._name, self._help, labels=["state"])
        if current is not None:
            for state in _BREAKER_STATES:
                family.add_metric([state], 1.0 if state == current else 0.0)
        yield family

    def describe(self) -> Iterable[Metric]:
        return []


class LiveCounts(Protocol):
    """What the live hub counts (``gateway.live.hub.LiveStats``), read at scrape time."""

    @property
    def active(self) -> int: ...
    @property
    def started(self) -> int: ...
    @property
    def delivered(self) -> int: ...
    @property
    def replayed(self) -> int: ...
    @property
    def slow_consumers(self) -> int: ...
    @property
    def received(self) -> int: ...


class _LiveCollector(Collector):
    def __init__(self, counts: Callable[[], LiveCounts | None]) -> None:
        self._counts = counts

    def collect(self) -> Iterable[Metric]:
        counts = self._counts()
        if counts is None:
            return
        yield GaugeMetricFamily(
            "gateway_subscriptions_active", "Subscriptions open in this process.", counts.active
        )
        for name, help_text, value in (
            ("gateway_subscriptions_started", "Subscriptions started.", counts.started),
            (
                "gateway_subscription_events_received",
                "Events this process's bus received (published here or read from the log).",
                counts.received,
            ),
            (
                "gateway_subscription_events_delivered",
                "Live events handed to subscribers (replayed ones not included).",
                counts.delivered,
            ),
            (
                "gateway_subscription_events_replayed",
                "MessageCreated events replayed after `after` on a resume.",
                counts.replayed,
            ),
            (
                "gateway_subscription_slow_consumers",
                "Subscriptions ended because their queue overflowed.",
                counts.slow_consumers,
            ),
        ):
            yield CounterMetricFamily(name, help_text, value)

    def describe(self) -> Iterable[Metric]:
        return []


class GatewayMetrics:
    """Every metric of one app; ``registry`` is what ``/metrics`` exposes."""

    def __init__(
        self, registry: CollectorRegistry | None = None, *, max_operation_names: int = 200
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._max_operation_names = max_operation_names
        self._operation_names: set[str] = set()
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}  # see _child
        r = self.registry
        self.operations = Counter(
            "gateway_graphql_operations",
            "GraphQL operations executed, by operation name and outcome (ok or error code).",
            ["operation", "outcome"],
            registry=r,
        )
        self.operation_seconds = Histogram(
            "gateway_graphql_operation_duration_seconds",
            "Time to execute a GraphQL operation, parsing and validation included.",
            ["operation", "outcome"],
            buckets=_SECONDS,
            registry=r,
        )
        self.upstream_calls = Counter(
            "gateway_upstream_calls",
            "Logical upstream calls, by upstream operation and last HTTP status "
            "(or timeout, connection_error, circuit_open).",
            ["operation", "status"],
            registry=r,
        )
        self.upstream_seconds = Histogram(
            "gateway_upstream_call_duration_seconds",
            "Time of a logical upstream call, retries and backoff included.",
            ["operation", "status"],
            buckets=_SECONDS,
            registry=r,
        )
        self.upstream_attempts = Counter(
            "gateway_upstream_attempts",
            "HTTP requests sent upstream, retries included, by upstream operation.",
            ["operation"],
            registry=r,
        )
        self.loader_batch_size = Histogram(
            "gateway_loader_batch_size",
            "Distinct keys a DataLoader fetched in one batch, by loader.",
            ["loader"],
            buckets=_BATCH_SIZES,
            registry=r,
        )

        self.delivery_lag = Histogram(
            "gateway_subscription_delivery_lag_seconds",
            "From an event's commit (its log timestamp) to its hand-over to a subscriber.",
            buckets=_SECONDS,
            registry=r,
        )

    def track_live(self, counts: Callable[[], LiveCounts | None]) -> None:
        """Expose the live hub's counts, read from ``counts()`` at each scrape."""
        self.registry.register(_LiveCollector(counts))

    def observe_delivery_lag(self, seconds: float) -> None:
        self.delivery_lag.observe(seconds)

    def track_breaker(self, state: Callable[[], BreakerState | None]) -> None:
        """Expose the read circuit breaker's state, read from ``state()`` at each scrape."""
        self.registry.register(
            _BreakerCollector(
                state,
                "gateway_upstream_circuit_state",
                "1 for the upstream read circuit breaker's current state, 0 for the others.",
            )
        )

    def track_write_breaker(self, state: Callable[[], BreakerState | None]) -> None:
        """The same for the write circuit (POST, DELETE), a family of its own."""
        self.registry.register(
            _BreakerCollector(
                state,
                "gateway_upstream_write_circuit_state",
                "1 for the upstream write circuit breaker's current state, 0 for the others.",
            )
        )

    def _child(self, metric: Any, *labels: str) -> Any:
        """``metric.labels(*labels)``, looked up once: prometheus_client checks and
        converts the values and takes a lock on every ``labels`` call, several times per
        operation. The label values are bounded (above), so is this map."""
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def operation_label(self, name: object) -> str:
        if name is None:
            return ANONYMOUS
        if not isinstance(name, str) or _NAME.fullmatch(name) is None:  # e.g. a JSON number
            return OTHER
        if name not in self._operation_names:
            if len(self._operation_names) >= self._max_operation_names:
                return OTHER
            self._operation_names.add(name)
        return name

    def observe_operation(self, name: str | None, outcome: str, seconds: float) -> None:
        """One GraphQL operation; ``outcome`` is ``ok`` or an error code."""
        label = self.operation_label(name)
        outcome = outcome if outcome == "ok" or _CODE.fullmatch(outcome) else "ERROR"
        self._child(self.operations, label, outcome).inc()
        self._child(self.operation_seconds, label, outcome).observe(seconds)

    def observe_upstream_call(self, record: CallRecord) -> None:
        """One logical upstream call, as the session reports it."""
        if record.status is not None:
            status = str(record.status)
        else:
            status = _NO_RESPONSE.get(record.error or "", "no_response")
        self._child(self.upstream_calls, record.operation, status).inc()
        self._child(self.upstream_seconds, record.operation, status).observe(record.seconds)
        if record.attempts:
            self._child(self.upstream_attempts, record.operation).inc(record.attempts)

    def observe_batch(self, loader: str, size: int) -> None:
        """One DataLoader batch of ``size`` distinct keys."""
        self._child(self.loader_batch_size, loader).observe(size)
