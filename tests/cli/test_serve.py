"""``portal serve``'s options: the command line, then PORTAL_HOST/PORT/WORKERS, then defaults."""

from __future__ import annotations

import argparse

import pytest

from portal.cli import build_parser
from portal.cli.serve import serve_options
from portal.settings import SettingsError


def _options(argv: list[str], environ: dict[str, str]) -> tuple[str, int, int]:
    args = serve_options(build_parser().parse_args(["serve", *argv]), environ)
    return args.host, args.port, args.workers


def test_defaults_without_options_or_environment() -> None:
    assert _options([], {}) == ("127.0.0.1", 8000, 1)


def test_the_environment_sets_what_the_command_line_leaves_out() -> None:
    environ = {"PORTAL_HOST": "192.0.2.10", "PORTAL_PORT": "8080", "PORTAL_WORKERS": "4"}
    assert _options([], environ) == ("192.0.2.10", 8080, 4)
    assert _options(["--port", "9000"], environ) == ("192.0.2.10", 9000, 4)


@pytest.mark.parametrize(("name", "value"), [("PORTAL_PORT", "abc"), ("PORTAL_WORKERS", "0")])
def test_a_bad_environment_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"^{name} must be a whole number"):
        _options([], {name: value})


def test_a_bad_environment_value_is_one_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], database: str
) -> None:
    from portal.cli import main

    monkeypatch.setenv("PORTAL_DATABASE_URL", database)
    monkeypatch.setenv("PORTAL_PORT", "http")
    assert main(["serve"]) == 1
    assert capsys.readouterr().err == (
        "configuration error: PORTAL_PORT must be a whole number from 1 to 65535\n"
    )


def test_namespace_is_returned_with_every_option_set() -> None:
    args = serve_options(argparse.Namespace(host=None, port=None, workers=None), {})
    assert vars(args) == {"host": "127.0.0.1", "port": 8000, "workers": 1}
