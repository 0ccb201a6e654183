"""An app-wide circuit breaker in front of the upstream.

When the upstream is down, every GraphQL operation would otherwise wait out its
timeouts and retries, holding connections and piling up work. After
``failure_threshold`` consecutive failed attempts (connection errors, timeouts,
5xx; a 4xx, 429 included, is an answer and counts as success) the circuit
*opens*: calls fail at once with ``CircuitOpenError``. After ``reset_seconds`` it
is *half-open*: one trial call goes through while the others still fail fast; its
success closes the circuit, its failure opens it again for another period.

A client has two: one for reads (GET) and one for writes (POST, DELETE). They
fail differently: a store whose disk is full, or a provider refusing writes during
maintenance, still serves reads, and those must not start failing fast because
writes did. An upstream that is really down fails both, and each opens on its own
``failure_threshold``.

The session asks ``allow()`` before each attempt and must then report exactly one
of ``record_success()``, ``record_failure()`` or ``release()`` (the attempt ended
without telling anything about the upstream, e.g. it was cancelled). A result that
arrives while the circuit is open (an attempt let through before it opened) is
ignored. The event loop runs this single-threaded, so no lock is needed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

__all__ = ["BreakerState", "CircuitBreaker"]

BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Consecutive-failure breaker with a single half-open trial; the clock is injectable."""

    __slots__ = (
        "_clock",
        "_failures",
        "_opened_at",
        "_state",
        "_trial_in_flight",
        "failure_threshold",
        "reset_seconds",
    )

    def __init__(
        self,
        failure_threshold: int,
        reset_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if reset_seconds <= 0:
            raise ValueError("reset_seconds must be positive")
        self.failure_threshold = failure_threshold
        self.reset_seconds = reset_seconds
        self._clock = clock
        self._state: BreakerState = "closed"
        self._failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False

    def twin(self) -> CircuitBreaker:
        """A new, closed breaker with the same settings and clock (the write circuit)."""
        return CircuitBreaker(self.failure_threshold, self.reset_seconds, self._clock)

    @property
    def state(self) -> BreakerState:
        """``open`` turns into ``half_open`` once ``reset_seconds`` have passed."""
        if self._state == "open" and self._cooled_down():
            return "half_open"
        return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def allow(self) -> bool:
        """May an attempt be sent now? In half-open state, only the single trial may."""
        if self._state == "closed":
            return True
        if self._state == "open":
            if not self._cooled_down():
                return False
            self._state = "half_open"
        if self._trial_in_flight:
            return False
        self._trial_in_flight = True
        return True

    def record_success(self) -> None:
        """The upstream answered (2xx or 4xx)."""
        if self._state == "open":
            return
        self._state = "closed"
        self._failures = 0
        self._trial_in_flight = False

    def record_failure(self) -> None:
        """The upstream failed: connection error, timeout or 5xx."""
        if self._state == "open":
            return
        self._failures += 1
        if self._state == "half_open" or self._failures >= self.failure_threshold:
            self._state = "open"
            self._opened_at = self._clock()
        self._trial_in_flight = False

    def release(self) -> None:
        """An allowed attempt ended without a verdict; let another trial through."""
        if self._state == "half_open":
            self._trial_in_flight = False

    def _cooled_down(self) -> bool:
        return self._clock() - self._opened_at >= self.reset_seconds
