"""Staff reading protected data: revealing a citizen ID and the data-subject export."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.kernel.clock import utcnow
from portal.settings import Settings
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.tables.staff_note import StaffNote
from tests.conftest import csrf_token, html
from tests.privacy.helpers import CITIZEN_ID, MASKED_ID, RunDb, phone, raw_request
from tests.staff.helpers import (
    Clock,
    Staff,
    audit_rows,
    file_direct,
    file_via_routes,
    make_staff,
    sign_in,
)

Browser = TestClient[Litestar]


@pytest.fixture
def officer(run_db: RunDb, settings: Settings) -> Staff:
    return make_staff(run_db, settings, "officer1")


@pytest.fixture
def admin(run_db: RunDb, settings: Settings) -> Staff:
    return make_staff(run_db, settings, "admin1", role="admin")


def signed_in(new_browser: Callable[[], Browser], staff: Staff, clock: Clock) -> Browser:
    return sign_in(new_browser(), staff, clock)


def reveal(browser: Browser, number: str, *, token: str | None = None) -> Any:
    token = token if token is not None else csrf_token(browser, f"/staff/requests/{number}")
    return browser.post(
        f"/staff/requests/{number}/citizen-id",
        data={"_csrf_token": token},
        follow_redirects=False,
    )


def export(browser: Browser, raw_phone: str, *, with_token: bool = True) -> Any:
    data = {"phone": raw_phone}
    if with_token:
        data["_csrf_token"] = csrf_token(browser, "/staff/privacy/export")
    return browser.post("/staff/privacy/export", data=data, follow_redirects=False)


def test_staff_page_masks_the_id_and_reveal_shows_it_once_audited(
    new_browser: Callable[[], Browser],
    run_db: RunDb,
    officer: Staff,
    clock: Clock,
) -> None:
    number = file_via_routes(new_browser(), run_db, phone(0)[0])
    browser = signed_in(new_browser, officer, clock)
    page = html(browser.get(f"/staff/requests/{number}"))
    assert CITIZEN_ID not in page.get_text()
    assert MASKED_ID in page.select_one(".answers").get_text()
    assert audit_rows(run_db, "reveal_citizen_id") == []

    response = reveal(browser, number)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    shown = html(response).select("[data-citizen-id]")
    assert [dd.get_text(strip=True) for dd in shown] == [CITIZEN_ID]
    (row,) = audit_rows(run_db, "reveal_citizen_id")
    assert (row["actor"], row["number"]) == ("officer1", number)
    assert row["details"] == {"fields": ["citizen_id"]}
    assert CITIZEN_ID not in json.dumps(row["details"])


def test_reveal_needs_csrf_a_session_and_a_real_request(
    new_browser: Callable[[], Browser], run_db: RunDb, officer: Staff, clock: Clock
) -> None:
    number = file_direct(run_db, phone(1)[1]).number
    stranger = new_browser()
    assert reveal(stranger, number, token=csrf_token(stranger)).status_code in (401, 303)
    browser = signed_in(new_browser, officer, clock)
    assert reveal(browser, number, token="forged").status_code == 403
    assert reveal(browser, "69-000000", token=csrf_token(browser, "/staff")).status_code == 404
    assert reveal(browser, "nonsense", token=csrf_token(browser, "/staff")).status_code == 404
    assert audit_rows(run_db, "reveal_citizen_id") == []


def test_a_request_without_an_id_offers_no_reveal(
    new_browser: Callable[[], Browser], run_db: RunDb, officer: Staff, clock: Clock
) -> None:
    number = file_direct(run_db, phone(2)[1], {"first_name": "สมศรี", "subject": "ถนน"}).number
    browser = signed_in(new_browser, officer, clock)
    page = html(browser.get(f"/staff/requests/{number}"))
    assert page.select_one("form[data-action=reveal-citizen-id]") is None


def test_export_holds_everything_about_the_phone_and_is_audited(
    new_browser: Callable[[], Browser],
    run_db: RunDb,
    admin: Staff,
    clock: Clock,
) -> None:
    national, e164 = phone(3)
    number = file_via_routes(new_browser(), run_db, national)
    other = file_direct(run_db, phone(4)[1]).number
    request_id = raw_request(run_db, number)["id"]
    run_db(
        lambda: StaffNote(
            office=DEFAULT_OFFICE_ID,
            request=request_id,
            author=admin.id,
            text="โทรกลับแล้ว",
            created_at=utcnow(),
        ).save()
    )
    browser = signed_in(new_browser, admin, clock)
    response = export(browser, "080-000-4003")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    assert response.headers["cache-control"] == "no-store"
    data = json.loads(response.content.decode("utf-8"))
    assert data["phone"] == e164
    (request,) = data["requests"]
    assert request["number"] == number and request["number"] != other
    assert request["answers"]["citizen_id"] == CITIZEN_ID
    assert request["citizen_ids"] == {"citizen_id": CITIZEN_ID}
    assert request["answers"]["first_name"] == "สมศรี"
    assert [e["status"] for e in request["timeline"]] == ["received"]
    assert [n["text"] for n in request["internal_notes"]] == ["โทรกลับแล้ว"]
    assert [m["purpose"] for m in request["sms"]] == ["receipt"]
    assert number in request["sms"][0]["text"]
    assert request["attachments"] == []
    assert data["otp_codes_sent"]["by_purpose"] == {"submit": 1}
    assert [m["purpose"] for m in data["sms_without_request"]] == ["otp"]
    (row,) = audit_rows(run_db, "export_personal_data")
    assert row["actor"] == "admin1"
    # Masked: the audit log is never purged, so it keeps no whole phone number.
    assert row["details"] == {"phone": "08x-xxx-4003", "requests": 1}


def test_export_of_a_phone_with_nothing_is_an_empty_record(
    new_browser: Callable[[], Browser], run_db: RunDb, admin: Staff, clock: Clock
) -> None:
    browser = signed_in(new_browser, admin, clock)
    data = json.loads(export(browser, phone(5)[0]).content)
    assert data["requests"] == [] and data["sms_without_request"] == []
    assert len(audit_rows(run_db, "export_personal_data")) == 1


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "กรุณากรอกเบอร์โทรศัพท์มือถือ"),
        ("12345", "เบอร์โทรศัพท์ไม่ถูกต้อง"),
        ("<script>alert(1)</script>", "เบอร์โทรศัพท์ไม่ถูกต้อง"),
        ("021234567", "ต้องเป็นเบอร์มือถือ"),
        ("+14155550123", "รับเฉพาะเบอร์มือถือในประเทศไทย"),
        ("0" * 5000, "เบอร์โทรศัพท์ไม่ถูกต้อง"),
    ],
)
def test_a_bad_phone_gets_a_thai_message_and_no_export(
    new_browser: Callable[[], Browser],
    run_db: RunDb,
    admin: Staff,
    clock: Clock,
    raw: str,
    message: str,
) -> None:
    browser = signed_in(new_browser, admin, clock)
    response = export(browser, raw)
    assert response.status_code == 422
    page = html(response)
    assert message in page.select_one(".error-summary").get_text()
    assert page.select_one("title").get_text().startswith("ผิดพลาด: ")
    assert page.select_one("#phone")["aria-invalid"] == "true"
    assert audit_rows(run_db, "export_personal_data") == []


def test_export_is_for_admins_with_a_csrf_token(
    new_browser: Callable[[], Browser],
    run_db: RunDb,
    officer: Staff,
    admin: Staff,
    clock: Clock,
) -> None:
    officer_browser = signed_in(new_browser, officer, clock)
    assert officer_browser.get("/staff/privacy/export").status_code == 403
    token = csrf_token(officer_browser, "/staff")
    forbidden = officer_browser.post(
        "/staff/privacy/export", data={"phone": phone(6)[0], "_csrf_token": token}
    )
    assert forbidden.status_code == 403
    admin_browser = signed_in(new_browser, admin, clock)
    assert export(admin_browser, phone(6)[0], with_token=False).status_code == 403
    assert audit_rows(run_db, "export_personal_data") == []
    nav = html(admin_browser.get("/staff")).select_one('nav a[href="/staff/privacy/export"]')
    assert nav is not None
    assert html(officer_browser.get("/staff")).select_one('a[href="/staff/privacy/export"]') is None


def test_export_after_a_phone_fix_tells_nothing_of_the_old_numbers_messages(
    new_browser: Callable[[], Browser], run_db: RunDb, admin: Staff, clock: Clock
) -> None:
    from portal.staff.request_work import Actor, staff_fix_phone
    from tests.staff.helpers import SMS, default_office

    old_national, old_e164 = phone(7)
    new_national, new_e164 = phone(8)
    number = file_via_routes(new_browser(), run_db, old_national)
    actor = Actor(staff_id=admin.id, username="admin1", client_ip="192.0.2.1")
    run_db(
        lambda: staff_fix_phone(
            number, new_e164, "ตรวจบัตรแล้วที่เคาน์เตอร์", actor, office=default_office(), sms=SMS
        )
    )
    browser = signed_in(new_browser, admin, clock)
    response = export(browser, new_national)
    assert response.status_code == 200
    text = response.content.decode("utf-8")
    data = json.loads(text)
    (request,) = data["requests"]
    by_purpose = {sms["purpose"]: sms for sms in request["sms"]}
    assert len(by_purpose) == len(request["sms"]) == 3
    receipt, moved = by_purpose["receipt"], by_purpose["phone_changed"]
    # The old number was told the request moved (issue 17): sent there, so not shown either.
    told = by_purpose["phone_moved"]
    assert "to_phone" not in told and "text" not in told
    assert told["sent_to_another_number"] is True
    # The receipt went to the old number: that it was sent is told, not where or what.
    assert receipt["purpose"] == "receipt"
    assert "to_phone" not in receipt and "text" not in receipt
    assert receipt["sent_to_another_number"] is True
    assert receipt["id"] and receipt["state"] and receipt["created_at"]
    assert moved["purpose"] == "phone_changed"
    assert moved["to_phone"] == new_e164
    assert number in moved["text"]
    assert old_e164 not in text
    # Not even masked ("08x-xxx-4007"); the same digits inside a request number, a timestamp
    # or a link token are chance, not the old number.
    assert not re.search(rf"(?<![0-9A-Za-z_-]){old_national[-4:]}(?![0-9A-Za-z_-])", text)


def test_ids_sealed_under_another_secret_key_are_reported_not_a_500(
    new_browser: Callable[[], Browser], run_db: RunDb, admin: Staff, clock: Clock
) -> None:
    from portal.privacy.citizen_ids import CitizenIdVault
    from portal.tables.citizen_request import CitizenRequest

    national, _ = phone(9)
    number = file_via_routes(new_browser(), run_db, national)
    old_vault = CitizenIdVault(encryption_key=b"k" * 32, hash_key=b"h" * 32)
    sealed = old_vault.seal({"citizen_id": CITIZEN_ID})
    run_db(
        lambda: CitizenRequest.update({CitizenRequest.citizen_id_encrypted: sealed}).where(
            CitizenRequest.number == number
        )
    )
    browser = signed_in(new_browser, admin, clock)

    response = reveal(browser, number)
    assert response.status_code == 200
    page = html(response)
    assert page.select("[data-citizen-id]") == []
    assert (
        page.select_one("[data-citizen-id-unreadable]")
        .get_text(strip=True)
        .startswith("ถอดรหัสเลขประจำตัวประชาชนของคำร้องนี้ไม่ได้")
    )
    (row,) = audit_rows(run_db, "reveal_citizen_id")
    assert row["details"] == {"fields": [], "unreadable": True}

    exported = export(browser, national)
    assert exported.status_code == 200
    (request,) = json.loads(exported.content)["requests"]
    assert request["citizen_ids"] == {}
    assert request["citizen_ids_undecryptable"] is True
    assert request["answers"]["citizen_id"] == MASKED_ID
