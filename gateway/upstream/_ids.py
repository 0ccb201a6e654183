"""Ids checked before they go into a URL.

Upstream ids (``thread_…``, ``msg_…``, ``run_…``) are short and plain. Anything
else — a slash, a dot-dot, a percent sign, whitespace, non-ASCII, the empty string,
a kilobyte of text — cannot name an upstream object, and in a path it could name
a different resource. So it is refused before any request, and the accepted value
is still percent-encoded into its path segment.
"""

from __future__ import annotations

from urllib.parse import quote

from gateway.upstream._exceptions import InvalidIdError
from gateway.wire_contract import ID_PATTERN

__all__ = ["ID_PATTERN", "check_id", "path_segment"]


def check_id(param: str, value: object, *, operation: str | None = None) -> str:
    """Return ``value`` if it is a well-formed id, else raise ``InvalidIdError``."""
    if isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None:
        return value
    raise InvalidIdError(param, value, operation=operation)


def path_segment(param: str, value: object, *, operation: str | None = None) -> str:
    """A checked id, percent-encoded for use as one path segment."""
    return quote(check_id(param, value, operation=operation), safe="")
