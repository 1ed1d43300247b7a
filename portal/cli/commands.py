"""What every ``portal`` subcommand module shares: one way to add a command.

Each module under ``portal/cli/`` has a ``register(commands)`` that adds its commands through
``add_command``, so every command gets the same help layout (defaults shown).
"""

from __future__ import annotations

import argparse
from typing import Any

Commands = Any
"""argparse's ``_SubParsersAction`` (private, so not named in signatures)."""


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Every option's help ends with its default; descriptions and epilogs keep their lines
    (``portal --help`` ends with a table of environment variables)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        help_text = action.help or ""
        if "(default:" in help_text:  # an option whose default comes from the environment
            return help_text
        return super()._get_help_string(action)


def env_default_help(text: str, env_name: str, default: object) -> str:
    """Help for an option whose default an environment variable may change."""
    return f"{text} (default: {env_name} from the environment, else {default})"


def add_command(commands: Commands, name: str, help_text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=help_text, description=help_text, formatter_class=HelpFormatter
    )
    return parser
