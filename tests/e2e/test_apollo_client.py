"""Apollo Client 4 (npm ``@apollo/client``), as an application uses it, against a live gateway.

Apollo Client 4 asks for ``application/graphql-response+json`` first and, for
any other media type, turns a non-2xx answer into an opaque ``ServerError:
status 400`` that hides the GraphQL errors. A request refused before execution
must reach the application as typed GraphQL errors (``CombinedGraphQLErrors``)
with their ``extensions.code``. Driven by ``tests/e2e/js/apollo-errors.mjs``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.js_clients import run_node_script

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def cases(graphql_url: str) -> dict[str, Any]:
    seen: dict[str, Any] = run_node_script("apollo-errors.mjs", graphql_url)["cases"]
    return seen


def test_apollo_client_talks_to_the_gateway(cases: dict[str, Any]) -> None:
    assert cases["typename"] == {"ok": True, "data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    ("case", "code"),
    [("validation", "GRAPHQL_VALIDATION_FAILED"), ("badVariable", "BAD_USER_INPUT")],
)
def test_a_refused_request_reaches_the_app_as_typed_graphql_errors(
    cases: dict[str, Any], case: str, code: str
) -> None:
    seen = cases[case]
    assert seen["ok"] is False
    assert seen["errorClass"] == "CombinedGraphQLErrors", seen
    assert seen["graphQLErrors"] is True
    assert seen["serverError"] is False
    assert seen["codes"] == [code]
    assert seen["hasData"] is False  # the response had no data entry
