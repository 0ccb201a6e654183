"""The embedded, OpenAI-compatible Threads & Messages store (DESIGN.md §6).

A real product component, not a test double: it speaks the upstream wire
format at ``/v1`` (the official ``openai`` SDK works against it unchanged),
persists to SQLite (WAL, ``synchronous=FULL``: every acknowledged write
survives ``kill -9``), and serialises writes on one thread so that concurrent
writers never lose or duplicate a message.

Modules, one concept each: ``ids`` (object ids), ``errors`` (the exception
tree and the error envelope), ``validation`` (request bodies and queries),
``pagination`` (cursor semantics), ``wire`` (rendering objects), ``sqlite``
(the file and its schema), ``workers`` (the connection-owning threads),
``database`` (the asyncio face of both), ``repository`` (the nine operations
in SQL), ``routes`` (HTTP handlers) and ``app`` (the ASGI application).
"""

from gateway.store.app import StoreMount, create_store_app
from gateway.store.database import Database
from gateway.store.errors import StoreOpenError
from gateway.store.sqlite import check_store_path

__all__ = ["Database", "StoreMount", "StoreOpenError", "check_store_path", "create_store_app"]
