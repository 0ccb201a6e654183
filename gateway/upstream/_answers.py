"""What one attempt's answer (or its absence) means: the typed object, or an ``UpstreamError``.

The session's loop sends an attempt and gets back either the ``Answer`` of a 2xx or
a ``Failure``: the exception that describes it, and whether the retry policy may try
again. The functions here build those exceptions from what arrived, so that every
one of them is made the same way: request ids and error envelopes scrubbed
(``_scrub``), the upstream's ``Retry-After`` parsed and clamped (``_retry``),
httpx's own exceptions never chained (their request holds the URL).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from gateway.upstream import _validate as validate
from gateway.upstream._body import Answer
from gateway.upstream._exceptions import (
    UpstreamConnectionError,
    UpstreamError,
    UpstreamResponseError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    status_error_class,
)
from gateway.upstream._retry import parse_retry_after
from gateway.upstream._scrub import Scrubber

__all__ = ["Failure", "decoded", "request_id_of", "status_error", "transport_error"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Failure:
    """An attempt that did not produce the object.

    ``retryable`` says whether the policy allows another attempt; ``wait`` is what
    the upstream asked (``None``: the backoff decides); ``final`` means stop now
    whatever the policy says (the operation's deadline cut the attempt).
    """

    error: UpstreamError
    reason: str
    retryable: bool = False
    wait: float | None = None
    final: bool = False


def request_id_of(answer: Answer, scrub: Scrubber, ours: str) -> str:
    """The upstream's ``X-Request-Id`` when it is a plain identifier, else ours."""
    return scrub.request_id(answer.headers.get("x-request-id")) or ours


def decoded(
    operation: str, answer: Answer, decode: Callable[[Any], T], scrub: Scrubber, ours: str
) -> T:
    """The object a 2xx answer holds, or ``UpstreamResponseError`` saying what is wrong."""
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
        request_id=request_id_of(answer, scrub, ours),
    )


def status_error(operation: str, answer: Answer, scrub: Scrubber, ours: str) -> UpstreamStatusError:
    """The exception of a non-2xx answer, with its scrubbed error envelope when it has one."""
    status = answer.status
    body = None
    content = answer.content
    if answer.problem is None and (content[:1] == b"{" or content.lstrip()[:1] == b"{"):
        try:
            body = scrub.error_body(validate.error_body(json.loads(content)))
        except (ValueError, RecursionError):
            body = None
    return status_error_class(status)(
        f"upstream returned {status} for {operation}",
        status=status,
        operation=operation,
        body=body,
        request_id=request_id_of(answer, scrub, ours),
        retry_after=parse_retry_after(answer.headers),
    )


def transport_error(operation: str, exc: httpx.TransportError, ours: str) -> UpstreamError:
    """A timeout or a connection failure; the httpx exception is named, not chained."""
    kind = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamTimeoutError(
            f"upstream timed out for {operation} ({kind})", operation=operation, request_id=ours
        )
    return UpstreamConnectionError(
        f"could not reach the upstream for {operation} ({kind})",
        operation=operation,
        request_id=ours,
    )
