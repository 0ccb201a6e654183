"""``WakeOnWrite``: a write answered by this process's store wakes its event-log reader.

The log bus of an SQLite file polls every ``EVENT_POLL_INTERVAL``; a write made
through this very process (a GraphQL mutation, a REST call to ``/v1``) need not
wait for the next tick: once the store has answered a write (so it committed),
the reader reads the log at once. Writes of other processes still arrive by the
poll (PostgreSQL: by NOTIFY).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["WakeOnWrite"]

_WRITES = frozenset({"POST", "DELETE"})


class WakeOnWrite:
    def __init__(self, app: ASGIApp, wake: Callable[[], None]) -> None:
        self.app = app
        self.wake = wake

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in _WRITES:
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.wake()
