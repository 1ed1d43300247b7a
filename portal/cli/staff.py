"""``portal staff``: office staff accounts, and the way back in when the web cannot help.

A lost phone, a forgotten password, or the only admin locked out: ``reset-password`` /
``reset-2fa`` print a new one-time enrolment link (the link always sets both a new password
and a new authenticator: its page asks for both), ``set-role`` promotes or demotes, ``list``
shows who can sign in. Every change is audited with the actor ``system/cli``. No command may
leave the office without an admin who can sign in (``portal.staff.accounts``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from portal.cli.commands import Commands, add_command
from portal.settings import Settings

CLI_ACTOR = "system/cli"
"""Who the audit log says made a change from the command line."""
T = TypeVar("T")
RESET_EFFECT = (
    "The link sets a new password AND a new authenticator app: the old password and the old "
    "authenticator stop working now, and nobody can sign in as this account until the link "
    "is used."
)


def _run(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    async def go() -> T:
        from portal.db import close_pool, configure_database

        configure_database(settings.database_url)
        try:
            return await work()
        finally:
            await close_pool()

    return asyncio.run(go())


def _fail(what: str, code: str) -> int:
    print(f"{what}: {code}", file=sys.stderr)
    return 2


def _username(args: argparse.Namespace) -> str | None:
    """USER, or ``--username USER`` as before; one of them, and the same if both."""
    given = {name.strip().lower() for name in (args.user, args.username) if name}
    return given.pop() if len(given) == 1 else None


def _staff_create(args: argparse.Namespace, settings: Settings) -> int:
    """The account is made without a password: its owner chooses one through the link."""
    from portal.staff.accounts import AccountError, create_account

    try:
        created = _run(
            settings,
            lambda: create_account(
                username=args.username,
                role=args.role,
                display_name=args.display_name,
                actor=CLI_ACTOR,
                enrolment_key=settings.derive_key("staff-enrolment"),
                totp_key=settings.derive_key("staff-totp"),
            ),
        )
    except AccountError as error:
        return _fail("cannot create the account", error.code)
    print(f"created {created.account.username} ({args.role}).")
    print("Give this one-time link to its owner (valid 72 hours), to set a password and an")
    print("authenticator app. Nobody can sign in as this account until the link is used:")
    print(created.link.url(settings.base_url))
    return 0


def _reset(lost: str) -> Callable[[argparse.Namespace, Settings], int]:
    def handler(args: argparse.Namespace, settings: Settings) -> int:
        """Lost password or phone (the last admin's too): a new link, the old ones stop now."""
        from portal.staff.accounts import find_account
        from portal.staff.enrolment import EnrolmentError, issue_reset_link

        username = _username(args)
        if username is None:
            return _fail("give the account as USER (or --username USER)", "USER")

        async def reset() -> str:
            account = await find_account(username)
            if account is None:
                raise EnrolmentError("unknown_account")
            link = await issue_reset_link(
                staff_id=account.id,
                actor=CLI_ACTOR,
                client_ip="",
                key=settings.derive_key("staff-enrolment"),
                totp_key=settings.derive_key("staff-totp"),
                lost=lost,
            )
            return link.url(settings.base_url)

        try:
            url = _run(settings, reset)
        except EnrolmentError as error:
            return _fail("cannot reset the account", error.code)
        print(f"{username}: {RESET_EFFECT}")
        print("Give this one-time link to its owner (valid 72 hours):")
        print(url)
        return 0

    return handler


def _set_role(args: argparse.Namespace, settings: Settings) -> int:
    from portal.staff.accounts import AccountError, find_account, set_role

    async def change() -> bool:
        account = await find_account(args.user)
        if account is None:
            raise AccountError("unknown_account")
        return await set_role(account.id, args.role, actor=CLI_ACTOR)

    try:
        changed = _run(settings, change)
    except AccountError as error:
        if error.code == "last_admin":
            return _fail(
                "cannot change the role (no other active, enrolled admin would be left)",
                error.code,
            )
        return _fail("cannot change the role", error.code)
    user = args.user.strip().lower()
    print(f"{user} is now {args.role}." if changed else f"{user} is already {args.role}.")
    return 0


def _staff_list(_: argparse.Namespace, settings: Settings) -> int:
    from portal.staff.accounts import list_accounts

    accounts = _run(settings, list_accounts)
    if not accounts:
        print("no staff accounts yet: portal staff create --username NAME --role admin")
        return 0
    print(f"{'USERNAME':<24} {'ROLE':<8} {'STATUS':<9} {'SIGN-IN':<36} LAST SIGN-IN (UTC)")
    for account in accounts:
        if account.totp_enrolled:
            sign_in = "enrolled"
        elif account.link_expires_at is not None:
            sign_in = f"link pending until {account.link_expires_at:%Y-%m-%d %H:%M}"
        else:
            sign_in = "no working link: reset-password"
        last = account.last_sign_in_at
        print(
            f"{account.username:<24} {account.role:<8} "
            f"{'active' if account.active else 'disabled':<9} {sign_in:<36} "
            f"{f'{last:%Y-%m-%d %H:%M}' if last else '-'}"
        )
    return 0


def _add_user(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("user", nargs="?", metavar="USER", help="sign-in name")
    parser.add_argument("--username", help="sign-in name (older spelling of USER)")


def register(commands: Commands) -> None:
    staff = add_command(commands, "staff", "office staff accounts (changes audited as system/cli)")
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
    resets = (
        ("reset-password", "password", "forgotten password"),
        ("reset-2fa", "authenticator", "lost or replaced phone (authenticator app)"),
        ("reset", "password_or_authenticator", "either (the older name of these commands)"),
    )
    for name, lost, why in resets:
        reset = add_command(
            staff_commands,
            name,
            f"{why}: print a new one-time enrolment link, valid 72 hours. The link sets a new "
            "password and a new authenticator; the old ones stop working at once. Works for "
            "the only admin too",
        )
        _add_user(reset)
        reset.set_defaults(handler=_reset(lost))
    role = add_command(
        staff_commands,
        "set-role",
        "make an account an officer or an admin (refused if no other admin could sign in)",
    )
    role.add_argument("user", metavar="USER", help="sign-in name")
    role.add_argument("role", metavar="ROLE", choices=["officer", "admin"], help="officer|admin")
    role.set_defaults(handler=_set_role)
    listing = add_command(
        staff_commands,
        "list",
        "every account: role, active or disabled, enrolled or link pending, last sign-in",
    )
    listing.set_defaults(handler=_staff_list)
