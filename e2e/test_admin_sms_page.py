"""User story: the office's admin checks that SMS are going out. A citizen who cannot get a
code cannot file, so the admin needs to see the gateway, the queue and the budget at a glance,
and every failure with the gateway's own words, without reading anybody's messages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from e2e.conftest import RunningPortal, new_phone_context
from e2e.journeys import file_general_request
from e2e.test_staff_journey import create_staff, enrol_through_link


def test_admin_reads_the_sms_page(
    page: Page, browser: Any, portal: RunningPortal, shoot: Callable[[Page, str], Any]
) -> None:
    file_general_request(page, portal, "0800000311")  # a code and a receipt went out
    link = create_staff(portal, "admin-sms", role="admin")
    office = new_phone_context(browser, javascript=True).new_page()
    enrol_through_link(office, link, set())

    office.get_by_role("link", name="SMS", exact=True).click()
    expect(office.get_by_role("heading", name="SMS", exact=True)).to_be_visible()
    expect(office.locator("[data-sms-queue]")).to_have_text("ไม่มีข้อความค้างส่ง")
    expect(office.locator("[data-sms-budget]")).to_contain_text("ใช้ไป")
    expect(office.locator("[data-sms-failure]")).to_have_count(0)
    # Nothing wrong, so no trouble banner on this or any other back-office page.
    expect(office.locator("[data-sms-trouble]")).to_have_count(0)
    # The page never shows a message's text: the receipt carries the tracking link.
    expect(office.get_by_text("/t/")).to_have_count(0)
    shoot(office, "sms")
