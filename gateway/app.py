"""``create_app(settings)``: the FastAPI application and its lifespan.

The lifespan owns the two long-lived resources: the embedded store's database
(when the gateway runs on it) and the one ``httpx.AsyncClient`` pool that every
upstream call goes through.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response, WebSocket
from fastapi.responses import JSONResponse
from pydantic import SecretStr
from starlette.requests import HTTPConnection
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, GRAPHQL_TRANSPORT_WS_PROTOCOL

from gateway.auth import (
    Authenticator,
    OwnedSession,
    Principal,
    UnauthenticatedError,
    bearer_token,
    executes_graphql,
    forwarded_key_holder,
    unauthenticated_response,
)
from gateway.config import Settings
from gateway.graphiql import install_graphiql
from gateway.http_edge import install_http_edge
from gateway.lean_route import LeanGraphQLRoute
from gateway.live.factory import create_bus
from gateway.live.hub import LiveAccess, LiveHub
from gateway.live.remote import PublishingSession, ThreadPoller
from gateway.live.wakeup import WakeOnWrite
from gateway.logs import quiet_library_loggers
from gateway.observability import Observability
from gateway.published_schema import install_schema_route
from gateway.router import GatewayGraphQLRouter, remember_sub_response
from gateway.schema import Context, build_schema
from gateway.schema.loaders import Loaders
from gateway.store import StoreMount, create_backend, create_store_app
from gateway.thread_index import (
    EmbeddedThreadIndex,
    IndexMemo,
    RecordedThreadIndex,
    ThreadIndex,
    ThreadRecorder,
)
from gateway.upstream import Upstream, UpstreamClient
from gateway.wire_contract import is_request_id

__all__ = ["create_app"]

logger = logging.getLogger("gateway.app")


def request_id_of(request: HTTPConnection) -> str:
    """The caller's ``X-Request-Id`` when the wire contract keeps it, else a fresh one."""
    given = request.headers.get("x-request-id")
    if given and is_request_id(given):
        return given
    return uuid.uuid4().hex


def _close_the_store_door(settings: Settings, auth_required: bool) -> Settings:
    """With gateway auth on, the embedded store at ``/v1`` must not be an open side door.

    The store answers on the gateway's own port; if it needed no key, anyone could
    read or delete every thread there, past gateway credentials and owner isolation.
    Without a configured ``STORE_API_KEY`` the store then gets a random key that
    only the gateway's in-process client knows (REST clients need ``STORE_API_KEY``).
    """
    if not (settings.embedded and auth_required) or settings.store_api_key is not None:
        return settings
    logger.warning(
        "gateway auth is on and GATEWAY_STORE_API_KEY is unset: the store at /v1 is "
        "closed to REST clients (set GATEWAY_STORE_API_KEY to open it to them)"
    )
    return settings.model_copy(update={"store_api_key": SecretStr(secrets.token_urlsafe(32))})


