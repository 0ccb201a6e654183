"""Live threads: the event bus (``bus``) and the subscriptions built on it.

See ``bus`` for the seam and its three implementations; ``gateway.store.events``
for the event log the embedded store writes in each write's transaction.
"""

from gateway.live.bus import (
    ALL_THREADS,
    BusClosedError,
    EventBus,
    SlowConsumerError,
    Subscription,
)
from gateway.live.in_process import InProcessBus
from gateway.live.log_reader import LogBus
from gateway.live.sqlite_log import SQLiteLogBus

__all__ = [
    "ALL_THREADS",
    "BusClosedError",
    "EventBus",
    "InProcessBus",
    "LogBus",
    "SQLiteLogBus",
    "SlowConsumerError",
    "Subscription",
]
