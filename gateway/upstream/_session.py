"""``UpstreamSession``: the upstream as one GraphQL operation sees it.

A session binds the app-wide client to one operation's credentials, request id,
call budget, concurrency cap and deadline, and counts what the operation did.
Each of its nine methods builds a URL and hands a row of the operation table
(``_operations``) to the request loop: ``_call`` (budget, deadline, circuit,
retries) around ``_attempt`` (one request under the deadline and the concurrency
cap, returning the ``Answer`` or a ``Failure``, see ``_answers``).

Per-call work is kept small: headers are built and merged with the client's once
per session (``_request``), a request is built once per logical call and re-sent as
is on retry (its body is bytes), and responses are parsed once with ``json.loads``
and checked by hand.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import httpx

from gateway.upstream import _answers as answers
from gateway.upstream import _body as body_reader
from gateway.upstream import _operations as ops
from gateway.upstream._body import ACCEPT_ENCODING, ERROR_BODY_LIMIT, Answer
from gateway.upstream._breaker import CircuitBreaker
from gateway.upstream._exceptions import (
    CircuitOpenError,
    MissingCredentialsError,
    UpstreamCallLimitError,
    UpstreamError,
    UpstreamTimeoutError,
)
from gateway.upstream._ids import path_segment
from gateway.upstream._retry import (
    IDEMPOTENT_METHODS,
    RETRY_STATUSES,
    RetryPolicy,
    never_sent,
    transient,
)
from gateway.upstream._scrub import Scrubber
from gateway.upstream._types import (
    DeletedObject,
    JSONObject,
    ListMessagesParams,
    MessageList,
    MessageObject,
    ThreadObject,
)

__all__ = ["CallRecord", "Observer", "UpstreamSession"]

logger = logging.getLogger("gateway.upstream")

_CLOSED = httpx.ByteStream(b"")
"""What a read response's ``stream`` becomes (``_receive``)."""

T = TypeVar("T")

# Visible ASCII only: anything else cannot go into an HTTP header (or would split it).
_HEADER_TOKEN = re.compile(r"[\x21-\x7e]{1,4096}")


@dataclass(frozen=True, slots=True)
class CallRecord:
    """What one logical upstream call did, reported to the session's observer.

    ``status`` is the last HTTP status received (``None``: no response, e.g. a
    timeout, a connection failure or an open circuit); ``attempts`` counts the
    requests actually sent (0 when the circuit was open); ``error`` is the name of
    the ``UpstreamError`` class raised, ``None`` on success.
    """

    operation: str
    status: int | None
    seconds: float
    attempts: int
    error: str | None = None


Observer = Callable[[CallRecord], None]


@dataclass(slots=True)
class _Progress:
    """What one logical call has done so far: attempts sent, the last status received."""

    attempts: int = 0
    status: int | None = None


_parsed_url = functools.lru_cache(maxsize=1024)(httpx.URL)
"""A request URL, parsed once while it keeps being asked for (a chat screen polls the
same thread): httpx's parse of a URL string is about 60 % of ``build_request``.
``httpx.URL`` is immutable, so one object serves every request to that URL."""


@dataclass(frozen=True, slots=True)
class Upstream:
    """What every session of one client shares: built once by ``UpstreamClient``."""

    http: httpx.AsyncClient
    base_url: str
    host: str
    """``base_url``'s host, parsed once (every session scrubs it from relayed text)."""
    authorization: str | None = field(repr=False)
    requires_key: bool
    retry: RetryPolicy
    read_timeout: float
    max_response_bytes: int
    secrets: tuple[str, ...] = field(repr=False)
    """What no upstream-sourced text may be relayed holding: the key, the upstream host."""
    breaker: CircuitBreaker
    """The read circuit (GET); writes have their own, so failing writes never stop reads."""
    write_breaker: CircuitBreaker
    sleep: Callable[[float], Awaitable[None]]
    clock: Callable[[], float]


