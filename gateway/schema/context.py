"""The per-request GraphQL context: the caller's upstream session and fresh loaders."""

from __future__ import annotations

from strawberry.fastapi import BaseContext
from strawberry.types import Info as StrawberryInfo

from gateway.config import Settings
from gateway.schema.loaders import BatchObserver, Loaders
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
    ) -> None:
        super().__init__()
        self.settings = settings
        self.session = session
        self.request_id = request_id
        self.loaders = Loaders(session, on_batch)


Info = StrawberryInfo[Context, None]
