"""``schema.graphql`` is the published contract: it matches the code and DESIGN.md §4."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from graphql import build_schema, find_breaking_changes, find_dangerous_changes

from gateway.schema import schema_sdl

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "tests" / "data" / "design-contract.graphql"  # the SDL block of DESIGN.md §4


def test_checked_in_schema_matches_the_code() -> None:
    checked_in = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert checked_in == schema_sdl(), (
        "schema.graphql is stale: run `messages-gateway export-schema` and commit it"
    )


def test_export_schema_command_writes_the_sdl(tmp_path: Path) -> None:
    target = tmp_path / "out.graphql"
    subprocess.run(
        [sys.executable, "-m", "gateway", "export-schema", "-o", str(target)],
        check=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert target.read_text(encoding="utf-8") == schema_sdl()


def test_schema_keeps_every_name_and_type_of_the_design_contract() -> None:
    contract = build_schema(CONTRACT.read_text(encoding="utf-8"))
    ours = build_schema(schema_sdl())
    # graphql-core's own diff: nothing a client of the contract relies on may break.
    assert find_breaking_changes(contract, ours) == []
    dangerous = [
        change
        for change in find_dangerous_changes(contract, ours)
        # Descriptions and argument defaults aside, nothing may differ in meaning.
        if change.type.name not in ("ARG_DEFAULT_VALUE_CHANGE",)
    ]
    assert dangerous == []
    for name, graphql_type in contract.type_map.items():
        if name.startswith("__"):
            continue
        assert name in ours.type_map, name
        fields = getattr(graphql_type, "fields", None)
        if fields:
            assert set(fields) <= set(ours.type_map[name].fields), name  # type: ignore[attr-defined]


def test_message_content_input_is_one_of() -> None:
    ours = build_schema(schema_sdl())
    assert ours.type_map["MessageContentInput"].is_one_of  # type: ignore[attr-defined]
