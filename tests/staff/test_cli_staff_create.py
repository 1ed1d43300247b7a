"""``portal staff create`` and ``portal staff reset``: an account from the command line with its
one-time enrolment link printed (never a password typed by the operator)."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest

from portal.cli import main
from portal.kernel.sealing import decrypt
from portal.settings import load_settings
from portal.staff.enrolment import link_page
from portal.tables.staff_user import StaffUser
from tests.conftest import fresh
from tests.staff.helpers import default_office

# The `portal` command runs in-process against the test database (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("portal_env")


def staff_create(*args: str) -> int:
    return main(["staff", "create", *args])


def printed_link(out: str) -> str:
    (link,) = [line for line in out.splitlines() if "/staff/enrol/" in line]
    return link


def stored(username: str) -> dict[str, Any]:
    row: dict[str, Any] = fresh(
        StaffUser.select().where(StaffUser.username == username).first().run()
    )
    return row


def test_create_prints_the_enrolment_link_and_exits_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = staff_create(
        "--username", "u-officer", "--role", "officer", "--display-name", "สมชาย"
    )  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    link = printed_link(out)
    settings = load_settings()
    assert link.startswith(settings.base_url.rstrip("/") + "/staff/enrol/")
    assert "otpauth://" not in out
    row = stored("u-officer")
    assert (row["role"], row["display_name"], row["totp_enrolled"]) == ("officer", "สมชาย", False)
    assert row["password_hash"] == ""
    token = link.rsplit("/", 1)[1]
    page = fresh(
        link_page(
            office=default_office(),
            token=token,
            key=settings.derive_key("staff-enrolment"),
            totp_key=settings.derive_key("staff-totp"),
        )
    )
    assert page is not None and page.username == "u-officer"
    secret = pyotp.parse_uri(page.otpauth_uri).secret
    assert decrypt(settings.derive_key("staff-totp"), row["totp_secret_encrypted"]) == secret


def test_create_an_admin(capsys: pytest.CaptureFixture[str]) -> None:
    assert staff_create("--username", "boss", "--role", "admin") == 0
    assert printed_link(capsys.readouterr().out)
    assert stored("boss")["role"] == "admin"


def test_a_password_cannot_be_given_any_more(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        staff_create("--username", "u-officer", "--password-stdin")
    assert exited.value.code == 2
    assert fresh(StaffUser.count().run()) == 0


def test_a_taken_username_or_bad_one_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert staff_create("--username", "somchai") == 0
    capsys.readouterr()
    assert staff_create("--username", "somchai") == 2
    assert "username_taken" in capsys.readouterr().err
    assert staff_create("--username", "No Spaces") == 2
    assert "bad_username" in capsys.readouterr().err
    assert fresh(StaffUser.count().run()) == 1


def test_an_unknown_role_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        staff_create("--username", "u-officer", "--role", "root")
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_reset_prints_a_new_link_and_the_old_one_stops(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """For the last admin who lost their phone: the operator's way back in."""
    assert staff_create("--username", "boss", "--role", "admin") == 0
    first = printed_link(capsys.readouterr().out)
    assert main(["staff", "reset", "--username", "Boss"]) == 0
    second = printed_link(capsys.readouterr().out)
    assert second != first
    settings = load_settings()

    def page(link: str) -> Any:
        return fresh(
            link_page(
                office=default_office(),
                token=link.rsplit("/", 1)[1],
                key=settings.derive_key("staff-enrolment"),
                totp_key=settings.derive_key("staff-totp"),
            )
        )

    assert page(first) is None and page(second) is not None
    assert main(["staff", "reset", "--username", "nobody"]) == 2
    assert "unknown_account" in capsys.readouterr().err
