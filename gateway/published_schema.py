"""``GET /graphql/schema.graphql``: the published contract, for codegen tools and humans.

It is ``schema_sdl()``, the same text ``messages-gateway export-schema`` writes to
``schema.graphql``. The SDL says no more than introspection does, so it follows the
same switch: with ``GATEWAY_INTROSPECTION=false`` it is not served (404).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from gateway.config import Settings
from gateway.schema import schema_sdl

__all__ = ["install_schema_route"]


def install_schema_route(app: FastAPI, settings: Settings, *, path: str = "/graphql") -> None:
    """Serve the SDL at ``<path>/schema.graphql`` unless introspection is off."""
    if not settings.introspection:
        return
    sdl = schema_sdl()

    async def schema_graphql(request: Request) -> Response:
        return PlainTextResponse(sdl, headers={"Cache-Control": "no-cache"})

    app.add_route(path.rstrip("/") + "/schema.graphql", schema_graphql, methods=["GET"])
