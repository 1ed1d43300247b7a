"""The ``portal`` command: one module per group of subcommands, each with ``register``."""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
import warnings
from collections.abc import Sequence

from portal.cli import (
    backup,
    check,
    keys,
    maintenance,
    offices,
    requests,
    serve,
    sms,
    staff,
)
from portal.cli.commands import HelpFormatter
from portal.cli.failures import operational_failure
from portal.envfile import EnvFileError, load_env_file
from portal.settings import SettingsError, load_settings
from portal.settings_catalogue import epilog

COMMAND_MODULES = (serve, sms, requests, offices, staff, maintenance, keys, check, backup)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portal",
        description="OSS-LOCAL e-Service portal",
        formatter_class=HelpFormatter,
        epilog=epilog(),
    )
    parser.add_argument("--version", action="version", version=f"portal {portal_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def portal_version() -> str:
    try:
        return importlib.metadata.version("oss-local-portal")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, read ``.env``, load the settings, run the command.

    An operator's mistake (a bad ``.env`` line, a bad setting, a database that does not
    answer) is one line on stderr and exit 1; argparse's usage errors stay exit 2.
    """
    args = build_parser().parse_args(argv)
    # Piccolo warns (in colour, with a stack line) before the connection error we report.
    warnings.filterwarnings("ignore", message=r".*Unable to connect to database")
    try:
        env_file = load_env_file()
        if getattr(args, "checks_own_settings", False):
            args.env_file = env_file.path
            own: int = args.handler(args)
            return own
        settings = load_settings()
        result: int = args.handler(args, settings)
    except (EnvFileError, SettingsError) as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 1
    except Exception as error:
        message = operational_failure(error)
        if message is None:
            raise
        print(message, file=sys.stderr)
        return 1
    return result
