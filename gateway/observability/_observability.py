"""``Observability``: one app's metrics, readiness and tracing, and their routes."""

from __future__ import annotations

from typing import Protocol

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.config import Settings
from gateway.observability._metrics import GatewayMetrics, LiveCounts
from gateway.observability._readiness import StoreHealth, check_readiness
from gateway.observability._tracing import Tracing
from gateway.upstream import BreakerState, CallRecord, UpstreamClient

__all__ = ["Observability"]


class LiveSource(Protocol):
    """The live hub, as ``/metrics`` reads it."""

    @property
    def stats(self) -> LiveCounts: ...


class Observability:
    """Built by ``create_app``; ``install`` adds /metrics and /readyz, ``attach`` the client.

    Hooks: ``observe_upstream_call`` is the upstream sessions' observer;
    ``metrics.observe_batch`` the loaders' (``create_app`` passes both per request).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        metrics: GatewayMetrics | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics or GatewayMetrics()
        self.tracing = tracing or Tracing()
        self._upstream: UpstreamClient | None = None
        self._store: StoreHealth | None = None
        self._live: LiveSource | None = None
        self.metrics.track_live(lambda: self._live.stats if self._live is not None else None)
        self.metrics.track_breaker(self._breaker_state)
        self.metrics.track_write_breaker(self._write_breaker_state)

    def _breaker_state(self) -> BreakerState | None:
        return self._upstream.breaker.state if self._upstream is not None else None

    def _write_breaker_state(self) -> BreakerState | None:
        return self._upstream.write_breaker.state if self._upstream is not None else None

    # --- hooks ------------------------------------------------------------------------

    def attach(
        self,
        upstream: UpstreamClient,
        *,
        store: StoreHealth | None = None,
        live: LiveSource | None = None,
    ) -> None:
        """The lifespan's client: its breaker state is exported, its requests traced.

        ``store``: the embedded store, whose own health ``/readyz`` checks first;
        ``live``: the live hub, whose counts ``/metrics`` shows.
        """
        self._upstream = upstream
        self._store = store
        self._live = live
        self.tracing.instrument_client(upstream)

    def observe_upstream_call(self, record: CallRecord) -> None:
        self.metrics.observe_upstream_call(record)
        self.tracing.end_upstream_call(record)

    def install(self, app: FastAPI) -> None:
        """Add ``/metrics`` and ``/readyz``, and make this the app's (``app.state``)."""
        app.state.observability = self
        registry = self.metrics.registry

        async def metrics(request: Request) -> Response:
            return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

        async def readyz(request: Request) -> Response:
            readiness = await check_readiness(self.settings, self._upstream, self._store)
            return JSONResponse(
                readiness.body(),
                status_code=200 if readiness.ready else 503,
                headers={"Cache-Control": "no-store"},
            )

        app.add_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
        app.add_route("/readyz", readyz, methods=["GET"], include_in_schema=False)
