"""Opaque keyset cursors of ``viewer.threads``: the sort key's name and value, and the id.

A cursor is ``base64url("<c|a>:<unix seconds>:<thread id>")`` without padding:
the position itself, not a row to look up, so it stays valid when its thread
moves (new activity) or is deleted. It is opaque to clients (Relay treats it so);
a cursor of the other sort key, or anything else, is refused: so is a key that no
index column can hold (outside ``0..2**63-1``, the signed 64-bit range of SQLite
and PostgreSQL ``bigint``), which would otherwise fail in the database driver.
"""

from __future__ import annotations

import base64
import binascii

from gateway.store.thread_index import SortKey
from gateway.wire_contract import ID_PATTERN

__all__ = ["InvalidCursorError", "decode_cursor", "encode_cursor"]

_TAGS: dict[SortKey, str] = {"created_at": "c", "last_activity_at": "a"}
_MAX_CURSOR_CHARS = 200
_MAX_KEY = 2**63 - 1
_KEY_DIGITS = frozenset("0123456789")


class InvalidCursorError(ValueError):
    """Not a cursor of this ordering."""


def encode_cursor(sort: SortKey, key: int, thread_id: str) -> str:
    raw = f"{_TAGS[sort]}:{key}:{thread_id}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(sort: SortKey, cursor: str) -> tuple[int, str]:
    """``(key, thread id)``; ``InvalidCursorError`` unless ``cursor`` is one of ``sort``'s."""
    if len(cursor) > _MAX_CURSOR_CHARS or not cursor.isascii():
        raise InvalidCursorError
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise InvalidCursorError from None
    tag, _, rest = raw.partition(":")
    key, _, thread_id = rest.partition(":")
    if tag != _TAGS[sort] or not key or not _KEY_DIGITS.issuperset(key):
        raise InvalidCursorError
    if ID_PATTERN.fullmatch(thread_id) is None or int(key) > _MAX_KEY:
        raise InvalidCursorError
    return int(key), thread_id
