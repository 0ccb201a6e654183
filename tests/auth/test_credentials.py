"""A JWT signed for another key family, against a real ``messages-gateway serve`` process.

PyJWT fails *preparing the key* when the token's header names an algorithm of
another family than the configured key (an RSA key and ``ES256``, an EC key and
``RS256``, a JWKS key of the other kind): that must still be a 401
``UNAUTHENTICATED`` like any bad token, never an HTTP 500 with a stack trace.
Black box: real sockets, and the server's own log is read for tracebacks.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.resilience.stub import FaultStub, Reply, Seen, healthy, respond
from tests.store.server import SERVE_COMMAND, ServerProcess, free_port, server_env

QUERY = "{ __typename }"


class ConfiguredServer(ServerProcess):
    """``ServerProcess`` with extra ``GATEWAY_*`` settings in its environment."""

    def __init__(self, store_path: Path, workdir: Path, settings: dict[str, str]) -> None:
        self.settings = settings
        super().__init__(store_path, workdir)

    def _start(self) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.workdir / f"server-{self.port}.log"
        env = server_env(self.store_path, port=self.port, log_level="info")
        env.update(self.settings)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                SERVE_COMMAND, cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT
            )


def _pem(private: Any) -> str:
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def _token(private: Any, algorithm: str, **headers: str) -> str:
    claims = {"sub": "user-1", "exp": int(time.time()) + 600}
    return jwt.encode(claims, private, algorithm=algorithm, headers=headers or None)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    started: list[ServerProcess] = []

    def start(**settings: str) -> ServerProcess:
        server = ConfiguredServer(tmp_path / "s.sqlite3", tmp_path, settings)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def _assert_refused(server: ServerProcess, token: str) -> None:
    response = httpx.post(
        f"{server.base_url}/graphql",
        json={"query": QUERY},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 401, response.text
    body = response.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert "data" not in body


def _assert_accepted(server: ServerProcess, token: str) -> None:
    response = httpx.post(
        f"{server.base_url}/graphql",
        json={"query": QUERY},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    ("key", "good", "other_family"),
    [
        (RSA_KEY, "RS256", lambda: _token(EC_KEY, "ES256")),
        (EC_KEY, "ES256", lambda: _token(RSA_KEY, "RS256")),
    ],
    ids=["rsa-key-es256-token", "ec-key-rs256-token"],
)
def test_a_token_for_another_key_family_is_a_401(
    serve: Any, key: Any, good: str, other_family: Any
) -> None:
    server = serve(GATEWAY_JWT_KEY=_pem(key), GATEWAY_JWT_ALGORITHMS="RS256,ES256")
    _assert_accepted(server, _token(key, good))  # the key itself works
    for _ in range(3):
        _assert_refused(server, other_family())
    assert "Traceback" not in server.log


def test_a_jwks_key_of_another_family_is_a_401(serve: Any) -> None:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(RSA_KEY.public_key()))
    jwk.update(kid="key-1", use="sig")
    fetched: list[str] = []

    def handler(seen: Seen) -> Reply:
        if seen.path == "/.well-known/jwks.json":
            fetched.append(seen.path)
            return respond(200, {"keys": [jwk]})
        return healthy(seen)

    stub = FaultStub().start()
    try:
        stub.handler = handler
        server = serve(
            GATEWAY_JWT_JWKS_URL=f"{stub.url}/.well-known/jwks.json",
            GATEWAY_JWT_ALGORITHMS="RS256,ES256",
        )
        _assert_accepted(server, _token(RSA_KEY, "RS256", kid="key-1"))
        # A known kid, an RSA key behind it, and a token that claims ES256.
        for _ in range(3):
            _assert_refused(server, _token(EC_KEY, "ES256", kid="key-1"))
    finally:
        stub.stop()
    assert fetched  # the key set was asked for
    assert "Traceback" not in server.log
