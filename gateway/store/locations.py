"""Where the store keeps its data: ``GATEWAY_STORE_URL`` parsed, and the backend for it.

- ``sqlite:///relative/path`` or ``sqlite:////absolute/path`` (the SQLAlchemy
  convention: what follows ``sqlite:///`` is the path): ``SQLiteStore``;
- ``postgresql://user[:password]@host[:port]/database[?options]`` (also
  ``postgres://``; any libpq URL): ``PostgresStore``.

Unset, the store is the SQLite file at ``GATEWAY_STORE_PATH``. The PostgreSQL
backend is the optional extra ``messages-gateway[postgres]``: it is imported
only for a PostgreSQL URL, and a missing driver is one line saying what to
install. ``location`` is what messages and logs show: a URL never carries its
password there (neither the userinfo's nor a ``password=`` option's).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit, urlunsplit

from gateway.store.backend import StoreBackend
from gateway.store.errors import StoreOpenError
from gateway.store.sqlite import migrate_file
from gateway.store.sqlite_store import SQLiteStore

__all__ = [
    "StoreLocation",
    "create_backend",
    "migrate",
    "parse_store_url",
    "redact_url",
    "url_passwords",
]

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


_PASSWORD_PARAMETER = re.compile(r"(?i)(^|&)(password=)([^&]*)")


def redact_url(url: str) -> str:
    """``url`` with its passwords (of the userinfo, and any ``password=`` option) as ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        host = netloc.rsplit("@", 1)[1]
        netloc = f"{parts.username or ''}:***@{host}"
    query = _PASSWORD_PARAMETER.sub(r"\1\2***", parts.query)
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def url_passwords(url: str) -> tuple[str, ...]:
    """The passwords ``url`` carries, as written and percent-decoded (to keep out of messages)."""
    parts = urlsplit(url)
    written = [parts.password] if parts.password is not None else []
    written += [match.group(3) for match in _PASSWORD_PARAMETER.finditer(parts.query)]
    found = {text for raw in written for text in (raw, unquote(raw)) if text}
    return tuple(sorted(found))


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
