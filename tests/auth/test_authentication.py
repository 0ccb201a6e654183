"""Gateway authentication when the gateway holds the upstream key.

The upstream is a real loopback stub that records every request, so "costs no
upstream call" and "the caller's token never goes upstream" are observed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from gateway.auth import Authenticator, token_digest
from gateway.config import Settings
from tests.conftest import Gateway, SettingsFactory, start_gateway
from tests.resilience.stub import FaultStub, Reply, Seen, healthy, respond
from tests.schema.wire import THREAD_ID

SERVER_KEY = "sk-gateway-held-key-5c1e9a7b"
TOKEN = "gw-static-token-8d2f61a0c4"
HS_SECRET = "hs256-secret-for-tests-0123456789abcdef"
ISSUER = "https://issuer.test"
AUDIENCE = "messages-gateway"
QUERY = "query($id: ID!) { thread(id: $id) { id } }"


@pytest.fixture(scope="module")
def rsa_keys() -> tuple[Any, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public_pem


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "sub": "user-42",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 300,
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def hs_token(**overrides: Any) -> str:
    return jwt.encode(claims(**overrides), HS_SECRET, algorithm="HS256")


def hmac_signed(payload: dict[str, Any], secret: bytes) -> str:
    """An HS256 JWT signed by hand (pyjwt refuses a PEM key as an HMAC secret)."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = b64(b'{"alg":"HS256","typ":"JWT"}') + "." + b64(json.dumps(payload).encode())
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(signature)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def held_key_settings(make_settings: SettingsFactory, url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "upstream_url": url,
        "upstream_api_key": SERVER_KEY,
        "auth_token_hashes": token_digest(TOKEN),
        "jwt_key": HS_SECRET,
        "jwt_issuer": ISSUER,
        "jwt_audience": AUDIENCE,
        "max_retries": 0,
    }
    values.update(overrides)
    return make_settings(**values)


@pytest.fixture
async def gateway(make_settings: SettingsFactory, stub: FaultStub) -> AsyncIterator[Gateway]:
    async for running in start_gateway(held_key_settings(make_settings, stub.url)):
        yield running


async def refused(gateway: Gateway, headers: dict[str, str]) -> dict[str, Any]:
    response = await gateway.http.post(
        "/graphql", json={"query": QUERY, "variables": {"id": THREAD_ID}}, headers=headers
    )
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert "data" not in body  # nothing executed (GraphQL-over-HTTP)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    return body


async def test_no_token(gateway: Gateway, stub: FaultStub) -> None:
    body = await refused(gateway, {})
    assert "Authorization: Bearer" in body["errors"][0]["message"]
    body = await refused(gateway, {"Authorization": "Basic dXNlcjpwYXNz"})
    assert stub.count() == 0


async def test_wrong_token(gateway: Gateway, stub: FaultStub) -> None:
    await refused(gateway, bearer(TOKEN + "x"))
    await refused(gateway, bearer("a.b.c"))
    await refused(gateway, bearer(SERVER_KEY))  # the upstream key is no gateway credential
    assert stub.count() == 0


async def test_get_queries_need_the_credential_too(gateway: Gateway, stub: FaultStub) -> None:
    response = await gateway.http.get("/graphql", params={"query": "{ __typename }"})
    assert response.status_code == 401
    response = await gateway.http.get(
        "/graphql", params={"query": "{ __typename }"}, headers=bearer(TOKEN)
    )
    assert response.status_code == 200
    assert response.json()["data"] == {"__typename": "Query"}


