"""User story: a citizen who is stuck finds how to reach the office (a contact page with a
number to tap), and whoever holds a request's old number, after staff moved the request to a
new phone, is told so by SMS and by the old link, never shown the request."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.conftest import RunningPortal, _free_port, new_phone_context, serve_portal
from e2e.journeys import file_general_request, tracking_link
from e2e.test_staff_journey import create_staff, enrol_through_link

OFFICE = {
    "PORTAL_OFFICE_NAME": "เทศบาลตำบลตัวอย่าง",
    "PORTAL_OFFICE_PHONE": "0 2123 4567",
    "PORTAL_OFFICE_LINE_URL": "https://lin.ee/AbC123x",
    "PORTAL_OFFICE_EMAIL": "saraban@example.go.th",
    "PORTAL_OFFICE_ADDRESS": "99 หมู่ 1 ตำบลตัวอย่าง อำเภอเมือง จังหวัดตัวอย่าง 10000",
    "PORTAL_OFFICE_MAP_URL": "https://maps.google.com/?q=13.7563,100.5018",
}


@pytest.fixture(scope="module")
def office_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    """A second `portal serve` whose settings fill in every way to reach the office."""
    port = _free_port()
    data_dir = tmp_path_factory.mktemp("portal-e2e-office")
    env = {
        **os.environ,
        **OFFICE,
        "PORTAL_DATA_DIR": str(data_dir),
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
    }
    for name in ("PORTAL_SECRET_KEY", "PORTAL_DATABASE_URL"):
        env.pop(name, None)
    with serve_portal(data_dir, port, env) as running:
        yield running


def test_the_contact_page_on_a_phone(
    browser: Browser, office_portal: RunningPortal, shoot: Callable[[Page, str], Any]
) -> None:
    page = new_phone_context(browser, javascript=True).new_page()
    page.goto(office_portal.base_url + "/")
    page.get_by_role("contentinfo").get_by_role("link", name="ติดต่อเจ้าหน้าที่").click()
    expect(page.get_by_role("heading", name="ติดต่อเจ้าหน้าที่")).to_be_visible()
    call = page.get_by_role("link", name="โทร 0 2123 4567")
    expect(call).to_have_attribute("href", "tel:021234567")
    box = call.bounding_box()
    assert box is not None and box["height"] >= 48 and box["width"] >= 300  # easy to tap
    expect(page.get_by_role("link", name="แชทกับเจ้าหน้าที่ทาง LINE")).to_have_attribute(
        "href", OFFICE["PORTAL_OFFICE_LINE_URL"]
    )
    expect(page.locator("[data-contact-hours]")).to_have_text(
        "จันทร์–ศุกร์ 08:30–16:30 น. เว้นวันหยุดราชการ"
    )
    shoot(page, "contact")
    page.get_by_role("link", name="ดูแผนที่ไปสำนักงาน").scroll_into_view_if_needed()
    shoot(page, "contact-map")


def test_without_javascript_the_contact_page_is_the_same(
    page_without_js: Page, office_portal: RunningPortal
) -> None:
    page_without_js.goto(office_portal.base_url + "/contact")
    expect(page_without_js.get_by_role("link", name="โทร 0 2123 4567")).to_be_visible()


def test_an_old_link_after_a_phone_change_says_the_request_moved(
    page: Page, browser: Browser, portal: RunningPortal, shoot: Callable[[Page, str], Any]
) -> None:
    old_phone, new_phone = "0800000371", "0800000372"
    number = file_general_request(page, portal, old_phone)
    old_link = tracking_link(portal, old_phone, number)

    # At the counter: the officer checked the citizen's ID card and moves the request.
    office = new_phone_context(browser, javascript=True).new_page()
    enrol_through_link(office, create_staff(portal, "pranee"), set())
    office.get_by_label("ค้นหา").fill(number)
    office.get_by_role("button", name="กรอง").click()
    office.get_by_role("link", name=number).click()
    office.get_by_text("แก้ไขเบอร์โทรศัพท์ของผู้ยื่น").click()
    office.get_by_label("เบอร์มือถือใหม่").fill(new_phone)
    office.get_by_label("เหตุผลและวิธีที่ตรวจสอบตัวตน").fill("ตรวจบัตรประชาชนที่เคาน์เตอร์แล้ว")
    office.get_by_role("button", name="บันทึกเบอร์ใหม่").click()
    expect(office.locator("[data-phone]")).to_contain_text("0372")

    # The old number is told once, with no link and not the new number.
    (told,) = [m for m in portal.outbox(old_phone) if m["purpose"] == "phone_moved"]
    assert number in told["text"] and "เบอร์อื่น" in told["text"]
    assert "http" not in told["text"] and "0372" not in told["text"]

    # Whoever opens the old link learns only that the request moved, and whom to ask.
    holder = new_phone_context(browser, javascript=True).new_page()
    response = holder.goto(old_link)
    assert response is not None and response.status == 410
    expect(holder.get_by_role("heading", name="คำร้องย้ายไปแจ้งผลที่เบอร์อื่นแล้ว")).to_be_visible()
    expect(holder.get_by_text(number)).to_have_count(0)
    expect(holder.get_by_text("สมศรี")).to_have_count(0)
    shoot(holder, "moved")
    holder.locator("main").get_by_role("link", name="ช่องทางติดต่อเจ้าหน้าที่").click()
    expect(holder.get_by_role("heading", name="ติดต่อเจ้าหน้าที่")).to_be_visible()

    # The new number's link works.
    (moved,) = [m for m in portal.outbox(new_phone) if m["purpose"] == "phone_changed"]
    new_link = re.search(r"https?://\S+", moved["text"])
    assert new_link is not None and new_link.group(0) != old_link
    citizen = new_phone_context(browser, javascript=True).new_page()
    citizen.goto(new_link.group(0))
    expect(citizen.locator("[data-request-number]")).to_have_text(number)
