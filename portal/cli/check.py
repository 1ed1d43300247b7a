"""``portal check``: every configuration and machine check, one OK/WARN/FAIL line each."""

from __future__ import annotations

import argparse
import os

from portal.cli.commands import Commands, add_command
from portal.ops.checks import FAIL, WARN, run_checks


def _check(args: argparse.Namespace) -> int:
    results = run_checks(os.environ, args.env_file, offline=args.offline)
    for result in results:
        print(result.line())
    failed = sum(result.status == FAIL for result in results)
    warned = sum(result.status == WARN for result in results)
    if failed:
        print(f"{failed} check(s) failed: fix the FAIL lines, then run `portal check` again")
        return 1
    print("ready" + (f" ({warned} warning(s))" if warned else ""))
    return 0


def register(commands: Commands) -> None:
    check = add_command(
        commands,
        "check",
        "check the configuration, the database, the SMS gateway's credentials, the font and the"
        " data folder; exit 1 on a FAIL",
    )
    check.add_argument(
        "--offline",
        action="store_true",
        help="do not call the SMS gateway to check its credentials (CI, air-gapped machines);"
        " by default `portal check` asks ThaiBulkSMS or Twilio with a read-only call"
        " that sends no SMS",
    )
    # main() loads no settings for this command: a bad setting is one FAIL line among the rest.
    check.set_defaults(handler=_check, checks_own_settings=True)
