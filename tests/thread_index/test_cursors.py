"""Opaque keyset cursors: round trip, and everything else refused."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.thread_index import InvalidCursorError, decode_cursor, encode_cursor

THREAD = "thread_" + "a" * 24


@settings(deadline=None)
@given(
    key=st.integers(min_value=0, max_value=2**63 - 1),
    suffix=st.from_regex(r"[A-Za-z0-9]{1,24}", fullmatch=True),
)
def test_a_cursor_round_trips(key: int, suffix: str) -> None:
    for sort in ("created_at", "last_activity_at"):
        cursor = encode_cursor(sort, key, f"thread_{suffix}")  # type: ignore[arg-type]
        assert "=" not in cursor and cursor.isascii()
        assert decode_cursor(sort, cursor) == (key, f"thread_{suffix}")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "cursor",
    [
        encode_cursor("created_at", 5, THREAD),  # another ordering's
        "",
        "not base64!",
        base64.urlsafe_b64encode(b"a:-1:" + THREAD.encode()).decode(),
        base64.urlsafe_b64encode(b"a:5:thread/../x").decode(),
        base64.urlsafe_b64encode(b"a:5").decode(),
        "é" * 4,
        "A" * 500,
        # Sort keys no index column holds (SQLite raised OverflowError: a 500).
        base64.urlsafe_b64encode(b"a:" + str(2**63).encode() + b":" + THREAD.encode()).decode(),
        base64.urlsafe_b64encode(b"a:" + b"9" * 40 + b":" + THREAD.encode()).decode(),
        # Malformed parts: an empty key, a signed or spaced key, a missing id.
        base64.urlsafe_b64encode(b"a::" + THREAD.encode()).decode(),
        base64.urlsafe_b64encode(b"a:+5:" + THREAD.encode()).decode(),
        base64.urlsafe_b64encode(b"a: 5:" + THREAD.encode()).decode(),
        base64.urlsafe_b64encode(b"a:5:").decode(),
        base64.urlsafe_b64encode(b"a:5:" + THREAD.encode() + b":x").decode(),
    ],
)
def test_anything_else_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        decode_cursor("last_activity_at", cursor)


def test_the_largest_key_a_column_holds_is_accepted() -> None:
    cursor = encode_cursor("last_activity_at", 2**63 - 1, THREAD)
    assert decode_cursor("last_activity_at", cursor) == (2**63 - 1, THREAD)
