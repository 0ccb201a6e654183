"""One structured log line per operation (gateway.schema.oplog)."""

from __future__ import annotations

import logging
import re
from types import SimpleNamespace

import pytest
from graphql import GraphQLError

from gateway.schema.oplog import OperationLog
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
    (line,) = lines(caplog)
    assert "name=- type=query" in line
    assert "codes=GRAPHQL_VALIDATION_FAILED" in line and "calls=0" in line


async def test_unknown_operation_name_is_refused_and_not_logged(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    # A document cannot name an operation "A\nforged=1"; a caller can only send it as
    # operationName. Strawberry refuses it before any extension runs: a 400, no
    # operation line, and the given name appears in no log record at all.
    caplog.set_level(logging.DEBUG)
    response = await gateway.http.post(
        "/graphql", json={"query": "query A { __typename }", "operationName": "A\nforged=1"}
    )
    assert response.status_code == 400
    assert lines(caplog) == []
    assert all("forged" not in record.getMessage() for record in caplog.records)


async def test_selected_operation_is_logged_by_its_name(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.operations")
    result = await gateway.graphql.execute(
        "query A { __typename } mutation B { __typename }", operation_name="B"
    )
    assert result.status == 200 and result.errors == []
    (line,) = lines(caplog)
    assert " name=B type=mutation " in line


def _ended(errors: list[GraphQLError]) -> None:
    """One operation through ``OperationLog.on_operation``, ending with ``errors``."""
    extension = OperationLog()
    extension.execution_context = SimpleNamespace(  # type: ignore[assignment]
        context=SimpleNamespace(request_id="req-9", session=None),
        result=SimpleNamespace(errors=errors),
        operation_name="Chat",
        graphql_document=None,
    )
    hook = extension.on_operation()
    next(hook)
    with pytest.raises(StopIteration):
        next(hook)


def test_at_warning_only_internal_errors_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    """An operator at ``LOG_LEVEL=warning`` still hears of the operations that failed
    inside the gateway; the others' lines are never worked out."""
    caplog.set_level(logging.WARNING, logger="gateway.operations")
    _ended([])
    _ended([GraphQLError("gone", extensions={"code": "NOT_FOUND"})])
    assert lines(caplog) == []
    _ended([GraphQLError("Internal server error.", extensions={"code": "INTERNAL_SERVER_ERROR"})])
    (line,) = lines(caplog)
    assert "request_id=req-9 name=Chat" in line and "codes=INTERNAL_SERVER_ERROR" in line
    assert caplog.records[-1].levelno == logging.ERROR
