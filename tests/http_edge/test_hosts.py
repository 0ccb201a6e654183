"""``gateway.http_edge._hosts``: the allow-list's defaults and matching."""

from __future__ import annotations

import pytest

from gateway.config import Settings
from gateway.http_edge._hosts import _matches, allowed_hosts_of, host_name


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_default_on_loopback_is_the_loopback_names() -> None:
    assert allowed_hosts_of(settings()) == ("localhost", "127.0.0.1", "::1")
    assert allowed_hosts_of(settings(host="127.0.0.2")) == (
        "localhost",
        "127.0.0.1",
        "::1",
        "127.0.0.2",
    )


def test_default_on_a_public_interface_allows_any_host() -> None:
    assert allowed_hosts_of(settings(host="0.0.0.0")) is None


def test_configured_list_and_star(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_ALLOWED_HOSTS", "API.example.com, *.example.org")
    assert allowed_hosts_of(Settings(_env_file=None)) == ("api.example.com", "*.example.org")
    assert allowed_hosts_of(settings(allowed_hosts=["a", "*"])) is None


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("localhost:8000", "localhost"),
        ("LOCALHOST", "localhost"),
        ("[::1]:8000", "::1"),
        ("[::1]", "::1"),
        ("127.0.0.1", "127.0.0.1"),
        ("evil.example:", "evil.example:"),
    ],
)
def test_host_name(header: str, name: str) -> None:
    assert host_name(header) == name


def test_matching() -> None:
    patterns = ("localhost", "*.example.org")
    assert _matches("localhost", patterns)
    assert _matches("api.example.org", patterns)
    assert not _matches("example.org", patterns)
    assert not _matches("localhost.evil", patterns)
    assert not _matches("evilexample.org", patterns)
