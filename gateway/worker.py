"""One worker process of ``messages-gateway serve --workers N``.

With more than one worker, uvicorn's supervisor binds the port once and starts
N processes (the ``spawn`` start method: nothing of the supervisor's memory,
no open SQLite connection, no event loop, crosses into a worker), each
accepting connections from the one listening socket. Each worker builds its own
app with ``worker_app``: its own upstream ``httpx`` pool, its own store threads
and connections, its own caches and metrics. Nothing in a worker is a source of
truth; the store's database is the only thing the workers share.

A worker rebuilds ``Settings`` from the environment (and ``.env``) it inherits,
so the command-line flags of ``serve`` are handed over as ``GATEWAY_*``
variables (``hand_over``) before the supervisor starts: every worker then
runs with exactly the settings the supervisor checked.

A worker also stops when its supervisor dies, even by ``kill -9`` (Linux
``PR_SET_PDEATHSIG``): an orphaned worker would go on holding the port, and a
new ``serve`` could then neither bind it nor know what answers on it.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Mapping

from fastapi import FastAPI

from gateway.app import create_app
from gateway.config import Settings
from gateway.gc_tuning import tune_for_serving
from gateway.http_edge import server_options
from gateway.logs import configure_logging

__all__ = ["WORKER_APP", "WORKER_HTTP_PROTOCOL", "hand_over", "stop_with_supervisor", "worker_app"]

WORKER_APP = "gateway.worker:worker_app"
"""The import string of the app factory uvicorn calls in every worker process."""

WORKER_HTTP_PROTOCOL = "gateway.worker:http_protocol"
"""The import string of the HTTP protocol class every worker builds for itself.

The bounded protocol (``gateway.http_edge.server_options``) is a class made at run
time from the settings, with its own connection registry; uvicorn hands its
configuration to spawned workers by pickling, which a class made at run time does
not survive. Each worker resolves this string instead: the module attribute
``http_protocol`` (see ``__getattr__``) is built there from the worker's settings,
so every worker caps its own connections (``MAX_CONNECTIONS`` is per process)."""

_ENV_PREFIX = "GATEWAY_"
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def hand_over(overrides: Mapping[str, object]) -> None:
    """Put the command line's settings into the environment the workers will inherit.

    Settings names are case-insensitive in the environment, so any spelling of
    the same variable is replaced, not left to compete with the new value.
    """
    for field, value in overrides.items():
        name = _ENV_PREFIX + field.upper()
        for existing in [key for key in os.environ if key.upper() == name]:
            del os.environ[existing]
        os.environ[name] = str(value)


def stop_with_supervisor() -> None:
    """Have the kernel send this worker SIGTERM (a graceful stop) when its supervisor dies."""
    supervisor = multiprocessing.parent_process()
    if not sys.platform.startswith("linux") or supervisor is None:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        return  # not fatal: the worker merely outlives a killed supervisor
    if os.getppid() != supervisor.pid:  # it died before the request was in place
        os.kill(os.getpid(), signal.SIGTERM)


def __getattr__(name: str) -> object:
    """``http_protocol``: this worker's bounded HTTP protocol (``WORKER_HTTP_PROTOCOL``)."""
    if name == "http_protocol":
        return server_options(Settings())["http"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def worker_app() -> FastAPI:
    """The app of one worker process, built from the environment (uvicorn's ``factory``)."""
    stop_with_supervisor()
    settings = Settings()
    configure_logging(settings.log_level)
    logging.captureWarnings(True)
    app = create_app(settings)
    tune_for_serving()  # after the app is built: its heap is frozen, collections skip it
    return app
