"""Validation bombs (issue 9, finding 1) are refused before graphql-core validates them.

Each document of finding 1 passes the token, depth and alias limits and used to cost
seconds of event-loop CPU in ``OverlappingFieldsCanBeMerged``; now the shape walk
(gateway/schema/shape.py) refuses it first, with ``QUERY_TOO_COMPLEX`` naming the
limit, and nothing reaches the upstream. The black-box test drives a real server
process and checks, from outside, that a concurrent ``{ __typename }`` client is
still answered while two attackers send batches of them.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query, parse

from gateway.schema.shape import ShapeLimits, check_shape
from tests.conftest import Gateway, SettingsFactory, start_gateway
from tests.resilience.stub import FaultStub
from tests.schema.attacks import ATTACKS, fragments_on_thread
from tests.schema.served import ConfiguredServer

AUTH = {"Authorization": "Bearer caller-token-for-the-stub"}
DEFAULTS = ShapeLimits(
    aliases=100, selection_set_fields=100, fragment_spreads=200, selections=1500, field_pairs=2000
)
# The limit each attack trips first under the default settings.
EXPECTED = {
    "fragments": "fragmentSpreads",
    "same-name": "fieldPairs",
    "identical": "fieldPairs",
    "schema-typenames": "fieldPairs",
}


@pytest.fixture
async def gateway(make_settings: SettingsFactory, stub: FaultStub) -> AsyncIterator[Gateway]:
    async for running in start_gateway(make_settings(upstream_url=stub.url, max_retries=0)):
        yield running


def refusal(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" in body, body
    assert len(body["errors"]) == 1, body["errors"]
    extensions: dict[str, Any] = body["errors"][0]["extensions"]
    assert extensions["code"] == "QUERY_TOO_COMPLEX", body
    return extensions


@pytest.mark.parametrize("name", sorted(ATTACKS))
async def test_each_validation_bomb_is_refused_before_validation(
    gateway: Gateway, stub: FaultStub, name: str
) -> None:
    result = await gateway.graphql.execute(ATTACKS[name](), headers=AUTH)
    assert result.status == 400
    extensions = refusal(result.body)
    assert extensions["limit"] == EXPECTED[name]
    assert extensions["actual"] > extensions["maximum"]
    assert stub.count() == 0


@pytest.mark.parametrize(
    ("limit", "setting", "document"),
    [
        (
            "selectionSetFields",
            "max_selection_set_fields",
            "{ a: __typename b: __typename c: __typename }",
        ),
        (
            "fragmentSpreads",
            "max_fragment_spreads",
            "{ ...Q ...Q ...Q } fragment Q on Query { __typename }",
        ),
        ("selections", "max_selections", "{ a: __typename b: __typename c: __typename }"),
        ("fieldPairs", "max_field_pairs", "{ __typename __typename __typename }"),
    ],
)
async def test_each_shape_limit_is_a_setting(
    make_settings: SettingsFactory, stub: FaultStub, limit: str, setting: str, document: str
) -> None:
    settings = make_settings(upstream_url=stub.url, **{setting: 2})
    async for gateway in start_gateway(settings):
        for _ in range(3):  # the same document, refused every time (document_memo.py)
            result = await gateway.graphql.execute(document, headers=AUTH)
            assert result.status == 400
            extensions = refusal(result.body)
            assert (extensions["limit"], extensions["maximum"]) == (limit, 2)
            assert extensions["actual"] == 3
        # One less is fine.
        fewer = document.replace("c: __typename", "").replace("...Q ...Q ...Q", "...Q ...Q")
        fewer = fewer.replace("{ __typename __typename __typename }", "{ __typename __typename }")
        assert "Query" in (await gateway.graphql.data(fewer, headers=AUTH)).values()
    assert stub.count() == 0


def test_the_walk_merges_as_execution_does() -> None:
    def limit(document: str, **limits: int) -> str | None:
        error = check_shape(parse(document), dataclasses.replace(DEFAULTS, **limits))
        return None if error is None else str((error.extensions or {})["limit"])

    # Fields of one response name from different places merge into one selection set.
    merged = '{ thread(id: "t") { id createdAt } thread(id: "t") { metadata } }'
    assert limit(merged, selection_set_fields=2) == "selectionSetFields"
    assert limit(merged, selection_set_fields=3) is None
    # Aliased apart, they are two sets of one field each.
    assert (
        limit(
            '{ a: thread(id: "t") { id createdAt } b: thread(id: "t") { metadata } }',
            selection_set_fields=2,
        )
        is None
    )
    # Fragments count where they are spread (twice here), and once on their own.
    twice = (
        '{ thread(id: "t") { ...F } other: thread(id: "u") { ...F } } fragment F on Thread { id }'
    )
    assert limit(twice, selections=5) is None
    assert limit(twice, selections=4) == "selections"
    # A fragment cycle is left to validation, not walked forever.
    assert limit("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }") is None
    # A deep document does not exhaust the stack.
    deep = "{ " + 'thread(id: "t") { messages { nodes { ' * 60 + "id" + " } } }" * 60 + " }"
    assert limit(deep) is None


def test_ordinary_documents_are_well_within_the_shape_limits() -> None:
    assert check_shape(parse(get_introspection_query(descriptions=True)), DEFAULTS) is None
    # A fragment-rich screen: 30 components each asking for id and __typename.
    spreads = " ".join(f"...C{i}" for i in range(30))
    fragments = " ".join(f"fragment C{i} on Thread {{ id __typename metadata }}" for i in range(30))
    assert (
        check_shape(parse(f'{{ thread(id: "t") {{ {spreads} }} }} {fragments}'), DEFAULTS) is None
    )


@pytest.mark.parametrize(
    "document",
    [
        '{ messages(threadId: "thread_x", first: ' + "1" * 4301 + ") { nodes { id } } }",
        "query($n: Int = "
        + "1" * 4301
        + ') { messages(threadId: "thread_x", first: $n) { nodes { id } } }',
    ],
    ids=["literal", "variable default"],
)
async def test_a_4301_digit_int_literal_is_a_validation_error(
    gateway: Gateway, stub: FaultStub, document: str
) -> None:
    result = await gateway.graphql.execute(document, headers=AUTH)
    assert result.status == 400, result.body
    assert result.codes == ["GRAPHQL_VALIDATION_FAILED"]
    message = result.errors[0]["message"]
    assert "Int" in message and len(message) <= 300
    assert "Traceback" not in str(result.body)
    assert stub.count() == 0


# --- black box: a real server, two attackers, one ordinary client ---------------------


@pytest.fixture
def served(tmp_path: Path, stub: FaultStub) -> Iterator[ConfiguredServer]:
    server = ConfiguredServer(
        tmp_path, upstream_url=stub.url, allow_batching="true", max_retries="0"
    )
    try:
        yield server
    finally:
        server.stop()


# Generous: each refusal takes milliseconds now; before, a batch of ten took ~14 s and a
# concurrent client waited for it.
HANG_BOUND_SECONDS = 5.0


def test_validation_bombs_do_not_stall_a_real_server(
    served: ConfiguredServer, stub: FaultStub
) -> None:
    url = f"{served.base_url}/graphql"
    refusals: list[tuple[str, float]] = []
    ordinary: list[float] = []
    failures: list[str] = []
    stop = threading.Event()

    def attacker() -> None:
        with httpx.Client(timeout=60) as client:
            for round_ in range(3):
                for name, build in [*ATTACKS.items(), ("batch", None)]:
                    payload: Any = (
                        [{"query": fragments_on_thread()} for _ in range(10)]
                        if build is None
                        else {"query": build()}
                    )
                    started = time.monotonic()
                    response = client.post(url, json=payload, headers=AUTH)
                    elapsed = time.monotonic() - started
                    bodies = response.json() if build is None else [response.json()]
                    for body in bodies:
                        try:
                            refusal(body)
                        except AssertionError as error:
                            failures.append(f"{name} round {round_}: {error}")
                    refusals.append((name, elapsed))

    def ordinary_client() -> None:
        with httpx.Client(timeout=60) as client:
            while not stop.is_set():
                started = time.monotonic()
                response = client.post(url, json={"query": "{ __typename }"})
                ordinary.append(time.monotonic() - started)
                if response.json() != {"data": {"__typename": "Query"}}:
                    failures.append(f"ordinary client: {response.text}")
                time.sleep(0.01)

    normal = threading.Thread(target=ordinary_client)
    attackers = [threading.Thread(target=attacker) for _ in range(2)]
    normal.start()
    for thread in attackers:
        thread.start()
    for thread in attackers:
        thread.join(timeout=120)
    stop.set()
    normal.join(timeout=60)

    assert not failures, failures
    assert len(refusals) == 2 * 3 * (len(ATTACKS) + 1)
    assert len(ordinary) > 0
    slowest_refusal = max(refusals, key=lambda item: item[1])
    assert slowest_refusal[1] < HANG_BOUND_SECONDS, slowest_refusal
    assert max(ordinary) < HANG_BOUND_SECONDS, max(ordinary)
    assert stub.count() == 0
