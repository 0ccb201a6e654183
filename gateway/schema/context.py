"""The per-request GraphQL context: the caller's upstream session, fresh loaders, and
the plan of each operation it executes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from strawberry.fastapi import BaseContext
from strawberry.types import Info as StrawberryInfo

from gateway.config import Settings
from gateway.live.hub import LiveAccess
from gateway.schema.activity import ThreadActivity
from gateway.schema.loaders import BatchObserver, Loaders
from gateway.schema.plan import OperationPlan
from gateway.thread_index import ThreadIndex, ThreadRecorder
from gateway.upstream import Upstream

__all__ = ["Context", "Info"]


class Context(BaseContext):
    """Built once per HTTP request; nothing in it outlives the request."""

    def __init__(
        self,
        settings: Settings,
        session: Upstream,
        request_id: str,
        on_batch: BatchObserver | None = None,
        live: LiveAccess | None = None,
        *,
        subject: str | None = None,
        thread_index: ThreadIndex | None = None,
        recorder: ThreadRecorder | None = None,
        index_holder: str | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        # Subscriptions (WebSocket connection, SSE request): the live hub and the caller.
        self.live = live
        self.connection_params: dict[str, Any] | None = None
        # WebSocket: authenticates the connection at connection_init (set by the app).
        self.authorize: Callable[[str | None], Awaitable[None]] | None = None
        self.session = session
        self.request_id = request_id
        self.loaders = Loaders(session, on_batch, recorder)
        # The viewer (gateway.schema.viewer): the caller's subject (None without
        # authentication), the thread index and the lastActivityAt lookups.
        self.subject = subject
        self.thread_index = thread_index
        # Passthrough (remote upstream, no gateway auth): whose index rows are the
        # caller's, from its forwarded key (gateway.auth.forwarded_key_holder).
        self.index_holder = index_holder
        self.activity = ThreadActivity(thread_index)
        # Tokens parsed for this HTTP request so far: a batch's documents share
        # MAX_TOKENS (limits.LimitedParser).
        self.tokens_spent = 0
        # A WebSocket connection's one context serves many operations: each its own budget.
        self.tokens_per_operation = False
        # A batch executes several operations with this one context: each plan is
        # filed under its execution's coerced-variables dict (the very object every
        # resolver of that execution sees as ``info.variable_values``), and held with
        # it so that the id stays unique while the request lives.
        self._plans: dict[int, tuple[dict[str, Any], OperationPlan]] = {}

    def file_plan(self, variables: dict[str, Any], plan: OperationPlan) -> None:
        """Keep the plan of the operation executing with ``variables`` (execution.py)."""
        self._plans[id(variables)] = (variables, plan)

    def plan_for(self, info: StrawberryInfo[Any, Any]) -> OperationPlan | None:
        """The plan of the operation ``info`` belongs to (None outside the gateway's
        executor, e.g. a schema executed without it)."""
        filed = self._plans.get(id(info.variable_values))
        return filed[1] if filed is not None else None


Info = StrawberryInfo[Context, None]
