"""``create_app(settings)``: the FastAPI application and its lifespan.

The lifespan owns the two long-lived resources: the embedded store's database
(when the gateway runs on it) and the one ``httpx.AsyncClient`` pool that every
upstream call goes through.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from gateway.config import Settings
from gateway.logs import quiet_library_loggers
from gateway.store import Database, create_store_app

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the gateway: /graphql, /healthz and, in embedded mode, the store at /v1."""
    settings = settings or Settings()
    quiet_library_loggers()
    database = Database(settings.store_path) if settings.embedded else None
    store_app = (
        create_store_app(
            database,
            api_key=settings.store_api_key.get_secret_value() if settings.store_api_key else None,
        )
        if database is not None
        else None
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if database is not None:
            await database.open()
        try:
            yield
        finally:
            if database is not None:
                await database.close()

    app = FastAPI(
        title="messages-gateway",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    if store_app is not None:
        app.mount("/v1", store_app)
    return app
