"""What every ``portal`` subcommand module shares: one way to add a command.

Each module under ``portal/cli/`` has a ``register(commands)`` that adds its commands through
``add_command``, so every command gets the same help layout (defaults shown).
"""

from __future__ import annotations

import argparse
from typing import Any

Commands = Any
"""argparse's ``_SubParsersAction`` (private, so not named in signatures)."""


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help ends with its default."""


def add_command(commands: Commands, name: str, help_text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=help_text, description=help_text, formatter_class=HelpFormatter
    )
    return parser
