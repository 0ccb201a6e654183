"""Per-owner isolation: each caller sees and changes only the threads it created.

With ``OWNER_METADATA_KEY`` set, ``OwnedSession`` wraps the operation's
``UpstreamSession`` (same interface, so loaders and resolvers do not change):

- ``createThread`` stamps ``metadata[<key>] = <caller's subject>``, overriding any
  value the caller put there;
- ``updateThread`` keeps the stamp: a new metadata map (which replaces the old one
  upstream) gets it back, whatever the caller sent under that key;
- every other operation on a thread, or on its messages, first checks that the
  thread's stamp is the caller's subject, else fails with ``FORBIDDEN`` before
  anything is read or changed. A thread without the stamp (created outside the
  gateway) belongs to nobody and is refused too.

The check needs the thread object: it is fetched once per operation and shared
(a later ``thread(id:)`` of the same thread costs nothing more), so isolation
costs at most one upstream call per distinct thread per operation. The owner key
stays visible in the metadata returned to callers: it only ever shows their own
subject.
"""

from __future__ import annotations

import asyncio

from gateway.schema.errors import ErrorCode, GatewayError
from gateway.upstream import (
    DelegatingUpstream,
    DeletedObject,
    JSONObject,
    ListMessagesParams,
    MessageList,
    MessageObject,
    ThreadObject,
    Upstream,
)

__all__ = ["OwnedSession"]


class OwnedSession(DelegatingUpstream):
    """An ``Upstream`` that enforces thread ownership; delegates everything else."""

    __slots__ = ("_key", "_subject", "_threads")

    def __init__(self, inner: Upstream, *, subject: str, key: str) -> None:
        super().__init__(inner)
        self._subject = subject
        self._key = key
        self._threads: dict[str, asyncio.Future[ThreadObject]] = {}

    # --- ownership ------------------------------------------------------------------

    def _stamped(self, body: JSONObject) -> JSONObject:
        metadata = body.get("metadata")
        stamped = dict(metadata) if isinstance(metadata, dict) else {}
        stamped[self._key] = self._subject
        return {**body, "metadata": stamped}

    def _remember(self, thread: ThreadObject) -> None:
        future: asyncio.Future[ThreadObject] = asyncio.get_running_loop().create_future()
        future.set_result(thread)
        self._threads[thread["id"]] = future

    async def _owned(self, thread_id: str) -> ThreadObject:
        """The thread, once it is known to be the caller's; ``FORBIDDEN`` otherwise."""
        pending = self._threads.get(thread_id)
        if pending is None:
            pending = asyncio.ensure_future(self._inner.get_thread(thread_id))
            self._threads[thread_id] = pending
        try:
            thread = await asyncio.shield(pending)
        except asyncio.CancelledError:
            raise
        except BaseException:
            if self._threads.get(thread_id) is pending:
                del self._threads[thread_id]  # a failure is not remembered
            raise
        owner = (thread.get("metadata") or {}).get(self._key)
        if owner != self._subject:
            raise GatewayError(
                "This thread belongs to another caller.",
                ErrorCode.FORBIDDEN,
                {"threadId": thread_id},
            )
        return thread

    def known_thread(self, thread: ThreadObject) -> None:
        """Take a thread read from the store's own database as this operation's copy: its
        stamp is still checked by ``_owned`` before any use, so it costs no fetch."""
        if thread["id"] not in self._threads:
            self._remember(thread)

    # --- threads --------------------------------------------------------------------

    async def create_thread(self, body: JSONObject) -> ThreadObject:
        thread = await self._inner.create_thread(self._stamped(body))
        self._remember(thread)
        return thread

    async def get_thread(self, thread_id: str) -> ThreadObject:
        return await self._owned(thread_id)

    async def modify_thread(self, thread_id: str, body: JSONObject) -> ThreadObject:
        await self._owned(thread_id)
        if "metadata" in body:
            body = self._stamped(body)
        thread = await self._inner.modify_thread(thread_id, body)
        self._remember(thread)
        return thread

    async def delete_thread(self, thread_id: str) -> DeletedObject:
        await self._owned(thread_id)
        deleted = await self._inner.delete_thread(thread_id)
        self._threads.pop(thread_id, None)
        return deleted

    # --- messages: allowed when their thread is the caller's --------------------------

    async def create_message(self, thread_id: str, body: JSONObject) -> MessageObject:
        await self._owned(thread_id)
        return await self._inner.create_message(thread_id, body)

    async def list_messages(self, thread_id: str, params: ListMessagesParams) -> MessageList:
        await self._owned(thread_id)
        return await self._inner.list_messages(thread_id, params)

    async def get_message(self, thread_id: str, message_id: str) -> MessageObject:
        await self._owned(thread_id)
        return await self._inner.get_message(thread_id, message_id)

    async def modify_message(
        self, thread_id: str, message_id: str, body: JSONObject
    ) -> MessageObject:
        await self._owned(thread_id)
        return await self._inner.modify_message(thread_id, message_id, body)

    async def delete_message(self, thread_id: str, message_id: str) -> DeletedObject:
        await self._owned(thread_id)
        return await self._inner.delete_message(thread_id, message_id)
