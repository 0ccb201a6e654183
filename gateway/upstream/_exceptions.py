"""Every way an upstream call can fail, as one exception hierarchy.

```
UpstreamError
├── MissingCredentialsError       no server key and no caller bearer (nothing was sent)
├── InvalidIdError                a malformed id, cursor or run id (nothing was sent)
├── UpstreamCallLimitError        the operation's call budget is spent (nothing was sent)
├── UpstreamTimeoutError          an attempt timed out, or the operation's deadline passed
├── UpstreamConnectionError       connect / network / protocol failure
│   └── CircuitOpenError          the circuit breaker is open (nothing was sent)
├── UpstreamResponseError         a 2xx answer that is not JSON or not the expected shape
└── UpstreamStatusError           any non-2xx status without a more specific class
    ├── BadRequestError           400
    ├── AuthenticationError       401
    ├── PermissionDeniedError     403
    ├── NotFoundError             404
    ├── ConflictError             409
    ├── UnprocessableEntityError  422
    ├── RateLimitError            429
    └── InternalServerError       5xx
```

Every instance carries the same attributes, ``None`` where they do not apply, so
that the GraphQL layer can map them in one place: ``operation`` (the spec's
operationId), ``status`` (the HTTP status, when a response arrived), ``body`` (the
upstream ``error`` envelope, when the response held one), ``request_id`` (the
upstream's ``x-request-id``, else ours) and ``retry_after`` (seconds, from
``Retry-After`` / ``retry-after-ms``).

Messages are safe to show and to log: they never hold the API key, the caller's
token, the upstream URL, nor the upstream's own error text (a 401 message may echo
part of the key); that text stays in ``body`` for whoever decides to show it.
``body`` and ``request_id`` come from the upstream, so the session scrubs them
before they get here (``_scrub``: identifiers only, bounded, secrets and locations
cut out), and ``retry_after`` is clamped (``_retry``).
"""

from __future__ import annotations

from gateway.upstream._types import ErrorBody

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "CircuitOpenError",
    "ConflictError",
    "InternalServerError",
    "InvalidIdError",
    "MissingCredentialsError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
    "UpstreamCallLimitError",
    "UpstreamConnectionError",
    "UpstreamError",
    "UpstreamResponseError",
    "UpstreamStatusError",
    "UpstreamTimeoutError",
    "status_error_class",
]

_MAX_SHOWN_VALUE = 40


class UpstreamError(Exception):
    """Base class: an upstream call did not produce the object it was asked for."""

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        status: int | None = None,
        body: ErrorBody | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.operation = operation
        self.status = status
        self.body = body
        self.request_id = request_id
        self.retry_after = retry_after


class MissingCredentialsError(UpstreamError):
    """The remote upstream needs a key: none is configured and the caller sent none."""


class InvalidIdError(UpstreamError):
    """An id, cursor or run id that cannot name an upstream object; checked before sending.

    ``value`` is the rejected value as given; the message shows at most its first
    characters, so a megabyte-long id cannot flood an error response or a log.
    """

    def __init__(self, param: str, value: object, *, operation: str | None = None) -> None:
        shown = value if isinstance(value, str) else type(value).__name__
        if len(shown) > _MAX_SHOWN_VALUE:
            shown = shown[:_MAX_SHOWN_VALUE] + "…"
        super().__init__(f"invalid {param}: {shown!r}", operation=operation)
        self.param = param
        self.value = value


class UpstreamCallLimitError(UpstreamError):
    """The operation already made as many upstream calls as it may."""


class UpstreamTimeoutError(UpstreamError):
    """An attempt timed out, or the operation's upstream deadline was reached."""


class UpstreamConnectionError(UpstreamError):
    """The upstream could not be reached, or the connection broke."""


class CircuitOpenError(UpstreamConnectionError):
    """Recent calls failed; calls fail fast until the breaker's trial call succeeds."""


class UpstreamResponseError(UpstreamError):
    """A 2xx response that is not JSON, or not the object the operation returns."""


class UpstreamStatusError(UpstreamError):
    """A non-2xx response; subclasses name the usual statuses."""

    status: int

    def __init__(
        self,
        message: str,
        *,
        status: int,
        operation: str | None = None,
        body: ErrorBody | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message,
            operation=operation,
            status=status,
            body=body,
            request_id=request_id,
            retry_after=retry_after,
        )


class BadRequestError(UpstreamStatusError):
    """400: the upstream rejected the request's parameters or body."""


class AuthenticationError(UpstreamStatusError):
    """401: the key or the forwarded bearer was refused."""


class PermissionDeniedError(UpstreamStatusError):
    """403: the credentials may not touch this object."""


class NotFoundError(UpstreamStatusError):
    """404: no such thread or message."""


class ConflictError(UpstreamStatusError):
    """409: the object is in a state that forbids the change (e.g. a run is active)."""


class UnprocessableEntityError(UpstreamStatusError):
    """422: the request was well-formed but could not be processed."""


class RateLimitError(UpstreamStatusError):
    """429: too many requests or out of quota; see ``retry_after``."""


class InternalServerError(UpstreamStatusError):
    """5xx: the upstream failed."""


_BY_STATUS: dict[int, type[UpstreamStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status: int) -> type[UpstreamStatusError]:
    """The exception class for a non-2xx status."""
    if status >= 500:
        return InternalServerError
    return _BY_STATUS.get(status, UpstreamStatusError)
