"""``gateway.http_edge.server_options``: uvicorn's settings, the cap fitted to ``ulimit -n``."""

from __future__ import annotations

import logging
import resource

import pytest

from gateway.config import Settings
from gateway.http_edge import FD_HEADROOM, server_options
from gateway.http_edge._connections import BoundedHttpProtocol


def test_options_carry_the_settings() -> None:
    settings = Settings(
        _env_file=None, http_header_timeout=3, keepalive_timeout=7, max_connections=100
    )
    options = server_options(settings)
    assert options["timeout_keep_alive"] == 7
    protocol = options["http"]
    assert issubclass(protocol, BoundedHttpProtocol)
    assert (protocol.header_timeout, protocol.max_connections) == (3, 100)
    # Each server gets its own registry of connections.
    assert server_options(settings)["http"].registry is not protocol.registry


def test_cap_is_fitted_to_the_descriptor_limit(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(resource, "getrlimit", lambda _: (1024, 4096))
    settings = Settings(_env_file=None, max_connections=5000)
    with caplog.at_level(logging.WARNING, "gateway.http_edge"):
        protocol = server_options(settings)["http"]
    assert protocol.max_connections == 1024 - FD_HEADROOM
    assert "GATEWAY_MAX_CONNECTIONS=5000" in caplog.text