async def test_valid_static_token_uses_the_server_key_upstream(
    gateway: Gateway, stub: FaultStub
) -> None:
    data = await gateway.graphql.data(QUERY, {"id": THREAD_ID}, headers=bearer(TOKEN))
    assert data == {"thread": {"id": THREAD_ID}}
    assert stub.count() == 1
    sent = stub.seen[0].headers
    assert sent["authorization"] == f"Bearer {SERVER_KEY}"
    assert TOKEN not in json.dumps(sent)


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (lambda: hs_token(exp=int(time.time()) - 3600), "expired"),
        (lambda: hs_token(aud="someone-else"), "not meant for this gateway"),
        (lambda: hs_token(iss="https://evil.test"), "issuer"),
        (lambda: hs_token(exp=None), "not valid"),  # exp is required
        (lambda: hs_token(sub=None), "not valid"),  # sub is required
        (lambda: hs_token(sub="token:0123456789ab"), "subject"),  # static tokens' namespace
        (lambda: hs_token(nbf=int(time.time()) + 3600), "not valid"),
        (lambda: jwt.encode(claims(), HS_SECRET + "-wrong", algorithm="HS256"), "not valid"),
        (lambda: jwt.encode(claims(), None, algorithm="none"), "not valid"),
    ],
    ids=[
        "expired",
        "wrong-audience",
        "wrong-issuer",
        "no-exp",
        "no-sub",
        "token-namespace-sub",
        "not-yet-valid",
        "wrongly-signed",
        "alg-none",
    ],
)
async def test_rejected_jwts(gateway: Gateway, stub: FaultStub, token: Any, message: str) -> None:
    body = await refused(gateway, bearer(token()))
    assert message in body["errors"][0]["message"]
    assert stub.count() == 0


async def test_valid_hs256_jwt(gateway: Gateway, stub: FaultStub) -> None:
    data = await gateway.graphql.data(QUERY, {"id": THREAD_ID}, headers=bearer(hs_token()))
    assert data == {"thread": {"id": THREAD_ID}}
    assert stub.seen[0].headers["authorization"] == f"Bearer {SERVER_KEY}"


async def test_rs256_with_a_pem_key(
    make_settings: SettingsFactory, stub: FaultStub, rsa_keys: tuple[Any, str]
) -> None:
    private, public_pem = rsa_keys
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings = held_key_settings(make_settings, stub.url, jwt_key=public_pem)
    async for gateway in start_gateway(settings):
        good = jwt.encode(claims(), private, algorithm="RS256")
        data = await gateway.graphql.data(QUERY, {"id": THREAD_ID}, headers=bearer(good))
        assert data == {"thread": {"id": THREAD_ID}}
        await refused(gateway, bearer(jwt.encode(claims(), other, algorithm="RS256")))
        # Algorithm confusion: the public key used as an HMAC secret.
        await refused(gateway, bearer(hmac_signed(claims(), public_pem.encode())))
    assert stub.count() == 1


async def test_jwks_url(
    make_settings: SettingsFactory, stub: FaultStub, rsa_keys: tuple[Any, str]
) -> None:
    private, _ = rsa_keys
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update(kid="key-1", use="sig", alg="RS256")

    def handler(seen: Seen) -> Reply:
        if seen.path == "/.well-known/jwks.json":
            return respond(200, {"keys": [jwk]})
        return healthy(seen)

    stub.handler = handler
    settings = held_key_settings(
        make_settings, stub.url, jwt_key=None, jwt_jwks_url=f"{stub.url}/.well-known/jwks.json"
    )
    async for gateway in start_gateway(settings):
        token = jwt.encode(claims(), private, algorithm="RS256", headers={"kid": "key-1"})
        for _ in range(3):
            data = await gateway.graphql.data(QUERY, {"id": THREAD_ID}, headers=bearer(token))
            assert data == {"thread": {"id": THREAD_ID}}
        unknown = jwt.encode(claims(), private, algorithm="RS256", headers={"kid": "key-2"})
        await refused(gateway, bearer(unknown))
    fetched = [s for s in stub.seen if s.path.endswith("jwks.json")]
    assert 1 <= len(fetched) <= 2  # cached (one more fetch for the unknown kid at most)


