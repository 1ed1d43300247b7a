"""``portal requests``: casework from the command line."""

from __future__ import annotations

import argparse
import asyncio
import sys

from portal.cli.commands import Commands, add_command
from portal.cli.database import add_office_option
from portal.settings import Settings


async def _change_status(settings: Settings, args: argparse.Namespace) -> str:
    from portal.casework.status import change_status
    from portal.cli.database import office_named
    from portal.db import configure_database
    from portal.kernel.request_numbers import parse_request_number
    from portal.sms.outbox import SmsConfig
    from portal.tables.citizen_request import RequestStatus

    configure_database(settings.database_url)
    # Request numbers are unique per office only: the number is looked up in ``--office``.
    office = await office_named(settings, args.office)
    changed = await change_status(
        number=parse_request_number(args.number) or args.number,
        status=RequestStatus(args.status),
        actor=args.actor,
        public_note=args.note,
        office=office,
        sms=SmsConfig.from_settings(settings).for_office(office),
    )
    return f"{changed.number}: {changed.old.value} -> {changed.new.value}"


def _status(args: argparse.Namespace, settings: Settings) -> int:
    from portal.casework.status import StatusChangeError
    from portal.cli.database import UnknownOffice

    try:
        print(asyncio.run(_change_status(settings, args)))
    except UnknownOffice as error:
        print(f"no such office: {error}", file=sys.stderr)
        return 2
    except StatusChangeError as error:
        print(f"cannot change status: {error.code}", file=sys.stderr)
        return 2
    return 0


def register(commands: Commands) -> None:
    from portal.tables.citizen_request import RequestStatus

    requests = add_command(commands, "requests", "citizen requests")
    requests_commands = requests.add_subparsers(dest="requests_command", required=True)
    status = add_command(
        requests_commands, "status", "change a request's status; the citizen gets an SMS"
    )
    status.add_argument("number", help="request number, e.g. 69-123456")
    status.add_argument("status", choices=[status.value for status in RequestStatus])
    status.add_argument("--note", default="", help="note shown to the citizen on the timeline")
    status.add_argument("--actor", default="portal-cli", help="who made the change")
    add_office_option(status, "request this is")
    status.set_defaults(handler=_status)
