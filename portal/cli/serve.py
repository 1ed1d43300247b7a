"""``portal serve`` and ``portal migrate``."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Mapping

from portal.cli.commands import Commands, add_command, env_default_help
from portal.settings import Settings, SettingsError

SERVE_OPTIONS = (
    ("--host", "PORTAL_HOST", "127.0.0.1", "address to listen on"),
    ("--port", "PORTAL_PORT", 8000, "port to listen on"),
    ("--workers", "PORTAL_WORKERS", 1, "worker processes"),
)
"""Options of ``portal serve`` a unit file or ``.env`` may set instead of the command line:
the command line wins, then the environment, then the default."""


async def _prepare(settings: Settings, *, seed: bool) -> None:
    from portal.catalogue.service import seed_default_services
    from portal.db import close_pool, configure_database, migrate

    configure_database(settings.database_url)
    try:
        await migrate()
        if seed:
            from portal.staff.reply_templates import seed_default_reply_templates

            added = await seed_default_services()
            if added:
                print(f"seeded {added} default services", file=sys.stderr)
            if await seed_default_reply_templates():
                print("seeded the default reply templates", file=sys.stderr)
    finally:
        await close_pool()  # the workers open their own


def serve_options(args: argparse.Namespace, environ: Mapping[str, str]) -> argparse.Namespace:
    """``args`` with each serve option not on the command line taken from the environment."""
    for option, env_name, default, _ in SERVE_OPTIONS:
        name = option.removeprefix("--")
        if getattr(args, name) is not None:
            continue
        raw = environ.get(env_name, "").strip()
        if not raw:
            setattr(args, name, default)
        elif isinstance(default, int):
            if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 65535:
                raise SettingsError(f"{env_name} must be a whole number from 1 to 65535")
            setattr(args, name, int(raw))
        else:
            setattr(args, name, raw)
    return args


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from portal.web.access_log import uvicorn_log_config

    args = serve_options(args, os.environ)
    # Before any worker (or this process) makes a metric: the workers' shared metric files.
    from portal.ops.multiproc import prepare_multiprocess_dir

    prepare_multiprocess_dir(settings.data_dir)
    asyncio.run(_prepare(settings, seed=True))
    print(f"OSS-LOCAL portal on http://{args.host}:{args.port}", file=sys.stderr)
    if settings.is_development:
        print("OTP and other SMS: `portal sms outbox` or /dev/sms", file=sys.stderr)
    uvicorn.run(
        "portal.app:create_app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
        log_level="info",
        # One line per request, written by the portal (portal/web/log_format.py): uvicorn's
        # access log is off. Tracking tokens and searches are kept out of the log.
        log_config=uvicorn_log_config(settings.log_format),
        access_log=False,
    )
    return 0


def _migrate(_: argparse.Namespace, settings: Settings) -> int:
    asyncio.run(_prepare(settings, seed=False))
    return 0


def register(commands: Commands) -> None:
    serve = add_command(commands, "serve", "migrate, seed the catalogue if empty, and serve")
    for option, env_name, default, text in SERVE_OPTIONS:
        serve.add_argument(
            option,
            type=str if option == "--host" else int,
            default=None,
            help=env_default_help(text, env_name, default),
        )
    serve.set_defaults(handler=_serve)

    migrate = add_command(commands, "migrate", "apply pending database migrations")
    migrate.set_defaults(handler=_migrate)
