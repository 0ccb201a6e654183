"""``GATEWAY_STORE_URL``: parsing, the password kept out of messages, the lazy driver."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from pydantic import ValidationError

from gateway.config import Settings
from gateway.store import SQLiteStore, StoreOpenError, create_backend, parse_store_url
from gateway.store.locations import (
    MISSING_DRIVER,
    StoreLocation,
    migrate,
    redact_url,
    url_passwords,
)
from gateway.store.postgres import BAD_URL_REASON, _connect_reason
from tests.store.server import server_env


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


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u@h/db?password=hunter2", "postgresql://u@h/db?password=***"),
        (
            "postgresql://u:hunter2@h/db?sslmode=require&PASSWORD=hunter2&x=1",
            "postgresql://u:***@h/db?sslmode=require&PASSWORD=***&x=1",
        ),
        ("postgresql://:hunter2@h/db", "postgresql://:***@h/db"),
        ("postgresql://u@h/db?passfile=/p&sslmode=disable", None),
    ],
)
def test_a_password_option_is_redacted_too(url: str, shown: str | None) -> None:
    assert redact_url(url) == (shown or url)
    assert "hunter2" not in parse_store_url(url).location


def test_the_passwords_a_url_carries() -> None:
    assert url_passwords("postgresql://u:a%25b@h/db?password=sec%zzret") == (
        "a%25b",
        "a%b",
        "sec%zzret",
    )
    assert url_passwords("postgresql://u@h/db?sslmode=require") == ()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:sec%zzret@127.0.0.1/db",
        "postgresql://u@127.0.0.1/db?password=sec%zzret",
        "postgresql://u@127.0.0.1/db?password=sec%zzret&bogus=1",
    ],
)
def test_a_malformed_url_is_refused_without_quoting_it(url: str) -> None:
    """libpq quotes the token it cannot parse (here a piece of the password): the message
    gives a generic reason instead, and the redacted location."""
    with pytest.raises(StoreOpenError) as refused:
        migrate(parse_store_url(url))
    message = str(refused.value)
    assert "sec" not in message and "zz" not in message, message
    assert message == (f"cannot use the store database '{redact_url(url)}': {BAD_URL_REASON}")


def test_a_connect_failure_quoting_a_password_piece_is_generic() -> None:
    """An ``OperationalError`` whose text quotes a piece of the password, or holds it."""
    conninfo = "postgresql://u:hunter2@db/db"
    quoting = psycopg.OperationalError('connection is bad: invalid value "hunter"')
    holding = psycopg.OperationalError("something about hunter2 here")
    plain = psycopg.OperationalError('connection to server at "db", port 5432 failed: refused')
    assert _connect_reason(quoting, conninfo) == "the connection failed (OperationalError)"
    assert _connect_reason(holding, conninfo) == "the connection failed (OperationalError)"
    assert _connect_reason(plain, conninfo) == plain.args[0]


def test_the_migrate_command_never_prints_a_password_option(tmp_path: Path) -> None:
    """The CLI's one line for an unreachable database names it without its password."""
    url = "postgresql://u@127.0.0.1:1/db?password=hunter2"
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "migrate"],
        cwd=tmp_path,
        env={**server_env(tmp_path / "unused.sqlite3"), "GATEWAY_STORE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "postgresql://u@127.0.0.1:1/db?password=***" in output, output
    assert "hunter2" not in output
