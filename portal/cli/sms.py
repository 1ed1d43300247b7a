"""``portal sms``: the development outbox and the sending worker."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from datetime import datetime
from typing import Any

from portal.cli.commands import Commands, add_command
from portal.cli.database import UnknownOffice, office_named
from portal.settings import Settings


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def _outbox_rows(
    settings: Settings, to: str | None, office_slug: str | None = None
) -> list[dict[str, Any]]:
    from portal.db import configure_database
    from portal.sms.outbox import list_messages

    configure_database(settings.database_url)
    # Without --office: the developer's whole platform; with it, that office's messages only.
    office = await office_named(settings, office_slug) if office_slug else None
    return await list_messages(office=office, to_phone=to)


def _outbox(args: argparse.Namespace, settings: Settings) -> int:
    from portal.kernel.phone import PhoneError, parse_thai_mobile

    to = None
    if args.to:
        try:
            to = parse_thai_mobile(args.to).e164
        except PhoneError as error:
            print(f"not a Thai mobile number: {args.to} ({error.code})", file=sys.stderr)
            return 2
    try:
        rows = asyncio.run(_outbox_rows(settings, to, args.office))
    except UnknownOffice as error:
        print(f"no such office: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(
            json.dumps(
                [{k: _jsonable(v) for k, v in row.items()} for row in rows],
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    if not rows:
        print("(no messages)")
    for row in rows:
        print(
            f"{row['created_at']:%Y-%m-%d %H:%M:%S} {row['sender']} -> {row['to_phone']} "
            f"[{row['purpose']}]\n    {row['text']}"
        )
    return 0


async def _run_sms_worker(settings: Settings, once: bool) -> int:
    from dataclasses import replace

    from portal.db import configure_database
    from portal.db_engines import PoolSize
    from portal.sms.background import run_worker

    # A dispatcher needs few connections: one per message in flight, a batch at most.
    pool_max = min(settings.database_pool_max, 5)
    pool = PoolSize.from_settings(settings)
    configure_database(
        settings.database_url,
        replace(pool, min=min(settings.database_pool_min, pool_max), max=pool_max),
    )
    return await run_worker(settings, once=once)


def _sms_worker(args: argparse.Namespace, settings: Settings) -> int:
    if settings.sms_backend == "outbox":
        print("the outbox backend sends nothing: no worker needed", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO)
    sent = asyncio.run(_run_sms_worker(settings, args.once))
    if args.once:
        print(f"handled {sent} due messages", file=sys.stderr)
    return 0


def register(commands: Commands) -> None:
    sms = add_command(commands, "sms", "SMS tools")
    sms_commands = sms.add_subparsers(dest="sms_command", required=True)
    outbox = add_command(sms_commands, "outbox", "messages the outbox backend kept, newest first")
    outbox.add_argument("--to", help="only messages to this phone number")
    outbox.add_argument("--json", action="store_true", help="print JSON")
    outbox.add_argument(
        "--office", metavar="SLUG", default=None, help="only this office's messages"
    )
    outbox.set_defaults(handler=_outbox)
    worker = add_command(
        sms_commands, "worker", "send queued SMS through the configured gateway until stopped"
    )
    worker.add_argument(
        "--once", action="store_true", help="send what is due now, then exit (for cron)"
    )
    worker.set_defaults(handler=_sms_worker)
