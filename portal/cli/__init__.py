"""The ``portal`` command: one module per group of subcommands, each with ``register``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from portal.cli import maintenance, requests, serve, sms, staff
from portal.cli.commands import HelpFormatter
from portal.settings import SettingsError, load_settings

COMMAND_MODULES = (serve, sms, requests, staff, maintenance)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portal", description="OSS-LOCAL e-Service portal", formatter_class=HelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(commands)
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
