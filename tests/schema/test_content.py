"""``Message.text``: the text parts' values, in order, joined by a newline."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.schema.content import text_of


def _text(value: Any) -> dict[str, Any]:
    return {"type": "text", "text": {"value": value, "annotations": []}}


IMAGE = {"type": "image_file", "image_file": {"file_id": "file_1"}}


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ([], ""),
        ([_text("hello")], "hello"),  # the one-part shortcut
        ([IMAGE], ""),
        ([_text(7)], ""),
        ([{"type": "text", "text": "bare"}], ""),
        ([{"type": "text"}], ""),
        ([{"text": {"value": "untyped"}}], ""),
        ([_text("a"), IMAGE, _text("b")], "a\nb"),
        ([IMAGE, _text("only")], "only"),
        ([_text("a"), _text(None)], "a"),
    ],
)
def test_text_joins_the_text_values_and_skips_the_rest(
    parts: list[dict[str, Any]], expected: str
) -> None:
    assert text_of(parts) == expected
