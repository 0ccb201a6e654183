"""When a failed attempt may be tried again, and how long to wait first.

Only what is safe is retried. GET and DELETE are idempotent, so they are retried
after timeouts, broken connections, 429 and 500/502/503/504. A POST creates or
changes something: once its bytes may have reached the upstream, trying again could
apply it twice, so it is retried only when the connection was never made
(``httpx.ConnectError``, ``ConnectTimeout``, ``PoolTimeout``).

Waits grow exponentially with full jitter (``uniform(0, min(cap, base * 2**n))``),
so that many gateways retrying at once do not hit a recovering upstream in step,
unless the upstream said how long to wait (``retry-after-ms``, ``Retry-After`` in
seconds or as an HTTP date). The session refuses any wait that would overrun the
operation's deadline. What the upstream asks is clamped to ``MAX_RETRY_AFTER`` (an
hour) before anyone sleeps on it or relays it as ``extensions.retryAfter``:
``retry-after-ms: 1e308`` is an hour, not 10^305 seconds; negative, infinite or
unparsable values count as not said.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

import httpx

__all__ = [
    "IDEMPOTENT_METHODS",
    "MAX_RETRY_AFTER",
    "RETRY_STATUSES",
    "RetryPolicy",
    "never_sent",
    "parse_retry_after",
    "transient",
]

IDEMPOTENT_METHODS = frozenset({"GET", "DELETE"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 3600.0
"""Seconds: the longest wait an upstream may ask for; longer requests are clamped to it."""

_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def never_sent(exc: httpx.TransportError) -> bool:
    """True when the request certainly did not reach the upstream: safe to retry any method."""
    return isinstance(exc, _NEVER_SENT)


def transient(exc: httpx.TransportError) -> bool:
    """True for failures worth another attempt of an idempotent request.

    Configuration faults (unsupported scheme, a bad proxy, a malformed request)
    fail the same way every time and are not.
    """
    return isinstance(exc, _TRANSIENT)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many retries, and the backoff between them."""

    max_retries: int = 2
    backoff: float = 0.2
    max_backoff: float = 8.0

    def delay(self, retry: int, rand: Callable[[], float] | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first retry)."""
        ceiling = min(self.max_backoff, self.backoff * 2.0**retry)
        return ceiling * (rand or random.random)()


def parse_retry_after(headers: httpx.Headers, now: Callable[[], float] = time.time) -> float | None:
    """Seconds the upstream asked us to wait, at most ``MAX_RETRY_AFTER``, to the millisecond;
    ``None`` when it did not say (or said nonsense).

    ``retry-after-ms`` (OpenAI's, more precise) wins over ``Retry-After``, which may
    be a number of seconds or an HTTP date.
    """
    seconds = _asked(headers, now)
    return None if seconds is None else round(min(seconds, MAX_RETRY_AFTER), 3)


def _asked(headers: httpx.Headers, now: Callable[[], float]) -> float | None:
    milliseconds = headers.get("retry-after-ms")
    if milliseconds is not None:
        seconds = _number(milliseconds)
        if seconds is not None:
            return seconds / 1000.0
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": UTC, said without a zone
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now())


_SPELLED_INFINITY = frozenset({"inf", "infinity"})


def _number(text: str) -> float | None:
    """A non-negative number of the header; a numeral too large for a float is infinity
    (clamped by the caller), while ``inf`` and ``nan`` spelled out are nonsense."""
    try:
        value = float(text)
    except ValueError:
        return None
    if math.isnan(value) or value < 0 or text.strip().lstrip("+").lower() in _SPELLED_INFINITY:
        return None
    return value
