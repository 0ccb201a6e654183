"""Events over a remote upstream: this gateway's own writes, and polls for everyone else's.

A remote upstream pushes nothing, so two sources feed the bus (DESIGN §13):

- ``PublishingSession`` wraps an operation's upstream session: each write that
  succeeds through this gateway is published at once, with the object the
  upstream answered;
- ``ThreadPoller`` polls every thread that has subscribers in this process,
  every ``POLL_SECONDS``: one ``listMessages`` after the newest message it
  knows, however many subscribers the thread has. A message it finds that this
  process did not publish itself is a ``MessageCreated``. (Updates and deletes
  made elsewhere are not seen by a poll of new messages; a thread deleted
  elsewhere is, by the poll's NOT_FOUND, and sends ``ThreadDeleted``.)

Across replicas each one polls its own subscribed threads (one poller per
thread across replicas is a goal this version does not reach: a lease in the
state database would make it so).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import OrderedDict
from collections.abc import Callable

from gateway.live.bus import EventBus
from gateway.store.events import EventKind, deleted_message_object, deleted_thread_object
from gateway.upstream import (
    DelegatingUpstream,
    DeletedObject,
    JSONObject,
    ListMessagesParams,
    MessageList,
    MessageObject,
    NotFoundError,
    ThreadObject,
    Upstream,
)

__all__ = ["PublishingSession", "ThreadPoller"]

logger = logging.getLogger("gateway.live")

_KNOWN_PER_THREAD = 1_000


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class ThreadPoller:
    """Polls the subscribed threads of this process for messages written elsewhere."""

    def __init__(
        self, bus: EventBus, open_session: Callable[[], Upstream], *, interval: float
    ) -> None:
        self._bus = bus
        self._open_session = open_session
        self._interval = interval
        self._newest: dict[str, str | None] = {}
        self._known: dict[str, OrderedDict[str, None]] = {}
        self._task: asyncio.Task[None] | None = None
        self.polls = 0

    def note(self, thread_id: str, message_id: str) -> None:
        """A message this process published itself: a poll must not publish it again."""
        known = self._known.setdefault(thread_id, OrderedDict())
        known[message_id] = None
        while len(known) > _KNOWN_PER_THREAD:
            known.popitem(last=False)

    async def watch(self, thread_id: str, session: Upstream) -> None:
        """A stream of ``thread_id`` just subscribed: note the thread's newest message now,
        so a message written elsewhere before the first poll round is still found."""
        if thread_id in self._newest:
            return
        latest = await session.list_messages(thread_id, {"order": "desc", "limit": 1})
        self._newest.setdefault(thread_id, latest["data"][0]["id"] if latest["data"] else None)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="thread-poller")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            threads = set(self._bus.subscribed_threads())
            for gone in set(self._newest) - threads:
                del self._newest[gone]
                self._known.pop(gone, None)
            await asyncio.gather(*(self._poll(thread_id) for thread_id in threads))

    async def _poll(self, thread_id: str) -> None:
        session = self._open_session()
        try:
            self.polls += 1
            if thread_id not in self._newest:  # first poll: where the thread is now
                latest = await session.list_messages(thread_id, {"order": "desc", "limit": 1})
                self._newest[thread_id] = latest["data"][0]["id"] if latest["data"] else None
                return
            newest = self._newest[thread_id]
            params: ListMessagesParams = {"order": "asc", "limit": 100}
            if newest is not None:
                params["after"] = newest
            page = await session.list_messages(thread_id, params)
        except NotFoundError:
            self._newest.pop(thread_id, None)
            await self._bus.publish(
                thread_id, EventKind.THREAD_DELETED, deleted_thread_object(thread_id), None
            )
            return
        except Exception as exc:  # the upstream is away: try again next round
            logger.warning("polling thread for events failed: %s", type(exc).__name__)
            return
        known = self._known.get(thread_id, OrderedDict())
        for message in page["data"]:
            self._newest[thread_id] = message["id"]
            if message["id"] in known:
                continue
            self.note(thread_id, message["id"])
            await self._bus.publish(thread_id, EventKind.MESSAGE_CREATED, _dump(message), None)


class PublishingSession(DelegatingUpstream):
    """An ``Upstream`` that publishes each successful write to the bus; delegates the rest."""

    __slots__ = ("_bus", "_poller")

    def __init__(self, inner: Upstream, bus: EventBus, poller: ThreadPoller | None) -> None:
        super().__init__(inner)
        self._bus = bus
        self._poller = poller

    async def create_thread(self, body: JSONObject) -> ThreadObject:
        thread = await self._inner.create_thread(body)
        text = _dump(thread)
        await self._bus.publish(thread["id"], EventKind.THREAD_CREATED, text, text)
        return thread

    async def get_thread(self, thread_id: str) -> ThreadObject:
        return await self._inner.get_thread(thread_id)

    async def modify_thread(self, thread_id: str, body: JSONObject) -> ThreadObject:
        thread = await self._inner.modify_thread(thread_id, body)
        text = _dump(thread)
        await self._bus.publish(thread_id, EventKind.THREAD_UPDATED, text, text)
        return thread

    async def delete_thread(self, thread_id: str) -> DeletedObject:
        deleted = await self._inner.delete_thread(thread_id)
        await self._bus.publish(
            thread_id, EventKind.THREAD_DELETED, deleted_thread_object(thread_id), None
        )
        return deleted

    async def create_message(self, thread_id: str, body: JSONObject) -> MessageObject:
        message = await self._inner.create_message(thread_id, body)
        if self._poller is not None:
            self._poller.note(thread_id, message["id"])
        await self._bus.publish(thread_id, EventKind.MESSAGE_CREATED, _dump(message), None)
        return message

    async def list_messages(self, thread_id: str, params: ListMessagesParams) -> MessageList:
        return await self._inner.list_messages(thread_id, params)

    async def get_message(self, thread_id: str, message_id: str) -> MessageObject:
        return await self._inner.get_message(thread_id, message_id)

    async def modify_message(
        self, thread_id: str, message_id: str, body: JSONObject
    ) -> MessageObject:
        message = await self._inner.modify_message(thread_id, message_id, body)
        await self._bus.publish(thread_id, EventKind.MESSAGE_UPDATED, _dump(message), None)
        return message

    async def delete_message(self, thread_id: str, message_id: str) -> DeletedObject:
        deleted = await self._inner.delete_message(thread_id, message_id)
        await self._bus.publish(
            thread_id,
            EventKind.MESSAGE_DELETED,
            deleted_message_object(thread_id, message_id),
            None,
        )
        return deleted
