"""The abusive documents of issue 9, findings 1-3, built as an attacker would.

Shared by the tests (tests/schema/test_shape.py, test_plan.py, test_response_size.py)
and the hardening benchmark (benchmarks/hardening.py), so both measure the same
documents. Thread ids are fresh random literals, so no parse or validation cache helps.
"""

from __future__ import annotations

import secrets
from typing import Any

__all__ = [
    "ATTACKS",
    "default_variable_bypass",
    "fragments_on_thread",
    "identical_fields",
    "same_name_different_arguments",
    "schema_typenames",
    "text_aliases",
]


def _fresh_thread_id() -> str:
    return "thread_" + secrets.token_hex(12)


def fragments_on_thread(count: int = 300) -> str:
    """``count`` fragments on Thread, each spread in one ``thread(id: "<random>")``: ~19 KB."""
    spreads = " ".join(f"...F{i}" for i in range(count))
    fragments = " ".join(
        f"fragment F{i} on Thread {{ id messages {{ nodes {{ id }} }} }}" for i in range(count)
    )
    return f'{{ thread(id: "{_fresh_thread_id()}") {{ {spreads} }} }} {fragments}'


def same_name_different_arguments(count: int = 500) -> str:
    """``count`` fields named ``thread`` with different arguments (each pair conflicts)."""
    token = secrets.token_hex(4)
    fields = " ".join(f'thread(id: "thread_{token}{i}") {{ id }}' for i in range(count))
    return "{ " + fields + " }"


def identical_fields(count: int = 550) -> str:
    """``count`` identical ``thread(id: "x") { id }`` (each pair is compared, and merges)."""
    thread_id = _fresh_thread_id()
    return "{ " + " ".join(f'thread(id: "{thread_id}") {{ id }}' for _ in range(count)) + " }"


def schema_typenames(count: int = 1200) -> str:
    """``__schema { __typename }`` ``count`` times (a fresh operation name: no cache helps)."""
    fields = " ".join("__schema { __typename }" for _ in range(count))
    return f"query Q{secrets.token_hex(6)} {{ {fields} }}"


def default_variable_bypass(thread_id: str, page: int = 100, levels: int = 2) -> dict[str, Any]:
    """Finding 2: page sizes from a variable's *default*, so raw variables hold none."""
    inner = "id text"
    for _ in range(levels):
        inner = f"id text thread {{ messages(first: $n) {{ nodes {{ {inner} }} }} }}"
    query = (
        f"query($n: Int = {page}) {{ thread(id: {_literal(thread_id)}) "
        f"{{ messages(first: $n) {{ nodes {{ {inner} }} }} }} }}"
    )
    return {"query": query}


def text_aliases(thread_id: str, aliases: int = 50, page: int = 10) -> dict[str, Any]:
    """Finding 3: ``aliases`` aliases on ``text`` over a page of ``page`` messages."""
    fields = " ".join(f"t{i}: text" for i in range(aliases))
    query = (
        f"{{ thread(id: {_literal(thread_id)}) {{ messages(first: {page}) "
        f"{{ nodes {{ {fields} }} }} }} }}"
    )
    return {"query": query}


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


ATTACKS = {
    "fragments": fragments_on_thread,
    "same-name": same_name_different_arguments,
    "identical": identical_fields,
    "schema-typenames": schema_typenames,
}
"""The validation bombs of finding 1, by name: each a fresh document per call."""
