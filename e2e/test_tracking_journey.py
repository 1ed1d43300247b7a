"""User stories: a citizen follows a request by the SMS link (way 1) and on the website (way 2),
both shown on the manual's step-6 page; a phone with no requests is told so after its code."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.conftest import ARTIFACTS, RunningPortal, new_phone_context
from e2e.journeys import change_status, file_general_request, tracking_link

STEP_6 = "ติดตามสถานะออนไลน์ (เลือกได้ 2 วิธี)"


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def javascript(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def fresh_page(javascript: bool, browser: Browser) -> Iterator[Page]:
    """A browser that has never seen the portal, as when a link is opened from an SMS app."""
    context = new_phone_context(browser, javascript=javascript)
    yield context.new_page()
    context.close()


def _phone(base: int, javascript: bool) -> str:
    """One test phone per journey and variant: each stays within the per-phone SMS limits."""
    return f"08000001{base + (0 if javascript else 10):02d}"


def test_citizen_follows_the_sms_link_and_sees_status_changes(
    page: Page,
    fresh_page: Page,
    javascript: bool,
    portal: RunningPortal,
    shoot: Callable[[Page, str], Any],
) -> None:
    phone = _phone(11, javascript)
    number = file_general_request(page, portal, phone)
    link = tracking_link(portal, phone, number)

    fresh_page.goto(link)
    expect(fresh_page.locator("[data-request-number]")).to_have_text(number)
    expect(fresh_page.locator("[data-status]")).to_have_text("ได้รับเรื่องแล้ว")
    expect(fresh_page.get_by_text("สมศรี")).to_have_count(0)
    shoot(fresh_page, "link-received")

    change_status(portal, number, "in_progress", "ช่างจะเข้าตรวจสอบภายในวันศุกร์")
    fresh_page.reload()
    expect(fresh_page.locator("[data-status]")).to_have_text("กำลังดำเนินการ")
    expect(fresh_page.locator(".timeline__note")).to_have_text("ช่างจะเข้าตรวจสอบภายในวันศุกร์")
    shoot(fresh_page, "link-in-progress")
    status_sms = [m for m in portal.outbox(phone) if m["purpose"] == "status"]
    assert number in status_sms[0]["text"]
    assert link in status_sms[0]["text"]

    fresh_page.goto(link[:-4] + "AAAA")
    expect(fresh_page.get_by_role("heading", name="ไม่พบหน้าที่ต้องการ")).to_be_visible()


def test_citizen_tracks_on_the_website_with_the_same_phone(
    page: Page,
    fresh_page: Page,
    javascript: bool,
    portal: RunningPortal,
    shoot: Callable[[Page, str], Any],
) -> None:
    phone = _phone(12, javascript)
    number = file_general_request(page, portal, phone)

    fresh_page.goto(portal.base_url + "/")
    fresh_page.get_by_role("link", name="ติดตามสถานะคำร้อง").first.click()
    expect(fresh_page.get_by_role("heading", name=STEP_6, exact=True)).to_be_visible()
    fresh_page.get_by_label("หมายเลขโทรศัพท์มือถือ").fill(phone)
    shoot(fresh_page, "lookup")
    fresh_page.get_by_role("button", name="ส่งรหัสยืนยัน").click()
    fresh_page.get_by_label("รหัสยืนยัน", exact=True).fill(portal.latest_code(phone))
    fresh_page.get_by_role("button", name="ตรวจสอบรหัสยืนยัน").click()

    expect(fresh_page.get_by_role("heading", name="คำร้องของฉัน")).to_be_visible()
    expect(fresh_page).to_have_url(re.compile(r"/track/requests$"))
    shoot(fresh_page, "my-requests")
    fresh_page.get_by_role("link", name=re.compile(number)).click()
    expect(fresh_page.get_by_role("heading", name=f"คำร้องเลขที่ {number}")).to_be_visible()
    expect(fresh_page.locator(".answers")).to_contain_text("สมศรี")
    expect(fresh_page.locator(".answers")).to_contain_text("ขอให้ซ่อมท่อระบายน้ำ")
    shoot(fresh_page, "request-detail")
    # Bookmarkable: the list is a real URL that reloads to the same page.
    fresh_page.goto(portal.base_url + "/track/requests")
    expect(fresh_page.locator("[data-request-number]")).to_have_text([number])


def test_step_6_page_shows_both_ways_from_home_header_and_success(
    request: pytest.FixtureRequest,
    page: Page,
    fresh_page: Page,
    javascript: bool,
    portal: RunningPortal,
    shoot: Callable[[Page, str], Any],
) -> None:
    # From the header, on a phone-sized screen.
    fresh_page.goto(portal.base_url + "/")
    fresh_page.locator(".site-header nav").get_by_role("link", name="ติดตามคำร้อง").click()
    expect(fresh_page.get_by_role("heading", name=STEP_6, exact=True)).to_be_visible()
    expect(fresh_page).to_have_url(re.compile(r"/track$"))
    shoot(fresh_page, "step-6-top")

    # Way 1: the example SMS (the receipt's own words) and what its link opens.
    way_1 = fresh_page.locator("[data-way='1']")
    expect(way_1.get_by_role("heading", name="แบบที่ 1: รับ SMS แล้วกดลิงก์")).to_be_visible()
    sms = way_1.locator("[data-example-sms]")
    expect(sms).to_contain_text(portal.base_url + "/t/")
    sms.scroll_into_view_if_needed()
    shoot(fresh_page, "step-6-way-1")

    # Way 2 by its jump link: the manual's sentence, then the phone step.
    fresh_page.get_by_role("link", name="แบบที่ 2: ดูผ่านหน้าเว็บ").click()
    way_2 = fresh_page.locator("[data-way='2']")
    expect(way_2.get_by_label("หมายเลขโทรศัพท์มือถือ")).to_be_in_viewport()
    expect(way_2.locator("[data-way-2-rule]")).to_contain_text(
        "เบอร์มือถือเดียวกับที่เคยกรอกไว้ในระบบตอนยื่นคำร้อง"
    )
    shoot(fresh_page, "step-6-way-2")
    # The whole page once, to look at (each part above was checked while on screen).
    fresh_page.screenshot(
        path=str(ARTIFACTS / request.node.name / "step-6-full.png"), full_page=True
    )

    # The success page leads here too.
    phone = _phone(14, javascript)
    file_general_request(page, portal, phone)
    page.locator("[data-track-link]").click()
    expect(page.get_by_role("heading", name=STEP_6, exact=True)).to_be_visible()


def test_a_phone_with_no_requests_gets_a_real_code_and_an_honest_answer(
    fresh_page: Page,
    javascript: bool,
    portal: RunningPortal,
    shoot: Callable[[Page, str], Any],
) -> None:
    phone = _phone(13, javascript)
    fresh_page.goto(portal.base_url + "/track")
    fresh_page.get_by_label("หมายเลขโทรศัพท์มือถือ").fill(phone)
    fresh_page.get_by_role("button", name="ส่งรหัสยืนยัน").click()
    # A real SMS, not a stand-in: the code arrives like anyone's.
    fresh_page.get_by_label("รหัสยืนยัน", exact=True).fill(portal.latest_code(phone))
    fresh_page.get_by_role("button", name="ตรวจสอบรหัสยืนยัน").click()

    expect(fresh_page.get_by_role("heading", name="คำร้องของฉัน")).to_be_visible()
    honest = fresh_page.locator("[data-no-requests]")
    expect(honest).to_contain_text("ยังไม่พบคำร้องที่ยื่นด้วยหมายเลขนี้")
    expect(honest.locator("[data-contact-link]")).to_have_attribute("href", "/contact")
    expect(fresh_page.locator("[data-request-number]")).to_have_count(0)
    shoot(fresh_page, "no-requests")
    honest.locator("[data-contact-link]").click()
    expect(fresh_page).to_have_url(re.compile(r"/contact$"))
