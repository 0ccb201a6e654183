"""``AiohttpTransport``: the httpx client's network layer, on aiohttp's connection pool.

Why not httpx's own: its pool (httpcore) finds a connection for a request by
scanning every connection for every queued request, each time a request starts or
ends, so its cost per call grows with the product of the two. Behind a gateway
serving 64 clients (128 upstream calls at once) that scan took 40 % of the
process's CPU and the CPU per request quadrupled (BENCHMARKS.md), and httpcore's
HTTP/1.1 parser (h11) is pure Python besides. aiohttp keeps idle connections in a
queue per host and parses with llhttp (C).

Everything above the network stays httpx's and the session's: URLs, headers,
timeouts (read from the request's ``timeout`` extension, as httpcore does), the
bounded and decoded body read (``_body``: this transport never decompresses),
retries (``_retry``). So this module's one job is to say, for every failure, what
httpx would have said, because ``_retry`` decides from the exception type whether a
request may have reached the upstream:

- the connection was never made (refused, DNS, TLS handshake, connect or pool
  timeout): ``ConnectError`` / ``ConnectTimeout``, safe to retry any method;
- anything after the request may have been written (reset, disconnected, a read
  timeout, a malformed or truncated answer): ``ReadError`` / ``RemoteProtocolError``
  / ``ReadTimeout``, retried only for idempotent methods.

aiohttp would also retry an idempotent request once by itself when a kept-alive
connection turns out closed; that retry is turned off (as aiohttp's own test client
does), so every attempt is the session's, counted and bounded by its policy.
Exception messages name the aiohttp class only: aiohttp's own text carries the
upstream host, which the gateway treats as private.

Proxies: the one the standard environment variables give for the upstream's scheme
(``HTTPS_PROXY``, ``NO_PROXY``...), read once at start-up, as httpx would.
"""

from __future__ import annotations

import ssl
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
from multidict import CIMultiDict
from yarl import URL

__all__ = ["AiohttpTransport", "environment_proxy"]

_TRANSLATIONS: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    # Order matters: subclasses before their bases. First what happens before the
    # request could reach the upstream (safe to retry any method, or a fault of ours),
    (aiohttp.ClientHttpProxyError, httpx.ProxyError),  # the proxy refused (407...)
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),  # configuration, not the network
    (aiohttp.ServerFingerprintMismatch, httpx.ConnectError),  # during the TLS handshake
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.ClientConnectorError, httpx.ConnectError),  # DNS, refused, TLS, proxy
    # then what may happen after it was written (retried only when idempotent).
    (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.RemoteProtocolError),
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),  # a malformed status line, headers
    (aiohttp.ClientOSError, httpx.ReadError),  # reset, broken pipe
    (OSError, httpx.ReadError),
    (aiohttp.ClientError, httpx.RemoteProtocolError),
)


def _translated(exc: BaseException, request: httpx.Request) -> httpx.TransportError | None:
    for theirs, ours in _TRANSLATIONS:
        if isinstance(exc, theirs):
            return ours(f"upstream transport failed ({type(exc).__name__})", request=request)
    return None


def environment_proxy(url: str) -> str | None:
    """The proxy the environment names for ``url`` (``None``: connect directly), read as
    httpx reads it: ``<SCHEME>_PROXY``, else ``ALL_PROXY``; ``http://`` when no scheme is
    given; ``NO_PROXY`` honoured. Only an ``http://`` or ``https://`` proxy can be used
    here: any other (``socks5://``) is a ``ValueError`` at start-up, not a failure of
    every call (``UPSTREAM_TRANSPORT=httpx`` with ``httpx[socks]`` supports SOCKS)."""
    target = httpx.URL(url)
    if target.host and urllib.request.proxy_bypass(target.host):
        return None
    proxies = urllib.request.getproxies()
    proxy = proxies.get(target.scheme) or proxies.get("all")
    if not proxy:
        return None
    if "://" not in proxy:
        proxy = "http://" + proxy
    if not proxy.startswith(("http://", "https://")):
        # The value is not repeated: it may hold the proxy's credentials.
        raise ValueError(
            "the proxy the environment names for the upstream is not an http:// or "
            "https:// proxy; use GATEWAY_UPSTREAM_TRANSPORT=httpx for another kind"
        )
    return proxy


class _ResponseBody(httpx.AsyncByteStream):
    """The answer's raw bytes, as aiohttp receives them; failures translated."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except Exception as exc:
            translated = _translated(exc, self._request)
            if translated is None:
                raise
            raise translated from None

    async def aclose(self) -> None:
        # A body read to its end hands the connection back to the pool; one left
        # unread (the session stopped at its size limit) must not: close it.
        if self._response.content.at_eof():
            self._response.release()
        else:
            self._response.close()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An ``httpx.AsyncBaseTransport`` over one ``aiohttp.ClientSession``.

    The session is opened by the first request (aiohttp wants a running loop) and
    closed by ``aclose`` (the httpx client's). ``limits`` gives the pool's size and
    how long an idle connection is kept; ``verify`` the TLS context (httpx's:
    certifi, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``); ``proxy`` is passed to every
    request.
    """

    def __init__(
        self,
        *,
        limits: httpx.Limits,
        verify: ssl.SSLContext | None = None,
        proxy: str | None = None,
    ) -> None:
        self._limits = limits
        self._ssl = verify if verify is not None else httpx.create_ssl_context()
        self._proxy = proxy
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._limits.max_connections or 0,
            keepalive_timeout=self._limits.keepalive_expiry or 0.0,
            ssl=self._ssl,
        )
        session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),  # callers share the pool: no cookies
            auto_decompress=False,  # ``_body`` inflates, bounded
            timeout=aiohttp.ClientTimeout(total=None),
            trust_env=False,  # no netrc credentials; the proxy is ours to give
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
        )
        # Every attempt is the session's to count and bound (see the module docstring).
        session._retry_connection = False
        self._session = session
        return session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise RuntimeError("the upstream transport is closed")
        session = self._session or self._open()
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        connect, pool = timeouts.get("connect"), timeouts.get("pool")
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=timeouts.get("read"),
        )
        headers = CIMultiDict(
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw
        )
        body = await request.aread()
        try:
            response = await session.request(
                request.method,
                URL(str(request.url), encoded=True),
                headers=headers,
                data=body or None,
                allow_redirects=False,
                timeout=timeout,
                proxy=self._proxy,
            )
        except Exception as exc:
            translated = _translated(exc, request)
            if translated is None:
                raise
            raise translated from None
        extensions: dict[str, Any] = {
            "http_version": b"HTTP/1.1",
            "reason_phrase": (response.reason or "").encode("latin-1", "replace"),
        }
        return httpx.Response(
            response.status,
            headers=list(response.raw_headers),
            stream=_ResponseBody(response, request),
            extensions=extensions,
        )

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
