"""Configurations that cannot be safe, or cannot work, are refused at start (DESIGN.md §8).

Black box: ``messages-gateway serve`` is started with each environment and must exit
2 before serving, with one line naming the setting: no traceback, and never the
value (it may be a key).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.config import Settings
from tests.test_cli import serve

SECRET = "hunter2-secret"
TOKEN_DIGEST = hashlib.sha256(b"t").hexdigest()
PUBLIC_PEM = (
    rsa.generate_private_key(public_exponent=65537, key_size=2048)
    .public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)
REMOTE = {
    "GATEWAY_UPSTREAM_URL": "http://127.0.0.1:9/v1",
    "GATEWAY_AUTH_TOKEN_HASHES": TOKEN_DIGEST,
}


@pytest.mark.parametrize(
    ("env", "setting", "value"),
    [
        ({**REMOTE, "GATEWAY_UPSTREAM_API_KEY": f"sk-{SECRET}\n"}, "upstream_api_key", SECRET),
        (
            {**REMOTE, "GATEWAY_UPSTREAM_API_KEY": f"sk-{SECRET}\r\nX: y"},
            "upstream_api_key",
            SECRET,
        ),
        ({**REMOTE, "GATEWAY_UPSTREAM_API_KEY": f"sk-\x1b{SECRET}"}, "upstream_api_key", SECRET),
        ({"GATEWAY_STORE_API_KEY": f"{SECRET}\n"}, "store_api_key", SECRET),
        (
            {"GATEWAY_JWT_KEY": PUBLIC_PEM, "GATEWAY_JWT_ALGORITHMS": "HS256"},
            "GATEWAY_JWT_ALGORITHMS",
            PUBLIC_PEM.splitlines()[1],
        ),
        (
            {"GATEWAY_JWT_KEY": SECRET, "GATEWAY_JWT_ALGORITHMS": "RS256,ES256"},
            "GATEWAY_JWT_ALGORITHMS",
            SECRET,
        ),
        (
            {
                "GATEWAY_OWNER_METADATA_KEY": "owner",
                "GATEWAY_AUTH_REQUIRED": "false",
                "GATEWAY_AUTH_TOKEN_HASHES": TOKEN_DIGEST,
            },
            "GATEWAY_OWNER_METADATA_KEY",
            TOKEN_DIGEST,
        ),
        (
            {"GATEWAY_OWNER_METADATA_KEY": "", "GATEWAY_AUTH_TOKEN_HASHES": TOKEN_DIGEST},
            "GATEWAY_OWNER_METADATA_KEY",
            TOKEN_DIGEST,
        ),
        (
            {"GATEWAY_OWNER_METADATA_KEY": "o" * 65, "GATEWAY_AUTH_TOKEN_HASHES": TOKEN_DIGEST},
            "GATEWAY_OWNER_METADATA_KEY",
            "o" * 65,
        ),
    ],
    ids=[
        "newline-in-upstream-key",
        "header-injection-in-upstream-key",
        "escape-in-upstream-key",
        "newline-in-store-key",
        "hs256-with-a-pem-key",
        "rs-es-with-a-secret",
        "owner-isolation-without-auth",
        "empty-owner-key",
        "owner-key-over-the-key-limit",
    ],
)
def test_an_unsafe_configuration_is_one_clean_line_naming_the_setting(
    tmp_path: Path, env: dict[str, str], setting: str, value: str
) -> None:
    result = serve(tmp_path, **env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert value not in result.stderr + result.stdout
    naming = [line for line in result.stderr.splitlines() if setting in line]
    assert len(naming) == 1, result.stderr
    assert result.stderr.startswith("messages-gateway: invalid configuration")
    assert len(result.stderr.strip().splitlines()) == 2, result.stderr  # header + the one problem
    assert not (tmp_path / "s.sqlite3").exists()  # refused before the store was opened


def test_safe_neighbours_of_those_configurations_are_accepted(tmp_path: Path) -> None:
    base = {"_env_file": None, "store_path": tmp_path / "s.sqlite3"}
    # Owner isolation with authentication left to its default: authentication is on.
    assert Settings(**base, owner_metadata_key="owner").owner_metadata_key == "owner"
    assert Settings(**base, owner_metadata_key="owner", auth_required=True).auth_required
    # Owner keys of 1 and of 64 characters (the metadata key limit).
    assert Settings(**base, owner_metadata_key="o").owner_metadata_key == "o"
    assert Settings(**base, owner_metadata_key="o" * 64).owner_metadata_key == "o" * 64
    # A PEM key with an asymmetric algorithm, a secret with HS256, printable keys.
    assert Settings(**base, jwt_key=PUBLIC_PEM, jwt_algorithms="RS256").jwt_algorithms == ["RS256"]
    assert Settings(**base, jwt_key=SECRET, jwt_algorithms="HS256").jwt_algorithms == ["HS256"]
    key = Settings(**base, upstream_api_key="sk-proj-AZaz09_-.~").upstream_api_key
    assert key is not None
    assert key.get_secret_value() == "sk-proj-AZaz09_-.~"
