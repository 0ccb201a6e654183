"""Per-operation DataLoaders: every upstream resource is fetched at most once per operation.

``Loaders`` is the resolvers' only way upstream: reads go through its three
DataLoaders, writes through its mutation methods, which keep the caches true so
that a query after a mutation in the same request sees the new state.

The upstream has no batch endpoints, so a "batch" here is the set of distinct
keys asked for in one tick, fetched concurrently; the loaders' caches turn every
repeated reference (aliases, fragments, ``Message.thread`` across a list, the
same page twice) into a single call. Results of lists and mutations are primed
into the caches so later references to the same objects cost nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from strawberry.dataloader import DataLoader

from gateway.schema.arguments import PageKey
from gateway.upstream import (
    DeletedObject,
    JSONObject,
    MessageList,
    MessageObject,
    ThreadObject,
    UpstreamSession,
)

__all__ = ["Loaders", "MessageKey"]

MessageKey = tuple[str, str]
"""``(thread_id, message_id)``."""

K = TypeVar("K")
V = TypeVar("V")


async def _each(keys: Sequence[K], fetch: Callable[[K], Awaitable[V]]) -> list[V | BaseException]:
    """Fetch every key concurrently; a failure belongs to its own key only."""
    if len(keys) == 1:
        try:
            return [await fetch(keys[0])]
        except Exception as exc:
            return [exc]
    return await asyncio.gather(*(fetch(key) for key in keys), return_exceptions=True)


def _forget(loader: DataLoader[K, V], key: K) -> None:
    """Drop ``key`` from a loader's cache (strawberry's ``clear`` fails on a missing key)."""
    if loader.cache_map.get(key) is not None:
        loader.clear(key)


class Loaders:
    """The three loaders of one operation, bound to its upstream session."""

    def __init__(self, session: UpstreamSession) -> None:
        self._session = session
        self.threads: DataLoader[str, ThreadObject] = DataLoader(self._load_threads)
        self.messages: DataLoader[MessageKey, MessageObject] = DataLoader(self._load_messages)
        self.pages: DataLoader[PageKey, MessageList] = DataLoader(self._load_pages)

    async def _load_threads(self, ids: list[str]) -> list[ThreadObject | BaseException]:
        return await _each(ids, self._session.get_thread)

    async def _load_messages(self, keys: list[MessageKey]) -> list[MessageObject | BaseException]:
        return await _each(keys, self._fetch_message)

    async def _fetch_message(self, key: MessageKey) -> MessageObject:
        return await self._session.get_message(*key)

    async def _load_pages(self, keys: list[PageKey]) -> list[MessageList | BaseException]:
        return await _each(keys, self._fetch_page)

    async def _fetch_page(self, key: PageKey) -> MessageList:
        params: dict[str, str | int] = {"limit": key.limit, "order": key.order}
        if key.after is not None:
            params["after"] = key.after
        if key.run_id is not None:
            params["run_id"] = key.run_id
        page = await self._session.list_messages(key.thread_id, params)  # type: ignore[arg-type]
        for message in page["data"]:
            self.prime_message(message)
        return page

    # --- writes: the upstream call, then the caches made true again ------------

    async def create_thread(self, body: JSONObject) -> ThreadObject:
        thread = await self._session.create_thread(body)
        self.threads.prime(thread["id"], thread, force=True)
        return thread

    async def update_thread(self, thread_id: str, body: JSONObject) -> ThreadObject:
        thread = await self._session.modify_thread(thread_id, body)
        self.threads.prime(thread["id"], thread, force=True)
        return thread

    async def delete_thread(self, thread_id: str) -> DeletedObject:
        deleted = await self._session.delete_thread(thread_id)
        _forget(self.threads, thread_id)
        self.messages.clear_all()
        self.pages.clear_all()
        return deleted

    async def create_message(self, thread_id: str, body: JSONObject) -> MessageObject:
        message = await self._session.create_message(thread_id, body)
        self.prime_message(message)
        self.pages.clear_all()
        return message

    async def update_message(
        self, thread_id: str, message_id: str, body: JSONObject
    ) -> MessageObject:
        message = await self._session.modify_message(thread_id, message_id, body)
        self.prime_message(message)
        self.pages.clear_all()
        return message

    async def delete_message(self, thread_id: str, message_id: str) -> DeletedObject:
        deleted = await self._session.delete_message(thread_id, message_id)
        _forget(self.messages, (thread_id, message_id))
        self.pages.clear_all()
        return deleted

    def prime_message(self, message: MessageObject) -> None:
        """Remember a message the upstream just returned (replacing an older copy)."""
        self.messages.prime((message["thread_id"], message["id"]), message, force=True)
