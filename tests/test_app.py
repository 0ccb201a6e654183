"""``create_app``: how the pieces are put together."""

from __future__ import annotations

import hashlib
import logging

import pytest

from tests.conftest import SettingsFactory, start_gateway

TOKEN = "gateway-token-for-app-tests"
DIGEST = hashlib.sha256(TOKEN.encode()).hexdigest()


async def test_with_gateway_auth_the_store_is_no_side_door(make_settings: SettingsFactory) -> None:
    settings = make_settings(auth_token_hashes=[DIGEST])
    async for gateway in start_gateway(settings):
        # GraphQL, with the gateway credential, reaches the store in-process ...
        created = await gateway.graphql.data(
            "mutation { createThread { thread { id } } }",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        thread_id = created["createThread"]["thread"]["id"]
        # ... but /v1 answers no one: not without a key, not with the gateway token.
        for headers in ({}, {"Authorization": f"Bearer {TOKEN}"}):
            response = await gateway.http.get(f"/v1/threads/{thread_id}", headers=headers)
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "invalid_api_key"


async def test_a_configured_store_key_opens_the_store(make_settings: SettingsFactory) -> None:
    settings = make_settings(auth_token_hashes=[DIGEST], store_api_key="store-key-for-rest")
    async for gateway in start_gateway(settings):
        response = await gateway.http.post(
            "/v1/threads", json={}, headers={"Authorization": "Bearer store-key-for-rest"}
        )
        assert response.status_code == 200
        thread_id = response.json()["id"]
        # The gateway's own client uses that key too.
        data = await gateway.graphql.data(
            "query($id: ID!) { thread(id: $id) { id } }",
            {"id": thread_id},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert data == {"thread": {"id": thread_id}}


async def test_without_gateway_auth_the_store_stays_open(make_settings: SettingsFactory) -> None:
    async for gateway in start_gateway(make_settings()):
        response = await gateway.http.post("/v1/threads", json={})
        assert response.status_code == 200


async def test_an_operation_name_that_is_not_a_string_is_a_400(
    make_settings: SettingsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async for gateway in start_gateway(make_settings()):
        response = await gateway.http.post(
            "/graphql", json={"query": "query A { __typename }", "operationName": 5}
        )
        assert response.status_code == 400
        assert not any(record.exc_info for record in caplog.records)
        assert "Traceback" not in caplog.text
