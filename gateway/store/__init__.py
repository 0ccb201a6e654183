"""The embedded, OpenAI-compatible Threads & Messages store (DESIGN.md §6).

A real product component, not a test double: it speaks the upstream wire
format at ``/v1`` (the official ``openai`` SDK works against it unchanged) and
keeps its data behind one backend seam (``backend.StoreBackend``) with two
implementations: an SQLite file (the default; WAL, ``synchronous=FULL``, one
writer thread) and a PostgreSQL database (the ``postgres`` extra; many
processes on many machines). Every acknowledged write survives ``kill -9``;
concurrent writers never lose or duplicate a message.

Modules, one concept each: ``ids`` (object ids), ``errors`` (the exception
tree and the error envelope), ``validation`` (request bodies and queries),
``rows`` (what is stored, named), ``pagination`` (cursor semantics), ``wire``
(rendering rows), ``backend`` (the protocol), ``migrations`` (the versioned
schema), ``locations`` (``GATEWAY_STORE_URL`` and the backend for it);
SQLite: ``sqlite`` (the file and its schema), ``workers`` (the
connection-owning threads), ``database`` (their asyncio face),
``repository`` (the operations in SQL), ``sqlite_store`` (the backend);
PostgreSQL: ``postgres``; ``copying`` (``copy-store``); ``routes`` (HTTP
handlers) and ``app`` (the ASGI application).
"""

from gateway.store.app import StoreMount, create_store_app
from gateway.store.backend import StoreBackend
from gateway.store.database import Database
from gateway.store.errors import StoreOpenError
from gateway.store.locations import StoreLocation, create_backend, migrate, parse_store_url
from gateway.store.sqlite_store import SQLiteStore

__all__ = [
    "Database",
    "SQLiteStore",
    "StoreBackend",
    "StoreLocation",
    "StoreMount",
    "StoreOpenError",
    "create_backend",
    "create_store_app",
    "migrate",
    "parse_store_url",
]
