"""Where the store keeps its data: ``GATEWAY_STORE_URL`` parsed, and the backend for it.

- ``sqlite:///relative/path`` or ``sqlite:////absolute/path`` (the SQLAlchemy
  convention: what follows ``sqlite:///`` is the path): ``SQLiteStore``;
- ``postgresql://user[:password]@host[:port]/database[?options]`` (also
  ``postgres://``; any libpq URL): ``PostgresStore``.

Unset, the store is the SQLite file at ``GATEWAY_STORE_PATH``. The PostgreSQL
backend is the optional extra ``messages-gateway[postgres]``: it is imported
only for a PostgreSQL URL, and a missing driver is one line saying what to
install. ``location`` is what messages and logs show: a URL never carries its
password there.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from gateway.store.backend import StoreBackend
from gateway.store.errors import StoreOpenError
from gateway.store.sqlite import migrate_file
from gateway.store.sqlite_store import SQLiteStore

__all__ = ["StoreLocation", "create_backend", "migrate", "parse_store_url", "redact_url"]

_SQLITE_PREFIX = "sqlite:///"
_POSTGRES_SCHEMES = ("postgresql", "postgres")
MISSING_DRIVER = (
    "GATEWAY_STORE_URL is a PostgreSQL URL but the PostgreSQL driver is not installed: "
    "pip install 'messages-gateway[postgres]'"
)


@dataclass(frozen=True, slots=True)
class StoreLocation:
    kind: Literal["sqlite", "postgresql"]
    target: str
    """The SQLite file's path, or the full PostgreSQL URL (with its password, if any)."""

    @property
    def location(self) -> str:
        """For messages: the path, or the URL without its password."""
        return self.target if self.kind == "sqlite" else redact_url(self.target)


def redact_url(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit((parts.scheme, f"{user}:***@{host}", parts.path, parts.query, ""))


def parse_store_url(url: str) -> StoreLocation:
    """The location a store URL names; ``ValueError`` (without the URL) if it names none."""
    if url.startswith(_SQLITE_PREFIX):
        path = url[len(_SQLITE_PREFIX) :]
        if not path or path.endswith("/"):
            raise ValueError("a sqlite:/// URL needs a file path, e.g. sqlite:///data/store.db")
        return StoreLocation("sqlite", path)
    scheme = url.split(":", 1)[0].lower() if "://" in url else ""
    if scheme in _POSTGRES_SCHEMES:
        parts = urlsplit(url)
        if not parts.path.strip("/"):
            raise ValueError("a postgresql:// URL needs a database name, e.g. .../messages")
        return StoreLocation("postgresql", url)
    raise ValueError("expected sqlite:///path/to/file or postgresql://user@host:port/database")


def sqlite_location(path: Path) -> StoreLocation:
    return StoreLocation("sqlite", str(path))


def create_backend(where: StoreLocation, *, pool_size: int = 10) -> StoreBackend:
    """The backend for a location, not yet opened (``pool_size``: PostgreSQL connections)."""
    if where.kind == "sqlite":
        return SQLiteStore(Path(where.target))
    try:
        from gateway.store.postgres import PostgresStore
    except ImportError as exc:
        if exc.name in ("psycopg", "psycopg_pool") or "psycopg" in str(exc):
            raise StoreOpenError(MISSING_DRIVER) from None
        raise
    return PostgresStore(where.target, location=where.location, max_connections=pool_size)


def migrate(where: StoreLocation) -> tuple[int, int]:
    """Create or migrate the store's schema (``StoreOpenError`` if unusable).

    Returns the schema version found and the version now; also the start-up
    pre-flight of ``serve``, so a bad store is one line before anything listens.
    """
    if where.kind == "sqlite":
        return migrate_file(Path(where.target))
    try:
        from gateway.store.postgres import migrate_database
    except ImportError as exc:
        if exc.name in ("psycopg", "psycopg_pool") or "psycopg" in str(exc):
            raise StoreOpenError(MISSING_DRIVER) from None
        raise
    return asyncio.run(migrate_database(where.target, where.location))
