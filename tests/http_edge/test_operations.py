"""``gateway.http_edge._operations``: what a well-formed ``/graphql`` request is."""

from __future__ import annotations

import json

import pytest

from gateway.http_edge._answers import EdgeRefusalError
from gateway.http_edge._operations import check_body, check_query_string
from gateway.wire_contract import MAX_JSON_DEPTH


def refused(body: bytes, *, allow_batching: bool = False) -> EdgeRefusalError:
    with pytest.raises(EdgeRefusalError) as caught:
        check_body(body, allow_batching=allow_batching)
    return caught.value


def passes(body: bytes, *, allow_batching: bool) -> bool:
    """Whether ``check_body`` lets ``body`` through (it raises to refuse)."""
    try:
        check_body(body, allow_batching=allow_batching)
    except EdgeRefusalError:
        return False
    return True


def test_one_operation_passes() -> None:
    single = b'{"query": "{ __typename }", "variables": null}'
    batch = b'[{"query": "{ a }"}, {"query": "{ b }", "operationName": "B"}]'
    assert passes(single, allow_batching=False)
    assert passes(batch, allow_batching=True)
    # The same bodies with one thing wrong are refused: the pass was the check's verdict.
    assert refused(single.replace(b"null", b'"x"')).code == "BAD_USER_INPUT"
    assert refused(batch).code == "BATCHING_DISABLED"
    bad_batch = batch.replace(b'"B"', b"1")
    assert "Operation 1 of the batch" in refused(bad_batch, allow_batching=True).message


def test_depth_limit_is_exact() -> None:
    ok = {
        "query": "{ a }",
        "variables": {"v": json.loads("[" * (MAX_JSON_DEPTH - 2) + "]" * (MAX_JSON_DEPTH - 2))},
    }
    check_body(json.dumps(ok).encode(), allow_batching=False)
    deep = {
        "query": "{ a }",
        "variables": {"v": json.loads("[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1))},
    }
    assert "nested too deeply" in refused(json.dumps(deep).encode()).message


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"\xff", "UTF-8"),
        (b'{"query": ', "not valid JSON"),
        (b'{"query": "a", "n": ' + b"9" * 5000 + b"}", "too many digits"),
        (b"[" * 5000 + b"]" * 5000, "not enabled"),
        (b"null", "JSON object"),
        (b'{"query": "a", "extensions": []}', "'extensions'"),
        (b'{"query": "a", "operationName": 1}', "'operationName'"),
    ],
)
def test_refusals(body: bytes, fragment: str) -> None:
    refusal = refused(body)
    assert refusal.status == 400
    assert fragment in refusal.message
    assert "data" not in json.loads(refusal.body_for("/graphql"))


def test_batches_when_allowed() -> None:
    assert "no operation" in refused(b"[]", allow_batching=True).message
    assert "Operation 1" in refused(b'[{"query": "a"}, 2]', allow_batching=True).message
    assert refused(b'[{"query": "a"}]').code == "BATCHING_DISABLED"


def test_query_strings() -> None:
    check_query_string(b"")  # the IDE page
    check_query_string(b"query=%7Ba%7D&variables=%7B%7D")
    with pytest.raises(EdgeRefusalError, match="UTF-8"):
        check_query_string(b"query=%FF")
    with pytest.raises(EdgeRefusalError, match="'variables'"):
        check_query_string(b"query=a&variables=%5B%5D")
