"""``portal staff reset-password|reset-2fa|set-role|list``: the way back in without SQL, audited
as ``system/cli``, and never leaving the office without an admin who can sign in."""

from __future__ import annotations

from typing import Any

import pytest

from portal.cli import main
from portal.settings import Settings, load_settings
from portal.staff.enrolment import link_page
from portal.tables.audit_event import AuditEvent
from portal.tables.staff_user import StaffUser
from tests.conftest import fresh
from tests.staff.helpers import Staff, default_office, make_staff

# The `portal` command runs in-process against the test database (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("portal_env")


@pytest.fixture
def cli_settings() -> Settings:
    return load_settings()


def staff(settings: Settings, username: str, role: str = "officer", **kw: Any) -> Staff:
    return make_staff(fresh, settings, username, role=role, **kw)


def portal(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["staff", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def row(username: str) -> dict[str, Any]:
    found: dict[str, Any] = fresh(
        lambda: StaffUser.select().where(StaffUser.username == username).first()
    )
    return found


def audits(action: str) -> list[dict[str, Any]]:
    import json

    rows: list[dict[str, Any]] = fresh(
        lambda: (
            AuditEvent.select(AuditEvent.actor, AuditEvent.details)
            .where(AuditEvent.action == action)
            .order_by(AuditEvent.id)
        )
    )
    return [{"actor": r["actor"], **json.loads(r["details"])} for r in rows]


def works(settings: Settings, out: str) -> bool:
    (link,) = [line for line in out.splitlines() if "/staff/enrol/" in line]
    page = fresh(
        lambda: link_page(
            office=default_office(),
            token=link.rsplit("/", 1)[1],
            key=settings.derive_key("staff-enrolment"),
            totp_key=settings.derive_key("staff-totp"),
        )
    )
    return page is not None


@pytest.mark.parametrize(
    ("command", "lost"), [("reset-password", "password"), ("reset-2fa", "authenticator")]
)
def test_a_reset_of_the_only_admin_prints_a_working_link_and_ends_both_credentials(
    capsys: pytest.CaptureFixture[str], cli_settings: Settings, command: str, lost: str
) -> None:
    """The recovery path: allowed for the sole admin, and it says the link sets both."""
    boss = staff(cli_settings, "boss", "admin")
    assert row("boss")["totp_enrolled"] is True
    code, out, err = portal(capsys, command, "Boss")
    assert (code, err) == (0, "")
    assert works(cli_settings, out)
    assert "new password AND a new authenticator" in out
    after = row("boss")
    assert (after["password_hash"], after["totp_enrolled"]) == ("", False)
    assert after["session_version"] > 0 and after["role"] == "admin"
    (event,) = audits("staff_enrolment_reset")
    assert (event["actor"], event["username"], event["lost"]) == ("system/cli", boss.username, lost)


def test_reset_accepts_the_older_username_option_and_needs_one_user(
    capsys: pytest.CaptureFixture[str], cli_settings: Settings
) -> None:
    staff(cli_settings, "somchai")
    code, out, _ = portal(capsys, "reset-password", "--username", "somchai")
    assert code == 0 and works(cli_settings, out)
    code, out, _ = portal(capsys, "reset", "somchai")
    assert code == 0 and works(cli_settings, out)
    code, out, err = portal(capsys, "reset-2fa")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "USER" in err
    code, _, err = portal(capsys, "reset-2fa", "somchai", "--username", "malee")
    assert code == 2 and "USER" in err
    code, _, err = portal(capsys, "reset-2fa", "nobody")
    assert (code, err) == (2, "cannot reset the account: unknown_account\n")


def test_set_role_promotes_and_demotes_audited(
    capsys: pytest.CaptureFixture[str], cli_settings: Settings
) -> None:
    staff(cli_settings, "boss", "admin")
    staff(cli_settings, "somchai")
    assert portal(capsys, "set-role", "somchai", "admin")[:2] == (0, "somchai is now admin.\n")
    assert row("somchai")["role"] == "admin"
    assert portal(capsys, "set-role", "SOMCHAI", "admin")[:2] == (0, "somchai is already admin.\n")
    assert portal(capsys, "set-role", "boss", "officer")[0] == 0
    assert row("boss")["role"] == "officer"
    assert [
        (e["actor"], e["username"], e["from"], e["to"]) for e in audits("staff_role_changed")
    ] == [
        ("system/cli", "somchai", "officer", "admin"),
        ("system/cli", "boss", "admin", "officer"),
    ]


def test_the_last_admin_who_can_sign_in_cannot_be_demoted(
    capsys: pytest.CaptureFixture[str], cli_settings: Settings
) -> None:
    staff(cli_settings, "boss", "admin")
    staff(cli_settings, "newboss", "admin", enrolled=False)  # link not used yet: cannot sign in
    code, out, err = portal(capsys, "set-role", "boss", "officer")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "last_admin" in err
    assert row("boss")["role"] == "admin"
    assert audits("staff_role_changed") == []
    # The pending admin itself may be demoted: boss still signs in.
    assert portal(capsys, "set-role", "newboss", "officer")[0] == 0


def test_set_role_refuses_unknown_accounts_and_roles(
    capsys: pytest.CaptureFixture[str], cli_settings: Settings
) -> None:
    code, _, err = portal(capsys, "set-role", "nobody", "admin")
    assert (code, err) == (2, "cannot change the role: unknown_account\n")
    with pytest.raises(SystemExit) as exited:
        main(["staff", "set-role", "nobody", "root"])
    assert exited.value.code == 2


def test_list_shows_role_state_enrolment_and_last_sign_in(
    capsys: pytest.CaptureFixture[str], cli_settings: Settings
) -> None:
    assert portal(capsys, "list")[:2] == (
        0,
        "no staff accounts yet: portal staff create --username NAME --role admin\n",
    )
    staff(cli_settings, "boss", "admin")
    staff(cli_settings, "malee", enrolled=False)
    somchai = staff(cli_settings, "somchai")
    fresh(lambda: StaffUser.update({StaffUser.active: False}).where(StaffUser.id == somchai.id))
    code, out, _ = portal(capsys, "list")
    assert code == 0
    header, *lines = out.splitlines()
    assert header.split()[:4] == ["USERNAME", "ROLE", "STATUS", "SIGN-IN"]
    by_name = {line.split()[0]: line for line in lines}
    assert list(by_name) == ["boss", "malee", "somchai"]
    assert by_name["boss"].split()[1:4] == ["admin", "active", "enrolled"]
    assert by_name["malee"].split()[1:5] == ["officer", "active", "link", "pending"]
    assert by_name["malee"].rstrip().endswith("-")  # never signed in
    assert by_name["somchai"].split()[1:4] == ["officer", "disabled", "enrolled"]
    signed_in = row("boss")["last_sign_in_at"]
    assert by_name["boss"].rstrip().endswith(f"{signed_in:%Y-%m-%d %H:%M}")


def test_create_is_audited_as_system_cli(
    capsys: pytest.CaptureFixture[str], cli_settings: Settings
) -> None:
    assert portal(capsys, "create", "--username", "boss", "--role", "admin")[0] == 0
    (event,) = audits("staff_created")
    assert (event["actor"], event["username"]) == ("system/cli", "boss")
