"""Errors of the embedded store, and the OpenAI error envelope they render to.

Every answer other than a 2xx is one of these, rendered as
``{"error": {"message", "type", "param", "code"}}`` exactly like the real API,
so that the official SDK raises the matching exception class::

    StoreOpenError                the SQLite file cannot be used (startup only)
    APIError                      an HTTP error answer
    ├── InvalidRequestError       400  invalid_request_error
    ├── AuthenticationError       401  invalid_request_error, code invalid_api_key
    ├── NotFoundError             404  invalid_request_error
    ├── MethodNotAllowedError     405  invalid_request_error
    ├── PayloadTooLargeError      413  invalid_request_error
    ├── InternalServerError       500  server_error
    └── StoreFileChangedError     503  server_error (the file was deleted or replaced)

Messages name the offending parameter in ``param`` (``limit``,
``messages[0].content``, ...), so a client can point at the field to fix.
"""

from __future__ import annotations

import json

__all__ = [
    "APIError",
    "AuthenticationError",
    "InternalServerError",
    "InvalidRequestError",
    "MethodNotAllowedError",
    "NotFoundError",
    "PayloadTooLargeError",
    "StoreFileChangedError",
    "StoreOpenError",
]


class StoreOpenError(Exception):
    """The store's SQLite file cannot be opened, created, read or written.

    The message is one human line naming the path and the reason; the CLI
    prints it as is, so it carries no traceback and needs none.
    """


class APIError(Exception):
    """An error answer of the store's REST API, in the OpenAI error envelope."""

    status_code = 400
    error_type = "invalid_request_error"

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code

    @property
    def headers(self) -> tuple[tuple[bytes, bytes], ...]:
        """Response headers this error adds (ASGI form)."""
        return ()

    def to_json(self) -> str:
        """The response body: ``{"error": {"message", "type", "param", "code"}}``."""
        return json.dumps(
            {
                "error": {
                    "message": self.message,
                    "type": self.error_type,
                    "param": self.param,
                    "code": self.code,
                }
            },
            ensure_ascii=False,
        )


class InvalidRequestError(APIError):
    """The request is malformed: bad JSON, a bad field, a bad query parameter or id."""

    status_code = 400


class AuthenticationError(APIError):
    """The bearer key is missing or wrong. The message never repeats the key sent."""

    status_code = 401

    def __init__(self) -> None:
        super().__init__("Incorrect API key provided.", code="invalid_api_key")


class NotFoundError(APIError):
    """The thread, the message, or the URL does not exist."""

    status_code = 404


class MethodNotAllowedError(APIError):
    """The URL exists, but not with this HTTP method."""

    status_code = 405

    def __init__(self, message: str, *, allow: tuple[str, ...]) -> None:
        super().__init__(message)
        self.allow = allow

    @property
    def headers(self) -> tuple[tuple[bytes, bytes], ...]:
        return ((b"allow", ", ".join(self.allow).encode()),)


class PayloadTooLargeError(APIError):
    """The request body is larger than the store accepts."""

    status_code = 413


class InternalServerError(APIError):
    """Anything unexpected. The details go to the log, never to the client."""

    status_code = 500
    error_type = "server_error"

    def __init__(self) -> None:
        super().__init__("Internal server error")


class StoreFileChangedError(APIError):
    """The store's path no longer names the file the store opened: writes are refused.

    A deleted or replaced SQLite file stays open, and SQLite would go on
    committing into the old inode, acknowledging writes that nobody will ever
    read again. Reads that fail then (SQLite's I/O error on an unlinked file)
    get this answer too rather than a bare 500. The message names no path (the
    log does).
    """

    status_code = 503
    error_type = "server_error"

    def __init__(self) -> None:
        super().__init__(
            "The store is unavailable: its file was deleted or replaced while the server "
            "ran; restart the server.",
            code="store_file_changed",
        )
