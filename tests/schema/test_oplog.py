"""One structured log line per operation (gateway.schema.oplog)."""

from __future__ import annotations

import logging
import re

import pytest

from tests.conftest import Gateway

MISSING = "thread_" + "0" * 24


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "gateway.operations"]


async def test_one_line_per_operation(gateway: Gateway, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gateway.operations")
    await gateway.graphql.execute(
        "query Chat($id: ID!) { thread(id: $id) { id } }",
        {"id": MISSING},
        headers={"X-Request-Id": "req-123"},
    )
    (line,) = lines(caplog)
    assert re.fullmatch(
        r"operation request_id=req-123 name=Chat type=query ms=\d+\.\d calls=1 attempts=1 "
        r"codes=NOT_FOUND caller=-",
        line,
    ), line
    assert MISSING not in line  # variables are never logged


async def test_refused_operations_are_logged_too(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.operations")
    await gateway.graphql.execute("{ nope }")
    await gateway.http.post(
        "/graphql", json={"query": "query A { __typename }", "operationName": "A\nforged=1"}
    )
    first, *rest = lines(caplog)
    assert "codes=GRAPHQL_VALIDATION_FAILED" in first and "calls=0" in first
    assert all("forged" not in line for line in rest)
