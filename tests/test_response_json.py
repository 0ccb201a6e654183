"""gateway.response_json: the same JSON document as json.dumps, and never a failure it had not."""

from __future__ import annotations

import json
import math

from gateway.response_json import encode_response


def test_a_response_round_trips_to_the_same_document() -> None:
    data = {
        "data": {"thread": {"id": "thread_1", "metadata": {"k": "v"}, "n": [1, 2.5, True, None]}},
        "errors": [{"message": "m", "path": ["thread", 0], "extensions": {"code": "X"}}],
    }
    encoded = encode_response(data)
    assert isinstance(encoded, bytes)
    assert json.loads(encoded) == data
    assert b" " not in encoded  # compact, like strawberry's separators


def test_non_ascii_is_utf8() -> None:
    encoded = encode_response({"text": "héllo ✓"})
    assert encoded == '{"text":"héllo ✓"}'.encode()


def test_what_orjson_refuses_is_encoded_by_the_standard_library() -> None:
    cases: list[object] = [
        {"big": 2**70},  # beyond 64 bits
        {"raw": {1: "non-string key"}},
        {"text": "lone \ud800 surrogate"},
    ]
    for data in cases:
        assert encode_response(data) == json.dumps(data, separators=(",", ":")).encode()


def test_nan_becomes_null_rather_than_invalid_json() -> None:
    assert json.loads(encode_response({"x": math.nan, "y": math.inf})) == {"x": None, "y": None}
