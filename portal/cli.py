"""The ``portal`` command: serve, migrate, and read the SMS outbox."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from portal.settings import Settings, SettingsError, load_settings


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


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def _outbox_rows(settings: Settings, to: str | None) -> list[dict[str, Any]]:
    from portal.db import configure_database
    from portal.sms.outbox import list_messages

    configure_database(settings.database_url)
    return await list_messages(to_phone=to)


def _outbox(args: argparse.Namespace, settings: Settings) -> int:
    from portal.otp.phone import PhoneError, parse_thai_mobile

    to = None
    if args.to:
        try:
            to = parse_thai_mobile(args.to).e164
        except PhoneError as error:
            print(f"not a Thai mobile number: {args.to} ({error.code})", file=sys.stderr)
            return 2
    rows = asyncio.run(_outbox_rows(settings, to))
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

    from portal.db import PoolSize, configure_database
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


async def _change_status(settings: Settings, args: argparse.Namespace) -> str:
    from portal.casework.status import change_status
    from portal.db import configure_database
    from portal.sms.outbox import SmsConfig
    from portal.tables.citizen_request import RequestStatus
    from portal.tracking.numbers import parse_request_number

    configure_database(settings.database_url)
    changed = await change_status(
        number=parse_request_number(args.number) or args.number,
        status=RequestStatus(args.status),
        actor=args.actor,
        public_note=args.note,
        base_url=settings.base_url,
        sms=SmsConfig(sender=settings.sms_sender, backend=settings.sms_backend),
    )
    return f"{changed.number}: {changed.old.value} -> {changed.new.value}"


def _status(args: argparse.Namespace, settings: Settings) -> int:
    from portal.casework.status import StatusChangeError

    try:
        print(asyncio.run(_change_status(settings, args)))
    except StatusChangeError as error:
        print(f"cannot change status: {error.code}", file=sys.stderr)
        return 2
    return 0


async def _create_staff(settings: Settings, args: argparse.Namespace) -> str:
    from portal.db import configure_database
    from portal.staff.accounts import create_account

    configure_database(settings.database_url)
    created = await create_account(
        username=args.username,
        role=args.role,
        display_name=args.display_name,
        actor="portal-cli",
        enrolment_key=settings.derive_key("staff-enrolment"),
        totp_key=settings.derive_key("staff-totp"),
    )
    return created.link.url(settings.base_url)


def _staff_create(args: argparse.Namespace, settings: Settings) -> int:
    """The account is made without a password: its owner chooses one through the link."""
    from portal.staff.accounts import AccountError

    try:
        url = asyncio.run(_create_staff(settings, args))
    except AccountError as error:
        print(f"cannot create the account: {error.code}", file=sys.stderr)
        return 2
    print(f"created {args.username} ({args.role}).")
    print("Give this one-time link to its owner (valid 72 hours), to set a password and an")
    print("authenticator app. Nobody can sign in as this account until the link is used:")
    print(url)
    return 0


async def _reset_staff(settings: Settings, username: str) -> str:
    from portal.db import configure_database
    from portal.staff.enrolment import EnrolmentError, issue_reset_link
    from portal.tables.staff_user import StaffUser

    configure_database(settings.database_url)
    row = await StaffUser.select(StaffUser.id).where(StaffUser.username == username).first()
    if row is None:
        raise EnrolmentError("unknown_account")
    link = await issue_reset_link(
        staff_id=int(row["id"]),
        actor="portal-cli",
        client_ip="",
        key=settings.derive_key("staff-enrolment"),
        totp_key=settings.derive_key("staff-totp"),
    )
    return link.url(settings.base_url)


def _staff_reset(args: argparse.Namespace, settings: Settings) -> int:
    """Lost password or phone (the last admin's too): a new link, the old ones stop now."""
    from portal.staff.enrolment import EnrolmentError

    try:
        url = asyncio.run(_reset_staff(settings, args.username.strip().lower()))
    except EnrolmentError as error:
        print(f"cannot reset the account: {error.code}", file=sys.stderr)
        return 2
    print(f"{args.username}: the old password and authenticator no longer work.")
    print("Give this one-time link to its owner (valid 72 hours):")
    print(url)
    return 0


async def _run_purge(settings: Settings, dry_run: bool) -> Any:
    from portal.attachments.config import AttachmentConfig
    from portal.db import PoolSize, close_pool, configure_database, start_pool
    from portal.privacy.citizen_ids import CitizenIdVault
    from portal.privacy.retention import purge

    # The configured pool, with its lock and statement timeouts: a purge waiting on a lock a
    # web request holds gives up like the web workers do, instead of waiting for ever.
    configure_database(settings.database_url, PoolSize.from_settings(settings))
    await start_pool()
    try:
        return await purge(
            retention_days=settings.retention_days,
            store=AttachmentConfig.from_settings(settings).store,
            dry_run=dry_run,
            vault=CitizenIdVault.from_settings(settings),
        )
    finally:
        await close_pool()


def _purge(args: argparse.Namespace, settings: Settings) -> int:
    """PDPA retention: anonymise closed requests past ``PORTAL_RETENTION_DAYS`` (cron, daily)."""
    report = asyncio.run(_run_purge(settings, args.dry_run))
    verb = "would anonymise" if args.dry_run else "anonymised"
    print(
        f"{verb} {report.requests} closed requests last changed before "
        f"{report.cutoff:%Y-%m-%d} (retention {report.retention_days} days)"
    )
    for number in report.numbers:
        print(f"    {number}")
    print(
        f"attachments {report.attachments}, request SMS blanked {report.sms_blanked}, "
        f"old OTP codes {report.otp_challenges}, old code SMS {report.sms_without_request}, "
        f"old staff sign-in attempts {report.sign_in_attempts}, "
        f"citizen IDs sealed in older requests {report.ids_sealed}"
    )
    return 0


async def _run_clean_uploads(settings: Settings) -> int:
    from portal.attachments.config import AttachmentConfig
    from portal.attachments.service import clean_stale_pending
    from portal.db import close_pool, configure_database, start_pool

    configure_database(settings.database_url)
    await start_pool()
    try:
        return await clean_stale_pending(AttachmentConfig.from_settings(settings).store)
    finally:
        await close_pool()


def _clean_uploads(args: argparse.Namespace, settings: Settings) -> int:
    """Files uploaded on forms never sent, older than a day (cron, hourly or daily)."""
    print(f"deleted {asyncio.run(_run_clean_uploads(settings))} unsent uploads older than a day")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from portal.tables.citizen_request import RequestStatus

    parser = argparse.ArgumentParser(prog="portal", description="OSS-LOCAL e-Service portal")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="migrate, seed the catalogue if empty, and serve")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(handler=_serve)

    migrate = commands.add_parser("migrate", help="apply pending database migrations")
    migrate.set_defaults(handler=_migrate)

    sms = commands.add_parser("sms", help="SMS tools")
    sms_commands = sms.add_subparsers(dest="sms_command", required=True)
    outbox = sms_commands.add_parser(
        "outbox", help="messages the outbox backend kept, newest first"
    )
    outbox.add_argument("--to", help="only messages to this phone number")
    outbox.add_argument("--json", action="store_true", help="print JSON")
    outbox.set_defaults(handler=_outbox)
    worker = sms_commands.add_parser(
        "worker", help="send queued SMS through the configured gateway until stopped"
    )
    worker.add_argument(
        "--once", action="store_true", help="send what is due now, then exit (for cron)"
    )
    worker.set_defaults(handler=_sms_worker)

    requests = commands.add_parser("requests", help="citizen requests")
    requests_commands = requests.add_subparsers(dest="requests_command", required=True)
    status = requests_commands.add_parser(
        "status", help="change a request's status; the citizen gets an SMS"
    )
    status.add_argument("number", help="request number, e.g. 69-123456")
    status.add_argument("status", choices=[status.value for status in RequestStatus])
    status.add_argument("--note", default="", help="note shown to the citizen on the timeline")
    status.add_argument("--actor", default="portal-cli", help="who made the change")
    status.set_defaults(handler=_status)

    staff = commands.add_parser("staff", help="office staff accounts")
    staff_commands = staff.add_subparsers(dest="staff_command", required=True)
    create = staff_commands.add_parser(
        "create",
        help="create an account and print its one-time enrolment link (the owner sets the "
        "password and the authenticator app)",
    )
    create.add_argument("--username", required=True)
    create.add_argument("--role", choices=["officer", "admin"], default="officer")
    create.add_argument("--display-name", default="")
    create.set_defaults(handler=_staff_create)
    reset = staff_commands.add_parser(
        "reset",
        help="end an account's password and authenticator and print a new enrolment link",
    )
    reset.add_argument("--username", required=True)
    reset.set_defaults(handler=_staff_reset)

    purge = commands.add_parser(
        "purge",
        help="anonymise closed requests past PORTAL_RETENTION_DAYS (PDPA); audited, idempotent",
    )
    purge.add_argument(
        "--dry-run", action="store_true", help="only say what would be anonymised and deleted"
    )
    purge.set_defaults(handler=_purge)

    attachments = commands.add_parser("attachments", help="photos and PDFs citizens attach")
    attachments_commands = attachments.add_subparsers(dest="attachments_command", required=True)
    clean = attachments_commands.add_parser(
        "clean", help="delete uploads of forms never sent, older than a day"
    )
    clean.set_defaults(handler=_clean_uploads)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    result: int = args.handler(args, settings)
    return result


if __name__ == "__main__":
    sys.exit(main())
