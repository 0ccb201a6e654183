"""``UpstreamSession``: the upstream as one GraphQL operation sees it.

A session binds the app-wide client to one operation's credentials, request id,
call budget, concurrency cap and deadline, and counts what the operation did. It
owns the request loop — budget, deadline, circuit breaker, concurrency, retries,
status mapping, response checks — which is why this is the largest module here.

Per-call work is kept small: headers are built once per session, a request is
built once per logical call and re-sent as is on retry (its body is bytes), and
responses are parsed once with ``json.loads`` and checked by hand.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import httpx

from gateway.upstream import _body as body_reader
from gateway.upstream import _validate as validate
from gateway.upstream._body import ACCEPT_ENCODING, ERROR_BODY_LIMIT, Answer
from gateway.upstream._breaker import CircuitBreaker
from gateway.upstream._exceptions import (
    CircuitOpenError,
    MissingCredentialsError,
    UpstreamCallLimitError,
    UpstreamConnectionError,
    UpstreamError,
    UpstreamResponseError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    status_error_class,
)
from gateway.upstream._ids import check_id, path_segment
from gateway.upstream._retry import (
    IDEMPOTENT_METHODS,
    RETRY_STATUSES,
    RetryPolicy,
    never_sent,
    parse_retry_after,
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

T = TypeVar("T")

# Visible ASCII only: anything else cannot go into an HTTP header (or would split it).
_HEADER_TOKEN = re.compile(r"[\x21-\x7e]{1,4096}")
_LIST_PARAMS = ("limit", "order", "after", "before", "run_id")


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


@dataclass(frozen=True, slots=True)
class Upstream:
    """What every session of one client shares: built once by ``UpstreamClient``."""

    http: httpx.AsyncClient
    base_url: str
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
        self._scrub = Scrubber((server_key, caller_token, httpx.URL(upstream.base_url).host))
        self._headers = headers
        self._body_headers = {**headers, "Content-Type": "application/json"}

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

    # --- threads --------------------------------------------------------------------

    async def create_thread(self, body: JSONObject) -> ThreadObject:
        operation = "createThread"
        self._check_credentials(operation)
        url = self._upstream.base_url + "/threads"
        return await self._call(operation, "POST", url, _encode(body), validate.thread)

    async def get_thread(self, thread_id: str) -> ThreadObject:
        operation = "getThread"
        url = self._thread_url(operation, thread_id)
        return await self._call(operation, "GET", url, None, validate.thread)

    async def modify_thread(self, thread_id: str, body: JSONObject) -> ThreadObject:
        operation = "modifyThread"
        url = self._thread_url(operation, thread_id)
        return await self._call(operation, "POST", url, _encode(body), validate.thread)

    async def delete_thread(self, thread_id: str) -> DeletedObject:
        operation = "deleteThread"
        url = self._thread_url(operation, thread_id)
        return await self._call(operation, "DELETE", url, None, validate.deleted_thread)

    # --- messages -------------------------------------------------------------------

    async def create_message(self, thread_id: str, body: JSONObject) -> MessageObject:
        operation = "createMessage"
        url = self._thread_url(operation, thread_id) + "/messages"
        return await self._call(operation, "POST", url, _encode(body), validate.message)

    async def list_messages(self, thread_id: str, params: ListMessagesParams) -> MessageList:
        operation = "listMessages"
        url = self._thread_url(operation, thread_id) + "/messages" + _query(operation, params)
        return await self._call(operation, "GET", url, None, validate.message_list)

    async def get_message(self, thread_id: str, message_id: str) -> MessageObject:
        operation = "getMessage"
        url = self._message_url(operation, thread_id, message_id)
        return await self._call(operation, "GET", url, None, validate.message)

    async def modify_message(
        self, thread_id: str, message_id: str, body: JSONObject
    ) -> MessageObject:
        operation = "modifyMessage"
        url = self._message_url(operation, thread_id, message_id)
        return await self._call(operation, "POST", url, _encode(body), validate.message)

    async def delete_message(self, thread_id: str, message_id: str) -> DeletedObject:
        operation = "deleteMessage"
        url = self._message_url(operation, thread_id, message_id)
        return await self._call(operation, "DELETE", url, None, validate.deleted_message)

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

    async def _call(
        self,
        operation: str,
        method: str,
        url: str,
        content: bytes | None,
        decode: Callable[[Any], T],
    ) -> T:
        """One logical call: budget, then attempts until success, a final error or the deadline."""
        if self._calls >= self._max_calls:
            raise UpstreamCallLimitError(
                f"upstream call limit of {self._max_calls} reached before {operation}",
                operation=operation,
                request_id=self._request_id,
            )
        self._calls += 1
        upstream = self._upstream
        started = upstream.clock()
        attempts = 0
        status: int | None = None
        try:
            request = upstream.http.build_request(
                method,
                url,
                headers=self._body_headers if content is not None else self._headers,
                content=content,
            )
            idempotent = method in IDEMPOTENT_METHODS
            breaker = upstream.breaker if method == "GET" else upstream.write_breaker
            loop = asyncio.get_running_loop()
            error: UpstreamError | None = None
            retry = 0
            while True:
                remaining = self._deadline_at - upstream.clock()
                if remaining <= 0:
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
                cut_by_deadline = True
                try:
                    async with asyncio.timeout(remaining) as guard:
                        async with self._semaphore:
                            attempts += 1
                            self._attempts += 1
                            self._in_flight += 1
                            if self._in_flight > self._max_in_flight:
                                self._max_in_flight = self._in_flight
                            try:
                                budget = self._deadline_at - upstream.clock()
                                cut_by_deadline = budget <= upstream.read_timeout
                                guard.reschedule(loop.time() + min(budget, upstream.read_timeout))
                                answer = await self._receive(request)
                            finally:
                                self._in_flight -= 1
                except httpx.TransportError as exc:
                    status = None
                    is_transient = transient(exc)
                    if is_transient:
                        breaker.record_failure()
                    else:
                        breaker.release()
                    error = self._transport_error(operation, exc)
                    retryable = never_sent(exc) or (idempotent and is_transient)
                    wait = None
                    reason = type(exc).__name__
                except TimeoutError:
                    status = None
                    if cut_by_deadline:
                        breaker.release()
                        raise UpstreamTimeoutError(
                            f"upstream deadline passed during {operation}",
                            operation=operation,
                            request_id=self._request_id,
                        ) from None
                    breaker.record_failure()
                    error = UpstreamTimeoutError(
                        f"upstream timed out for {operation}",
                        operation=operation,
                        request_id=self._request_id,
                    )
                    retryable = idempotent
                    wait = None
                    reason = "timeout"
                except BaseException:
                    breaker.release()
                    raise
                else:
                    status = answer.status
                    if 200 <= status < 300:
                        breaker.record_success()
                        result = self._decode(operation, answer, decode)
                        self._observe(operation, status, started, attempts, None)
                        return result
                    if status >= 500:
                        breaker.record_failure()
                    else:
                        breaker.record_success()
                    error = self._status_error(operation, answer)
                    retryable = idempotent and status in RETRY_STATUSES
                    wait = error.retry_after
                    reason = str(status)

                if not retryable or retry >= upstream.retry.max_retries:
                    raise error
                if wait is None:
                    wait = upstream.retry.delay(retry)
                if upstream.clock() + wait >= self._deadline_at:
                    raise error
                retry += 1
                logger.warning(
                    "upstream %s failed (%s); retry %d of %d in %.2fs",
                    operation,
                    reason,
                    retry,
                    upstream.retry.max_retries,
                    wait,
                )
                await upstream.sleep(wait)
        except BaseException as exc:  # an UpstreamError, or a cancellation: still observed
            self._observe(operation, status, started, attempts, type(exc).__name__)
            raise

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

    def _request_id_of(self, answer: Answer) -> str:
        return self._scrub.request_id(answer.headers.get("x-request-id")) or self._request_id

    def _decode(self, operation: str, answer: Answer, decode: Callable[[Any], T]) -> T:
        media_type = answer.headers.get("content-type", "").partition(";")[0].strip().lower()
        json_type = media_type == "application/json" or media_type.endswith("+json")
        problem = answer.problem
        if problem is None and not json_type:
            problem = "a non-JSON content type"
        if problem is None:
            try:
                data = json.loads(answer.content)
            except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
                problem = "invalid JSON"
            else:
                try:
                    return decode(data)
                except validate.ShapeError as exc:
                    problem = f"an unexpected body ({exc})"
        raise UpstreamResponseError(
            f"upstream answered {operation} with {problem}",
            operation=operation,
            status=answer.status,
            request_id=self._request_id_of(answer),
        )

    def _status_error(self, operation: str, answer: Answer) -> UpstreamStatusError:
        status = answer.status
        body = None
        content = answer.content
        if answer.problem is None and (content[:1] == b"{" or content.lstrip()[:1] == b"{"):
            try:
                body = self._scrub.error_body(validate.error_body(json.loads(content)))
            except (ValueError, RecursionError):
                body = None
        return status_error_class(status)(
            f"upstream returned {status} for {operation}",
            status=status,
            operation=operation,
            body=body,
            request_id=self._request_id_of(answer),
            retry_after=parse_retry_after(answer.headers),
        )

    def _transport_error(self, operation: str, exc: httpx.TransportError) -> UpstreamError:
        # The httpx exception is not chained: its request (and so the URL) stays out of
        # tracebacks; its class name says enough.
        kind = type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            return UpstreamTimeoutError(
                f"upstream timed out for {operation} ({kind})",
                operation=operation,
                request_id=self._request_id,
            )
        return UpstreamConnectionError(
            f"could not reach the upstream for {operation} ({kind})",
            operation=operation,
            request_id=self._request_id,
        )


def _encode(body: JSONObject) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _query(operation: str, params: ListMessagesParams) -> str:
    """The listMessages query string, with only the parameters given, in a fixed order."""
    if not params:
        return ""
    given = cast("dict[str, object]", params)
    parts: list[str] = []
    for name in _LIST_PARAMS:
        value = given.get(name)
        if value is None:
            continue
        if name == "limit":
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError("limit must be an int")
            parts.append(f"limit={value}")
        elif name == "order":
            if value not in ("asc", "desc"):
                raise ValueError("order must be 'asc' or 'desc'")
            parts.append(f"order={value}")
        else:
            parts.append(f"{name}={check_id(name, value, operation=operation)}")
    return "?" + "&".join(parts) if parts else ""