def create_app(settings: Settings | None = None, *, index_memo: IndexMemo | None = None) -> FastAPI:
    """Build the gateway: /graphql, /healthz and, in embedded mode, the store at /v1.

    ``index_memo``: what the remote mode's thread recorder remembers having written
    (one per app; tests pass their own, with their own clock).
    """
    settings = settings or Settings()
    quiet_library_loggers()
    observability = Observability(settings)
    authenticator = Authenticator.from_settings(settings)
    settings = _close_the_store_door(settings, authenticator.required)
    # The state database: the embedded store's, or (remote upstream) the gateway's own
    # state only, the thread index (gateway.thread_index).
    state = create_backend(settings.store_location, pool_size=settings.store_pool_size)
    database = state if settings.embedded else None
    hub = LiveHub(
        create_bus(settings),
        per_connection=settings.max_subscriptions_per_connection,
        per_caller=settings.max_subscriptions_per_caller,
        queue_size=settings.subscription_queue_size,
        owner_key=settings.owner_metadata_key,
        on_lag=observability.metrics.observe_delivery_lag,
    )
    store_app = (
        create_store_app(
            database,
            api_key=settings.store_api_key.get_secret_value() if settings.store_api_key else None,
        )
        if database is not None
        else None
    )
    thread_index: ThreadIndex = (
        EmbeddedThreadIndex(state.thread_index)
        if settings.embedded
        else RecordedThreadIndex(state.thread_index)
    )
    recorder = (
        None
        if settings.embedded
        else ThreadRecorder(state.thread_index, settings.owner_metadata_key, memo=index_memo)
    )
    # Passthrough: a remote upstream, no key of the gateway's and no gateway auth, so
    # each caller's bearer is its upstream key; its index rows are that key's alone.
    passthrough = (
        not settings.embedded
        and not authenticator.required
        and not (settings.upstream_api_key and settings.upstream_api_key.get_secret_value())
    )

    def index_scope(authorization: str | None) -> tuple[ThreadRecorder | None, str | None]:
        """The recorder of this caller's reads and the holder its sidebar lists."""
        if not passthrough or recorder is None:
            return recorder, None
        holder = forwarded_key_holder(bearer_token(authorization))
        return recorder.for_holder(holder), holder

    served_store = WakeOnWrite(store_app, hub.bus.poke) if store_app is not None else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The client first: a bad upstream setting fails before the database is opened.
        upstream = UpstreamClient.from_settings(settings, store_app=served_store)
        try:
            await state.open()
            await state.thread_index.adopt_owner_key(settings.owner_metadata_key)
            await hub.bus.start()
            if not settings.embedded:  # a remote upstream pushes nothing: poll it
                app.state.poller = ThreadPoller(
                    hub.bus,
                    lambda: open_session(upstream, None, None, uuid.uuid4().hex),
                    interval=settings.poll_seconds,
                )
                await app.state.poller.start()
                hub.poller = app.state.poller
            app.state.upstream = upstream
            app.state.live = hub
            observability.attach(upstream, store=database, live=hub)
            yield
        finally:
            poller: ThreadPoller | None = getattr(app.state, "poller", None)
            if poller is not None:
                await poller.close()
            await hub.bus.close()  # every stream completes
            await upstream.aclose()
            await state.close()

    def open_session(
        upstream: UpstreamClient,
        principal: Principal | None,
        authorization: str | None,
        request_id: str,
    ) -> Upstream:
        """One operation's upstream session for this caller (owned, with isolation on)."""
        session: Upstream = upstream.session(
            caller_token=None if authenticator.required else bearer_token(authorization),
            request_id=request_id,
            max_calls=settings.max_upstream_calls,
            concurrency=settings.upstream_concurrency,
            deadline=settings.operation_deadline,
            observer=observability.observe_upstream_call,
        )
        if not settings.embedded:
            # The embedded store logs its own writes; a remote upstream's are published here.
            session = PublishingSession(session, hub.bus, getattr(app.state, "poller", None))
        if principal is not None and settings.owner_metadata_key:
            session = OwnedSession(
                session, subject=principal.subject, key=settings.owner_metadata_key
            )
        return session

    def live_access(
        upstream: UpstreamClient, principal: Principal | None, authorization: str | None
    ) -> LiveAccess:
        """What a stream needs to start: a fresh session of the caller for each of its reads."""
        return LiveAccess(
            hub,
            open_session=lambda: open_session(upstream, principal, authorization, uuid.uuid4().hex),
            subject=principal.subject if principal is not None else None,
            expires_at=principal.expires_at if principal is not None else None,
        )

    async def get_context(
        request: HTTPConnection,
        response: Response = None,  # type: ignore[assignment]  # none on a WebSocket
    ) -> Context:
        upstream: UpstreamClient = request.app.state.upstream
        if isinstance(request, WebSocket) or not isinstance(request, Request):
            # The caller is known at connection_init (GatewayGraphQLRouter.on_ws_connect):
            # the upgrade's Authorization header, or the payload's "authorization".
            unknown_recorder, unknown_holder = index_scope(None)
            context = Context(
                settings,
                open_session(upstream, None, None, request_id_of(request)),
                request_id_of(request),
                observability.metrics.observe_batch,
                live=LiveAccess(hub),
                thread_index=thread_index,
                recorder=unknown_recorder,
                index_holder=unknown_holder,
            )
            context.tokens_per_operation = True
            context.authorize = lambda authorization: authorize_connection(
                context, upstream, authorization
            )
            return context
        remember_sub_response(request, response)
        request_id = request_id_of(request)
        authorization = request.headers.get("authorization")
        # Gateway auth on: the bearer is the gateway's credential, never forwarded upstream.
        principal = (
            await authenticator.authenticate(authorization) if executes_graphql(request) else None
        )
        request.state.caller = principal.subject if principal is not None else None
        session = open_session(upstream, principal, authorization, request_id)
        caller_recorder, holder = index_scope(authorization)
        return Context(
            settings,
            session,
            request_id,
            observability.metrics.observe_batch,
            live=live_access(upstream, principal, authorization),
            subject=principal.subject if principal is not None else None,
            thread_index=thread_index,
            recorder=caller_recorder,
            index_holder=holder,
        )

    async def authorize_connection(
        context: Context, upstream: UpstreamClient, authorization: str | None
    ) -> None:
        """Authenticate a WebSocket connection (``UnauthenticatedError``) and arm its context."""
        principal = await authenticator.authenticate(authorization)
        context.session = open_session(upstream, principal, authorization, context.request_id)
        caller_recorder, context.index_holder = index_scope(authorization)
        context.loaders = Loaders(
            context.session, observability.metrics.observe_batch, caller_recorder
        )
        context.live = live_access(upstream, principal, authorization)
        context.subject = principal.subject if principal is not None else None

    graphql = GatewayGraphQLRouter(
        build_schema(settings),
        context_getter=get_context,
        graphql_ide=None,  # the IDE page is gateway.graphiql's (install_graphiql below)
        allow_queries_via_get=True,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_SSE_PROTOCOL),
        max_subscriptions_per_connection=None,  # LiveHub's, with SUBSCRIPTION_LIMIT
        keepalive_seconds=settings.subscription_keepalive,
        # A browser page of another origin may open the WebSocket when CORS lets it call.
        allowed_origins=tuple(settings.cors_origins or ()),
    )

    app = FastAPI(
        title="messages-gateway",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.add_exception_handler(UnauthenticatedError, unauthenticated_response)
    install_http_edge(app, settings, authenticator)  # hosts, CORS, auth, body bounds
    observability.install(app)  # /metrics, /readyz
    install_graphiql(app, settings)  # GET /graphql for browsers, /graphql/static
    install_schema_route(app, settings)  # GET /graphql/schema.graphql

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    # Plain POST/GET operations first, without FastAPI's dependency solving (measured:
    # gateway.lean_route); strawberry's routes behind it serve the rest (WebSocket, SSE).
    app.router.routes.append(LeanGraphQLRoute("/graphql", graphql, get_context))
    app.include_router(graphql, prefix="/graphql")
    if served_store is not None:
        app.router.routes.append(StoreMount("/v1", served_store))
    return app
