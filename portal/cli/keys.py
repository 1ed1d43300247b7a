"""``portal keys``: the secret's keys, after ``PORTAL_SECRET_KEY`` changed."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from portal.cli.commands import Commands, add_command
from portal.settings import Settings


async def _run_rotate(settings: Settings) -> Any:
    from portal.db import close_pool, configure_database, start_pool
    from portal.db_engines import PoolSize
    from portal.ops.keyring_rotation import rotate
    from portal.privacy.citizen_ids import CitizenIdVault

    configure_database(settings.database_url, PoolSize.from_settings(settings))
    await start_pool()
    try:
        return await rotate(
            vault=CitizenIdVault.from_settings(settings),
            totp_key=settings.derive_key("staff-totp"),
        )
    finally:
        await close_pool()


def _rotate(args: argparse.Namespace, settings: Settings) -> int:
    """Re-seal under PORTAL_SECRET_KEY what older secrets sealed; exit 1 if some stay unread."""
    report = asyncio.run(_run_rotate(settings))
    print(
        f"re-sealed {report.citizen_ids} citizen IDs, {report.totp_secrets} TOTP secrets; "
        f"{report.unreadable} values no key opens (left as they are)"
    )
    if report.unreadable:
        print(
            f"{report.unreadable_citizen_ids} requests' citizen IDs and "
            f"{report.unreadable_totp_secrets} staff authenticators open with no key: add the "
            "secret that sealed them to PORTAL_OLD_SECRET_KEYS and run this again, or reset "
            "those staff accounts (portal staff reset)",
            file=sys.stderr,
        )
        return 1
    if settings.old_secret_keys:
        print("nothing needs PORTAL_OLD_SECRET_KEYS any more except sessions and links already")
        print("given out: keep it until they expire (12 hours; enrolment links 72 hours).")
    return 0


def register(commands: Commands) -> None:
    keys = add_command(commands, "keys", "the keys derived from PORTAL_SECRET_KEY")
    keys_commands = keys.add_subparsers(dest="keys_command", required=True)
    rotate = add_command(
        keys_commands,
        "rotate",
        "re-seal citizen IDs and TOTP secrets under PORTAL_SECRET_KEY (after a change; the "
        "old secret in PORTAL_OLD_SECRET_KEYS); audited, idempotent",
    )
    rotate.set_defaults(handler=_rotate)
