"""User story (issue 9): a citizen files a complaint with two photos and the place from the
phone's location, at 390x844, takes the receipt, and staff see the photos and the place."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from e2e.conftest import RunningPortal, new_phone_context
from e2e.test_staff_journey import create_staff, enrol_through_link
from tests.attachments.helpers import jpeg_with_gps

PHONE = "0800002901"
LATITUDE, LONGITUDE = 16.4321, 102.8236  # Khon Kaen


def _photo(name: str, size: tuple[int, int]) -> dict[str, Any]:
    return {"name": name, "mimeType": "image/jpeg", "buffer": jpeg_with_gps(size)}


def test_citizen_files_a_complaint_with_photos_and_place_and_staff_see_them(
    browser: Any, portal: RunningPortal, shoot: Callable[[Page, str], Any]
) -> None:
    context = new_phone_context(browser, javascript=True)
    context.grant_permissions(["geolocation"], origin=portal.base_url)
    context.set_geolocation({"latitude": LATITUDE, "longitude": LONGITUDE})
    page = context.new_page()
    page.goto(portal.base_url + "/e-service")
    page.get_by_role("link", name=re.compile(r"ร้องเรียน\/ร้องทุกข์")).click()
    page.get_by_label("หมายเลขโทรศัพท์มือถือ").fill(PHONE)
    page.get_by_role("button", name="ส่งรหัสยืนยัน").click()
    page.get_by_label("รหัสยืนยัน", exact=True).fill(portal.latest_code(PHONE))
    page.get_by_role("button", name="ตรวจสอบรหัสยืนยัน").click()

    page.get_by_label("ชื่อ", exact=True).fill("สมศรี")
    page.get_by_label("นามสกุล").fill("ทดสอบ")
    page.get_by_label("ประเภทเรื่องร้องเรียน").select_option("เหตุเดือดร้อนรำคาญ")
    page.get_by_label("สถานที่เกิดเหตุ").fill("หน้าตลาดสดเทศบาล")
    page.get_by_label("รายละเอียด").fill("ไฟถนนดับทั้งซอยมาสามคืนแล้ว")

    # The place from the phone: the button exists only with JavaScript and geolocation.
    page.get_by_role("button", name="ใช้ตำแหน่งปัจจุบัน").click()
    expect(page.locator("[data-locate-status]")).to_contain_text("16.432100, 102.823600")
    page.get_by_label("จังหวัด").fill("ขอนแก่น")

    # Two photos, each sent on its own as soon as it is picked.
    page.get_by_label(re.compile("^รูปถ่าย")).set_input_files(
        [_photo("ไฟดับ-1.jpg", (1600, 1200)), _photo("ไฟดับ-2.jpg", (1200, 1600))]
    )
    expect(page.locator("[data-pending] li")).to_have_count(2)
    # A third picked by mistake is removed again; the words typed stay.
    page.get_by_label(re.compile("^รูปถ่าย")).set_input_files([_photo("ผิดรูป.jpg", (300, 300))])
    expect(page.locator("[data-pending] li")).to_have_count(3)
    page.get_by_role("button", name="ลบ ผิดรูป.jpg").click()
    expect(page.locator("[data-pending] li")).to_have_count(2)
    expect(page.get_by_label("รายละเอียด")).to_have_value("ไฟถนนดับทั้งซอยมาสามคืนแล้ว")
    expect(page.locator("[data-locate-status]")).to_contain_text("16.432100, 102.823600")
    expect(page.locator("[data-pending] img")).to_have_count(2)
    expect(page.locator("[data-progress] li")).to_have_count(0)
    for image in page.locator("[data-pending] img").all():
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("img => img.naturalWidth") > 0
    page.locator("[data-uploads]").scroll_into_view_if_needed()
    shoot(page, "form-with-two-photos")  # axe-core runs on the form with the upload widget

    page.get_by_role("button", name="ส่งคำร้อง", exact=True).click()
    expect(page.get_by_role("heading", name="ส่งข้อมูลเรียบร้อย ✓")).to_be_visible()
    number = page.locator("[data-request-number]").inner_text().strip()
    shoot(page, "success")
    with page.expect_download() as download:
        page.get_by_role("link", name="ดาวน์โหลดใบรับคำร้อง (PDF)").click()
    assert download.value.suggested_filename == f"receipt-{number}.pdf"
    assert download.value.path().read_bytes().startswith(b"%PDF-")
    context.close()

    # Staff sign in and see both photos and the place.
    link = create_staff(portal, "photos")
    staff = new_phone_context(browser, javascript=True)
    office = staff.new_page()
    enrol_through_link(office, link, set())
    office.goto(f"{portal.base_url}/staff/requests/{number}")
    thumbs = office.locator(".media-list img")
    expect(thumbs).to_have_count(2)
    for image in thumbs.all():
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("img => img.naturalWidth") > 0
    expect(office.locator("[data-place-text]")).to_have_text("ขอนแก่น")
    map_link = office.locator("[data-map-link]")
    expect(map_link).to_have_attribute(
        "href", "https://www.google.com/maps/search/?api=1&query=16.432100,102.823600"
    )
    office.locator(".media-list").scroll_into_view_if_needed()
    shoot(office, "staff-sees-photos")
    full = office.request.get(
        portal.base_url + str(thumbs.first.locator("xpath=..").get_attribute("href"))
    )
    assert full.status == 200 and full.headers["content-type"] == "image/jpeg"
    staff.close()


def test_without_javascript_the_form_posts_photos_itself(
    page_without_js: Page, portal: RunningPortal, shoot: Callable[[Page, str], Any]
) -> None:
    page = page_without_js
    phone = "0800002902"
    page.goto(portal.base_url + "/e-service/complaint")
    page.get_by_label("หมายเลขโทรศัพท์มือถือ").fill(phone)
    page.get_by_role("button", name="ส่งรหัสยืนยัน").click()
    page.get_by_label("รหัสยืนยัน", exact=True).fill(portal.latest_code(phone))
    page.get_by_role("button", name="ตรวจสอบรหัสยืนยัน").click()
    expect(page.get_by_role("button", name="ใช้ตำแหน่งปัจจุบัน")).to_be_hidden()
    page.get_by_label(re.compile("^รูปถ่าย")).set_input_files([_photo("a.jpg", (640, 480))])
    page.get_by_label("ตำบล").fill("ในเมือง")
    # A required field left empty: the photo and the place come back with the form.
    page.get_by_role("button", name="ส่งคำร้อง", exact=True).click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator("[data-pending] li")).to_have_count(1)
    expect(page.get_by_label("ตำบล")).to_have_value("ในเมือง")
    shoot(page, "form-errors-photo-kept")
    page.get_by_label("ชื่อ", exact=True).fill("สมชาย")
    page.get_by_label("นามสกุล").fill("ทดสอบ")
    page.get_by_label("ประเภทเรื่องร้องเรียน").select_option("การให้บริการ")
    page.get_by_label("สถานที่เกิดเหตุ").fill("สำนักงาน")
    page.get_by_label("รายละเอียด").fill("รอคิวนาน")
    page.get_by_role("button", name="ส่งคำร้อง", exact=True).click()
    expect(page.get_by_role("heading", name="ส่งข้อมูลเรียบร้อย ✓")).to_be_visible()


def test_a_dropped_upload_is_sent_again_and_nothing_typed_is_lost(
    browser: Any, portal: RunningPortal, shoot: Callable[[Page, str], Any]
) -> None:
    """A flaky connection: the first try of the photo never reaches the portal. The citizen
    sees why and "ลองอีกครั้ง"; the words typed stay; the retry lands and the form files."""
    phone = "0800002903"
    context = new_phone_context(browser, javascript=True)
    page = context.new_page()
    attempts: list[str] = []

    def flaky(route: Any) -> None:
        attempts.append(route.request.url)
        if len(attempts) == 1:
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route("**/form/attachments", flaky)
    page.goto(portal.base_url + "/e-service/complaint")
    page.get_by_label("หมายเลขโทรศัพท์มือถือ").fill(phone)
    page.get_by_role("button", name="ส่งรหัสยืนยัน").click()
    page.get_by_label("รหัสยืนยัน", exact=True).fill(portal.latest_code(phone))
    page.get_by_role("button", name="ตรวจสอบรหัสยืนยัน").click()
    page.get_by_label("ชื่อ", exact=True).fill("สมหญิง")
    page.get_by_label("นามสกุล").fill("ทดสอบ")
    page.get_by_label("ประเภทเรื่องร้องเรียน").select_option("การให้บริการ")
    page.get_by_label("สถานที่เกิดเหตุ").fill("ถนนสายหลัก")
    page.get_by_label("รายละเอียด").fill("ท่อระบายน้ำอุดตัน")

    page.get_by_label(re.compile("^รูปถ่าย")).set_input_files([_photo("ท่อ.jpg", (800, 600))])
    failed = page.locator("[data-progress] li.upload--failed")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("ส่งไฟล์ไม่สำเร็จ")
    expect(page.locator("[data-pending] li")).to_have_count(0)
    expect(page.get_by_label("รายละเอียด")).to_have_value("ท่อระบายน้ำอุดตัน")
    failed.scroll_into_view_if_needed()
    shoot(page, "upload-failed")

    failed.get_by_role("button", name="ลองอีกครั้ง").click()
    expect(page.locator("[data-pending] li")).to_have_count(1)
    expect(page.locator("[data-progress] li")).to_have_count(0)
    assert len(attempts) == 2
    page.get_by_role("button", name="ส่งคำร้อง", exact=True).click()
    expect(page.get_by_role("heading", name="ส่งข้อมูลเรียบร้อย ✓")).to_be_visible()
    context.close()
