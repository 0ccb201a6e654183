"""``build_schema``: the served schema is the published contract, names converted once."""

from __future__ import annotations

import pytest
from strawberry.schema import name_converter as strawberry_names
from strawberry.schema.name_converter import NameConverter

from gateway.schema import build_schema, schema_sdl
from gateway.schema.build import MemoizedNameConverter


def test_the_served_schema_prints_as_the_published_one() -> None:
    """The memoized name converter names every field and argument as strawberry's does."""
    schema = build_schema()
    assert isinstance(schema.config.name_converter, MemoizedNameConverter)
    assert schema.as_str() + "\n" == schema_sdl()


def test_each_name_is_converted_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    convert = strawberry_names.to_camel_case

    def counting(name: str) -> str:
        calls.append(name)
        return convert(name)

    monkeypatch.setattr(strawberry_names, "to_camel_case", counting)
    plain = NameConverter()
    assert [plain.apply_naming_config("thread_id") for _ in range(2)] == ["threadId"] * 2
    assert calls == ["thread_id"] * 2  # strawberry's converts on every call
    calls.clear()
    memoized = MemoizedNameConverter()
    assert [memoized.apply_naming_config("thread_id") for _ in range(3)] == ["threadId"] * 3
    assert memoized.apply_naming_config("first") == "first"
    assert calls == ["thread_id", "first"]
