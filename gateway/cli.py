"""The ``messages-gateway`` command: serve, export-schema, migrate and copy-store."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from gateway.config import Settings

__all__ = ["main"]


def _serve(args: argparse.Namespace) -> int:
    import uvicorn
    from pydantic import ValidationError

    from gateway.app import create_app
    from gateway.config import Settings
    from gateway.gc_tuning import tune_for_serving
    from gateway.http_edge import server_options
    from gateway.logs import configure_logging
    from gateway.store import StoreOpenError, migrate
    from gateway.upstream import normalize_base_url
    from gateway.upstream._transport import environment_proxy
    from gateway.worker import WORKER_APP, WORKER_HTTP_PROTOCOL, hand_over

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
            base_url = normalize_base_url(settings.upstream_url)
            if settings.upstream_transport == "aiohttp":
                environment_proxy(base_url)  # a proxy it cannot use: refused here, once
        except ValueError as exc:
            print(f"messages-gateway: invalid GATEWAY_UPSTREAM_URL: {exc}", file=sys.stderr)
            return 2
    configure_logging(settings.log_level)
    # The state database, in both modes (over a remote upstream it holds the thread
    # index): its schema, once, before any worker starts.
    try:
        migrate(settings.store_location)
    except StoreOpenError as exc:
        print(f"messages-gateway: {exc}", file=sys.stderr)
        return 2
    options = server_options(settings)  # timeouts and the connection cap
    app: FastAPI | str
    workers = settings.worker_count
    if workers == 1:
        app = create_app(settings)
        tune_for_serving()  # after the app is built: its heap is frozen, collections skip it
    else:
        # Each worker builds its own app (see gateway.worker); the store's schema
        # was migrated above, once, before any of them starts.
        hand_over(overrides)
        app = WORKER_APP
        options["http"] = WORKER_HTTP_PROTOCOL  # a class made at run time cannot be pickled
    uvicorn.run(
        app,
        factory=workers > 1,
        workers=workers,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        **options,
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


def _settings_or_exit() -> Settings | None:
    """The settings from the environment, or ``None`` after printing what is wrong."""
    from pydantic import ValidationError

    from gateway.config import Settings

    try:
        return Settings()
    except ValidationError as exc:
        problems = "\n".join(
            f"  {'.'.join(str(part) for part in error['loc']) or 'settings'}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)
        )
        print(f"messages-gateway: invalid configuration:\n{problems}", file=sys.stderr)
        return None


def _migrate(args: argparse.Namespace) -> int:
    """Apply the store's migrations (GATEWAY_STORE_URL, or --url) and exit."""
    from gateway.store import StoreOpenError, migrate, parse_store_url

    if args.url is not None:
        try:
            where = parse_store_url(args.url)
        except ValueError as exc:
            print(f"messages-gateway: invalid --url: {exc}", file=sys.stderr)
            return 2
    else:
        settings = _settings_or_exit()
        if settings is None:
            return 2
        where = settings.store_location
    try:
        found, now = migrate(where)
    except StoreOpenError as exc:
        print(f"messages-gateway: {exc}", file=sys.stderr)
        return 2
    if found == now:
        print(f"messages-gateway: the store at {where.location} is at schema version {now}")
    else:
        print(
            f"messages-gateway: migrated the store at {where.location} "
            f"from schema version {found} to {now}"
        )
    return 0


def _copy_store(args: argparse.Namespace) -> int:
    """Copy every thread and message from one store URL to another (idempotent)."""
    import asyncio

    from gateway.store import StoreOpenError, create_backend, parse_store_url
    from gateway.store.copying import CopySummary, copy_store, terminal_progress

    try:
        source_at = parse_store_url(args.source)
        target_at = parse_store_url(args.target)
    except ValueError as exc:
        print(f"messages-gateway: invalid store URL: {exc}", file=sys.stderr)
        return 2
    if source_at == target_at:
        print("messages-gateway: --from and --to are the same store", file=sys.stderr)
        return 2
    if source_at.kind == "sqlite" and not Path(source_at.target).is_file():
        # Opening it would create (and migrate) an empty store: a typo would "copy 0 threads".
        print(
            f"messages-gateway: the source store file {source_at.target} does not exist",
            file=sys.stderr,
        )
        return 2

    async def run() -> CopySummary:
        source = create_backend(source_at)
        target = create_backend(target_at)
        await source.open()
        try:
            await target.open()
            try:
                return await copy_store(source, target, progress=terminal_progress(sys.stderr))
            finally:
                await target.close()
        finally:
            await source.close()

    try:
        summary = asyncio.run(run())
    except StoreOpenError as exc:
        print(f"messages-gateway: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "\nmessages-gateway: copy interrupted; what was copied is kept, "
            "run the same command again to finish",
            file=sys.stderr,
        )
        return 130
    print(
        f"messages-gateway: copied {summary.threads_copied} threads and "
        f"{summary.messages_copied} messages from {source_at.location} to {target_at.location}; "
        f"{summary.threads_present} threads and {summary.messages_present} messages "
        "were already there"
    )
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
        default=None,
        help="processes serving the port, or auto: one per CPU (overrides GATEWAY_WORKERS; "
        "default auto)",
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
    migrate = commands.add_parser(
        "migrate", help="create or migrate the store's schema (GATEWAY_STORE_URL) and exit"
    )
    migrate.add_argument(
        "--url", default=None, help="a store URL instead of GATEWAY_STORE_URL / STORE_PATH"
    )
    migrate.set_defaults(handler=_migrate)
    copy = commands.add_parser(
        "copy-store",
        help="copy every thread and message from one store to another (ids, order, "
        "timestamps kept; safe to run again; an older source is migrated first)",
    )
    copy.add_argument("--from", dest="source", required=True, help="source store URL")
    copy.add_argument("--to", dest="target", required=True, help="target store URL")
    copy.set_defaults(handler=_copy_store)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.captureWarnings(True)
    handler = args.handler
    result: int = handler(args)
    return result
