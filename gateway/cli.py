"""The ``messages-gateway`` command: ``serve`` and ``export-schema``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["main"]


def _serve(args: argparse.Namespace) -> int:
    import uvicorn
    from pydantic import ValidationError

    from gateway.app import create_app
    from gateway.config import Settings
    from gateway.logs import configure_logging
    from gateway.store import StoreOpenError, check_store_path
    from gateway.upstream import normalize_base_url
    from gateway.worker import WORKER_APP, hand_over

    try:
        overrides: dict[str, object] = {}
        if args.host is not None:
            overrides["host"] = args.host
        if args.port is not None:
            overrides["port"] = args.port
        if args.workers is not None:
            overrides["workers"] = args.workers
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        # Field names and reasons only: the values may hold keys or URLs with secrets.
        problems = "\n".join(
            f"  {'.'.join(str(part) for part in error['loc']) or 'settings'}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)
        )
        print(f"messages-gateway: invalid configuration:\n{problems}", file=sys.stderr)
        return 2
    if settings.upstream_url is not None:
        try:
            normalize_base_url(settings.upstream_url)
        except ValueError as exc:
            print(f"messages-gateway: invalid GATEWAY_UPSTREAM_URL: {exc}", file=sys.stderr)
            return 2
    configure_logging(settings.log_level)
    if settings.embedded:
        try:
            check_store_path(settings.store_path)
        except StoreOpenError as exc:
            print(f"messages-gateway: {exc}", file=sys.stderr)
            return 2
    app: FastAPI | str
    if settings.workers == 1:
        app = create_app(settings)
    else:
        # Each worker builds its own app (see gateway.worker); the store file's
        # schema was created above, once, before any of them starts.
        hand_over(overrides)
        app = WORKER_APP
    uvicorn.run(
        app,
        factory=settings.workers > 1,
        workers=settings.workers,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    return 0


def _export_schema(args: argparse.Namespace) -> int:
    from gateway.schema import schema_sdl

    sdl = schema_sdl()
    if args.output == "-":
        sys.stdout.write(sdl)
    else:
        Path(args.output).write_text(sdl, encoding="utf-8")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="messages-gateway",
        description="GraphQL gateway over the OpenAI-compatible Threads & Messages API.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve", help="run the gateway (embedded store unless GATEWAY_UPSTREAM_URL is set)"
    )
    serve.add_argument("--host", default=None, help="overrides GATEWAY_HOST")
    serve.add_argument("--port", type=int, default=None, help="overrides GATEWAY_PORT")
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes serving the port (overrides GATEWAY_WORKERS; default 1)",
    )
    serve.set_defaults(handler=_serve)
    export = commands.add_parser("export-schema", help="write the GraphQL SDL")
    export.add_argument(
        "-o",
        "--output",
        default="schema.graphql",
        help="file to write, or - for stdout (default: schema.graphql)",
    )
    export.set_defaults(handler=_export_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.captureWarnings(True)
    handler = args.handler
    result: int = handler(args)
    return result
