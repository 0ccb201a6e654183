"""Per-operation DataLoaders: every upstream resource is fetched at most once per operation.

``Loaders`` is the resolvers' only way upstream: reads go through its three
DataLoaders, writes through its mutation methods, which keep the caches true so
that a read after a mutation in the same request sees the new state.

The upstream has no batch endpoints, so a "batch" here is the set of distinct
keys asked for in one tick, fetched concurrently (up to the session's
concurrency cap). The rules, each asserted by ``tests/schema/test_call_counts.py``:

1. **One call per distinct resource.** The caches turn every repeated reference
   (aliases, fragments, ``Message.thread`` across a list, repeated ids in
   ``threads(ids:)``, the same page asked twice) into one call. Failures are
   cached too: a missing thread asked for twice is one 404.
2. **Lists prime the message cache.** Every message of a page, and every message
   a mutation returns, is remembered; a later ``message(threadId, id)`` for it
   costs nothing.
3. **Same tick, too.** ``message(threadId, id)`` asked for while a page of the
   same thread is pending (sibling root fields of one query all start together,
   and ``thread(id:)``/``threads(ids:)`` start their threads' pages at once, see
   ``prefetch.py``) waits for that page, and costs a call only if the page did
   not list the message. The price, paid only in that mix and only on a
   miss: the message arrives one upstream round trip later. A message whose
   thread has no page pending is fetched at once.
4. **Writes keep the caches true.** A mutation replaces the cached object with
   the upstream's answer (``createThread``, ``updateThread``, ``createMessage``,
   ``updateMessage``) or forgets it (the deletes), and forgets the cached pages
   of the thread it touched, whether the write succeeded or failed (a failed
   write may still have happened upstream, e.g. on a timeout).
5. **What was seen is recorded.** Over a remote upstream, a ``ThreadRecorder``
   (gateway.thread_index) writes the threads returned, the threads found missing
   or deleted, and the activity of pages and new messages to the thread index;
   here, from the upstream's answers, never from resolvers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from strawberry.dataloader import DataLoader

from gateway.schema.arguments import PageKey
from gateway.schema.cycles import weakly_bound
from gateway.schema.plan import PageArguments
from gateway.schema.prefetch import page_keys
from gateway.thread_index import ThreadRecorder
from gateway.upstream import (
    DeletedObject,
    JSONObject,
    MessageList,
    MessageObject,
    NotFoundError,
    ThreadObject,
    Upstream,
)

__all__ = ["BatchObserver", "Loaders", "MessageKey", "MessageLoader", "PageLoader"]

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


def _retrieved(future: asyncio.Future[MessageList]) -> None:
    """Mark a prefetched page's failure as seen: its field may never run (its thread
    was not found), and asyncio would log an exception nobody retrieved."""
    if not future.cancelled():
        future.exception()


class PageLoader(DataLoader[PageKey, MessageList]):
    """The page loader, which also knows the pages asked for, thread by thread.

    That index lets the message loader wait for a pending page of the same thread
    (rule 3) and lets a write forget exactly the pages of the thread it touched.
    """

    def __init__(
        self, load_fn: Callable[[list[PageKey]], Awaitable[list[MessageList | BaseException]]]
    ) -> None:
        super().__init__(load_fn)
        self._by_thread: dict[str, dict[PageKey, asyncio.Future[MessageList]]] = {}

    def load(self, key: PageKey) -> asyncio.Future[MessageList]:
        future: asyncio.Future[MessageList] = super().load(key)  # type: ignore[assignment]
        self._by_thread.setdefault(key.thread_id, {})[key] = future
        return future

    def pending(self, thread_id: str) -> list[asyncio.Future[MessageList]]:
        """The pages of ``thread_id`` asked for and not arrived yet."""
        pages = self._by_thread.get(thread_id)
        if not pages:
            return []
        return [future for future in pages.values() if not future.done()]

    def forget_thread(self, thread_id: str) -> None:
        """Forget every cached page of ``thread_id`` (pending ones still resolve)."""
        for key in self._by_thread.pop(thread_id, {}):
            _forget(self, key)


class MessageLoader(DataLoader[MessageKey, MessageObject]):
    """The message loader, over ``known``: every message the upstream returned, by key.

    A page lists up to 100 messages, and an operation rarely asks for one of them
    again, so a listed message enters the cache only when someone loads it (rule 2,
    without a future per listed message): ``load`` serves it from ``known`` when the
    cache holds nothing newer than it (nothing, a failure, a pending load, an older
    copy), exactly as priming each message when its page arrived did.
    """

    def __init__(
        self,
        load_fn: Callable[[list[MessageKey]], Awaitable[list[MessageObject | BaseException]]],
        known: dict[MessageKey, MessageObject],
    ) -> None:
        super().__init__(load_fn)
        self._known = known

    def load(self, key: MessageKey) -> Awaitable[MessageObject]:
        listed = self._known.get(key)
        if listed is not None:
            cached = self.cache_map.get(key)
            if (
                cached is None
                or not cached.done()
                or cached.cancelled()
                or cached.exception() is not None
                or cached.result() is not listed
            ):
                self.prime(key, listed, force=True)
        return super().load(key)


BatchObserver = Callable[[str, int], None]
"""``(loader name, distinct keys)`` for every batch a loader dispatches (metrics)."""


def _ignore_batch(loader: str, size: int) -> None:
    return None


class Loaders:
    """The three loaders of one operation, bound to its upstream session."""

    def __init__(
        self,
        session: Upstream,
        on_batch: BatchObserver | None = None,
        recorder: ThreadRecorder | None = None,
    ) -> None:
        self._session = session
        self._on_batch = on_batch or _ignore_batch
        self._recorder = recorder
        # Every message the upstream returned, by key: the message loader serves listed
        # ones from here, rule 3 looks here (the message cache holds the very future a
        # waiting load will resolve), and deleting a thread forgets its messages by it.
        self._known: dict[MessageKey, MessageObject] = {}
        self.threads: DataLoader[str, ThreadObject] = DataLoader(weakly_bound(self._load_threads))
        self.messages = MessageLoader(weakly_bound(self._load_messages), self._known)
        self.pages = PageLoader(weakly_bound(self._load_pages))

    async def _load_threads(self, ids: list[str]) -> list[ThreadObject | BaseException]:
        self._on_batch("threads", len(ids))
        found = await _each(ids, self._session.get_thread)
        if self._recorder is not None:
            seen = [thread for thread in found if isinstance(thread, dict)]
            gone = [i for i, got in zip(ids, found, strict=True) if isinstance(got, NotFoundError)]
            if seen:
                await self._recorder.threads_seen(seen)
            if gone:
                await self._recorder.threads_gone(gone)
        return found

    async def _load_messages(self, keys: list[MessageKey]) -> list[MessageObject | BaseException]:
        self._on_batch("messages", len(keys))
        return await _each(keys, self._fetch_message)

    async def _fetch_message(self, key: MessageKey) -> MessageObject:
        pending = self.pages.pending(key[0])
        if pending:
            await asyncio.wait(pending)
            listed = self._known.get(key)
            if listed is not None:
                return listed
        message = await self._session.get_message(*key)
        self._known[key] = message
        return message

    async def _load_pages(self, keys: list[PageKey]) -> list[MessageList | BaseException]:
        self._on_batch("pages", len(keys))
        return await _each(keys, self._fetch_page)

    async def _fetch_page(self, key: PageKey) -> MessageList:
        params: dict[str, str | int] = {"limit": key.limit, "order": key.order}
        if key.after is not None:
            params["after"] = key.after
        if key.run_id is not None:
            params["run_id"] = key.run_id
        page = await self._session.list_messages(key.thread_id, params)  # type: ignore[arg-type]
        known = self._known
        for message in page["data"]:
            known[message["thread_id"], message["id"]] = message  # MessageLoader.load
        if self._recorder is not None and page["data"]:
            newest = max(int(message["created_at"]) for message in page["data"])
            await self._recorder.activity_seen([(key.thread_id, newest)])
        return page

    def prefetch_pages(self, thread_id: str, pages: list[PageArguments]) -> None:
        """Ask for the pages a thread's ``messages`` fields will want, now (prefetch.py)."""
        for key in page_keys(thread_id, pages):
            self.pages.load(key).add_done_callback(_retrieved)

    # --- writes: the upstream call, then the caches made true again ------------

    async def create_thread(self, body: JSONObject) -> ThreadObject:
        thread = await self._session.create_thread(body)
        self.threads.prime(thread["id"], thread, force=True)
        if self._recorder is not None:
            await self._recorder.threads_seen([thread])
        return thread

    async def update_thread(self, thread_id: str, body: JSONObject) -> ThreadObject:
        try:
            thread = await self._session.modify_thread(thread_id, body)
        except BaseException:
            _forget(self.threads, thread_id)
            raise
        self.threads.prime(thread["id"], thread, force=True)
        if self._recorder is not None:
            await self._recorder.threads_seen([thread])
        return thread

    async def delete_thread(self, thread_id: str) -> DeletedObject:
        try:
            deleted = await self._session.delete_thread(thread_id)
            if self._recorder is not None:
                await self._recorder.threads_gone([thread_id])
            return deleted
        finally:
            _forget(self.threads, thread_id)
            self.pages.forget_thread(thread_id)
            for key in [key for key in self._known if key[0] == thread_id]:
                self._forget_message(key)

    async def create_message(self, thread_id: str, body: JSONObject) -> MessageObject:
        try:
            message = await self._session.create_message(thread_id, body)
        finally:
            self.pages.forget_thread(thread_id)
        self.prime_message(message)
        if self._recorder is not None:
            await self._recorder.activity_seen([(thread_id, int(message["created_at"]))])
        return message

    async def update_message(
        self, thread_id: str, message_id: str, body: JSONObject
    ) -> MessageObject:
        try:
            message = await self._session.modify_message(thread_id, message_id, body)
        except BaseException:
            self._forget_message((thread_id, message_id))
            raise
        finally:
            self.pages.forget_thread(thread_id)
        self.prime_message(message)
        return message

    async def delete_message(self, thread_id: str, message_id: str) -> DeletedObject:
        try:
            return await self._session.delete_message(thread_id, message_id)
        finally:
            self._forget_message((thread_id, message_id))
            self.pages.forget_thread(thread_id)

    def known_thread(self, thread: ThreadObject) -> None:
        """A thread read from the embedded store's database (the thread index): cached as
        if the upstream had returned it (no call for it in this operation)."""
        self.threads.prime(thread["id"], thread)
        self._session.known_thread(thread)

    def prime_message(self, message: MessageObject) -> None:
        """Remember a message the upstream just returned (replacing an older copy)."""
        key = (message["thread_id"], message["id"])
        self._known[key] = message
        self.messages.prime(key, message, force=True)

    def _forget_message(self, key: MessageKey) -> None:
        self._known.pop(key, None)
        _forget(self.messages, key)
