"""``portal staff create``: an account from the command line, its otpauth URI printed."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pyotp
import pytest

from portal.cli import main
from portal.settings import load_settings
from portal.staff.crypto import decrypt
from portal.tables.staff_user import StaffUser
from tests.conftest import TEST_SECRET
from tests.staff.helpers import PASSWORD


@pytest.fixture(autouse=True)
def portal_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database: str) -> None:
    """Point the ``portal`` command at the test database, whatever the shell had set."""
    for name in ("PORTAL_ENV", "PORTAL_SMS_BACKEND", "PORTAL_SMS_DAILY_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_DATABASE_URL", database)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PORTAL_SECRET_KEY", TEST_SECRET)


def staff_create(monkeypatch: pytest.MonkeyPatch, password: str, *args: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(["staff", "create", "--password-stdin", *args])


def test_create_prints_the_otpauth_uri_and_exits_0(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = staff_create(
        monkeypatch, PASSWORD, "--username", "u-officer", "--role", "officer",
        "--display-name", "สมชาย",
    )  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    uris = [line for line in out.splitlines() if line.startswith("otpauth://")]
    assert len(uris) == 1
    totp = pyotp.parse_uri(uris[0])
    assert totp.name == "u-officer"
    row = asyncio.run(StaffUser.select().where(StaffUser.username == "u-officer").first().run())
    assert (row["role"], row["display_name"], row["totp_enrolled"]) == ("officer", "สมชาย", False)
    key = load_settings().derive_key("staff-totp")
    assert decrypt(key, row["totp_secret_encrypted"]) == totp.secret


def test_create_an_admin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert staff_create(monkeypatch, PASSWORD, "--username", "boss", "--role", "admin") == 0
    assert "otpauth://" in capsys.readouterr().out
    row = asyncio.run(
        StaffUser.select(StaffUser.role).where(StaffUser.username == "boss").first().run()
    )
    assert row == {"role": "admin"}


@pytest.mark.parametrize("weak", ["short", "password", "12345678", "my-u-officer-pw"])
def test_a_weak_password_exits_2_and_creates_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], weak: str
) -> None:
    assert staff_create(monkeypatch, weak, "--username", "u-officer", "--role", "officer") == 2
    captured = capsys.readouterr()
    assert "otpauth://" not in captured.out
    assert "cannot create the account" in captured.err
    assert asyncio.run(StaffUser.count().run()) == 0


def test_a_taken_username_or_bad_one_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert staff_create(monkeypatch, PASSWORD, "--username", "somchai") == 0
    capsys.readouterr()
    assert staff_create(monkeypatch, PASSWORD, "--username", "somchai") == 2
    assert "username_taken" in capsys.readouterr().err
    assert staff_create(monkeypatch, PASSWORD, "--username", "No Spaces") == 2
    assert "bad_username" in capsys.readouterr().err
    assert asyncio.run(StaffUser.count().run()) == 1


def test_an_unknown_role_is_an_argparse_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        staff_create(monkeypatch, PASSWORD, "--username", "u-officer", "--role", "root")
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_without_stdin_the_password_is_asked_twice_and_must_match(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["staff", "create", "--username", "u-officer"]) == 2
    assert "passwords differ" in capsys.readouterr().err
    answers = iter([PASSWORD, PASSWORD])
    assert main(["staff", "create", "--username", "u-officer"]) == 0
    assert "otpauth://" in capsys.readouterr().out
