"""``portal office``: the offices a deployment serves (``portal.platform.offices``).

``create`` makes an office with the standard service forms and reply templates (it takes
requests at once), ``list`` shows every office, ``disable`` / ``enable`` switch one off (404 on
its hosts) and on, ``hosts`` adds or removes host names. Every change is audited in the office
it changes, with the actor ``system/cli``; running workers see it within a second.
"""

from __future__ import annotations

import argparse
import sys

from portal.cli.commands import Commands, add_command
from portal.cli.database import run_with_database
from portal.settings import Settings

CLI_ACTOR = "system/cli"

FIRST_HOST_ADVICE = (
    "give the default office its host name first: portal office hosts default --add HOST"
)


def _fail(what: str, error: Exception) -> int:
    from portal.platform.validation import PlatformError

    if isinstance(error, PlatformError):
        detail = f" ({error.detail})" if error.detail else ""
        print(f"{what}: {error.code}{detail}", file=sys.stderr)
        if error.code == "default_office_needs_host":
            print(
                "once any office has a host name, unknown hosts get 404 and the default office "
                "(which has none) would stop answering on any host: " + FIRST_HOST_ADVICE,
                file=sys.stderr,
            )
    else:
        print(f"{what}: {error}", file=sys.stderr)
    return 2


def _create(args: argparse.Namespace, settings: Settings) -> int:
    from portal.platform.offices import Who, create_office
    from portal.platform.validation import PlatformError

    try:
        office_id = run_with_database(
            settings,
            lambda: create_office(
                slug=args.slug,
                name=args.name,
                name_en=args.name_en,
                hosts=args.host,
                sms_sender=args.sender,
                base_url=args.base_url,
                development=settings.is_development,
                who=Who(CLI_ACTOR),
            ),
        )
    except PlatformError as error:
        return _fail("cannot create the office", error)
    hosts = ", ".join(args.host) or "no host name yet"
    print(f"created office {args.slug} (id {office_id}, {hosts}) with the standard services.")
    print(
        f"Invite its first admin: portal staff create --office {args.slug} --username NAME "
        "--role admin"
    )
    return 0


def _list(_: argparse.Namespace, settings: Settings) -> int:
    from portal.platform.offices import list_offices

    offices = run_with_database(settings, list_offices)
    print(f"{'SLUG':<20} {'ACTIVE':<8} {'REQUESTS':>8}  {'NAME':<30} HOSTS")
    for office in offices:
        print(
            f"{office.slug:<20} {'yes' if office.active else 'no':<8} {office.requests:>8}  "
            f"{office.name:<30} {', '.join(office.hosts) or '-'}"
        )
    return 0


def _set_active(active: bool) -> object:
    def handler(args: argparse.Namespace, settings: Settings) -> int:
        from portal.platform.offices import Who, office_id_for, set_active
        from portal.platform.validation import PlatformError

        async def change() -> bool | None:
            office_id = await office_id_for(args.slug)
            if office_id is None:
                return None
            return await set_active(office_id, active, who=Who(CLI_ACTOR))

        try:
            changed = run_with_database(settings, change)
        except PlatformError as error:
            return _fail("cannot change the office", error)
        if changed is None:
            print(f"no office {args.slug}", file=sys.stderr)
            return 2
        state = "enabled" if active else "disabled"
        print(f"{args.slug} is now {state}." if changed else f"{args.slug} is already {state}.")
        return 0

    return handler


def _hosts(args: argparse.Namespace, settings: Settings) -> int:
    from portal.platform.offices import Who, change_hosts, office_id_for
    from portal.platform.validation import PlatformError

    async def change() -> list[str] | None:
        office_id = await office_id_for(args.slug)
        if office_id is None:
            return None
        return await change_hosts(
            office_id, add=args.add or [], remove=args.remove or [], who=Who(CLI_ACTOR)
        )

    try:
        hosts = run_with_database(settings, change)
    except PlatformError as error:
        return _fail("cannot change the hosts", error)
    if hosts is None:
        print(f"no office {args.slug}", file=sys.stderr)
        return 2
    print(f"{args.slug} answers on: {', '.join(hosts) or 'no host name'}")
    return 0


def register(commands: Commands) -> None:
    office = add_command(commands, "office", "the offices this deployment serves (audited)")
    office_commands = office.add_subparsers(dest="office_command", required=True)
    create = add_command(
        office_commands,
        "create",
        "create an office with the standard service forms (it takes requests at once)",
    )
    create.add_argument("--slug", required=True, help="short name: a-z 0-9 -, 2-32 characters")
    create.add_argument("--name", required=True, help="the office's name in Thai")
    create.add_argument("--name-en", default="", help="the office's name in English")
    create.add_argument(
        "--host", action="append", default=[], help="a host name it answers on (repeatable)"
    )
    create.add_argument("--sender", default="", help="SMS sender (empty: PORTAL_SMS_SENDER)")
    create.add_argument("--base-url", default="", help="where citizens reach it (empty: derived)")
    create.set_defaults(handler=_create)
    listing = add_command(office_commands, "list", "every office: hosts, active, requests")
    listing.set_defaults(handler=_list)
    for name, active, why in (
        ("disable", False, "switch an office off: 404 on its hosts, its data kept"),
        ("enable", True, "switch a disabled office back on"),
    ):
        command = add_command(office_commands, name, why)
        command.add_argument("slug", metavar="SLUG")
        command.set_defaults(handler=_set_active(active))
    hosts = add_command(office_commands, "hosts", "add or remove an office's host names")
    hosts.add_argument("slug", metavar="SLUG")
    hosts.add_argument("--add", action="append", metavar="HOST", help="host to add (repeatable)")
    hosts.add_argument(
        "--remove", action="append", metavar="HOST", help="host to remove (repeatable)"
    )
    hosts.set_defaults(handler=_hosts)
