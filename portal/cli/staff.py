"""``portal staff``: office staff accounts."""

from __future__ import annotations

import argparse
import asyncio
import sys

from portal.cli.commands import Commands, add_command
from portal.settings import Settings


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


def register(commands: Commands) -> None:
    staff = add_command(commands, "staff", "office staff accounts")
    staff_commands = staff.add_subparsers(dest="staff_command", required=True)
    create = add_command(
        staff_commands,
        "create",
        "create an account and print its one-time enrolment link (the owner sets the "
        "password and the authenticator app)",
    )
    create.add_argument("--username", required=True, help="sign-in name")
    create.add_argument("--role", choices=["officer", "admin"], default="officer", help="role")
    create.add_argument("--display-name", default="", help="name shown to colleagues")
    create.set_defaults(handler=_staff_create)
    reset = add_command(
        staff_commands,
        "reset",
        "end an account's password and authenticator and print a new enrolment link",
    )
    reset.add_argument("--username", required=True, help="sign-in name")
    reset.set_defaults(handler=_staff_reset)
