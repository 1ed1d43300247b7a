"""Admin pages: staff accounts (create with an enrolment link, reset by a new link, deactivate)
and the audit log with its filters."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import asyncpg
import pytest
from bs4 import BeautifulSoup
from litestar import Litestar
from litestar.testing import TestClient

from portal.settings import Settings
from portal.staff.accounts import ADMINS_LOCK
from portal.tables.staff_user import StaffUser
from tests.conftest import csrf_token, html
from tests.staff.helpers import (
    PASSWORD,
    Clock,
    RunDb,
    Staff,
    audit_rows,
    error_text,
    file_direct,
    make_staff,
    post_sign_in,
    sign_in,
)

Browser = TestClient[Litestar]


@pytest.fixture
def admin(run_db: RunDb, settings: Settings) -> Staff:
    return make_staff(run_db, settings, "boss", role="admin", display_name="หัวหน้า")


@pytest.fixture
def officer(run_db: RunDb, settings: Settings) -> Staff:
    return make_staff(run_db, settings, "somchai", display_name="สมชาย")


@pytest.fixture
def admin_browser(client: Browser, admin: Staff, clock: Clock) -> Browser:
    return sign_in(client, admin, clock)


def post(browser: Browser, path: str, data: dict[str, str]) -> Any:
    token = csrf_token(browser, "/staff/accounts")
    return browser.post(path, data={**data, "_csrf_token": token}, follow_redirects=False)


def create(browser: Browser, **fields: str) -> Any:
    data = {"username": "newbie", "display_name": "น้องใหม่", "role": "officer"}
    return post(browser, "/staff/accounts", {**data, **fields})


def accounts(page: BeautifulSoup) -> dict[str, list[str]]:
    return {
        str(row["data-account"]): [td.get_text(" ", strip=True) for td in row.select("td")]
        for row in page.select("tr[data-account]")
    }


def usernames(run_db: RunDb) -> list[str]:
    rows = run_db(lambda: StaffUser.select(StaffUser.username).order_by(StaffUser.username))
    return [row["username"] for row in rows]


def is_active(run_db: RunDb, staff: Staff) -> bool:
    row = run_db(lambda: StaffUser.select(StaffUser.active).where(StaffUser.id == staff.id).first())
    return bool(row["active"])


def test_accounts_page_lists_every_account(
    admin_browser: Browser, run_db: RunDb, settings: Settings, officer: Staff
) -> None:
    make_staff(run_db, settings, "malee", enrolled=False, display_name="มาลี")
    page = html(admin_browser.get("/staff/accounts"))
    listed = accounts(page)
    assert list(listed) == ["boss", "malee", "somchai"]
    assert listed["boss"][:4] == ["boss", "หัวหน้า", "ผู้ดูแลระบบ", "ตั้งค่าแล้ว"]
    # A new link for anyone but oneself.
    assert page.select_one(f"form[action='/staff/accounts/{officer.id}/enrolment']") is not None
    assert not page.select("tr[data-account=boss] form[action$='/enrolment']")
    assert listed["malee"][:3] == ["malee", "มาลี", "เจ้าหน้าที่"]
    assert listed["malee"][3].startswith("รอเจ้าของบัญชีเปิดลิงก์")
    assert listed["somchai"][4].startswith("ใช้งาน")
    # The form to add one.
    form = page.select_one("form[action='/staff/accounts']")
    assert {f["name"] for f in form.select("input, select")} == {
        "_csrf_token",
        "username",
        "display_name",
        "role",
    }


def test_creating_an_account_saves_it_audits_it_and_shows_its_link_once(
    admin_browser: Browser, new_browser: Any, run_db: RunDb, settings: Settings
) -> None:
    response = create(admin_browser, username="NewBie", role="officer", password=PASSWORD)
    assert response.status_code == 200
    page = html(response)
    assert page.select_one("[data-created]")["data-created"] == "newbie"
    assert "newbie" in accounts(page)
    link = page.select_one("[data-enrolment-link]").get_text(strip=True)
    assert link.startswith(settings.base_url + "/staff/enrol/")
    row = run_db(lambda: StaffUser.select().where(StaffUser.username == "newbie").first())
    assert (row["role"], row["display_name"], row["active"], row["totp_enrolled"]) == (
        "officer",
        "น้องใหม่",
        True,
        False,
    )
    # A password posted anyway (an old form) is ignored: the account has none.
    assert row["password_hash"] == ""
    (audit,) = [r for r in audit_rows(run_db, "staff_created") if r["actor"] == "boss"]
    assert audit["details"] == {"username": "newbie", "role": "officer"}
    assert audit["client_ip"] == "testclient"
    assert post_sign_in(new_browser(), "newbie", PASSWORD, "").status_code == 422
    # The link is not shown again.
    again = admin_browser.get("/staff/accounts")
    assert html(again).select_one("[data-enrolment-link]") is None
    assert link not in again.text
    # The link opens the owner's page.
    assert new_browser().get(link.removeprefix(settings.base_url)).status_code == 200


def test_an_admin_can_issue_a_colleague_a_new_link_but_not_themselves(
    admin_browser: Browser, run_db: RunDb, admin: Staff, officer: Staff
) -> None:
    reset = post(admin_browser, f"/staff/accounts/{officer.id}/enrolment", {})
    assert reset.status_code == 200
    notice = html(reset).select_one("[data-enrolment-link-for]")
    assert notice is not None and notice["data-enrolment-link-for"] == "somchai"
    assert notice.get("data-created") is None
    listed = accounts(html(reset))
    assert listed["somchai"][3].startswith("รอเจ้าของบัญชีเปิดลิงก์")
    (audit,) = audit_rows(run_db, "staff_enrolment_reset")
    assert audit["actor"] == "boss" and audit["details"]["username"] == "somchai"
    mine = post(admin_browser, f"/staff/accounts/{admin.id}/enrolment", {})
    assert mine.status_code == 422
    assert error_text(mine).startswith("ออกลิงก์ตั้งค่าให้บัญชีของตัวเองไม่ได้")
    assert post(admin_browser, "/staff/accounts/999999/enrolment", {}).status_code == 404


def test_a_switched_off_account_gets_no_link(
    admin_browser: Browser, run_db: RunDb, officer: Staff
) -> None:
    post(admin_browser, f"/staff/accounts/{officer.id}/active", {"active": "0"})
    refused = post(admin_browser, f"/staff/accounts/{officer.id}/enrolment", {})
    assert refused.status_code == 422
    assert error_text(refused).startswith("บัญชีนี้ปิดอยู่")
    assert audit_rows(run_db, "staff_enrolment_reset") == []


@pytest.mark.parametrize("username", ["ab", "1abc", "สมชาย", "has space", "a" * 33, "x;drop", ""])
def test_bad_usernames_are_refused_with_422(
    admin_browser: Browser, run_db: RunDb, username: str
) -> None:
    response = create(admin_browser, username=username)
    assert response.status_code == 422
    assert error_text(response).startswith("ชื่อผู้ใช้ต้องเป็นอักษรอังกฤษตัวเล็ก")
    assert usernames(run_db) == ["boss"]


def test_a_taken_username_or_an_unknown_role_is_refused(
    admin_browser: Browser, run_db: RunDb, officer: Staff
) -> None:
    taken = create(admin_browser, username="SOMCHAI")
    assert taken.status_code == 422
    assert error_text(taken) == "มีชื่อผู้ใช้นี้แล้ว"
    bad_role = create(admin_browser, role="root")
    assert bad_role.status_code == 422
    # An office admin cannot make a platform admin by posting the value the form never offers.
    escalated = create(admin_browser, username="climber", role="platform_admin")
    assert escalated.status_code == 422
    offered = {
        option["value"] for option in html(admin_browser.get("/staff/accounts")).select("option")
    }
    assert "platform_admin" not in offered
    assert usernames(run_db) == ["boss", "somchai"]


def test_deactivating_an_account_blocks_its_sign_in_until_reactivated(
    admin_browser: Browser, new_browser: Any, run_db: RunDb, officer: Staff, clock: Clock
) -> None:
    response = post(admin_browser, f"/staff/accounts/{officer.id}/active", {"active": "0"})
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/accounts"
    assert is_active(run_db, officer) is False
    (audit,) = audit_rows(run_db, "staff_deactivated")
    assert (audit["actor"], audit["details"]) == ("boss", {"staff_id": officer.id})
    listed = accounts(html(admin_browser.get("/staff/accounts")))
    assert listed["somchai"][4].startswith("ปิดแล้ว")

    refused = post_sign_in(new_browser(), "somchai", officer.password, officer.next_code(clock))
    assert refused.status_code == 422
    assert error_text(refused) == "ชื่อผู้ใช้ รหัสผ่าน หรือรหัสจากแอปยืนยันตัวตนไม่ถูกต้อง"

    post(admin_browser, f"/staff/accounts/{officer.id}/active", {"active": "1"})
    assert is_active(run_db, officer) is True
    assert [r["details"] for r in audit_rows(run_db, "staff_activated")] == [
        {"staff_id": officer.id}
    ]
    sign_in(new_browser(), officer, clock)


def test_deactivating_an_account_ends_its_open_sessions(
    admin_browser: Browser, new_browser: Any, officer: Staff, clock: Clock
) -> None:
    officer_browser = sign_in(new_browser(), officer, clock)
    assert officer_browser.get("/staff", follow_redirects=False).status_code == 200
    post(admin_browser, f"/staff/accounts/{officer.id}/active", {"active": "0"})
    response = officer_browser.get("/staff", follow_redirects=False)
    assert response.status_code == 303


def test_an_admin_cannot_deactivate_themselves(
    admin_browser: Browser, run_db: RunDb, admin: Staff
) -> None:
    response = post(admin_browser, f"/staff/accounts/{admin.id}/active", {"active": "0"})
    assert response.status_code == 422
    assert error_text(response) == "ปิดบัญชีของตัวเองไม่ได้"
    assert is_active(run_db, admin) is True
    assert audit_rows(run_db, "staff_deactivated") == []
    assert admin_browser.get("/staff/accounts", follow_redirects=False).status_code == 200


def audit_page(browser: Browser, query: str = "") -> list[dict[str, str]]:
    response = browser.get(f"/staff/audit{'?' + query if query else ''}")
    assert response.status_code == 200
    rows = []
    for row in html(response).select("tr[data-audit-action]"):
        cells = [td.get_text(" ", strip=True) for td in row.select("td")]
        rows.append({"actor": cells[1], "action": cells[2], "number": cells[3]})
    return rows


def test_audit_log_lists_actions_newest_first_and_filters(
    admin_browser: Browser,
    new_browser: Any,
    run_db: RunDb,
    officer: Staff,
    clock: Clock,
) -> None:
    first = file_direct(run_db, "+66800000380").number
    second = file_direct(run_db, "+66800000381").number
    officer_browser = sign_in(new_browser(), officer, clock)
    officer_browser.get(f"/staff/requests/{first}")
    token = csrf_token(officer_browser, f"/staff/requests/{first}")
    officer_browser.post(
        f"/staff/requests/{first}/status",
        data={"status": "in_progress", "note": "", "_csrf_token": token},
    )
    officer_browser.get(f"/staff/requests/{second}")

    everything = audit_page(admin_browser)
    # Newest first: the last view is on top, the admin's own sign-in near the bottom.
    assert everything[0] == {"actor": "somchai", "action": "view_request", "number": second}
    assert {"actor": "boss", "action": "sign_in", "number": ""} in everything

    by_actor = audit_page(admin_browser, "actor=somchai")
    assert by_actor and {r["actor"] for r in by_actor} == {"somchai"}
    assert {r["action"] for r in by_actor} >= {"sign_in", "view_request", "change_status"}

    views = audit_page(admin_browser, "action=view_request")
    assert {r["action"] for r in views} == {"view_request"}
    assert {r["number"] for r in views} == {first, second}

    on_first = audit_page(admin_browser, f"number={first}")
    assert on_first and {r["number"] for r in on_first} == {first}
    assert "change_status" in {r["action"] for r in on_first}

    assert audit_page(admin_browser, "actor=somchai&action=change_status") == [
        {"actor": "somchai", "action": "change_status", "number": first}
    ]
    assert audit_page(admin_browser, "actor=nobody") == []
    page = html(admin_browser.get("/staff/audit?action=view_request"))
    assert page.select_one("select#action option[selected]")["value"] == "view_request"


@contextlib.contextmanager
def admins_lock_held(database: str) -> Iterator[None]:
    """Hold what every admin change waits for (SQLite's write lock, PostgreSQL's advisory
    lock), so two requests can be made to reach it together."""
    if database.startswith("sqlite:///"):
        connection = sqlite3.connect(database.removeprefix("sqlite:///"), isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    loop = asyncio.new_event_loop()
    pg = loop.run_until_complete(asyncpg.connect(database))
    loop.run_until_complete(pg.execute("BEGIN"))
    key = zlib.crc32(ADMINS_LOCK.encode())
    loop.run_until_complete(pg.execute("SELECT pg_advisory_xact_lock($1)", key))
    try:
        yield
    finally:
        loop.run_until_complete(pg.execute("ROLLBACK"))
        loop.run_until_complete(pg.close())
        loop.close()


def test_two_admins_switching_each_other_off_together_keep_one_with_a_thai_409(
    admin_browser: Browser, new_browser: Any, run_db: RunDb, settings: Settings, clock: Clock,
    admin: Staff, database: str,
) -> None:  # fmt: skip
    deputy = make_staff(run_db, settings, "deputy", role="admin")
    deputy_browser = sign_in(new_browser(), deputy, clock)
    tokens = {
        id(browser): csrf_token(browser, "/staff/accounts")
        for browser in (admin_browser, deputy_browser)
    }

    def switch_off(browser: Browser, target: Staff) -> Any:
        data = {"active": "0", "_csrf_token": tokens[id(browser)]}
        path = f"/staff/accounts/{target.id}/active"
        return browser.post(path, data=data, follow_redirects=False)

    with ThreadPoolExecutor(2) as pool, admins_lock_held(database):
        first = pool.submit(switch_off, admin_browser, deputy)
        second = pool.submit(switch_off, deputy_browser, admin)
        time.sleep(1.5)  # both past the sign-in guard, waiting for the lock
    responses = [first.result(), second.result()]
    assert sorted(r.status_code for r in responses) == [303, 409]
    (refused,) = [r for r in responses if r.status_code == 409]
    assert error_text(refused) == "ทำไม่ได้ ต้องมีผู้ดูแลระบบที่ใช้งานได้เหลืออย่างน้อยหนึ่งคน"
    assert [is_active(run_db, admin), is_active(run_db, deputy)].count(True) == 1
    assert len(audit_rows(run_db, "staff_deactivated")) == 1


def test_switching_off_an_unknown_account_is_404(admin_browser: Browser, admin: Staff) -> None:
    response = post(admin_browser, f"/staff/accounts/{admin.id + 1000}/active", {"active": "0"})
    assert response.status_code == 404
