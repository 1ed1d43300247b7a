"""User story: a citizen on a phone files "แจ้งคำร้องทั่วไป" from the home page (manual steps 1-5)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, Request, expect

from e2e.conftest import RunningPortal
from e2e.journeys import VALID_CITIZEN_ID, file_general_request, fill_general_request


def test_citizen_files_general_request_with_javascript(
    page: Page, portal: RunningPortal, shoot: Callable[[Page, str], Any]
) -> None:
    phone = "0800000101"
    csrf_headers: list[str | None] = []

    def remember_csrf(request: Request) -> None:
        if request.method == "POST":
            csrf_headers.append(request.headers.get("x-csrftoken"))

    page.on("request", remember_csrf)
    page.goto(portal.base_url + "/")
    shoot(page, "1-home")
    page.get_by_role("link", name="เข้าสู่ระบบ e-Service").click()
    expect(page.get_by_role("heading", name="E-Service")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/e-service$"))
    shoot(page, "2-menu")

    page.get_by_role("link", name=re.compile("แจ้งคำร้องทั่วไป")).click()
    dialog = page.locator("dialog#step-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="ส่งรหัสยืนยัน")).to_be_visible()
    dialog.get_by_label("หมายเลขโทรศัพท์มือถือ").fill("021234567")
    dialog.get_by_role("button", name="ส่งรหัสยืนยัน").click()
    expect(dialog.locator(".error-summary")).to_contain_text("ไม่ใช่เบอร์มือถือ")
    dialog.get_by_label("หมายเลขโทรศัพท์มือถือ").fill(phone)
    shoot(page, "3-phone-modal")
    dialog.get_by_role("button", name="ส่งรหัสยืนยัน").click()

    expect(dialog.get_by_role("button", name="ตรวจสอบรหัสยืนยัน")).to_be_visible()
    expect(dialog).to_contain_text("OSS-LOCAL")
    expect(dialog.get_by_role("button", name="ขอรหัสใหม่")).to_be_disabled()
    code = portal.latest_code(phone)
    wrong = "000000" if code != "000000" else "111111"
    dialog.get_by_label("รหัสยืนยัน", exact=True).fill(wrong)
    dialog.get_by_role("button", name="ตรวจสอบรหัสยืนยัน").click()
    expect(dialog.locator(".error-summary")).to_contain_text("เหลือโอกาสอีก 4 ครั้ง")
    dialog.get_by_label("รหัสยืนยัน", exact=True).fill(code)
    shoot(page, "4-otp-modal")
    dialog.get_by_role("button", name="ตรวจสอบรหัสยืนยัน").click()

    expect(page.get_by_role("heading", name="แจ้งคำร้องทั่วไป")).to_be_visible()
    expect(dialog).to_be_hidden()
    shoot(page, "5-form")
    page.get_by_role("button", name="ส่งคำร้อง").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator(".error-summary")).to_contain_text("กรุณากรอกชื่อ")
    shoot(page, "5-form-errors")
    fill_general_request(page)
    page.get_by_role("button", name="ส่งคำร้อง").click()

    expect(page.get_by_role("heading", name="ส่งข้อมูลเรียบร้อย ✓")).to_be_visible()
    number = page.locator("[data-request-number]").inner_text().strip()
    shoot(page, "6-success")

    receipt = next(m for m in portal.outbox(phone) if m["purpose"] == "receipt")
    assert receipt["sender"] == "OSS-LOCAL"
    assert number in receipt["text"]
    link = re.search(r"https?://\S+", receipt["text"])
    assert link is not None
    page.goto(link.group(0))
    expect(page.locator("[data-request-number]")).to_have_text(number)
    expect(page.locator("[data-status]")).to_contain_text("ได้รับเรื่องแล้ว")
    shoot(page, "7-tracking-link")

    # Every htmx POST carried the CSRF header from <body hx-headers>, not only the form field.
    assert csrf_headers
    assert all(csrf_headers), csrf_headers


def test_citizen_files_general_request_without_javascript(
    page_without_js: Page, portal: RunningPortal, shoot: Callable[[Page, str], Any]
) -> None:
    page = page_without_js
    phone = "0800000102"
    page.goto(portal.base_url + "/")
    page.get_by_role("link", name="เข้าสู่ระบบ e-Service").click()
    page.get_by_role("link", name=re.compile("แจ้งคำร้องทั่วไป")).click()
    expect(page).to_have_url(re.compile(r"/e-service/general-request/phone$"))
    page.get_by_label("หมายเลขโทรศัพท์มือถือ").fill(phone)
    page.get_by_role("button", name="ส่งรหัสยืนยัน").click()
    expect(page).to_have_url(re.compile(r"/verify$"))
    shoot(page, "otp-page")
    page.get_by_label("รหัสยืนยัน", exact=True).fill(portal.latest_code(phone))
    page.get_by_role("button", name="ตรวจสอบรหัสยืนยัน").click()
    expect(page).to_have_url(re.compile(r"/form$"))
    fill_general_request(page)
    page.get_by_label("เลขประจำตัวประชาชน").fill("1234567890122")
    page.get_by_role("button", name="ส่งคำร้อง").click()
    expect(page).to_have_title(re.compile("^ผิดพลาด: "))
    expect(page.locator("#f-citizen_id-error")).to_contain_text("ไม่ถูกต้อง")
    expect(page.get_by_label("เรื่อง", exact=True)).to_have_value("ขอให้ซ่อมท่อระบายน้ำ")
    shoot(page, "form-error")
    page.get_by_label("เลขประจำตัวประชาชน").fill(VALID_CITIZEN_ID)
    page.get_by_role("button", name="ส่งคำร้อง").click()
    expect(page.get_by_role("heading", name="ส่งข้อมูลเรียบร้อย ✓")).to_be_visible()
    number = page.locator("[data-request-number]").inner_text().strip()
    shoot(page, "success")
    page.reload()
    expect(page.locator("[data-request-number]")).to_have_text(number)
    receipts = [m for m in portal.outbox(phone) if m["purpose"] == "receipt"]
    assert len(receipts) == 1


def test_back_button_and_closing_leave_no_stuck_dialog(page: Page, portal: RunningPortal) -> None:
    phone = "0800000103"
    page.goto(portal.base_url + "/")
    page.get_by_role("link", name="เข้าสู่ระบบ e-Service").click()
    expect(page).to_have_url(re.compile(r"/e-service$"))
    page.get_by_role("link", name=re.compile("แจ้งคำร้องทั่วไป")).click()
    dialog = page.locator("dialog#step-dialog")
    dialog.get_by_label("หมายเลขโทรศัพท์มือถือ").fill(phone)
    dialog.get_by_role("button", name="ส่งรหัสยืนยัน").click()
    expect(dialog.get_by_role("button", name="ตรวจสอบรหัสยืนยัน")).to_be_visible()
    # A step in the dialog is not a page: the address stays the page beneath it.
    expect(page).to_have_url(re.compile(r"/e-service$"))

    # Closing while the SMS is on its way, then tapping the card again: back to the same code.
    dialog.get_by_role("link", name="ปิด", exact=True).click()  # not "...เปิดในหน้าต่างใหม่"
    expect(dialog).to_be_hidden()
    expect(page).to_have_url(re.compile(r"/e-service$"))
    page.get_by_role("link", name=re.compile("แจ้งคำร้องทั่วไป")).click()
    expect(dialog.get_by_role("button", name="ตรวจสอบรหัสยืนยัน")).to_be_visible()
    assert page.evaluate("document.getElementById('step-dialog').matches(':modal')")

    # Back, with the dialog open, leaves the menu for the page before it; forward returns to
    # a usable menu, never to a dialog left open but not modal.
    page.go_back()
    expect(page.get_by_role("link", name="เข้าสู่ระบบ e-Service")).to_be_visible()
    page.go_forward()
    expect(page.get_by_role("heading", name="E-Service")).to_be_visible()
    open_but_not_modal = page.evaluate(
        "(() => { const d = document.getElementById('step-dialog');"
        " return d.open && !d.matches(':modal'); })()"
    )
    assert not open_but_not_modal
    page.get_by_role("link", name=re.compile("แจ้งซ่อมไฟฟ้าสาธารณะ")).click()
    expect(page.locator("dialog#step-dialog")).to_be_visible()
    assert page.evaluate("document.getElementById('step-dialog').matches(':modal')")


AT_HEADING = (
    "(() => { const h = document.querySelector('main h1');"
    " return window.scrollY === 0 && h !== null && document.activeElement === h; })()"
)


def _new_page_at_top(page: Page) -> None:
    """After an htmx navigation the new page starts at its top, focus on its heading."""
    page.wait_for_function(AT_HEADING)


def test_second_request_in_the_same_visit_with_javascript(
    page: Page, portal: RunningPortal, shoot: Callable[[Page, str], Any]
) -> None:
    phone = "0800000105"
    file_general_request(page, portal, phone)
    _new_page_at_top(page)
    page.get_by_role("link", name="แจ้งเรื่องอื่น").click()
    expect(page).to_have_url(re.compile(r"/e-service$"))
    _new_page_at_top(page)

    page.get_by_role("link", name=re.compile("แจ้งคำร้องทั่วไป")).click()
    dialog = page.locator("dialog#step-dialog")
    # One verification files one request, but the number is already there.
    expect(dialog.get_by_label("หมายเลขโทรศัพท์มือถือ")).to_have_value(phone)
    dialog.get_by_role("button", name="ส่งรหัสยืนยัน").click()
    expect(dialog.locator("[data-phone]")).to_have_text("080-000-0105")
    expect(dialog.locator("[data-sender]")).to_have_text("OSS-LOCAL")
    expect(dialog.locator("[data-countdown-live]")).to_be_visible()
    expect(dialog.locator("[data-countdown-clock]")).to_be_hidden()
    # The sender name and the number each sit on one line.
    for part in ("[data-sender]", "[data-phone]"):
        box = dialog.locator(part).bounding_box()
        assert box is not None and box["height"] < 40, (part, box)
    expect(page).to_have_url(re.compile(r"/e-service$"))
    shoot(page, "otp-step")

    code = portal.latest_code(phone)
    wrong = "000000" if code != "000000" else "111111"
    dialog.get_by_label("รหัสยืนยัน", exact=True).fill(wrong)
    dialog.get_by_role("button", name="ตรวจสอบรหัสยืนยัน").click()
    expect(dialog.locator(".error-summary")).to_have_count(1)
    expect(dialog.get_by_text("เหลือโอกาสอีก 4 ครั้ง")).to_have_count(1)
    dialog.get_by_label("รหัสยืนยัน", exact=True).fill(code)
    dialog.get_by_role("button", name="ตรวจสอบรหัสยืนยัน").click()

    expect(dialog).to_be_hidden()
    expect(page.get_by_role("heading", name="แจ้งคำร้องทั่วไป")).to_be_visible()
    # The form's own address, not the step's.
    expect(page).to_have_url(re.compile(r"/e-service/general-request/form$"))
    _new_page_at_top(page)
    fill_general_request(page)
    page.get_by_role("button", name="ส่งคำร้อง").click()
    expect(page.get_by_role("heading", name="ส่งข้อมูลเรียบร้อย ✓")).to_be_visible()
    receipts = [m for m in portal.outbox(phone) if m["purpose"] == "receipt"]
    assert len(receipts) == 2


def test_five_wrong_codes_leave_only_a_new_code(
    page: Page, portal: RunningPortal, shoot: Callable[[Page, str], Any]
) -> None:
    phone = "0800000106"
    page.goto(portal.base_url + "/e-service")
    page.get_by_role("link", name=re.compile("แจ้งคำร้องทั่วไป")).click()
    dialog = page.locator("dialog#step-dialog")
    dialog.get_by_label("หมายเลขโทรศัพท์มือถือ").fill(phone)
    dialog.get_by_role("button", name="ส่งรหัสยืนยัน").click()
    code = portal.latest_code(phone)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        dialog.get_by_label("รหัสยืนยัน", exact=True).fill(wrong)
        dialog.get_by_role("button", name="ตรวจสอบรหัสยืนยัน").click()
        expect(dialog.locator(".error-summary")).to_contain_text(f"เหลือโอกาสอีก {left} ครั้ง")
        expect(dialog.locator(".error-summary")).to_have_count(1)
    dialog.get_by_label("รหัสยืนยัน", exact=True).fill(wrong)
    dialog.get_by_role("button", name="ตรวจสอบรหัสยืนยัน").click()
    expect(dialog.get_by_label("รหัสยืนยัน", exact=True)).to_be_disabled()
    expect(dialog.get_by_role("button", name="ตรวจสอบรหัสยืนยัน")).to_have_count(0)
    expect(dialog.get_by_role("button", name="ขอรหัสใหม่")).to_be_visible()
    expect(dialog.get_by_text("ครบ 5 ครั้ง")).to_have_count(1)
    shoot(page, "otp-spent")


def test_second_request_in_the_same_visit_without_javascript(
    page_without_js: Page, portal: RunningPortal, shoot: Callable[[Page, str], Any]
) -> None:
    page = page_without_js
    phone = "0800000107"
    file_general_request(page, portal, phone)
    page.get_by_role("link", name="แจ้งเรื่องอื่น").click()
    expect(page).to_have_url(re.compile(r"/e-service$"))
    page.get_by_role("link", name=re.compile("แจ้งคำร้องทั่วไป")).click()
    expect(page).to_have_url(re.compile(r"/e-service/general-request/phone$"))
    expect(page.get_by_label("หมายเลขโทรศัพท์มือถือ")).to_have_value(phone)
    page.get_by_role("button", name="ส่งรหัสยืนยัน").click()
    expect(page.locator("[data-phone]")).to_have_text("080-000-0107")
    # No frozen number: a sentence with the time of day.
    expect(page.locator("[data-countdown-clock]")).to_have_text(
        re.compile(r"^ขอรหัสใหม่ได้ตั้งแต่เวลา \d\d:\d\d:\d\d น\.$")
    )
    expect(page.locator("[data-countdown-live]")).to_be_hidden()
    shoot(page, "otp-page-no-js")
    page.get_by_label("รหัสยืนยัน", exact=True).fill(portal.latest_code(phone))
    page.get_by_role("button", name="ตรวจสอบรหัสยืนยัน").click()
    expect(page).to_have_url(re.compile(r"/e-service/general-request/form$"))


def test_a_second_tab_under_a_used_verification_verifies_again_and_keeps_its_words(
    page: Page, portal: RunningPortal
) -> None:
    """Two forms open under one code: the first files; the second is told why it did not,
    verifies again in the dialog without leaving the page, and files with its words."""
    phone = "0800000104"
    page.goto(portal.base_url + "/e-service/general-request/phone")
    page.get_by_label("หมายเลขโทรศัพท์มือถือ").fill(phone)
    page.get_by_role("button", name="ส่งรหัสยืนยัน").click()
    page.get_by_label("รหัสยืนยัน", exact=True).fill(portal.latest_code(phone))
    page.get_by_role("button", name="ตรวจสอบรหัสยืนยัน").click()
    fill_general_request(page)
    second = page.context.new_page()
    second.goto(portal.base_url + "/e-service/general-request/form")
    fill_general_request(second)
    second.get_by_label("เรื่อง", exact=True).fill("เรื่องจากแท็บที่สอง")

    page.get_by_role("button", name="ส่งคำร้อง").click()
    expect(page.get_by_role("heading", name="ส่งข้อมูลเรียบร้อย ✓")).to_be_visible()

    second.get_by_role("button", name="ส่งคำร้อง").click()
    expect(second.locator("[data-notice=verification_used]")).to_be_visible()
    expect(second.get_by_label("เรื่อง", exact=True)).to_have_value("เรื่องจากแท็บที่สอง")
    second.locator("[data-verify-again]").click()
    dialog = second.locator("dialog#step-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("หมายเลขโทรศัพท์มือถือ").fill(phone)
    dialog.get_by_role("button", name="ส่งรหัสยืนยัน").click()
    dialog.get_by_label("รหัสยืนยัน", exact=True).fill(portal.latest_code(phone))
    dialog.get_by_role("button", name="ตรวจสอบรหัสยืนยัน").click()
    dialog.get_by_role("link", name="กลับไปที่แบบฟอร์ม").click()
    expect(dialog).to_be_hidden()
    expect(second.get_by_label("เรื่อง", exact=True)).to_have_value("เรื่องจากแท็บที่สอง")
    second.get_by_role("button", name="ส่งคำร้อง").click()
    expect(second.locator("[data-notice=form_key_renewed]")).to_be_visible()
    second.get_by_role("button", name="ส่งคำร้อง").click()
    expect(second.get_by_role("heading", name="ส่งข้อมูลเรียบร้อย ✓")).to_be_visible()
