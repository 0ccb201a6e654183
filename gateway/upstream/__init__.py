"""The REST client for the Threads & Messages API, embedded or remote.

``UpstreamClient`` is app-wide (connection pool, server key, circuit breaker);
``UpstreamSession`` is per GraphQL operation (credentials, call budget,
concurrency cap, deadline, accounting) and has one method per upstream operation.
Every failure is an ``UpstreamError``; see ``_exceptions`` for the tree.
"""

from gateway.upstream._breaker import BreakerState, CircuitBreaker
from gateway.upstream._client import EMBEDDED_BASE_URL, UpstreamClient, normalize_base_url
from gateway.upstream._exceptions import (
    AuthenticationError,
    BadRequestError,
    CircuitOpenError,
    ConflictError,
    InternalServerError,
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
from gateway.upstream._ids import ID_PATTERN
from gateway.upstream._protocol import DelegatingUpstream, Upstream
from gateway.upstream._retry import RetryPolicy
from gateway.upstream._session import CallRecord, Observer, UpstreamSession
from gateway.upstream._types import (
    DeletedObject,
    ErrorBody,
    JSONObject,
    ListMessagesParams,
    MessageList,
    MessageObject,
    ThreadObject,
)

__all__ = [
    "EMBEDDED_BASE_URL",
    "ID_PATTERN",
    "AuthenticationError",
    "BadRequestError",
    "BreakerState",
    "CallRecord",
    "CircuitBreaker",
    "CircuitOpenError",
    "ConflictError",
    "DelegatingUpstream",
    "DeletedObject",
    "ErrorBody",
    "InternalServerError",
    "InvalidIdError",
    "JSONObject",
    "ListMessagesParams",
    "MessageList",
    "MessageObject",
    "MissingCredentialsError",
    "NotFoundError",
    "Observer",
    "PermissionDeniedError",
    "RateLimitError",
    "RetryPolicy",
    "ThreadObject",
    "UnprocessableEntityError",
    "Upstream",
    "UpstreamCallLimitError",
    "UpstreamClient",
    "UpstreamConnectionError",
    "UpstreamError",
    "UpstreamResponseError",
    "UpstreamSession",
    "UpstreamStatusError",
    "UpstreamTimeoutError",
    "normalize_base_url",
]
