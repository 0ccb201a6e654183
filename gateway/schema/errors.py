"""How failures become GraphQL errors: the codes of DESIGN.md §5, decided in one place.

Resolvers raise ``GatewayError`` for problems of their own (bad arguments) and
let upstream exceptions through; ``ErrorMapping`` (extensions.py) turns each into
a GraphQL error with ``extensions.code`` via ``describe``. Anything else is an
unexpected exception: masked to ``INTERNAL_SERVER_ERROR`` and logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from gateway.errors import ErrorCode
from gateway.live.bus import SlowConsumerError
from gateway.live.errors import CredentialExpiredError, SubscriptionLimitError
from gateway.upstream import (
    AuthenticationError,
    BadRequestError,
    CircuitOpenError,
    ErrorBody,
    InvalidIdError,
    MissingCredentialsError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    UpstreamCallLimitError,
    UpstreamConnectionError,
    UpstreamError,
    UpstreamResponseError,
    UpstreamStatusError,
    UpstreamTimeoutError,
)

__all__ = ["ErrorCode", "GatewayError", "describe", "safe_upstream_message"]


@dataclass
class GatewayError(Exception):
    """A failure the gateway itself detected, with the code it must carry."""

    message: str
    code: str = ErrorCode.BAD_USER_INPUT
    extensions: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


# Upstream messages are shown to callers for 4xx answers; anything that looks
# like a credential or a URL is cut out first (OpenAI's 401 message, for one,
# quotes part of the key).
_SECRETISH = re.compile(r"(sk-[A-Za-z0-9_\-*]{3,}|Bearer\s+\S+|https?://\S+)")


def safe_upstream_message(message: str | None, fallback: str) -> str:
    """An upstream error message fit to show a caller, or ``fallback``."""
    if not message:
        return fallback
    return _SECRETISH.sub("[redacted]", message)[:500]


def _upstream_extension(exc: UpstreamStatusError) -> dict[str, Any]:
    body: ErrorBody | dict[str, Any] = exc.body or {}
    return {
        "status": exc.status,
        "type": body.get("type"),
        "code": body.get("code"),
        "param": body.get("param"),
        "requestId": exc.request_id,
    }


def describe(exc: BaseException) -> tuple[str, dict[str, Any]] | None:
    """``(message, extensions)`` for a known failure, or None for an unexpected one."""
    if isinstance(exc, GatewayError):
        return exc.message, {"code": exc.code, **exc.extensions}
    if isinstance(exc, SubscriptionLimitError):
        return str(exc), {"code": ErrorCode.SUBSCRIPTION_LIMIT, "limit": exc.limit}
    if isinstance(exc, CredentialExpiredError):
        return str(exc), {"code": ErrorCode.UNAUTHENTICATED}
    if isinstance(exc, SlowConsumerError):
        return (
            "This subscriber fell too far behind (SUBSCRIPTION_QUEUE_SIZE events) and was "
            "disconnected; subscribe again with `after` to resume.",
            {"code": ErrorCode.SUBSCRIPTION_LIMIT, "limit": "queue"},
        )
    if not isinstance(exc, UpstreamError):
        return None
    if isinstance(exc, InvalidIdError):
        return str(exc), {"code": ErrorCode.BAD_USER_INPUT}
    if isinstance(exc, UpstreamCallLimitError):
        return (
            "This operation reached its upstream call budget; the field was not resolved.",
            {"code": ErrorCode.UPSTREAM_CALL_LIMIT},
        )
    if isinstance(exc, MissingCredentialsError):
        return (
            "Authentication required: send 'Authorization: Bearer <key>'.",
            {"code": ErrorCode.UNAUTHENTICATED},
        )
    if isinstance(exc, UpstreamTimeoutError):
        return "The upstream API did not answer in time.", {"code": ErrorCode.UPSTREAM_TIMEOUT}
    if isinstance(exc, CircuitOpenError):
        return (
            "The upstream API is failing; requests are paused briefly.",
            {"code": ErrorCode.UPSTREAM_UNAVAILABLE},
        )
    if isinstance(exc, UpstreamConnectionError):
        return "The upstream API could not be reached.", {"code": ErrorCode.UPSTREAM_UNAVAILABLE}
    if isinstance(exc, UpstreamResponseError):
        return "The upstream API sent an invalid response.", {"code": ErrorCode.UPSTREAM_ERROR}
    if isinstance(exc, UpstreamStatusError):
        return _describe_status(exc)
    return "The upstream API failed.", {"code": ErrorCode.UPSTREAM_ERROR}


def _describe_status(exc: UpstreamStatusError) -> tuple[str, dict[str, Any]]:
    upstream = _upstream_extension(exc)
    body_message = exc.body.get("message") if exc.body else None
    if isinstance(exc, AuthenticationError):
        message, code = "The upstream API rejected the credentials.", ErrorCode.UNAUTHENTICATED
    elif isinstance(exc, PermissionDeniedError):
        message, code = "The upstream API refused access.", ErrorCode.FORBIDDEN
    elif isinstance(exc, NotFoundError):
        message = safe_upstream_message(body_message, "Not found.")
        code = ErrorCode.NOT_FOUND
    elif isinstance(exc, BadRequestError | UnprocessableEntityError):
        message = safe_upstream_message(body_message, "The upstream API rejected the request.")
        code = ErrorCode.BAD_USER_INPUT
    elif isinstance(exc, RateLimitError):
        extensions: dict[str, Any] = {"code": ErrorCode.RATE_LIMITED, "upstream": upstream}
        if exc.retry_after is not None:
            extensions["retryAfter"] = exc.retry_after
        return "The upstream API rate limit was reached; retry later.", extensions
    elif exc.status in (502, 503, 504):
        message = f"The upstream API is unavailable (status {exc.status})."
        code = ErrorCode.UPSTREAM_UNAVAILABLE
    else:
        message, code = f"The upstream API failed (status {exc.status}).", ErrorCode.UPSTREAM_ERROR
    return message, {"code": code, "upstream": upstream}
