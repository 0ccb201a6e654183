"""The nine operations as HTTP handlers, and the table that routes paths to them.

A handler checks the ids' prefixes, validates the body or query on the event
loop (cheap, and a 400 never costs a trip to the database), then asks the
store backend (``backend``) and renders the row it answers (``wire``): the
response body as JSON text.

Routing works on path *segments* that the caller already percent-decoded one
by one (see ``app``), so an id holding ``/`` stays one segment and can only
ever be an id that does not exist.

Paths the real API serves and this store does not are *unserved*, a 404
``Invalid URL`` like any unknown path, never a route-matching accident: the
segment after ``threads`` that names a collection of the real API
(``POST /threads/runs`` is createThreadAndRun, which
``client.beta.threads.create_and_run`` calls) is not a thread id, and a
segment holding a control character (``%0A``, ``%00``) is no id the store
could have issued.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from gateway.store import wire
from gateway.store.backend import StoreBackend
from gateway.store.ids import check_message_id, check_thread_id
from gateway.store.validation import (
    list_query,
    message_changes,
    new_message,
    new_thread,
    parse_json_body,
    thread_changes,
)

__all__ = ["CONTROL_CHARACTER", "Call", "Handler", "Route", "match_route"]


@dataclass(frozen=True, slots=True)
class Call:
    """One request as a handler sees it."""

    ids: tuple[str, ...]
    """The path's ids, in order: ``(thread_id,)`` or ``(thread_id, message_id)``."""
    query: Mapping[str, str]
    body: bytes


Handler = Callable[[StoreBackend, Call], Awaitable[str]]


async def create_thread(store: StoreBackend, call: Call) -> str:
    thread = new_thread(parse_json_body(call.body))
    return wire.thread_json(await store.create_thread(thread))


async def get_thread(store: StoreBackend, call: Call) -> str:
    thread_id = check_thread_id(call.ids[0])
    return wire.thread_json(await store.get_thread(thread_id))


async def modify_thread(store: StoreBackend, call: Call) -> str:
    thread_id = check_thread_id(call.ids[0])
    changes = thread_changes(parse_json_body(call.body))
    return wire.thread_json(await store.modify_thread(thread_id, changes))


async def delete_thread(store: StoreBackend, call: Call) -> str:
    thread_id = check_thread_id(call.ids[0])
    await store.delete_thread(thread_id)
    return wire.deleted_json(thread_id, "thread.deleted")


async def create_message(store: StoreBackend, call: Call) -> str:
    thread_id = check_thread_id(call.ids[0])
    message = new_message(parse_json_body(call.body))
    return wire.message_json(await store.create_message(thread_id, message))


async def list_messages(store: StoreBackend, call: Call) -> str:
    thread_id = check_thread_id(call.ids[0])
    query = list_query(call.query)
    return wire.page_json(await store.list_messages(thread_id, query))


async def get_message(store: StoreBackend, call: Call) -> str:
    thread_id = check_thread_id(call.ids[0])
    message_id = check_message_id(call.ids[1])
    return wire.message_json(await store.get_message(thread_id, message_id))


async def modify_message(store: StoreBackend, call: Call) -> str:
    thread_id = check_thread_id(call.ids[0])
    message_id = check_message_id(call.ids[1])
    changes = message_changes(parse_json_body(call.body))
    return wire.message_json(await store.modify_message(thread_id, message_id, changes))


async def delete_message(store: StoreBackend, call: Call) -> str:
    thread_id = check_thread_id(call.ids[0])
    message_id = check_message_id(call.ids[1])
    await store.delete_message(thread_id, message_id)
    return wire.deleted_json(message_id, "thread.message.deleted")


@dataclass(frozen=True, slots=True)
class Route:
    """The handlers of one path shape, by HTTP method."""

    template: str
    methods: Mapping[str, Handler]


_THREADS = Route("/threads", {"POST": create_thread})
_THREAD = Route(
    "/threads/{thread_id}", {"GET": get_thread, "POST": modify_thread, "DELETE": delete_thread}
)
_MESSAGES = Route("/threads/{thread_id}/messages", {"GET": list_messages, "POST": create_message})
_MESSAGE = Route(
    "/threads/{thread_id}/messages/{message_id}",
    {"GET": get_message, "POST": modify_message, "DELETE": delete_message},
)


UNSERVED_THREAD_COLLECTIONS = frozenset(("runs",))
"""Segments after ``threads/`` that are the real API's paths, not thread ids."""

CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f]")
"""C0, DEL and C1: no id holds one, and no error message should show one raw."""


def match_route(segments: Sequence[str]) -> tuple[Route, tuple[str, ...]] | None:
    """The route of decoded path segments and the ids in them, or ``None`` (a 404)."""
    count = len(segments)
    if count == 0 or count > 4 or segments[0] != "threads" or "" in segments:
        return None
    if any(CONTROL_CHARACTER.search(segment) for segment in segments):
        return None
    if count >= 2 and segments[1] in UNSERVED_THREAD_COLLECTIONS:
        return None
    if count == 1:
        return _THREADS, ()
    if count == 2:
        return _THREAD, (segments[1],)
    if segments[2] != "messages":
        return None
    if count == 3:
        return _MESSAGES, (segments[1],)
    return _MESSAGE, (segments[1], segments[3])
