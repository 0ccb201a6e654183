"""Keep upstream locations out of the HTTP libraries' log records.

httpx logs every request's full URL at INFO, and httpcore logs the host it
connects to at DEBUG. Upstream URLs are not to appear in logs (DESIGN.md §5), and
``gateway.logs`` holds those loggers at WARNING, but a developer who turns them up
to debug something should still not copy a private upstream's address into a
ticket. So a filter on exactly those loggers rewrites the record: an ``httpx.URL``
argument becomes its path, and httpcore's ``host=…`` style values become
``<redacted>``. Request headers (hence keys and tokens) are not logged by either
library.

The filter costs nothing unless those loggers are enabled for the record's level.
"""

from __future__ import annotations

import logging
import re

import httpx

__all__ = ["install_log_redaction"]

_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)

_LOCATION = re.compile(
    r"\b(host|server_hostname|proxy_url|url|origin|server_addr|remote_addr)="
    r"(b?'[^']*'|b?\"[^\"]*\"|\([^)]*\)|<[^>]*>|\S+)"
)


class _RedactLocations(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(isinstance(arg, httpx.URL) for arg in args):
            record.args = tuple(
                arg.raw_path.decode("ascii", "replace") if isinstance(arg, httpx.URL) else arg
                for arg in args
            )
        if record.name.startswith("httpcore"):
            text = record.getMessage()
            redacted = _LOCATION.sub(r"\1=<redacted>", text)
            if redacted != text:
                record.msg, record.args = redacted, None
        return True


_FILTER = _RedactLocations()


def install_log_redaction() -> None:
    """Attach the filter to the httpx and httpcore loggers; calling it again is harmless."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