@pytest.mark.parametrize(
    "broken",
    [
        respond(200, "{not json"),
        respond(200, {"keys": "not a list"}),
        respond(200, {"keys": [{"kty": "nonsense"}]}),
        respond(503, {"error": "down"}),
    ],
    ids=["not-json", "keys-not-a-list", "unusable-key", "503"],
)
async def test_a_broken_key_set_is_a_401_not_a_500(
    make_settings: SettingsFactory, stub: FaultStub, rsa_keys: tuple[Any, str], broken: Reply
) -> None:
    private, _ = rsa_keys

    def handler(seen: Seen) -> Reply:
        if seen.path == "/.well-known/jwks.json":
            return broken
        return healthy(seen)

    stub.handler = handler
    settings = held_key_settings(
        make_settings, stub.url, jwt_key=None, jwt_jwks_url=f"{stub.url}/.well-known/jwks.json"
    )
    async for gateway in start_gateway(settings):
        token = jwt.encode(claims(), private, algorithm="RS256", headers={"kid": "key-1"})
        await refused(gateway, bearer(token))
    # The key set was asked for; the upstream never was.
    assert [s.path for s in stub.seen] and all(s.path.endswith("jwks.json") for s in stub.seen)


async def test_no_secret_in_any_response_or_log_line(
    make_settings: SettingsFactory, stub: FaultStub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    jwt_token = hs_token()
    bodies: list[str] = []
    async for gateway in start_gateway(held_key_settings(make_settings, stub.url)):
        for headers in ({}, bearer(TOKEN), bearer(TOKEN + "x"), bearer(jwt_token)):
            response = await gateway.http.post(
                "/graphql",
                json={
                    "query": "query Look($id: ID!) { thread(id: $id) { id } }",
                    "variables": {"id": THREAD_ID},
                },
                headers=headers,
            )
            bodies.append(response.text)
        stub.handler = lambda seen: respond(
            500, {"error": {"message": f"boom {SERVER_KEY}", "type": "x"}}
        )
        response = await gateway.http.post(
            "/graphql",
            json={"query": QUERY, "variables": {"id": THREAD_ID}},
            headers=bearer(jwt_token),
        )
        bodies.append(response.text)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (TOKEN, SERVER_KEY, HS_SECRET, jwt_token, token_digest(TOKEN)):
        assert secret not in logged
        assert all(secret not in body for body in bodies)
    # One line per operation, naming the caller by subject only.
    lines = [r.getMessage() for r in caplog.records if r.name == "gateway.operations"]
    assert any(f"caller=token:{token_digest(TOKEN)[:12]}" in line for line in lines)
    assert any("caller=user-42" in line and "name=Look" in line for line in lines)
    assert any("codes=UPSTREAM_ERROR" in line for line in lines)


def test_auth_is_required_when_the_gateway_holds_the_key(make_settings: SettingsFactory) -> None:
    remote = {"upstream_url": "http://upstream.test"}
    assert Authenticator.from_settings(make_settings(**remote, upstream_api_key="k")).required
    assert not Authenticator.from_settings(make_settings(**remote)).required
    assert not Authenticator.from_settings(make_settings()).required  # embedded, open
    assert Authenticator.from_settings(make_settings(auth_token_hashes=token_digest("t"))).required
    assert Authenticator.from_settings(make_settings(owner_metadata_key="owner")).required
    explicit = make_settings(**remote, upstream_api_key="k", auth_required=False)
    assert not Authenticator.from_settings(explicit).required


def test_bad_configuration_is_refused_at_startup(make_settings: SettingsFactory) -> None:
    with pytest.raises(ValidationError, match="SHA-256"):
        make_settings(auth_token_hashes="not-a-digest")
    with pytest.raises(ValidationError, match="not both"):
        make_settings(jwt_key="s", jwt_jwks_url="http://x.test/jwks")
    with pytest.raises(ValueError, match="HMAC"):
        Authenticator.from_settings(make_settings(jwt_key="secret", jwt_algorithms="RS256"))
    # Digests are accepted in either case.
    upper = make_settings(auth_token_hashes=token_digest("t").upper())
    assert upper.auth_token_hashes == [token_digest("t")]
