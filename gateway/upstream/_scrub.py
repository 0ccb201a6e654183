"""Upstream-sourced text made fit to show: bounded, restricted, and free of secrets.

What an upstream says about a failure reaches callers: the error envelope's
``type``, ``code`` and ``param`` (``extensions.upstream``, ``userErrors.field``), its
``message`` (shown for 4xx answers), and its ``X-Request-Id``. An upstream, hostile
or just careless, can put anything there: the API key or bearer it was sent, its
own internal host or URL, control characters, a megabyte of text. So each value is
cleaned once, where it enters (the session builds every upstream exception through
a ``Scrubber``), and nothing downstream has to remember to:

- ``type`` and ``code`` are identifiers, ``[A-Za-z0-9_-]{1,64}``; anything else is
  dropped (no dots, colons or slashes: a host name or URL is not a code).
- ``param`` is a path of at most 8 segments of ``[A-Za-z0-9_]{1,64}`` joined by
  ``.`` or ``[n]``, whose first segment is a parameter of the Threads & Messages
  requests; anything else is dropped (``userErrors.field`` is then null).
- the request id is ``[A-Za-z0-9_-]{1,128}``; otherwise the gateway's own id is used.
- the message loses control characters, URLs of any scheme, ``Bearer …``,
  ``sk-…`` keys, IP addresses and ``host:port`` pairs, and is cut to 500 characters.
- any value holding a known secret, or 12 consecutive characters of one (the key
  sent, the caller's token, the upstream's host), is dropped whole.

Retry waits are clamped separately, in ``_retry``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from gateway.upstream._types import ErrorBody

__all__ = ["MAX_MESSAGE_CHARS", "Scrubber", "redact_text"]

MAX_MESSAGE_CHARS = 500
_SECRET_WINDOW = 12
_MIN_SECRET = 4

_IDENTIFIER = re.compile(r"[A-Za-z0-9_-]{1,64}")
_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_PARAM = re.compile(r"[A-Za-z0-9_]{1,64}(?:(?:\.[A-Za-z0-9_]{1,64})|(?:\[[0-9]{1,6}\])){0,7}")
_PARAM_ROOTS = frozenset(
    {
        # path and query parameters
        "thread_id",
        "message_id",
        "limit",
        "order",
        "after",
        "before",
        "run_id",
        # request bodies (createThread, createMessage, modify*)
        "messages",
        "role",
        "content",
        "attachments",
        "metadata",
        "tool_resources",
    }
)

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SECRETISH = re.compile(
    r"[A-Za-z][A-Za-z0-9+.\-]*://\S*"  # a URL of any scheme
    r"|\bBearer\s+\S+"
    r"|\bsk-[A-Za-z0-9_\-*]{3,}"
    r"|\b(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?::[0-9]{1,5})?\b"  # IPv4, with a port
    r"|\[[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*\](?::[0-9]{1,5})?"  # [IPv6], with a port
    r"|\b(?=[A-Za-z0-9.\-]*[A-Za-z])[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*:[0-9]{2,5}\b",  # host:port
    re.IGNORECASE,
)


def redact_text(text: str) -> str:
    """``text`` without control characters, URLs, bearers, keys or addresses, bounded."""
    text = _CONTROL.sub(" ", text[: MAX_MESSAGE_CHARS * 4])
    return _SECRETISH.sub("[redacted]", text).strip()[:MAX_MESSAGE_CHARS]


class Scrubber:
    """Cleans what one session's upstream says, knowing the secrets that session holds."""

    __slots__ = ("_secrets", "_windows")

    def __init__(self, secrets: Iterable[str | None]) -> None:
        # Windows are cut on first use: most sessions never see an upstream error.
        self._secrets = tuple(s for s in secrets if s and len(s) >= _MIN_SECRET)
        self._windows: tuple[str, ...] | None = None

    def leaks(self, text: str) -> bool:
        """Does ``text`` hold a secret, or a long enough piece of one?"""
        windows = self._windows
        if windows is None:
            cut: set[str] = set()
            for secret in self._secrets:
                size = min(len(secret), _SECRET_WINDOW)
                cut.update(secret[i : i + size] for i in range(len(secret) - size + 1))
            windows = self._windows = tuple(cut)
        return any(window in text for window in windows)

    def identifier(self, value: object) -> str | None:
        if not isinstance(value, str) or _IDENTIFIER.fullmatch(value) is None:
            return None
        return None if self.leaks(value) else value

    def param(self, value: object) -> str | None:
        if not isinstance(value, str) or _PARAM.fullmatch(value) is None:
            return None
        root = re.split(r"[.\[]", value, maxsplit=1)[0]
        if root not in _PARAM_ROOTS or self.leaks(value):
            return None
        return value

    def request_id(self, value: str | None) -> str | None:
        if value is None or _REQUEST_ID.fullmatch(value) is None or self.leaks(value):
            return None
        return value

    def message(self, value: str) -> str:
        """The message redacted, or ``""`` (callers show their fallback) when it leaks."""
        text = redact_text(value)
        return "" if self.leaks(text) else text

    def error_body(self, body: ErrorBody | None) -> ErrorBody | None:
        if body is None:
            return None
        return ErrorBody(
            message=self.message(body["message"]),
            type=self.identifier(body["type"]) or "",
            param=self.param(body["param"]),
            code=self.identifier(body["code"]),
        )
