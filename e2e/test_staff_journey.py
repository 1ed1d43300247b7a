"""User story: a new officer enrols through the one-time link (their own password, their own
authenticator app), works a citizen's request, and signs in again with password and code."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

import pyotp
from playwright.sync_api import Page, expect

from e2e.conftest import RunningPortal, new_phone_context
from e2e.journeys import file_general_request, tracking_link

PASSWORD = "Officer-Test-Pass-2569"


def create_staff(portal: RunningPortal, username: str, role: str = "officer") -> str:
    """`portal staff create`, as the README tells an operator: it prints the one-time link the
    new colleague opens to choose their own password and enrol their own authenticator."""
    output = subprocess.run(
        [
            sys.executable,
            "-m",
            "portal.cli",
            "staff",
            "create",
            "--username",
            username,
            "--role",
            role,
            "--display-name",
            "สมหญิง ตั้งใจ",
        ],
        env=portal.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert "otpauth://" not in output  # the operator never sees the authenticator secret
    return next(line for line in output.splitlines() if "/staff/enrol/" in line)


def _fresh_code(totp: pyotp.TOTP, used: set[str]) -> str:
    """An authenticator code not used yet: codes are single use, so wait for the next one."""
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        code = totp.now()
        if code not in used:
            used.add(code)
            return code
        time.sleep(1)
    raise AssertionError("no fresh TOTP code")


def enrol_through_link(office: Page, enrolment_link: str, used: set[str]) -> pyotp.TOTP:
    """The colleague's side of the link, without detours: their password, the QR code's secret
    into their authenticator app, a code from it; they land signed in on the inbox."""
    office.goto(enrolment_link)
    office.get_by_label("รหัสผ่านใหม่", exact=True).fill(PASSWORD)
    office.get_by_label("รหัสผ่านใหม่อีกครั้ง").fill(PASSWORD)
    uri = (office.locator("[data-otpauth-uri]").text_content() or "").strip()
    totp = pyotp.TOTP(parse_qs(urlparse(uri).query)["secret"][0])
    office.get_by_label("รหัส 6 หลักจากแอป").fill(_fresh_code(totp, used))
    office.get_by_role("button", name="ยืนยันและเข้าสู่ระบบ").click()
    expect(office.get_by_role("heading", name="กล่องคำร้อง")).to_be_visible()
    return totp


def test_officer_moves_a_citizens_request_forward(
    page: Page, browser: Any, portal: RunningPortal, shoot: Callable[[Page, str], Any]
) -> None:
    phone = "0800000301"
    number = file_general_request(page, portal, phone)
    link = tracking_link(portal, phone, number)
    enrolment_link = create_staff(portal, "somying")
    used: set[str] = set()

    # The colleague opens the link on their own phone: a password of their own, then the QR
    # code scanned into their authenticator app, then a code from it.
    staff = new_phone_context(browser, javascript=True)
    office = staff.new_page()
    office.goto(enrolment_link)
    expect(office.get_by_role("heading", name="ตั้งรหัสผ่านและแอปยืนยันตัวตน")).to_be_visible()
    expect(office.locator("[data-enrol-username]")).to_have_text("somying")
    expect(office.locator(".qr svg")).to_be_visible()
    office.get_by_label("รหัสผ่านใหม่", exact=True).fill(PASSWORD)
    office.get_by_label("รหัสผ่านใหม่อีกครั้ง").fill(PASSWORD + "x")
    shoot(office, "enrol")
    office.locator(".qr").scroll_into_view_if_needed()
    shoot(office, "enrol-qr")
    uri = (office.locator("[data-otpauth-uri]").text_content() or "").strip()  # the QR's text
    totp = pyotp.TOTP(parse_qs(urlparse(uri).query)["secret"][0])
    office.get_by_label("รหัส 6 หลักจากแอป").fill(_fresh_code(totp, used))
    office.get_by_role("button", name="ยืนยันและเข้าสู่ระบบ").click()
    # A typo in the second password box: said plainly, nothing saved, nothing lost but it.
    expect(office.locator(".error-summary")).to_contain_text("รหัสผ่านใหม่สองช่องไม่ตรงกัน")
    office.get_by_label("รหัสผ่านใหม่", exact=True).fill(PASSWORD)
    office.get_by_label("รหัสผ่านใหม่อีกครั้ง").fill(PASSWORD)
    # The refused try did not use its code up; whatever code goes in now is used by this
    # enrolment, and the sign-in below must wait for a newer one.
    enrol_code = totp.now()
    used.add(enrol_code)
    office.get_by_label("รหัส 6 หลักจากแอป").fill(enrol_code)
    office.get_by_role("button", name="ยืนยันและเข้าสู่ระบบ").click()

    expect(office.get_by_role("heading", name="กล่องคำร้อง")).to_be_visible()
    office.get_by_label("ค้นหา").fill(number)
    office.get_by_role("button", name="กรอง").click()
    expect(office.locator("[data-request-row]")).to_have_count(1)
    shoot(office, "inbox")
    office.get_by_role("link", name=number).click()

    expect(office.locator("[data-request-number]")).to_have_text(number)
    expect(office.locator(".answers")).to_contain_text("สมศรี")
    office.get_by_label("สถานะใหม่").select_option("in_progress")
    office.get_by_label("ข้อความสำเร็จรูป").select_option(label="กำลังดำเนินการ: นัดตรวจสอบพื้นที่")
    expect(office.get_by_label("ข้อความถึงประชาชน (แสดงในหน้าติดตามสถานะ)")).to_have_value(
        re.compile("ลงตรวจสอบพื้นที่")
    )
    office.get_by_label("ข้อความถึงประชาชน (แสดงในหน้าติดตามสถานะ)").fill(
        "เจ้าหน้าที่จะลงตรวจสอบพื้นที่ภายในวันศุกร์นี้"
    )
    shoot(office, "request")
    office.get_by_role("button", name="บันทึกสถานะ").click()
    expect(office.locator("[data-status]")).to_have_text("กำลังดำเนินการ")

    office.get_by_label("บันทึก", exact=True).fill("โทรคุยกับผู้ยื่นแล้ว สะดวกช่วงเช้า")
    office.get_by_role("button", name="เพิ่มบันทึก").click()
    expect(office.locator(".internal-notes")).to_contain_text("สะดวกช่วงเช้า")

    # The citizen's link shows the new status and the note, never the internal note.
    citizen = new_phone_context(browser, javascript=True)
    tracking = citizen.new_page()
    tracking.goto(link)
    expect(tracking.locator("[data-status]")).to_have_text("กำลังดำเนินการ")
    expect(tracking.locator(".timeline__note")).to_have_text("เจ้าหน้าที่จะลงตรวจสอบพื้นที่ภายในวันศุกร์นี้")
    expect(tracking.get_by_text("สะดวกช่วงเช้า")).to_have_count(0)
    status_sms = [m for m in portal.outbox(phone) if m["purpose"] == "status"]
    assert len(status_sms) == 1 and number in status_sms[0]["text"]
    assert "วันศุกร์" not in status_sms[0]["text"]
    citizen.close()

    office.get_by_role("button", name="ออกจากระบบ").click()
    expect(office).to_have_url(re.compile(r"/staff/sign-in$"))
    office.goto(portal.base_url + "/staff")
    expect(office).to_have_url(re.compile(r"/staff/sign-in$"))
    # The link was for once; the password and the app are what sign in from now on.
    office.goto(enrolment_link)
    expect(office.get_by_role("heading", name="ตั้งรหัสผ่านและแอปยืนยันตัวตน")).to_have_count(0)
    office.goto(portal.base_url + "/staff/sign-in")
    office.get_by_label("ชื่อผู้ใช้").fill("somying")
    office.get_by_label("รหัสผ่าน").fill(PASSWORD)
    office.get_by_label("รหัส 6 หลักจากแอปยืนยันตัวตน").fill(_fresh_code(totp, used))
    office.get_by_role("button", name="เข้าสู่ระบบ").click()
    expect(office.get_by_role("heading", name="กล่องคำร้อง")).to_be_visible()
    staff.close()
