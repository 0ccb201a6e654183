"""``/readyz``: can the gateway reach its upstream right now? Cheap, bounded, and discreet.

- embedded: the store's own health first (``StoreHealth``: its path still names
  the file it opened, and a bounded sample of real rows reads back from the file
  as it is on disk, so a deleted, replaced or damaged file is not ready), then a
  GET of a thread that cannot exist, through the app's own client and the
  in-process store; its 404 proves the store answers.
- remote: a GET of a syntactically valid thread id that does not exist, on a
  connection of its own (not the pool, not the circuit breaker, no retries) within
  ``READINESS_TIMEOUT``; any HTTP answer below 500 (404, but also 401 for a probe
  sent without a key) proves the upstream is there.

A reason names what failed, never the upstream URL or a key.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

import httpx

from gateway.config import Settings
from gateway.upstream import NotFoundError, UpstreamClient, UpstreamError, normalize_base_url
from gateway.wire_contract import ISSUED_ID_LENGTH, THREAD_ID_PREFIX

__all__ = ["PROBE_THREAD_ID", "READINESS_TIMEOUT", "Readiness", "StoreHealth", "check_readiness"]

PROBE_THREAD_ID = THREAD_ID_PREFIX + "readinessprobe".ljust(ISSUED_ID_LENGTH, "0")
"""A well-formed thread id (``thread_`` + 24 alphanumerics) that no store ever issues."""

READINESS_TIMEOUT = 2.0
"""Seconds a probe may take, at most (less if the configured timeouts are shorter)."""


class StoreHealth(Protocol):
    """What readiness asks of the embedded store (``gateway.store.Database``)."""

    async def health(self) -> str | None:
        """``None`` when it can serve, else a reason naming no path or key."""
        ...


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    reason: str | None = None

    def body(self) -> dict[str, str]:
        if self.ready:
            return {"status": "ready"}
        return {"status": "unavailable", "reason": self.reason or "not ready"}


async def check_readiness(
    settings: Settings, upstream: UpstreamClient | None, store: StoreHealth | None = None
) -> Readiness:
    """Probe the configured upstream once (see the module docstring)."""
    if upstream is None:
        return Readiness(False, "starting up")
    timeout = min(READINESS_TIMEOUT, settings.connect_timeout + settings.read_timeout)
    if settings.embedded:
        if store is not None and (reason := await store.health()) is not None:
            return Readiness(False, f"embedded store: {reason}")
        return await _probe_embedded(upstream, timeout)
    return await _probe_remote(settings, timeout)


async def _probe_embedded(upstream: UpstreamClient, seconds: float) -> Readiness:
    session = upstream.session(
        caller_token=None,
        request_id="readyz-" + uuid.uuid4().hex,
        max_calls=1,
        concurrency=1,
        deadline=seconds,
    )
    try:
        await session.get_thread(PROBE_THREAD_ID)
    except NotFoundError:
        return Readiness(True)
    except UpstreamError as exc:
        return Readiness(False, f"embedded store failed the probe ({type(exc).__name__})")
    return Readiness(True)


async def _probe_remote(settings: Settings, seconds: float) -> Readiness:
    assert settings.upstream_url is not None
    url = normalize_base_url(settings.upstream_url) + "/threads/" + PROBE_THREAD_ID
    headers = {"OpenAI-Beta": "assistants=v2", "X-Request-Id": "readyz-" + uuid.uuid4().hex}
    if settings.upstream_api_key is not None:
        headers["Authorization"] = "Bearer " + settings.upstream_api_key.get_secret_value()
    try:
        async with httpx.AsyncClient(timeout=seconds, follow_redirects=False) as http:
            response = await http.get(url, headers=headers)
    except httpx.TimeoutException:
        return Readiness(False, f"upstream did not answer within {seconds:g}s")
    except httpx.TransportError as exc:
        return Readiness(False, f"upstream unreachable ({type(exc).__name__})")
    if response.status_code >= 500:
        return Readiness(False, f"upstream answered {response.status_code}")
    return Readiness(True)
