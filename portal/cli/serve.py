"""``portal serve`` and ``portal migrate``."""

from __future__ import annotations

import argparse
import asyncio
import sys

from portal.cli.commands import Commands, add_command
from portal.settings import Settings


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


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from portal.web.access_log import uvicorn_log_config

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
        log_config=uvicorn_log_config(),  # tracking tokens and searches kept out of the log
    )
    return 0


def _migrate(_: argparse.Namespace, settings: Settings) -> int:
    asyncio.run(_prepare(settings, seed=False))
    return 0


def register(commands: Commands) -> None:
    serve = add_command(commands, "serve", "migrate, seed the catalogue if empty, and serve")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument("--workers", type=int, default=1, help="worker processes")
    serve.set_defaults(handler=_serve)

    migrate = add_command(commands, "migrate", "apply pending database migrations")
    migrate.set_defaults(handler=_migrate)
