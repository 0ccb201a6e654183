"""Logging set-up: one line per record, and no library logger that prints URLs or headers.

httpx logs every request URL at INFO; upstream URLs are not to appear in logs
(DESIGN.md §5), so its loggers are held at WARNING.
"""

from __future__ import annotations

import logging

__all__ = ["configure_logging"]

_QUIET = ("httpx", "httpcore", "hpack", "uvicorn.access")


def configure_logging(level: str = "info") -> None:
    """Configure the root logger once, for the ``serve`` command."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    quiet_library_loggers()


def quiet_library_loggers() -> None:
    """Keep loggers that would print upstream URLs or headers at WARNING and above."""
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
