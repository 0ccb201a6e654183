"""The ``messages-gateway`` command's own failures: clear, one screen, no secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def serve(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    clean.update(
        {
            "GATEWAY_STORE_PATH": str(tmp_path / "s.sqlite3"),
            "GATEWAY_PORT": "0",
            "GATEWAY_WORKERS": "1",
        }
    )
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "gateway", "serve"],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"GATEWAY_UPSTREAM_URL": "ftp://user:hunter2@upstream.test/v1"}, "GATEWAY_UPSTREAM_URL"),
        ({"GATEWAY_UPSTREAM_URL": "https://user:hunter2@upstream.test/v1"}, "GATEWAY_UPSTREAM_URL"),
        ({"GATEWAY_PORT": "hunter2"}, "port"),
        ({"GATEWAY_WORKERS": "hunter2"}, "workers"),
        ({"GATEWAY_AUTH_TOKEN_HASHES": "hunter2"}, "auth_token_hashes"),
    ],
)
def test_bad_configuration_is_one_clear_error_without_its_value(
    tmp_path: Path, env: dict[str, str], says: str
) -> None:
    result = serve(tmp_path, **env)
    assert result.returncode == 2
    assert result.stderr.startswith("messages-gateway: invalid")
    assert says in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "s.sqlite3").exists()
