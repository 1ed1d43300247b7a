"""User story: one server, two offices side by side (reached at ``/o/<slug>/`` in development).
A citizen files at each with the same phone; tracking way 2 at each office shows only that
office's request; each office's officer sees only their own office's request in the inbox."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

import pyotp
from playwright.sync_api import Page, expect

from e2e.conftest import RunningPortal, new_phone_context
from e2e.journeys import create_office, file_general_request, office_enrolment_link

PHONE = "0800000371"
B_NAME = "เทศบาลตำบลบางบี"
SUBJECT_A = "ขอให้ซ่อมไฟถนนที่สำนักงานเอ"
SUBJECT_B = "ขอให้เก็บขยะที่สำนักงานบี"
PASSWORD = "Officer-Test-Pass-2569"


def track_way_2(page: Page, portal: RunningPortal, home: str) -> None:
    """Way 2 at the office of ``home``: the phone, the code it gets, the list of requests."""
    page.goto(home + "track")
    page.get_by_label("หมายเลขโทรศัพท์มือถือ").fill(PHONE)
    page.get_by_role("button", name="ส่งรหัสยืนยัน").click()
    page.get_by_label("รหัสยืนยัน", exact=True).fill(portal.latest_code(PHONE))
    page.get_by_role("button", name="ตรวจสอบรหัสยืนยัน").click()
    expect(page.get_by_role("heading", name="คำร้องของฉัน")).to_be_visible()


def enrol(page: Page, link: str) -> None:
    """The colleague's side of the one-time link; they land signed in on their inbox."""
    page.goto(link)
    page.get_by_label("รหัสผ่านใหม่", exact=True).fill(PASSWORD)
    page.get_by_label("รหัสผ่านใหม่อีกครั้ง").fill(PASSWORD)
    uri = (page.locator("[data-otpauth-uri]").text_content() or "").strip()
    totp = pyotp.TOTP(parse_qs(urlparse(uri).query)["secret"][0])
    page.get_by_label("รหัส 6 หลักจากแอป").fill(totp.now())
    page.get_by_role("button", name="ยืนยันและเข้าสู่ระบบ").click()
    expect(page.get_by_role("heading", name="กล่องคำร้อง")).to_be_visible()


def test_two_offices_keep_their_citizens_requests_and_staff_apart(
    page: Page, browser: Any, portal: RunningPortal, shoot: Callable[[Page, str], Any]
) -> None:
    suffix = secrets.token_hex(2)
    slug_b = f"bangbi{suffix}"
    home_a = f"{portal.base_url}/o/default/"
    home_b = create_office(portal, slug_b, B_NAME)

    # Office B's own home page, on a phone.
    page.goto(home_b)
    expect(page.locator("body")).to_contain_text(B_NAME)
    shoot(page, "office-b-home")

    # One citizen, one phone, one browser: a request at each office.
    number_a = file_general_request(page, portal, PHONE, home=home_a, subject=SUBJECT_A)
    expect(page).to_have_url(re.compile(r"/o/default/e-service/requests/"))
    number_b = file_general_request(page, portal, PHONE, home=home_b, subject=SUBJECT_B)
    expect(page).to_have_url(re.compile(rf"/o/{slug_b}/e-service/requests/"))

    # Way 2 at each office shows that office's request only.
    for home, number, mine, theirs in (
        (home_a, number_a, SUBJECT_A, SUBJECT_B),
        (home_b, number_b, SUBJECT_B, SUBJECT_A),
    ):
        context = new_phone_context(browser, javascript=True)
        tracker = context.new_page()
        track_way_2(tracker, portal, home)
        expect(tracker.locator("[data-request-number]")).to_have_text([number])
        tracker.get_by_role("link", name=re.compile(number)).click()
        expect(tracker.locator(".answers")).to_contain_text(mine)
        expect(tracker.locator("body")).not_to_contain_text(theirs)
        context.close()

    # Each office's officer, enrolled through their own office's link, sees their own only.
    for office, home, mine, theirs, number in (
        (slug_b, home_b, SUBJECT_B, SUBJECT_A, number_b),
        ("default", home_a, SUBJECT_A, SUBJECT_B, number_a),
    ):
        link = office_enrolment_link(portal, office, f"off{office[:6]}{suffix}", "officer")
        # B's link leads to B (its prefix); the default office's may be the plain address.
        base = link.split("/staff/enrol/")[0]
        assert base in (home.rstrip("/"), portal.base_url) and (office == "default") == (
            base == portal.base_url
        ), link
        context = new_phone_context(browser, javascript=True)
        staff = context.new_page()
        enrol(staff, link)
        expect(staff).to_have_url(re.compile(re.escape(base) + r"/staff$"))
        expect(staff.locator("main")).to_contain_text(mine)
        expect(staff.locator("main")).not_to_contain_text(theirs)
        if office == slug_b:
            expect(staff.locator("[data-request-row]")).to_have_count(1)
            expect(staff.locator("[data-request-row]")).to_have_attribute(
                "data-request-row", number
            )
        context.close()
