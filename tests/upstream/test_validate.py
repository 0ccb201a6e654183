"""The upstream shape checks: the one-expression fast path agrees with the detailed one.

``_validate.message`` first tries ``_plain_message`` (every check in one expression,
for the hundred messages of a page) and falls back to the member-by-member checks,
which name what is wrong. Both must accept and refuse exactly the same messages.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.upstream import _validate
from gateway.upstream._validate import ShapeError

_ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=300_000_000_000),
    st.floats(allow_nan=False),
    st.sampled_from(["user", "assistant", "completed", "system", "x"]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
)

_GOOD: dict[str, Any] = {
    "id": "msg_1",
    "thread_id": "thread_1",
    "created_at": 1764118092,
    "completed_at": None,
    "incomplete_at": 1764118093,
    "role": "assistant",
    "status": "completed",
    "metadata": {"k": "v"},
    "attachments": [],
    "incomplete_details": None,
    "content": [{"type": "text", "text": {"value": "hi", "annotations": []}}],
}


def _detailed_accepts(data: Any) -> bool:
    """The member-by-member checks alone (the fast path bypassed)."""
    original = _validate._plain_message
    _validate._plain_message = lambda _obj: False  # type: ignore[assignment]
    try:
        _validate.message(data)
    except ShapeError:
        return False
    finally:
        _validate._plain_message = original
    return True


@settings(max_examples=400, deadline=None)
@given(
    changes=st.dictionaries(st.sampled_from(sorted(_GOOD)), _ANY, max_size=3),
    dropped=st.sets(st.sampled_from(sorted(_GOOD)), max_size=2),
)
def test_the_fast_check_accepts_exactly_what_the_detailed_checks_accept(
    changes: dict[str, Any], dropped: set[str]
) -> None:
    message = {k: v for k, v in {**_GOOD, **changes}.items() if k not in dropped}
    assert _validate._plain_message(dict(message)) == _detailed_accepts(dict(message))


def test_both_paths_were_exercised() -> None:
    good, bad = dict(_GOOD), {**_GOOD, "role": ["user"]}
    assert _validate._plain_message(good) and _detailed_accepts(dict(good))
    assert not _validate._plain_message(bad) and not _detailed_accepts(dict(bad))


def test_a_lenient_message_gets_the_spec_defaults_on_the_fast_path() -> None:
    lenient = {k: v for k, v in _GOOD.items() if k not in ("metadata", "run_id")}
    assert _validate._plain_message(lenient)
    checked = _validate.message(lenient)
    assert checked["metadata"] is None and checked["run_id"] is None
    assert checked["object"] == "thread.message"


@pytest.mark.parametrize("role", [["user"], {"user": 1}])
def test_an_unhashable_role_is_a_shape_error_not_a_type_error(role: Any) -> None:
    with pytest.raises(ShapeError, match="'role'"):
        _validate.message({**_GOOD, "role": role})
