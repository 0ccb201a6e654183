"""``GATEWAY_STORE_URL``: parsing, the password kept out of messages, the lazy driver."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.config import Settings
from gateway.store import SQLiteStore, StoreOpenError, create_backend, parse_store_url
from gateway.store.locations import MISSING_DRIVER, StoreLocation, redact_url


@pytest.mark.parametrize(
    ("url", "kind", "target"),
    [
        ("sqlite:///data/messages.sqlite3", "sqlite", "data/messages.sqlite3"),
        ("sqlite:////var/lib/gw/store.db", "sqlite", "/var/lib/gw/store.db"),
        ("postgresql://gw@db:5432/messages", "postgresql", "postgresql://gw@db:5432/messages"),
        ("postgres://gw:pw@db/messages?sslmode=require", "postgresql", None),
    ],
)
def test_store_urls(url: str, kind: str, target: str | None) -> None:
    where = parse_store_url(url)
    assert where.kind == kind
    assert where.target == (target or url)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://SECRET",
        "sqlite:///",
        "mysql://u:SECRET@db/x",
        "postgresql://u:SECRET@db",
        "SECRET.sqlite3",
        "",
    ],
)
def test_bad_store_urls_are_refused_without_echoing_them(url: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_store_url(url)
    assert "SECRET" not in str(refused.value)


def test_passwords_never_reach_a_message() -> None:
    assert (
        redact_url("postgresql://gw:hunter2@db:5432/m?x=1") == "postgresql://gw:***@db:5432/m?x=1"
    )
    assert redact_url("postgresql://gw@db/m") == "postgresql://gw@db/m"
    where = parse_store_url("postgresql://gw:hunter2@db/m")
    assert "hunter2" not in where.location
    assert "hunter2" not in repr(Settings(_env_file=None, store_url=where.target))  # type: ignore[call-arg]


def test_settings_select_the_backend(tmp_path: Path) -> None:
    default = Settings(_env_file=None, store_path=tmp_path / "s.db")  # type: ignore[call-arg]
    assert default.store_location == StoreLocation("sqlite", str(tmp_path / "s.db"))
    chosen = Settings(_env_file=None, store_url="postgresql://gw@db/m")  # type: ignore[call-arg]
    assert chosen.store_location == StoreLocation("postgresql", "postgresql://gw@db/m")
    with pytest.raises(ValidationError, match="store_url"):
        Settings(_env_file=None, store_url="mysql://db/m")  # type: ignore[call-arg]
    assert isinstance(create_backend(default.store_location), SQLiteStore)


def test_a_missing_driver_is_one_actionable_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the postgres extra: the SQLite default works, a PostgreSQL URL says what
    to install."""
    monkeypatch.delitem(sys.modules, "gateway.store.postgres", raising=False)
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg -> ImportError
    with pytest.raises(StoreOpenError) as missing:
        create_backend(parse_store_url("postgresql://gw@db/m"))
    assert str(missing.value) == MISSING_DRIVER
    assert "pip install 'messages-gateway[postgres]'" in MISSING_DRIVER
    assert isinstance(create_backend(parse_store_url("sqlite:///x.db")), SQLiteStore)
