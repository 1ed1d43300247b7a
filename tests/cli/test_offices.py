"""``portal office`` and ``portal staff ... --office``: offices from the command line, and each
office's staff, run in-process against the test database."""

from __future__ import annotations

from typing import Any

import pytest

from portal.catalogue.library import standard_slugs
from portal.cli import main
from portal.tables.audit_event import AuditEvent
from portal.tables.office import DEFAULT_OFFICE_ID, Office, OfficeHost
from portal.tables.service import Service
from portal.tables.staff_user import StaffUser
from tests.conftest import fresh
from tests.offices import add_host, create_office
from tests.staff.helpers import empty_staff_tables, file_direct

pytestmark = pytest.mark.usefixtures("portal_env")


@pytest.fixture(autouse=True)
def no_staff(portal_env: Any) -> None:
    fresh(empty_staff_tables())


def _office(slug: str) -> dict[str, Any] | None:
    row: dict[str, Any] | None = fresh(Office.select().where(Office.slug == slug).first())
    return row


def _hosts(office_id: int) -> list[str]:
    rows = fresh(OfficeHost.select(OfficeHost.host).where(OfficeHost.office == office_id))
    return sorted(row["host"] for row in rows)


def _list(capsys: pytest.CaptureFixture[str]) -> dict[str, list[str]]:
    capsys.readouterr()
    assert main(["office", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["SLUG", "ACTIVE", "REQUESTS"]
    return {line.split()[0]: line.split() for line in lines[1:]}


def test_office_create_makes_a_working_office_and_list_shows_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fresh(add_host(DEFAULT_OFFICE_ID, "eservice.example.go.th"))
    code = main(
        [
            "office", "create", "--slug", "nongbua", "--name", "เทศบาลตำบลหนองบัว",
            "--name-en", "Nong Bua", "--host", "nongbua.example.go.th",
            "--host", "nb.example.go.th", "--sender", "NONGBUA",
        ]
    )  # fmt: skip
    assert code == 0
    assert "created office nongbua" in capsys.readouterr().out
    row = _office("nongbua")
    assert row is not None
    assert (row["name"], row["name_en"], row["sms_sender"]) == (
        "เทศบาลตำบลหนองบัว",
        "Nong Bua",
        "NONGBUA",
    )
    assert _hosts(row["id"]) == ["nb.example.go.th", "nongbua.example.go.th"]
    services = fresh(Service.select(Service.slug).where(Service.office == row["id"]))
    assert sorted(s["slug"] for s in services) == sorted(standard_slugs())
    actors = fresh(AuditEvent.select(AuditEvent.actor).where(AuditEvent.office == row["id"]))
    assert [a["actor"] for a in actors] == ["system/cli"]
    # A request filed at it shows in its count, not the default office's.
    from portal.kernel.offices import OfficeDirectory
    from portal.settings import load_settings

    nongbua = fresh(OfficeDirectory(load_settings()).by_slug("nongbua"))
    file_direct(None, "+66800000501", office=nongbua)
    listed = _list(capsys)
    assert listed["nongbua"][1:3] == ["yes", "1"]
    assert "nongbua.example.go.th" in " ".join(listed["nongbua"])
    assert listed["default"][1:3] == ["yes", "0"]


def test_office_create_refuses_bad_input_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["office", "create", "--slug", "Bad", "--name", "เทศบาล"]) == 2
    assert "slug" in capsys.readouterr().err
    args = ["office", "create", "--slug", "nongbua", "--name", "เทศบาล", "--host", "nb.example"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "default_office_needs_host" in err
    assert "portal office hosts default --add" in err
    assert _office("nongbua") is None
    assert main(["office", "create", "--slug", "nongbua", "--name", "เทศบาล"]) == 0
    assert main(["office", "create", "--slug", "nongbua", "--name", "เทศบาล"]) == 2
    assert "slug_taken" in capsys.readouterr().err


def test_office_disable_enable_and_hosts(capsys: pytest.CaptureFixture[str]) -> None:
    office_id = fresh(create_office("nongbua"))
    assert main(["office", "disable", "nongbua"]) == 0
    assert "nongbua is now disabled." in capsys.readouterr().out
    assert _list(capsys)["nongbua"][1] == "no"
    assert main(["office", "disable", "default"]) == 2
    assert "default_office" in capsys.readouterr().err
    assert main(["office", "enable", "nongbua"]) == 0
    assert _list(capsys)["nongbua"][1] == "yes"
    assert main(["office", "disable", "nobody"]) == 2
    assert main(["office", "hosts", "default", "--add", "eservice.example.go.th"]) == 0
    assert main(["office", "hosts", "nongbua", "--add", "a.example", "--add", "b.example"]) == 0
    assert main(["office", "hosts", "nongbua", "--remove", "a.example"]) == 0
    assert _hosts(office_id) == ["b.example"]
    assert main(["office", "hosts", "nongbua", "--add", "eservice.example.go.th"]) == 2
    assert "host_taken" in capsys.readouterr().err


def test_staff_create_in_an_office_and_its_link_points_there(
    capsys: pytest.CaptureFixture[str],
) -> None:
    office_id = fresh(create_office("nongbua", base_url="https://nongbua.example.go.th"))
    args = ["staff", "create", "--office", "nongbua", "--username", "nb-admin", "--role", "admin"]
    assert main(args) == 0
    out = capsys.readouterr().out
    (link,) = [line for line in out.splitlines() if "/staff/enrol/" in line]
    assert link.startswith("https://nongbua.example.go.th/staff/enrol/")
    # The same name may exist in another office; list and set-role act in one office only.
    assert main(["staff", "create", "--username", "nb-admin", "--role", "officer"]) == 0
    rows = fresh(StaffUser.select(StaffUser.office, StaffUser.role).order_by(StaffUser.office))
    assert [(r["office"], r["role"]) for r in rows] == [
        (DEFAULT_OFFICE_ID, "officer"),
        (office_id, "admin"),
    ]
    capsys.readouterr()
    assert main(["staff", "list", "--office", "nongbua"]) == 0
    listed = capsys.readouterr().out.splitlines()[1:]
    assert [line.split()[:2] for line in listed] == [["nb-admin", "admin"]]
    assert main(["staff", "set-role", "nb-admin", "admin"]) == 0  # the default office's one
    assert "nb-admin is now admin." in capsys.readouterr().out
    assert main(["staff", "create", "--office", "nobody", "--username", "x-y-z"]) == 2


def test_platform_admin_is_given_only_in_the_default_office(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fresh(create_office("nongbua"))
    args = ["staff", "create", "--username", "platform", "--role", "platform_admin"]
    assert main([*args, "--office", "nongbua"]) == 2
    assert "platform_admin_outside_default_office" in capsys.readouterr().err
    assert fresh(StaffUser.count()) == 0
    assert main(args) == 0
    row = fresh(StaffUser.select(StaffUser.office, StaffUser.role).first())
    assert (row["office"], row["role"]) == (DEFAULT_OFFICE_ID, "platform_admin")
