"""``gateway.wire_contract``: its rules, and that the store and the gateway hold them alike.

Each agreement test feeds the same inputs to both sides: the embedded store's
validation (which answers ``/v1``) and the GraphQL layer's (which checks input
before anything goes upstream). In 0.1 they disagreed on the empty metadata
key and on request ids of 65 to 128 characters.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from gateway.app import request_id_of
from gateway.observability import PROBE_THREAD_ID
from gateway.schema.arguments import page_request
from gateway.schema.enums import MessageRole, MessageStatus, SortOrder
from gateway.schema.errors import GatewayError
from gateway.schema.scalars import validate_metadata
from gateway.store import SQLiteStore, StoreBackend, create_store_app
from gateway.store.errors import InvalidRequestError
from gateway.store.ids import check_message_id, check_thread_id, new_message_id, new_thread_id
from gateway.store.validation import list_query, new_message, new_thread, parse_json_body
from gateway.wire_contract import (
    DEFAULT_PAGE_SIZE,
    ID_PATTERN,
    ISSUED_ID_ALPHABET,
    ISSUED_ID_LENGTH,
    LIST_ORDERS,
    MAX_JSON_DEPTH,
    MAX_METADATA_KEY_LENGTH,
    MAX_METADATA_KEYS,
    MAX_METADATA_VALUE_LENGTH,
    MAX_PAGE_SIZE,
    MESSAGE_ID_PREFIX,
    MESSAGE_ROLES,
    MESSAGE_STATUSES,
    MIN_PAGE_SIZE,
    THREAD_ID_PREFIX,
    MetadataProblem,
    is_request_id,
    json_deeper_than,
    lone_surrogate_path,
    metadata_problem,
)

# --- the module stands alone -----------------------------------------------------------


def test_the_contract_imports_no_other_gateway_module() -> None:
    """Both sides import it, so it must import neither (no cycle can pass through it)."""
    code = (
        "import sys, gateway.wire_contract; "
        "print(sorted(m for m in sys.modules if m.startswith('gateway')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(result.stdout.replace("'", '"')) == ["gateway", "gateway.wire_contract"]


# --- 1. metadata ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({}, None),
        ({"k" * 64: "v" * 512}, None),
        ({f"k{i}": "" for i in range(16)}, None),
        ([], MetadataProblem("not_a_map")),
        ({f"k{i}": "" for i in range(17)}, MetadataProblem("too_many_keys", size=17)),
        ({"": "v"}, MetadataProblem("empty_key", key="")),
        ({"k" * 65: "v"}, MetadataProblem("key_too_long", key="k" * 65, size=65)),
        ({"k": 1}, MetadataProblem("value_not_a_string", key="k")),
        ({"k": None}, MetadataProblem("value_not_a_string", key="k")),
        ({"k": "v" * 513}, MetadataProblem("value_too_long", key="k", size=513)),
        ({"a": "ok", "b": 2, "c" * 99: "x"}, MetadataProblem("value_not_a_string", key="b")),
    ],
)
def test_metadata_problem(value: object, problem: MetadataProblem | None) -> None:
    assert metadata_problem(value) == problem


def test_metadata_limits_are_the_documented_ones() -> None:
    assert (MAX_METADATA_KEYS, MAX_METADATA_KEY_LENGTH, MAX_METADATA_VALUE_LENGTH) == (16, 64, 512)


def _store_accepts_metadata(metadata: object) -> bool:
    try:
        new_thread({"metadata": metadata})
    except InvalidRequestError as error:
        assert error.param == "metadata" or (error.param or "").startswith("metadata")
        return False
    return True


def _graphql_accepts_metadata(metadata: object) -> bool:
    try:
        validate_metadata(metadata)
    except ValueError:
        return False
    return True


_KEYS = st.one_of(
    st.just(""),
    st.text(max_size=3),
    st.text(min_size=60, max_size=70),
)
_VALUES = st.one_of(
    st.text(max_size=5),
    st.text(min_size=505, max_size=520),
    st.integers(),
    st.none(),
    st.booleans(),
)


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(_KEYS, _VALUES, max_size=18))
def test_store_and_graphql_accept_the_same_metadata(metadata: dict[str, Any]) -> None:
    valid = metadata_problem(metadata) is None
    assert _store_accepts_metadata(metadata) is valid
    assert _graphql_accepts_metadata(metadata) is valid


def test_an_empty_metadata_key_is_refused_by_both() -> None:
    """The drift of 0.1: GraphQL refused it, ``/v1`` stored it."""
    assert not _graphql_accepts_metadata({"": "v"})
    with pytest.raises(InvalidRequestError) as raised:
        new_thread({"metadata": {"": "v"}})
    assert (raised.value.param, raised.value.code) == ("metadata", "empty_string")


# --- 2. ids ---------------------------------------------------------------------------


def test_issued_ids_follow_the_contract_and_pass_the_gateway() -> None:
    for make, prefix, check in (
        (new_thread_id, THREAD_ID_PREFIX, check_thread_id),
        (new_message_id, MESSAGE_ID_PREFIX, check_message_id),
    ):
        ids = {make() for _ in range(200)}
        assert len(ids) == 200
        for issued in ids:
            suffix = issued.removeprefix(prefix)
            assert issued.startswith(prefix) and len(suffix) == ISSUED_ID_LENGTH
            assert set(suffix) <= set(ISSUED_ID_ALPHABET)
            assert ID_PATTERN.fullmatch(issued), "the gateway sends every id the store issues"
            assert check(issued) == issued
    assert ID_PATTERN.fullmatch(PROBE_THREAD_ID)
    assert PROBE_THREAD_ID.startswith(THREAD_ID_PREFIX)
    assert len(PROBE_THREAD_ID) == len(THREAD_ID_PREFIX) + ISSUED_ID_LENGTH


# --- 3. page sizes --------------------------------------------------------------------


def _store_accepts_limit(limit: int) -> bool:
    try:
        list_query({"limit": str(limit)})
    except InvalidRequestError:
        return False
    return True


def _graphql_accepts_first(first: int) -> bool:
    try:
        page_request(
            "thread_x", first=first, after=None, last=None, before=None,
            order=SortOrder.DESC, run_id=None,
        )  # fmt: skip
    except GatewayError:
        return False
    return True


def test_store_and_graphql_accept_the_same_page_sizes() -> None:
    sizes = range(MIN_PAGE_SIZE - 2, MAX_PAGE_SIZE + 3)
    store = [size for size in sizes if _store_accepts_limit(size)]
    graphql = [size for size in sizes if _graphql_accepts_first(size)]
    assert store == graphql == list(range(1, 101))
    assert list_query({}).limit == DEFAULT_PAGE_SIZE == 20
    default = page_request(
        "thread_x", first=None, after=None, last=None, before=None,
        order=SortOrder.DESC, run_id=None,
    )  # fmt: skip
    assert default.key.limit == DEFAULT_PAGE_SIZE


# --- 4. vocabularies ------------------------------------------------------------------


def test_graphql_enums_are_the_wire_vocabularies() -> None:
    assert tuple(role.value for role in MessageRole) == MESSAGE_ROLES
    assert tuple(status.value for status in MessageStatus) == MESSAGE_STATUSES
    assert {order.name.lower() for order in SortOrder} == set(LIST_ORDERS)


@pytest.mark.parametrize("role", [*MESSAGE_ROLES, "system", "tool", ""])
def test_the_store_accepts_exactly_the_contract_roles(role: str) -> None:
    try:
        new_message({"role": role, "content": "hi"})
    except InvalidRequestError as error:
        assert error.param == "role"
        accepted = False
    else:
        accepted = True
    assert accepted is (role in MESSAGE_ROLES)


# --- 5. text --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ("fine", None),
        ({"a": ["ok", {"b": "x\ud800"}]}, "$.a[1].b"),
        (["ok", "\udfff"], "$[1]"),
        ({"\ud800": "value"}, "$"),
        ({"a": "\ud800", "b": "\ud800"}, "$.a"),  # the first, in document order
        ({"k\ud800": {"x": "\udc00"}}, "$"),  # the key is found before what it holds
        ({"emoji": "\U0001f600"}, None),  # a surrogate *pair* in JSON is one character
    ],
)
def test_lone_surrogate_path(value: object, path: str | None) -> None:
    assert lone_surrogate_path(value) == path


def test_lone_surrogate_walk_survives_deep_nesting() -> None:
    value: Any = "\ud800"
    for _ in range(5_000):
        value = [value]
    assert lone_surrogate_path(value) == "$" + "[0]" * 5_000


def test_the_store_refuses_what_the_walk_finds() -> None:
    body = json.dumps({"metadata": {"k": "\ud800"}}).encode()
    assert lone_surrogate_path(json.loads(body)) == "$.metadata.k"
    with pytest.raises(InvalidRequestError, match="lone surrogate"):
        parse_json_body(body)


# --- 6. request ids -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("req_0123abc", True),
        ("a" * 128, True),
        ("a.b:c-d_e", True),
        ("a" * 129, False),
        ("", False),
        ("has space", False),
        ("new\nline", False),
        ("é", False),
    ],
)
def test_request_id_rule(value: str, kept: bool) -> None:
    assert is_request_id(value) is kept
    assert is_request_id(value.encode()) is kept


def _gateway_keeps(value: str) -> bool:
    scope = {"type": "http", "headers": [(b"x-request-id", value.encode())]}
    return request_id_of(Request(scope)) == value


async def _store_keeps(value: str, database: StoreBackend) -> bool:
    transport = httpx.ASGITransport(app=create_store_app(database, api_key=None))
    async with httpx.AsyncClient(transport=transport, base_url="http://store") as client:
        response = await client.get("/threads/thread_x", headers={"x-request-id": value})
    assert response.status_code == 404
    return response.headers["x-request-id"] == value


@pytest.mark.parametrize("value", ["r" * 64, "r" * 65, "r" * 100, "r" * 128, "r" * 129, "a b"])
async def test_store_and_gateway_keep_the_same_request_ids(value: str, tmp_path: Path) -> None:
    """A caller's id must survive both hops unchanged or be replaced by both."""
    assert _gateway_keeps(value) is is_request_id(value)
    async with SQLiteStore(tmp_path / "store.sqlite3") as database:
        assert await _store_keeps(value, database) is is_request_id(value)


# --- 7. JSON depth --------------------------------------------------------------------


def _nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


def test_json_depth() -> None:
    assert not json_deeper_than(0, 0)
    assert json_deeper_than([], 0)
    assert not json_deeper_than(_nested(MAX_JSON_DEPTH))
    assert json_deeper_than(_nested(MAX_JSON_DEPTH + 1))
    assert json_deeper_than({"a": {"b": {}}}, 2)
    assert not json_deeper_than({"a": {"b": {}}}, 3)
    assert json_deeper_than(_nested(100_000)), "no recursion"


def test_the_store_refuses_bodies_deeper_than_the_contract() -> None:
    deepest_valid = {
        "messages": [
            {
                "role": "user",
                "content": "hi",
                "attachments": [{"file_id": "f", "tools": [{"type": "file_search"}]}],
            }
        ]
    }
    assert not json_deeper_than(deepest_valid, 7)
    assert json_deeper_than(deepest_valid, 6)
    new_thread(parse_json_body(json.dumps(deepest_valid).encode()))
    too_deep = {"metadata": _nested(MAX_JSON_DEPTH)}
    with pytest.raises(InvalidRequestError, match="nested too deeply"):
        parse_json_body(json.dumps(too_deep).encode())
