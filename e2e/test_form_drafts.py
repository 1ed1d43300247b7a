"""Issue 17: nothing typed is lost. At 390x844 a citizen types half a complaint, the page is
reloaded (a dropped connection, a long phone call): with JavaScript the words come back from
the server; without it nothing is saved as they type, and the page says nothing false."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from e2e.conftest import RunningPortal, new_phone_context

DETAILS = "ท่อระบายน้ำหน้าบ้านอุดตัน น้ำท่วมขังทุกครั้งที่ฝนตก"


def _to_the_form(page: Page, portal: RunningPortal, phone: str) -> None:
    page.goto(portal.base_url + "/e-service")
    page.get_by_role("link", name=re.compile("แจ้งคำร้องทั่วไป")).click()
    page.get_by_label("หมายเลขโทรศัพท์มือถือ").fill(phone)
    page.get_by_role("button", name="ส่งรหัสยืนยัน").click()
    page.get_by_label("รหัสยืนยัน", exact=True).fill(portal.latest_code(phone))
    page.get_by_role("button", name="ตรวจสอบรหัสยืนยัน").click()
    expect(page.get_by_label("รายละเอียด")).to_be_visible()


def test_reload_mid_form_keeps_the_text_with_javascript(
    browser: Any, portal: RunningPortal, shoot: Callable[[Page, str], Any]
) -> None:
    context = new_phone_context(browser, javascript=True)
    page = context.new_page()
    _to_the_form(page, portal, "0800001701")
    page.get_by_label("ชื่อ", exact=True).fill("สมศรี")
    page.get_by_label("เรื่อง", exact=True).fill("ขอให้ซ่อมท่อระบายน้ำ")
    details = page.get_by_label("รายละเอียด")
    details.click()
    details.press_sequentially(DETAILS, delay=5)
    limit = int(details.get_attribute("maxlength") or "0")
    counter = page.locator("[data-char-count=f-details]")
    expect(counter).to_have_text(f"เหลือ {limit - len(DETAILS)} ตัวอักษร")
    # Saved a moment after typing stops.
    with page.expect_response(lambda r: r.url.endswith("/form/draft")) as saved:
        page.wait_for_timeout(100)
    assert saved.value.status == 204
    shoot(page, "01-typing")

    page.goto(portal.base_url + "/e-service/general-request/form")  # the reload
    expect(page.locator("[data-notice=draft_restored]")).to_be_visible()
    expect(page.get_by_label("ชื่อ", exact=True)).to_have_value("สมศรี")
    expect(page.get_by_label("เรื่อง", exact=True)).to_have_value("ขอให้ซ่อมท่อระบายน้ำ")
    expect(page.get_by_label("รายละเอียด")).to_have_value(DETAILS)
    expect(counter).to_have_text(f"เหลือ {limit - len(DETAILS)} ตัวอักษร")
    shoot(page, "02-after-reload")
    counter.scroll_into_view_if_needed()
    shoot(page, "03-after-reload-counter")
    context.close()


def test_reload_mid_form_without_javascript_keeps_only_what_was_sent(
    browser: Any, portal: RunningPortal, shoot: Callable[[Page, str], Any]
) -> None:
    """Without JavaScript nothing is sent until "ส่งคำร้อง": a reload shows the form as the
    server has it (empty), with no claim that anything was kept. A form sent with a mistake
    comes back with every word, and from then on a reload keeps them too."""
    context = new_phone_context(browser, javascript=False)
    page = context.new_page()
    _to_the_form(page, portal, "0800001702")
    page.get_by_label("เรื่อง", exact=True).fill("ขอให้ซ่อมท่อระบายน้ำ")
    page.get_by_label("รายละเอียด").fill(DETAILS)
    page.goto(portal.base_url + "/e-service/general-request/form")
    expect(page.locator("[data-notice=draft_restored]")).to_have_count(0)
    expect(page.get_by_label("รายละเอียด")).to_have_value("")
    # The counter is the server's: the whole limit, in words.
    expect(page.locator("[data-char-count=f-details]")).to_have_text(
        re.compile(r"^เหลือ \d+ ตัวอักษร$")
    )
    shoot(page, "01-reloaded-without-javascript")
    # Sent with a mistake (no first name): every word comes back.
    page.get_by_label("รายละเอียด").fill(DETAILS)
    page.get_by_role("button", name="ส่งคำร้อง").last.click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.get_by_label("รายละเอียด")).to_have_value(DETAILS)
    shoot(page, "02-sent-with-a-mistake")
    # What reached the server is kept: a reload now restores it.
    page.goto(portal.base_url + "/e-service/general-request/form")
    expect(page.locator("[data-notice=draft_restored]")).to_be_visible()
    expect(page.get_by_label("รายละเอียด")).to_have_value(DETAILS)
    context.close()
