"""``gateway.worker``: what a worker process of ``serve --workers N`` is built from."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest
from fastapi import FastAPI

from gateway.config import Settings
from gateway.worker import WORKER_APP, hand_over


def test_the_command_lines_settings_reach_the_workers_through_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("gateway_port", "1111")  # another spelling of the same variable
    monkeypatch.setenv("GATEWAY_HOST", "0.0.0.0")
    monkeypatch.delenv("GATEWAY_WORKERS", raising=False)
    try:
        hand_over({"port": 8123, "workers": 3})
        assert [key for key in os.environ if key.upper() == "GATEWAY_PORT"] == ["GATEWAY_PORT"]
        settings = Settings()  # what a worker builds
        assert (settings.port, settings.workers, settings.host) == (8123, 3, "0.0.0.0")
    finally:
        os.environ.pop("GATEWAY_PORT", None)
        os.environ.pop("GATEWAY_WORKERS", None)


def test_a_worker_builds_its_app_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    module, _, name = WORKER_APP.partition(":")
    factory = getattr(importlib.import_module(module), name)
    monkeypatch.setenv("GATEWAY_STORE_PATH", str(tmp_path / "worker.sqlite3"))
    monkeypatch.setenv("GATEWAY_WORKERS", "2")
    app = factory()
    assert isinstance(app, FastAPI)
    assert app.state.settings.store_path == tmp_path / "worker.sqlite3"
    assert app.state.settings.workers == 2


@pytest.mark.parametrize("workers", ["0", "65", "two"])
def test_a_bad_worker_count_is_refused(monkeypatch: pytest.MonkeyPatch, workers: str) -> None:
    monkeypatch.setenv("GATEWAY_WORKERS", workers)
    with pytest.raises(ValueError, match="workers"):
        Settings()


def test_each_worker_builds_its_bounded_http_protocol_from_its_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from uvicorn.importer import import_from_string

    from gateway.worker import WORKER_HTTP_PROTOCOL

    monkeypatch.setenv("GATEWAY_HTTP_HEADER_TIMEOUT", "7.5")
    monkeypatch.setenv("GATEWAY_MAX_CONNECTIONS", "321")
    first = import_from_string(WORKER_HTTP_PROTOCOL)  # as uvicorn resolves it in a worker
    second = import_from_string(WORKER_HTTP_PROTOCOL)
    assert first.header_timeout == 7.5
    assert first.max_connections <= 321
    assert first.registry is not second.registry  # a worker's connections are its own
