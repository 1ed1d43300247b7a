"""``portal --help``, every subcommand's help and ``portal --version``."""

from __future__ import annotations

import argparse
import importlib.metadata

import pytest

from portal.cli import build_parser, main
from portal.settings_catalogue import ENV_VARS


def _subparsers(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    """Every command and sub-subcommand below ``parser``, by its full name."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((name, sub))
                found += [(f"{name} {inner}", p) for inner, p in _subparsers(sub)]
    return found


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"portal {importlib.metadata.version('oss-local-portal')}\n"


def test_main_help_lists_every_environment_variable_with_its_default() -> None:
    text = build_parser().format_help()
    assert "a real environment variable wins" in text
    for var in ENV_VARS:
        assert f"  {var.name} (default: {var.default})\n" in text
    assert "check" in text


def test_every_option_of_every_command_shows_its_default() -> None:
    commands = _subparsers(build_parser())
    assert len(commands) > 10
    for name, parser in commands:
        formatter = parser._get_formatter()
        for action in parser._actions:
            if not action.option_strings or action.help == argparse.SUPPRESS:
                continue
            if isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
                continue
            help_text = formatter._expand_help(action) if action.help else ""
            assert "default:" in " ".join(help_text.split()), (name, action.option_strings)


def test_serve_options_name_the_environment_variable_they_fall_back_to(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    host_help = "address to listen on (default: PORTAL_HOST from the environment, else 127.0.0.1)"
    assert f"--host HOST {host_help}" in text
    assert "(default: PORTAL_PORT from the environment, else 8000)" in text
    assert "(default: PORTAL_WORKERS from the environment, else 1)" in text


def test_a_bad_option_value_is_an_argparse_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--port", "abc"])
    assert exited.value.code == 2
    assert "argument --port: invalid int value: 'abc'" in capsys.readouterr().err