class UpstreamSession:
    """The nine Threads & Messages operations, for one GraphQL operation.

    Credentials: the client's server key when it has one (the caller's token is
    then never forwarded), else the caller's bearer, else none — which is an error
    (``MissingCredentialsError``, nothing sent) when the upstream requires a key.

    ``calls`` counts logical calls admitted by the budget (at most ``max_calls``),
    ``attempts`` the HTTP requests sent, retries included, and ``max_in_flight``
    the most requests this session ever had in flight at once.
    """

    __slots__ = (
        "_attempts",
        "_body_headers",
        "_calls",
        "_credentials_problem",
        "_deadline_at",
        "_headers",
        "_in_flight",
        "_max_calls",
        "_max_in_flight",
        "_merged",
        "_observer",
        "_request_id",
        "_scrub",
        "_semaphore",
        "_upstream",
    )

    def __init__(
        self,
        upstream: Upstream,
        *,
        caller_token: str | None,
        request_id: str,
        max_calls: int,
        concurrency: int,
        deadline: float,
        observer: Observer | None = None,
    ) -> None:
        if _HEADER_TOKEN.fullmatch(request_id) is None:
            raise ValueError("request_id must be 1 to 4096 visible ASCII characters")
        if max_calls < 0 or concurrency < 1 or deadline <= 0:
            raise ValueError("need max_calls >= 0, concurrency >= 1 and deadline > 0")
        self._upstream = upstream
        self._request_id = request_id
        self._max_calls = max_calls
        self._semaphore = asyncio.Semaphore(concurrency)
        self._deadline_at = upstream.clock() + deadline
        self._observer = observer
        self._calls = 0
        self._attempts = 0
        self._in_flight = 0
        self._max_in_flight = 0

        self._credentials_problem: str | None = None
        authorization = upstream.authorization
        if authorization is None and caller_token:
            if _HEADER_TOKEN.fullmatch(caller_token) is None:
                self._credentials_problem = "the caller's bearer token is malformed"
            else:
                authorization = "Bearer " + caller_token
        if authorization is None and upstream.requires_key and not self._credentials_problem:
            self._credentials_problem = (
                "no upstream credentials: no API key is configured and the caller sent no bearer"
            )
        headers = {
            "Accept": "application/json",
            "Accept-Encoding": ACCEPT_ENCODING,
            "OpenAI-Beta": "assistants=v2",
            "X-Request-Id": request_id,
        }
        if authorization is not None:
            headers["Authorization"] = authorization
        # What this session's upstream must never be relayed saying (see _scrub).
        server_key = (
            upstream.authorization.removeprefix("Bearer ") if upstream.authorization else None
        )
        self._scrub = Scrubber((server_key, caller_token, upstream.host))
        self._headers = headers
        self._body_headers = {**headers, "Content-Type": "application/json"}
        # The client's headers with this session's over them, by "has a body": merged
        # at first use (most operations only read).
        self._merged: dict[bool, httpx.Headers] = {}

    # --- accounting -----------------------------------------------------------------

    @property
    def request_id(self) -> str:
        return self._request_id

    @property
    def calls(self) -> int:
        return self._calls

    @property
    def attempts(self) -> int:
        return self._attempts

    @property
    def max_calls(self) -> int:
        return self._max_calls

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def max_in_flight(self) -> int:
        return self._max_in_flight

    @property
    def remaining(self) -> float:
        """Seconds left before the operation's upstream deadline (negative once past)."""
        return self._deadline_at - self._upstream.clock()

    # --- threads (the table of operations: _operations) -----------------------------

    async def create_thread(self, body: JSONObject) -> ThreadObject:
        self._check_credentials(ops.CREATE_THREAD.name)
        url = self._upstream.base_url + "/threads"
        return await self._call(ops.CREATE_THREAD, url, ops.encode_body(body))

    def known_thread(self, thread: ThreadObject) -> None:
        return None  # every read is a call here; the loaders' cache holds the thread

    async def get_thread(self, thread_id: str) -> ThreadObject:
        url = self._thread_url(ops.GET_THREAD.name, thread_id)
        return await self._call(ops.GET_THREAD, url)

    async def modify_thread(self, thread_id: str, body: JSONObject) -> ThreadObject:
        url = self._thread_url(ops.MODIFY_THREAD.name, thread_id)
        return await self._call(ops.MODIFY_THREAD, url, ops.encode_body(body))

    async def delete_thread(self, thread_id: str) -> DeletedObject:
        url = self._thread_url(ops.DELETE_THREAD.name, thread_id)
        return await self._call(ops.DELETE_THREAD, url)

    # --- messages -------------------------------------------------------------------

    async def create_message(self, thread_id: str, body: JSONObject) -> MessageObject:
        url = self._thread_url(ops.CREATE_MESSAGE.name, thread_id) + "/messages"
        return await self._call(ops.CREATE_MESSAGE, url, ops.encode_body(body))

    async def list_messages(self, thread_id: str, params: ListMessagesParams) -> MessageList:
        name = ops.LIST_MESSAGES.name
        url = self._thread_url(name, thread_id) + "/messages" + ops.list_query(name, params)
        return await self._call(ops.LIST_MESSAGES, url)

    async def get_message(self, thread_id: str, message_id: str) -> MessageObject:
        url = self._message_url(ops.GET_MESSAGE.name, thread_id, message_id)
        return await self._call(ops.GET_MESSAGE, url)

    async def modify_message(
        self, thread_id: str, message_id: str, body: JSONObject
    ) -> MessageObject:
        url = self._message_url(ops.MODIFY_MESSAGE.name, thread_id, message_id)
        return await self._call(ops.MODIFY_MESSAGE, url, ops.encode_body(body))

    async def delete_message(self, thread_id: str, message_id: str) -> DeletedObject:
        url = self._message_url(ops.DELETE_MESSAGE.name, thread_id, message_id)
        return await self._call(ops.DELETE_MESSAGE, url)

    # --- the request loop -----------------------------------------------------------

    def _check_credentials(self, operation: str) -> None:
        if self._credentials_problem is not None:
            raise MissingCredentialsError(
                self._credentials_problem, operation=operation, request_id=self._request_id
            )

    def _thread_url(self, operation: str, thread_id: str) -> str:
        self._check_credentials(operation)
        segment = path_segment("thread_id", thread_id, operation=operation)
        return self._upstream.base_url + "/threads/" + segment

    def _message_url(self, operation: str, thread_id: str, message_id: str) -> str:
        url = self._thread_url(operation, thread_id)
        return url + "/messages/" + path_segment("message_id", message_id, operation=operation)

    async def _call(self, op: ops.Operation[T], url: str, content: bytes | None = None) -> T:
        """One logical call: budget, then attempts until success, a final error or the deadline."""
        if self._calls >= self._max_calls:
            raise UpstreamCallLimitError(
                f"upstream call limit of {self._max_calls} reached before {op.name}",
                operation=op.name,
                request_id=self._request_id,
            )
        self._calls += 1
        upstream = self._upstream
        started = upstream.clock()
        progress = _Progress()
        try:
            request = self._request(op.method, url, content)
            breaker = upstream.breaker if op.reads else upstream.write_breaker
            error: UpstreamError | None = None
            retry = 0
            while True:
                self._admit(op.name, breaker, error)
                outcome = await self._attempt(op, request, breaker, progress)
                if isinstance(outcome, Answer):
                    result = answers.decoded(
                        op.name, outcome, op.decode, self._scrub, self._request_id
                    )
                    self._observe(op.name, progress.status, started, progress.attempts, None)
                    return result
                error = outcome.error
                wait = None if outcome.final else self._retry_wait(outcome, retry)
                if wait is None:
                    raise error
                retry += 1
                logger.warning(
                    "upstream %s failed (%s); retry %d of %d in %.2fs",
                    op.name,
                    outcome.reason,
                    retry,
                    upstream.retry.max_retries,
                    wait,
                )
                await upstream.sleep(wait)
        except BaseException as exc:  # an UpstreamError, or a cancellation: still observed
            self._observe(op.name, progress.status, started, progress.attempts, type(exc).__name__)
            raise

    def _request(self, method: str, url: str, content: bytes | None) -> httpx.Request:
        """The request ``upstream.http.build_request`` would build, built directly.

        ``build_request`` merges the client's headers, cookies, query parameters and
        base URL into every request: here the URL is absolute and the client keeps no
        cookies (``UpstreamClient``) and no parameters, and the headers are merged once
        per session. ``tests/upstream/test_session.py`` compares the two requests.
        """
        http = self._upstream.http
        has_body = content is not None
        headers = self._merged.get(has_body)
        if headers is None:
            headers = self._merged[has_body] = httpx.Headers(http.headers)
            headers.update(self._body_headers if has_body else self._headers)
        return httpx.Request(
            method,
            _parsed_url(url),
            headers=headers,
            content=content,
            extensions={"timeout": http.timeout.as_dict()},
        )

    def _admit(self, operation: str, breaker: CircuitBreaker, error: UpstreamError | None) -> None:
        """Raise instead of attempting once the deadline passed or the circuit is open.

        ``error`` is the previous attempt's failure, which says more than either.
        """
        if self._deadline_at - self._upstream.clock() <= 0:
            raise error or UpstreamTimeoutError(
                f"upstream deadline passed before {operation}",
                operation=operation,
                request_id=self._request_id,
            )
        if not breaker.allow():
            raise error or CircuitOpenError(
                f"upstream circuit is open; {operation} was not sent",
                operation=operation,
                request_id=self._request_id,
            )

    def _retry_wait(self, failure: answers.Failure, retry: int) -> float | None:
        """Seconds to wait before retry number ``retry``, or ``None``: do not retry."""
        upstream = self._upstream
        if not failure.retryable or retry >= upstream.retry.max_retries:
            return None
        wait = failure.wait if failure.wait is not None else upstream.retry.delay(retry)
        if upstream.clock() + wait >= self._deadline_at:
            return None
        return wait

    async def _attempt(
        self,
        op: ops.Operation[T],
        request: httpx.Request,
        breaker: CircuitBreaker,
        progress: _Progress,
    ) -> Answer | answers.Failure:
        """Send ``request`` once, under the deadline, the concurrency cap and ``breaker``.

        The breaker hears exactly one verdict (success, failure or release). A 2xx is
        the ``Answer``; anything else a ``Failure``. Only a cancellation propagates.
        """
        upstream = self._upstream
        idempotent = op.method in IDEMPOTENT_METHODS
        cut_by_deadline = True
        try:
            async with asyncio.timeout(self._deadline_at - upstream.clock()) as guard:
                async with self._semaphore:
                    progress.attempts += 1
                    self._attempts += 1
                    self._in_flight += 1
                    if self._in_flight > self._max_in_flight:
                        self._max_in_flight = self._in_flight
                    try:
                        budget = self._deadline_at - upstream.clock()
                        cut_by_deadline = budget <= upstream.read_timeout
                        loop_time = asyncio.get_running_loop().time()
                        guard.reschedule(loop_time + min(budget, upstream.read_timeout))
                        answer = await self._receive(request)
                    finally:
                        self._in_flight -= 1
        except httpx.TransportError as exc:
            progress.status = None
            is_transient = transient(exc)
            if is_transient:
                breaker.record_failure()
            else:
                breaker.release()
            return answers.Failure(
                answers.transport_error(op.name, exc, self._request_id),
                reason=type(exc).__name__,
                retryable=never_sent(exc) or (idempotent and is_transient),
            )
        except TimeoutError:
            progress.status = None
            if cut_by_deadline:
                breaker.release()
                error = UpstreamTimeoutError(
                    f"upstream deadline passed during {op.name}",
                    operation=op.name,
                    request_id=self._request_id,
                )
                return answers.Failure(error, reason="deadline", final=True)
            breaker.record_failure()
            error = UpstreamTimeoutError(
                f"upstream timed out for {op.name}",
                operation=op.name,
                request_id=self._request_id,
            )
            return answers.Failure(error, reason="timeout", retryable=idempotent)
        except BaseException:
            breaker.release()
            raise
        status = progress.status = answer.status
        if 200 <= status < 300:
            breaker.record_success()
            return answer
        if status >= 500:
            breaker.record_failure()
        else:
            breaker.record_success()
        failure = answers.status_error(op.name, answer, self._scrub, self._request_id)
        return answers.Failure(
            failure,
            reason=str(status),
            retryable=idempotent and status in RETRY_STATUSES,
            wait=failure.retry_after,
        )

    def _observe(
        self, operation: str, status: int | None, started: float, attempts: int, error: str | None
    ) -> None:
        observer = self._observer
        if observer is None:
            return
        record = CallRecord(operation, status, self._upstream.clock() - started, attempts, error)
        try:
            observer(record)
        except Exception as exc:
            logger.warning("upstream call observer failed: %s", type(exc).__name__)

    # --- responses and failures -----------------------------------------------------

    async def _receive(self, request: httpx.Request) -> Answer:
        """Send one attempt and read its answer, decoded and bounded (``_body``).

        A 2xx body may be ``max_response_bytes`` long; an error envelope at most
        ``ERROR_BODY_LIMIT``. The response is closed here: one stopped early takes
        its connection with it instead of leaving the rest of the body in the pool.
        """
        upstream = self._upstream
        response = await upstream.http.send(request, stream=True)
        try:
            ok = 200 <= response.status_code < 300
            limit = upstream.max_response_bytes if ok else ERROR_BODY_LIMIT
            return await body_reader.read(response, min(limit, upstream.max_response_bytes))
        finally:
            await response.aclose()
            # httpx's streamed response and its stream refer to each other: a cycle
            # that would keep the response, and the connection's objects under it,
            # for the garbage collector (gateway/schema/cycles.py). It is closed: cut it.
            response.stream = _CLOSED
