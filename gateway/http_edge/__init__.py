"""The HTTP edge: every bound a request meets before a route runs, one piece each.

Outermost first (``install_http_edge``), then the server side (``server_options``):

- ``AllowedHosts`` (``_hosts``): a ``Host`` outside ``ALLOWED_HOSTS`` is a 400
  (DNS rebinding);
- ``RelativeRedirects`` (``_redirects``): redirects never echo ``Host``;
- CORS (starlette's), when ``CORS_ORIGINS`` is set;
- ``AuthenticateFirst`` (``_auth_first``): with gateway auth on, an operation
  without a valid credential is a 401 decided from the headers, before the body;
- ``BoundedBody`` (``_body``): body deadline (``HTTP_BODY_TIMEOUT``), size
  (``MAX_BODY_BYTES``) and a process-wide budget (``MAX_BODY_BYTES_IN_FLIGHT``);
- ``WellFormedOperations`` (``_operations``): ``/graphql`` bodies and ``GET``
  parameters are one well-formed operation (or a batch, when allowed), else a
  GraphQL-shaped 400 instead of strawberry's 500;
- in uvicorn, ``bounded_http_protocol`` (``_connections``): header deadline
  (``HTTP_HEADER_TIMEOUT``), header size and the connection cap
  (``MAX_CONNECTIONS``); uvicorn's own ``timeout_keep_alive`` is
  ``KEEPALIVE_TIMEOUT``.

Answers are GraphQL-shaped on ``/graphql`` (no ``data`` key: nothing ran) and
the OpenAI envelope on ``/v1`` (``_answers``).
"""

from __future__ import annotations

import logging
import resource
from typing import TYPE_CHECKING, Any

from starlette.middleware.cors import CORSMiddleware

from gateway.http_edge._answers import EdgeRefusalError
from gateway.http_edge._auth_first import AuthenticateFirst
from gateway.http_edge._body import BodyBudget, BoundedBody
from gateway.http_edge._connections import bounded_http_protocol
from gateway.http_edge._hosts import AllowedHosts, allowed_hosts_of
from gateway.http_edge._operations import WellFormedOperations, checked_operation
from gateway.http_edge._redirects import RelativeRedirects

if TYPE_CHECKING:
    from fastapi import FastAPI

    from gateway.auth import Authenticator
    from gateway.config import Settings

__all__ = [
    "FD_HEADROOM",
    "AllowedHosts",
    "AuthenticateFirst",
    "BodyBudget",
    "BoundedBody",
    "EdgeRefusalError",
    "RelativeRedirects",
    "WellFormedOperations",
    "bounded_http_protocol",
    "checked_operation",
    "install_http_edge",
    "server_options",
]

GRAPHQL_PATH = "/graphql"

logger = logging.getLogger("gateway.http_edge")


def install_http_edge(app: FastAPI, settings: Settings, authenticator: Authenticator) -> None:
    """Add the edge's middleware to ``app`` (``add_middleware`` wraps: innermost first)."""
    app.add_middleware(
        WellFormedOperations, allow_batching=settings.allow_batching, path=GRAPHQL_PATH
    )
    app.add_middleware(
        BoundedBody,
        timeout=settings.http_body_timeout,
        budget=BodyBudget(settings.max_body_bytes_in_flight),
        max_body_bytes=settings.max_body_bytes,
        limited_path=GRAPHQL_PATH,
    )
    if authenticator.required:
        app.add_middleware(AuthenticateFirst, authenticator=authenticator, path=GRAPHQL_PATH)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-Request-Id"],
            max_age=600,
        )
    app.add_middleware(RelativeRedirects)
    patterns = allowed_hosts_of(settings)
    if patterns is not None:
        app.add_middleware(AllowedHosts, patterns=patterns)


FD_HEADROOM = 64  # descriptors kept for the database, the upstream pool, logs


def _connection_cap(wanted: int) -> int:
    """``MAX_CONNECTIONS``, lowered (with a warning) to fit the process's descriptor limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or wanted <= soft - FD_HEADROOM:
        return wanted
    fitted = max(1, soft - FD_HEADROOM)
    logger.warning(
        "GATEWAY_MAX_CONNECTIONS=%d does not fit the open-file limit (ulimit -n %d): using %d",
        wanted,
        soft,
        fitted,
    )
    return fitted


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's settings for the edge: its keep-alive timeout, our protocol for the rest."""
    return {
        "http": bounded_http_protocol(
            header_timeout=settings.http_header_timeout,
            max_connections=_connection_cap(settings.max_connections),
        ),
        "timeout_keep_alive": settings.keepalive_timeout,
    }
