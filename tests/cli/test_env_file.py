"""``.env``: read by every ``portal`` command, never over a real environment variable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from portal.cli import main
from portal.envfile import EnvFile, EnvFileError, load_env_file, parse_env_text
from tests.cli.conftest import run_portal
from tests.conftest import TEST_SECRET


def _write_env(folder: Path, *lines: str, name: str = ".env") -> Path:
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _portal_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database: str) -> None:
    monkeypatch.setenv("PORTAL_DATABASE_URL", database)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path / "var"))


def test_dotenv_values_reach_the_settings(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    database: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The bug: PORTAL_ENV=production in .env used to start a development portal."""
    _portal_env(monkeypatch, tmp_path, database)
    _write_env(tmp_path, "# production", "PORTAL_ENV=production")
    assert main(["sms", "outbox", "--json"]) == 1
    err = capsys.readouterr().err
    assert err == "configuration error: PORTAL_SECRET_KEY is required when PORTAL_ENV=production\n"


def test_a_real_environment_variable_wins_over_dotenv(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    database: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _portal_env(monkeypatch, tmp_path, database)
    monkeypatch.setenv("PORTAL_ENV", "development")
    _write_env(tmp_path, "PORTAL_ENV=production", f"PORTAL_SECRET_KEY={TEST_SECRET}")
    assert main(["sms", "outbox", "--json"]) == 0
    assert capsys.readouterr().out.strip() == "[]"
    assert os.environ["PORTAL_ENV"] == "development"
    assert os.environ["PORTAL_SECRET_KEY"] == TEST_SECRET  # what the file adds is kept


def test_portal_env_file_names_another_file(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    database: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _portal_env(monkeypatch, tmp_path, database)
    _write_env(tmp_path, "PORTAL_SMS_BACKEND=outbox")  # ignored: another file is named
    named = _write_env(tmp_path, "PORTAL_SMS_BACKEND=pigeon", name="portal.env")
    monkeypatch.setenv("PORTAL_ENV_FILE", str(named))
    assert main(["sms", "outbox", "--json"]) == 1
    assert "PORTAL_SMS_BACKEND must be one of" in capsys.readouterr().err


def test_a_named_env_file_that_does_not_exist_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PORTAL_ENV_FILE", "missing.env")
    assert main(["check"]) == 1
    err = capsys.readouterr().err
    missing = tmp_path / "missing.env"
    assert err == f"configuration error: PORTAL_ENV_FILE names {missing}, which is not a file\n"


def test_no_dotenv_file_is_fine(tmp_path: Path) -> None:
    environ: dict[str, str] = {}
    assert load_env_file(environ, tmp_path) == EnvFile()
    assert environ == {}


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            ["PORTAL_ENV=production", "this is not a setting"],
            ".env line 2: cannot read 'this is not a setting'",
        ),
        (
            ["PORTAL_ENV=production", "", "PORTAL_SECRET_KEY"],
            ".env line 3: PORTAL_SECRET_KEY has no '=value'",
        ),
        (["PORTAL_OFFICE_NAME='unclosed"], ".env line 1: cannot read"),
    ],
)
def test_a_broken_line_is_one_line_naming_it_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[str], message: str
) -> None:
    _write_env(tmp_path, *lines)
    assert main(["migrate"]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith(f"configuration error: {message}")
    assert captured.err.count("\n") == 1
    assert "PORTAL_ENV" not in os.environ  # nothing of a broken file is applied


def test_values_are_literal_and_quotes_and_comments_are_understood(tmp_path: Path) -> None:
    text = (
        "# a comment\n"
        "export PORTAL_OFFICE_NAME='เทศบาลตำบลตัวอย่าง'\n"
        'PORTAL_DATABASE_URL="postgresql://portal:pa$word@db/portal"\n'
        "PORTAL_SMS_SENDER=OSS-LOCAL # inline comment\n"
    )
    assert parse_env_text(text, ".env") == {
        "PORTAL_OFFICE_NAME": "เทศบาลตำบลตัวอย่าง",
        "PORTAL_DATABASE_URL": "postgresql://portal:pa$word@db/portal",
        "PORTAL_SMS_SENDER": "OSS-LOCAL",
    }


@pytest.mark.parametrize("env_line", ["PORTAL_ENV=development", "# PORTAL_ENV unset"])
def test_development_in_dotenv_with_a_public_https_base_url_refuses_to_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], env_line: str
) -> None:
    _write_env(tmp_path, env_line, "PORTAL_BASE_URL=https://eservice.example.go.th")
    assert main(["migrate"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("configuration error: .env sets PORTAL_ENV=development")
    assert "PORTAL_BASE_URL=https://eservice.example.go.th" in err
    assert not (tmp_path / "var").exists()  # refused before any settings were loaded


@pytest.mark.parametrize(
    ("real_env", "lines"),
    [
        ({}, ["PORTAL_ENV=development", "PORTAL_BASE_URL=https://localhost:8443"]),
        ({}, ["PORTAL_ENV=development", "PORTAL_BASE_URL=http://192.0.2.10:8000"]),
        ({"PORTAL_ENV": "development"}, ["PORTAL_BASE_URL=https://eservice.example.go.th"]),
    ],
)
def test_development_with_a_local_or_chosen_base_url_starts(
    tmp_path: Path, real_env: dict[str, str], lines: list[str]
) -> None:
    _write_env(tmp_path, *lines)
    environ = dict(real_env)
    env_file = load_env_file(environ, tmp_path)
    assert env_file.path == tmp_path / ".env"
    assert environ["PORTAL_BASE_URL"] == lines[-1].split("=", 1)[1]


def test_refusal_error_type(tmp_path: Path) -> None:
    _write_env(tmp_path, "PORTAL_BASE_URL=https://eservice.example.go.th")
    with pytest.raises(EnvFileError, match="PORTAL_ENV=production"):
        load_env_file({}, tmp_path)


def test_broken_dotenv_in_a_real_process_is_one_line_and_no_traceback(tmp_path: Path) -> None:
    _write_env(tmp_path, "PORTAL_ENV production")
    done = run_portal("serve", cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        "configuration error: .env line 1: cannot read 'PORTAL_ENV production'; write NAME=value"
    ]
