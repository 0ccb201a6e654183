"""Through GraphQL: what a hostile upstream says never reaches a caller unscrubbed.

The upstream echoes the forwarded bearer, the server key, its own host and an
internal URL into every field it controls (``type``, ``code``, ``param``,
``message``, ``X-Request-Id``, ``retry-after-ms``); the GraphQL answer, errors and
``userErrors`` alike, carries none of it, and ``retryAfter`` stays sane.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import pytest
import respx

from gateway.upstream._retry import MAX_RETRY_AFTER
from tests.conftest import Gateway, SettingsFactory, start_gateway
from tests.schema.wire import THREAD_ID, error_json

BASE = "http://internal-upstream.corp.test/v1"
CALLER = "caller-token-5e1d0c9b8a7f"
SERVER_KEY = "Prov1derKeyNoPrefix-77aa88bb99cc"
AUTH = {"Authorization": f"Bearer {CALLER}"}
LOCATIONS = ("internal-upstream", "10.1.2.3")


def hostile_error(status_message: str, secret: str) -> dict[str, object]:
    return error_json(
        f"{status_message} for Bearer {secret} at http://10.1.2.3:8080/v1 ({secret[2:18]})",
        type_=f"auth_{secret}",
        param=f"thread_id.{secret.replace('-', '_')}",
        code="internal-upstream.corp.test",
    )


HOSTILE_HEADERS = {"x-request-id": f"{BASE}/trace", "retry-after-ms": "1e308"}


def assert_no_leak(body: object, secret: str) -> None:
    text = json.dumps(body)
    for leak in (secret, secret[:12], secret[-12:], *LOCATIONS):
        assert leak not in text, (leak, text)


@pytest.fixture
def upstream() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture(params=["forwarding", "keyed"])
async def remote(
    request: pytest.FixtureRequest, make_settings: SettingsFactory
) -> AsyncIterator[tuple[Gateway, str]]:
    """The gateway on a remote upstream, and the secret that upstream is sent.

    ``forwarding``: no server key, the caller's bearer goes upstream (and may be
    echoed back); ``keyed``: a server key without any recognisable prefix.
    """
    if request.param == "forwarding":
        settings, secret = (
            make_settings(upstream_url=BASE, upstream_transport="httpx", max_retries=0),
            CALLER,
        )
    else:
        settings = make_settings(
            upstream_url=BASE,
            upstream_transport="httpx",
            upstream_api_key=SERVER_KEY,
            auth_required=False,
            max_retries=0,
        )
        secret = SERVER_KEY
    async for running in start_gateway(settings):
        yield running, secret


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, "BAD_USER_INPUT"), (404, "NOT_FOUND"), (429, "RATE_LIMITED"), (500, "UPSTREAM_ERROR")],
)
async def test_a_query_error_relays_nothing_hostile(
    remote: tuple[Gateway, str], upstream: respx.MockRouter, status: int, code: str
) -> None:
    gateway, secret = remote
    route = upstream.get(f"/threads/{THREAD_ID}").respond(
        status, json=hostile_error("No thread found", secret), headers=HOSTILE_HEADERS
    )
    result = await gateway.graphql.execute(
        "query($id: ID!) { thread(id: $id) { id } }", {"id": THREAD_ID}, headers=AUTH
    )
    assert route.call_count == 1
    assert result.codes == [code]
    extensions = result.errors[0]["extensions"]
    assert extensions["upstream"]["status"] == status
    assert extensions["upstream"]["type"] == ""
    assert extensions["upstream"]["code"] is None
    assert extensions["upstream"]["param"] is None
    assert extensions["upstream"]["requestId"] != f"{BASE}/trace"
    if status == 429:
        assert extensions["retryAfter"] == MAX_RETRY_AFTER
    assert_no_leak(result.body, secret)


async def test_a_mutation_user_error_relays_nothing_hostile(
    remote: tuple[Gateway, str], upstream: respx.MockRouter
) -> None:
    gateway, secret = remote
    route = upstream.post(f"/threads/{THREAD_ID}/messages").respond(
        400, json=hostile_error("Invalid 'content'", secret), headers=HOSTILE_HEADERS
    )
    result = await gateway.graphql.execute(
        'mutation($t: ID!) { createMessage(input: {threadId: $t, text: "x"}) '
        "{ message { id } userErrors { code message field } } }",
        {"t": THREAD_ID},
        headers=AUTH,
    )
    assert route.call_count == 1
    assert result.errors == []
    [user_error] = result.data["createMessage"]["userErrors"]
    assert user_error["code"] == "INVALID"
    assert user_error["field"] is None  # the param named no input field
    assert user_error["message"]  # something is said, just not the secrets
    assert_no_leak(result.body, secret)


async def test_a_mutation_user_error_keeps_a_well_formed_param(
    remote: tuple[Gateway, str], upstream: respx.MockRouter
) -> None:
    gateway, _ = remote
    upstream.post(f"/threads/{THREAD_ID}/messages").respond(
        400,
        json=error_json("Invalid 'metadata.topic': string too long.", param="metadata.topic"),
        headers={"x-request-id": "req_ok_1"},
    )
    result = await gateway.graphql.execute(
        'mutation($t: ID!) { createMessage(input: {threadId: $t, text: "x"}) '
        "{ message { id } userErrors { code message field } } }",
        {"t": THREAD_ID},
        headers=AUTH,
    )
    assert result.data["createMessage"]["userErrors"] == [
        {
            "code": "INVALID",
            "message": "Invalid 'metadata.topic': string too long.",
            "field": ["metadata", "topic"],
        }
    ]
