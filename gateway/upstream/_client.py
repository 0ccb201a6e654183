"""``UpstreamClient``: the app-wide half of the upstream client.

One per app, created in the lifespan: it owns the ``httpx.AsyncClient`` (one
keep-alive pool, or the in-process ASGI transport to the embedded store), the
server-side key and the circuit breakers (reads, writes). Everything per GraphQL operation lives in
the ``UpstreamSession`` that ``session()`` returns.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from http.cookiejar import CookieJar
from typing import TYPE_CHECKING, Any, cast

import httpx

from gateway.upstream._body import DEFAULT_MAX_RESPONSE_BYTES
from gateway.upstream._breaker import CircuitBreaker
from gateway.upstream._redact import install_log_redaction
from gateway.upstream._retry import RetryPolicy
from gateway.upstream._session import Observer, Upstream, UpstreamSession
from gateway.upstream._transport import AiohttpTransport, environment_proxy

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from gateway.config import Settings

__all__ = ["EMBEDDED_BASE_URL", "UpstreamClient", "normalize_base_url"]

EMBEDDED_BASE_URL = "http://embedded-store"
"""Base URL of the in-process store; the host name never leaves the process."""

_USER_AGENT = "messages-gateway"
# As many idle connections kept as may be open: with fewer, a burst above the idle cap
# (64 clients x 2 calls) closes connections after each call and opens new ones on the
# next (a TCP handshake, and in production a TLS one, per call). BENCHMARKS.md.
_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100, keepalive_expiry=30.0)


class _NoCookieJar(CookieJar):
    """A cookie jar that keeps nothing and sends nothing."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None

    def add_cookie_header(self, request: Any) -> None:
        return None

    def set_cookie(self, cookie: Any) -> None:
        return None


class _NoCookies(httpx.Cookies):
    """The client's cookies: none, ever, and no work per answer to find that out.

    httpx hands every answer to its ``Cookies``, which wraps request and answer in
    ``urllib.request`` look-alikes (parsing the URL again) before asking the jar;
    that was about 5 % of the CPU of an upstream call, for cookies thrown away.
    """

    def __init__(self) -> None:
        super().__init__()
        self.jar = _NoCookieJar()

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set_cookie_header(self, request: httpx.Request) -> None:
        return None


def _network(transport: str, base_url: str) -> dict[str, Any]:
    """The ``httpx.AsyncClient`` arguments choosing its network layer (``UPSTREAM_TRANSPORT``)."""
    if transport == "aiohttp":
        return {"transport": AiohttpTransport(limits=_LIMITS, proxy=environment_proxy(base_url))}
    return {"limits": _LIMITS, "http1": True, "http2": False}


