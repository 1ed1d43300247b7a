"""``portal staff``: office staff accounts, and the way back in when the web cannot help.

A lost phone, a forgotten password, or the only admin locked out: ``reset-password`` /
``reset-2fa`` print a new one-time enrolment link (the link always sets both a new password
and a new authenticator: its page asks for both), ``set-role`` promotes or demotes, ``list``
shows who can sign in. Every change is audited with the actor ``system/cli``. No command may
leave the office without an admin who can sign in (``portal.staff.accounts``).

Every command acts in one office: ``--office SLUG``, else the default office (the one-office
deployment). ``platform_admin`` (the platform pages) is given only in the default office.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from portal.cli.commands import Commands, add_command
from portal.cli.database import UnknownOffice, add_office_option, office_named
from portal.cli.database import run_with_database as _run
from portal.settings import Settings

CLI_ACTOR = "system/cli"
"""Who the audit log says made a change from the command line."""
RESET_EFFECT = (
    "The link sets a new password AND a new authenticator app: the old password and the old "
    "authenticator stop working now, and nobody can sign in as this account until the link "
    "is used."
)


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
    from portal.tables.staff_user import StaffRole

    async def create() -> tuple[str, str]:
        office = await office_named(settings, args.office)
        if args.role == StaffRole.platform_admin and not office.is_default:
            raise AccountError("platform_admin_outside_default_office")
        created = await create_account(
            office=office,
            username=args.username,
            role=args.role,
            display_name=args.display_name,
            actor=CLI_ACTOR,
            grantable=tuple(StaffRole),
            enrolment_key=settings.derive_key("staff-enrolment"),
            totp_key=settings.derive_key("staff-totp"),
        )
        return created.account.username, created.link.url(office.base_url)

    try:
        username, url = _run(settings, create)
    except UnknownOffice as error:
        return _fail("no such office", str(error))
    except AccountError as error:
        return _fail("cannot create the account", error.code)
    where = f" in office {args.office}" if args.office else ""
    print(f"created {username} ({args.role}){where}.")
    print("Give this one-time link to its owner (valid 72 hours), to set a password and an")
    print("authenticator app. Nobody can sign in as this account until the link is used:")
    print(url)
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
            office = await office_named(settings, args.office)
            account = await find_account(username, office=office)
            if account is None:
                raise EnrolmentError("unknown_account")
            link = await issue_reset_link(
                office=office,
                staff_id=account.id,
                actor=CLI_ACTOR,
                client_ip="",
                key=settings.derive_key("staff-enrolment"),
                totp_key=settings.derive_key("staff-totp"),
                lost=lost,
            )
            return link.url(office.base_url)

        try:
            url = _run(settings, reset)
        except UnknownOffice as error:
            return _fail("no such office", str(error))
        except EnrolmentError as error:
            return _fail("cannot reset the account", error.code)
        print(f"{username}: {RESET_EFFECT}")
        print("Give this one-time link to its owner (valid 72 hours):")
        print(url)
        return 0

    return handler


def _set_role(args: argparse.Namespace, settings: Settings) -> int:
    from portal.staff.accounts import AccountError, find_account, set_role
    from portal.tables.staff_user import StaffRole

    async def change() -> bool:
        office = await office_named(settings, args.office)
        account = await find_account(args.user, office=office)
        if account is None:
            raise AccountError("unknown_account")
        if args.role == StaffRole.platform_admin and not office.is_default:
            raise AccountError("platform_admin_outside_default_office")
        return await set_role(
            account.id, args.role, office=office, actor=CLI_ACTOR, grantable=tuple(StaffRole)
        )

    try:
        changed = _run(settings, change)
    except UnknownOffice as error:
        return _fail("no such office", str(error))
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


def _staff_list(args: argparse.Namespace, settings: Settings) -> int:
    from portal.staff.accounts import StaffAccount, list_accounts

    async def listing() -> list[StaffAccount]:
        return await list_accounts(office=await office_named(settings, args.office))

    try:
        accounts = _run(settings, listing)
    except UnknownOffice as error:
        return _fail("no such office", str(error))
    if not accounts:
        print("no staff accounts yet: portal staff create --username NAME --role admin")
        return 0
    print(f"{'USERNAME':<24} {'ROLE':<14} {'STATUS':<9} {'SIGN-IN':<36} LAST SIGN-IN (UTC)")
    for account in accounts:
        if account.totp_enrolled:
            sign_in = "enrolled"
        elif account.link_expires_at is not None:
            sign_in = f"link pending until {account.link_expires_at:%Y-%m-%d %H:%M}"
        else:
            sign_in = "no working link: reset-password"
        last = account.last_sign_in_at
        print(
            f"{account.username:<24} {account.role:<14} "
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
    create.add_argument(
        "--role",
        choices=["officer", "admin", "platform_admin"],
        default="officer",
        help="role (platform_admin: the platform pages; default office only)",
    )
    create.add_argument("--display-name", default="", help="name shown to colleagues")
    add_office_option(create, "account this is")
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
        add_office_option(reset, "account this is")
        reset.set_defaults(handler=_reset(lost))
    role = add_command(
        staff_commands,
        "set-role",
        "make an account an officer or an admin (refused if no other admin could sign in)",
    )
    role.add_argument("user", metavar="USER", help="sign-in name")
    role.add_argument("role", metavar="ROLE", choices=["officer", "admin"], help="officer|admin")
    add_office_option(role, "account this is")
    role.set_defaults(handler=_set_role)
    listing = add_command(
        staff_commands,
        "list",
        "every account: role, active or disabled, enrolled or link pending, last sign-in",
    )
    add_office_option(listing, "accounts to list")
    listing.set_defaults(handler=_staff_list)
