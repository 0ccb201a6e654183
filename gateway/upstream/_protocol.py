"""``Upstream``: what the GraphQL layer needs of a per-operation upstream session.

``UpstreamSession`` is the real one; wrappers such as the owner-isolation session
(gateway.auth) implement the same protocol by delegating, without inheriting
state they would never use.
"""

from __future__ import annotations

from typing import Protocol

from gateway.upstream._types import (
    DeletedObject,
    JSONObject,
    ListMessagesParams,
    MessageList,
    MessageObject,
    ThreadObject,
)

__all__ = ["DelegatingUpstream", "Upstream"]


class Upstream(Protocol):
    """The nine operations, and the accounting the responses report."""

    @property
    def calls(self) -> int: ...

    @property
    def attempts(self) -> int: ...

    @property
    def max_calls(self) -> int: ...

    @property
    def max_in_flight(self) -> int: ...

    def known_thread(self, thread: ThreadObject) -> None:
        """A thread the operation read from the embedded store's own database (the thread
        index): a wrapper that would fetch it again (owner isolation) may use it instead."""
        ...

    async def create_thread(self, body: JSONObject) -> ThreadObject: ...

    async def get_thread(self, thread_id: str) -> ThreadObject: ...

    async def modify_thread(self, thread_id: str, body: JSONObject) -> ThreadObject: ...

    async def delete_thread(self, thread_id: str) -> DeletedObject: ...

    async def create_message(self, thread_id: str, body: JSONObject) -> MessageObject: ...

    async def list_messages(self, thread_id: str, params: ListMessagesParams) -> MessageList: ...

    async def get_message(self, thread_id: str, message_id: str) -> MessageObject: ...

    async def modify_message(
        self, thread_id: str, message_id: str, body: JSONObject
    ) -> MessageObject: ...

    async def delete_message(self, thread_id: str, message_id: str) -> DeletedObject: ...


class DelegatingUpstream:
    """Base of the wrappers of an ``Upstream`` (owner isolation, event publishing): the
    accounting and ``known_thread`` are the inner session's, in this one place; a
    wrapper defines the nine operations it changes or passes on."""

    __slots__ = ("_inner",)

    def __init__(self, inner: Upstream) -> None:
        self._inner = inner

    @property
    def calls(self) -> int:
        return self._inner.calls

    @property
    def attempts(self) -> int:
        return self._inner.attempts

    @property
    def max_calls(self) -> int:
        return self._inner.max_calls

    @property
    def max_in_flight(self) -> int:
        return self._inner.max_in_flight

    def known_thread(self, thread: ThreadObject) -> None:
        self._inner.known_thread(thread)
