"""Which bus a gateway runs: the state database's log when it has one, else in process."""

from __future__ import annotations

from pathlib import Path

from gateway.config import Settings
from gateway.live.bus import EventBus
from gateway.live.in_process import InProcessBus
from gateway.live.sqlite_log import SQLiteLogBus

__all__ = ["create_bus"]


def create_bus(settings: Settings) -> EventBus:
    """The embedded store's log (SQLite file, PostgreSQL database), or an in-process bus.

    Over a remote upstream the state database holds the thread index but no event
    log yet: the bus is the process's own (its writes and polls reach its own
    subscribers).
    """
    if not settings.embedded:
        return InProcessBus()
    where = settings.store_location
    if where.kind == "sqlite":
        return SQLiteLogBus(Path(where.target), poll_interval=settings.event_poll_interval)
    from gateway.live.postgres_log import PostgresLogBus  # psycopg: an optional extra

    return PostgresLogBus(where.target)