def normalize_base_url(url: str) -> str:
    """The upstream base URL, ending in ``/v1`` and without a trailing slash.

    ``https://api.example.com``, ``https://api.example.com/`` and
    ``https://api.example.com/v1/`` all give ``https://api.example.com/v1``. Error
    messages never repeat the URL: it may be private.
    """
    text = url.strip().rstrip("/")
    try:
        parsed = httpx.URL(text)
    except httpx.InvalidURL:
        raise ValueError("the upstream URL is not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError("the upstream URL must be an absolute http:// or https:// URL")
    if parsed.userinfo:
        raise ValueError("the upstream URL must not hold credentials; set the API key instead")
    if parsed.query or parsed.fragment:
        raise ValueError("the upstream URL must not have a query or a fragment")
    if not parsed.path.endswith("/v1"):
        text += "/v1"
    return text


class UpstreamClient:
    """App-wide: owns the one ``httpx.AsyncClient`` (keep-alive pool) and the circuit breakers.

    ``base_url`` is the prefix under which ``/threads`` lives (``…/v1`` for a remote
    upstream). ``api_key`` is the server-side key: when set, it is sent on every
    request and callers' tokens are never forwarded. ``requires_key`` says whether a
    request without any credentials is pointless (remote upstreams) or fine (the
    embedded store without a key). ``breaker`` guards reads; writes get
    ``write_breaker`` (default: its twin), so that failing writes never stop reads.
    ``max_response_bytes`` bounds the decoded size of
    one answer (``_body``). ``sleep`` and ``clock`` are injectable for tests.
    The client takes ``http`` over: it is closed by ``aclose()`` and its cookie jar
    is disabled (callers share the pool; cookies must not cross between them).
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        api_key: str | None,
        requires_key: bool,
        max_retries: int,
        retry_backoff: float,
        read_timeout: float,
        breaker: CircuitBreaker,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        write_breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if api_key is not None and (not api_key.isascii() or not api_key.isprintable()):
            raise ValueError("the upstream API key must be printable ASCII")
        if max_retries < 0 or retry_backoff < 0 or read_timeout <= 0:
            raise ValueError("need max_retries >= 0, retry_backoff >= 0 and read_timeout > 0")
        if max_response_bytes < 1:
            raise ValueError("max_response_bytes must be at least 1")
        if http.params:
            # Requests are built with their whole URL (``UpstreamSession._request``).
            raise ValueError("the upstream httpx client must not carry query parameters")
        install_log_redaction()
        # One pool serves every caller: a cookie set in answer to one caller's request
        # must never ride along on another's. None is kept or sent (``_NoCookies``; httpx
        # has no public way to install a ``Cookies`` of another class: its setter copies).
        http._cookies = _NoCookies()
        self._http = http
        self._breaker = breaker
        self._write_breaker = write_breaker or breaker.twin()
        host = httpx.URL(base_url).host
        self._upstream = Upstream(
            http=http,
            base_url=base_url.rstrip("/"),
            host=host,
            authorization=f"Bearer {api_key}" if api_key else None,
            requires_key=requires_key,
            retry=RetryPolicy(max_retries=max_retries, backoff=retry_backoff),
            read_timeout=read_timeout,
            max_response_bytes=max_response_bytes,
            secrets=tuple(s for s in (api_key, host) if s),
            breaker=breaker,
            write_breaker=self._write_breaker,
            sleep=sleep,
            clock=clock,
        )

    @classmethod
    def from_settings(
        cls, settings: Settings, *, store_app: ASGIApp | None = None
    ) -> UpstreamClient:
        """The client for ``settings``: the embedded store (``store_app``) or the remote URL."""
        timeout = httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=settings.connect_timeout,
        )
        headers = {"User-Agent": _USER_AGENT}
        if settings.upstream_url is None:
            if store_app is None:
                raise ValueError("the embedded upstream needs the store's ASGI app")
            transport = httpx.ASGITransport(app=cast(Any, store_app), raise_app_exceptions=False)
            http = httpx.AsyncClient(
                transport=transport, timeout=timeout, headers=headers, follow_redirects=False
            )
            base_url = EMBEDDED_BASE_URL
            key = settings.store_api_key
            requires_key = False
        else:
            base_url = normalize_base_url(settings.upstream_url)
            http = httpx.AsyncClient(
                timeout=timeout,
                headers=headers,
                follow_redirects=False,
                **_network(settings.upstream_transport, base_url),
            )
            key = settings.upstream_api_key
            requires_key = True
        return cls(
            http,
            base_url=base_url,
            api_key=key.get_secret_value() if key is not None else None,
            requires_key=requires_key,
            max_retries=settings.max_retries,
            retry_backoff=settings.retry_backoff,
            read_timeout=settings.read_timeout,
            breaker=CircuitBreaker(
                settings.breaker_failure_threshold, settings.breaker_reset_seconds
            ),
            max_response_bytes=settings.upstream_max_response_bytes,
        )

    async def aclose(self) -> None:
        """Close the connection pool (the lifespan's shutdown)."""
        await self._http.aclose()

    @property
    def breaker(self) -> CircuitBreaker:
        """The read circuit (GET), the one ``/metrics`` reports."""
        return self._breaker

    @property
    def write_breaker(self) -> CircuitBreaker:
        """The write circuit (POST, DELETE): by default ``breaker.twin()``."""
        return self._write_breaker

    def add_event_hooks(
        self,
        *,
        request: Callable[[httpx.Request], Awaitable[None]] | None = None,
        response: Callable[[httpx.Response], Awaitable[None]] | None = None,
    ) -> None:
        """Let instrumentation (tracing) see every request sent, retries included."""
        hooks = self._http.event_hooks
        if request is not None:
            hooks["request"] = [*hooks.get("request", []), request]
        if response is not None:
            hooks["response"] = [*hooks.get("response", []), response]
        self._http.event_hooks = hooks

    def session(
        self,
        *,
        caller_token: str | None,
        request_id: str,
        max_calls: int,
        concurrency: int,
        deadline: float,
        observer: Observer | None = None,
    ) -> UpstreamSession:
        """A session for one GraphQL operation; ``deadline`` is in seconds from now.

        ``request_id`` goes out as ``X-Request-Id`` and must be visible ASCII
        (``ValueError`` otherwise): sanitise a client-supplied id before passing it.
        """
        return UpstreamSession(
            self._upstream,
            caller_token=caller_token,
            request_id=request_id,
            max_calls=max_calls,
            concurrency=concurrency,
            deadline=deadline,
            observer=observer,
        )
