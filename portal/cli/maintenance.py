"""``portal purge`` and ``portal attachments clean``: jobs for a timer (see deploy/)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, Any

from portal.cli.commands import Commands, add_command
from portal.settings import Settings

if TYPE_CHECKING:
    from portal.attachments.storage import AttachmentStore


async def _run_purge(settings: Settings, dry_run: bool) -> Any:
    from portal.attachments.config import AttachmentConfig
    from portal.db import close_pool, configure_database, start_pool
    from portal.db_engines import PoolSize
    from portal.privacy.citizen_ids import CitizenIdVault
    from portal.privacy.retention import purge_every_office

    # The configured pool, with its lock and statement timeouts: a purge waiting on a lock a
    # web request holds gives up like the web workers do, instead of waiting for ever.
    configure_database(settings.database_url, PoolSize.from_settings(settings))
    await start_pool()
    try:
        # Each office with its own retention days (PORTAL_RETENTION_DAYS where it set none).
        return await purge_every_office(
            settings,
            store=AttachmentConfig.from_settings(settings).store,
            dry_run=dry_run,
            vault=CitizenIdVault.from_settings(settings),
        )
    finally:
        await close_pool()


def _purge(args: argparse.Namespace, settings: Settings) -> int:
    """PDPA retention: anonymise closed requests past each office's retention days
    (``PORTAL_RETENTION_DAYS`` where it set none; cron, daily). One report per office, the
    office's slug in front when there are several."""
    reports = asyncio.run(_run_purge(settings, args.dry_run))
    verb = "would anonymise" if args.dry_run else "anonymised"
    for report in reports:
        prefix = f"[{report.office}] " if len(reports) > 1 else ""
        print(
            f"{prefix}{verb} {report.requests} closed requests last changed before "
            f"{report.cutoff:%Y-%m-%d} (retention {report.retention_days} days)"
        )
        for number in report.numbers:
            print(f"    {number}")
        print(
            f"{prefix}attachments {report.attachments}, request SMS blanked "
            f"{report.sms_blanked}, old OTP codes {report.otp_challenges}, old code SMS "
            f"{report.sms_without_request}, old staff sign-in attempts "
            f"{report.sign_in_attempts}, citizen IDs sealed in older requests {report.ids_sealed}"
        )
    return 0


async def clean_unsent_forms(store: AttachmentStore, now: datetime | None = None) -> int:
    """What forms never sent leave behind, after a day: uploads (rows and files) and refusals
    (``portal.attachments.pending``), then typed drafts (``portal.citizen.drafts``). Returns
    how many uploads went."""
    from portal.attachments.pending import clean_stale_pending
    from portal.citizen.drafts import clean_stale_drafts
    from portal.kernel.clock import utcnow

    removed = await clean_stale_pending(store, now=now)
    await clean_stale_drafts(now or utcnow())
    return removed


async def _run_clean_uploads(settings: Settings) -> int:
    from portal.attachments.config import AttachmentConfig
    from portal.db import close_pool, configure_database, start_pool

    configure_database(settings.database_url)
    await start_pool()
    try:
        return await clean_unsent_forms(AttachmentConfig.from_settings(settings).store)
    finally:
        await close_pool()


def _clean_uploads(args: argparse.Namespace, settings: Settings) -> int:
    """Files uploaded on forms never sent, older than a day (cron, hourly or daily)."""
    print(f"deleted {asyncio.run(_run_clean_uploads(settings))} unsent uploads older than a day")
    return 0


def register(commands: Commands) -> None:
    purge = add_command(
        commands,
        "purge",
        "anonymise closed requests past PORTAL_RETENTION_DAYS (PDPA); audited, idempotent",
    )
    purge.add_argument(
        "--dry-run", action="store_true", help="only say what would be anonymised and deleted"
    )
    purge.set_defaults(handler=_purge)

    attachments = add_command(commands, "attachments", "photos and PDFs citizens attach")
    attachments_commands = attachments.add_subparsers(dest="attachments_command", required=True)
    clean = add_command(
        attachments_commands, "clean", "delete uploads of forms never sent, older than a day"
    )
    clean.set_defaults(handler=_clean_uploads)
