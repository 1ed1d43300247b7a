"""User story: after filing, a citizen on a phone opens the receipt (ใบรับคำร้อง), checks its QR
code, prints it and downloads it as a PDF (issue 9, part 3)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from e2e.conftest import ARTIFACTS, RunningPortal
from e2e.journeys import file_general_request, tracking_link


def _open_receipt(page: Page, portal: RunningPortal, phone: str) -> tuple[str, str]:
    number = file_general_request(page, portal, phone)
    page.get_by_role("link", name="ใบรับคำร้อง", exact=True).click()
    expect(page.get_by_role("heading", name="ใบรับคำร้อง")).to_be_visible()
    expect(page.locator("[data-request-number]")).to_have_text(number)
    return number, tracking_link(portal, phone, number)


def _download_pdf(page: Page, number: str, folder: Path) -> bytes:
    with page.expect_download() as download_info:
        page.get_by_role("link", name="ดาวน์โหลดใบรับคำร้อง (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == f"receipt-{number}.pdf"
    path = folder / download.suggested_filename
    download.save_as(path)
    content = path.read_bytes()
    assert content.startswith(b"%PDF-")
    assert number in PdfReader(io.BytesIO(content)).pages[0].extract_text()
    return content


def test_citizen_opens_prints_and_downloads_the_receipt(
    page: Page, portal: RunningPortal, shoot: Callable[[Page, str], Any]
) -> None:
    number, link = _open_receipt(page, portal, "0800003501")
    expect(page.locator("[data-tracking-link]")).to_have_text(link)
    expect(page.get_by_role("button", name="พิมพ์")).to_be_visible()
    shoot(page, "receipt")  # runs axe-core too
    page.get_by_role("button", name="พิมพ์").scroll_into_view_if_needed()
    shoot(page, "receipt-actions")
    folder = ARTIFACTS / "test_citizen_opens_prints_and_downloads_the_receipt"

    # The QR code on screen scans back to the SMS link.
    qr = Image.open(io.BytesIO(page.locator(".receipt__qr svg").screenshot()))
    assert [code.text for code in zxingcpp.read_barcodes(qr)] == [link]

    # Printed: one A4 page, without the site's header, footer or buttons.
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("button", name="พิมพ์")).to_be_hidden()
    printed = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    (folder / "receipt-printed.pdf").write_bytes(printed)
    assert len(PdfReader(io.BytesIO(printed)).pages) == 1
    page.emulate_media(media="screen")

    content = _download_pdf(page, number, folder)
    images = PdfReader(io.BytesIO(content)).pages[0].images
    assert [code.text for code in zxingcpp.read_barcodes(images[0].image)] == [link]


def test_receipt_without_javascript_has_no_print_button_but_downloads(
    page_without_js: Page, portal: RunningPortal, shoot: Callable[[Page, str], Any]
) -> None:
    number, _ = _open_receipt(page_without_js, portal, "0800003502")
    expect(page_without_js.get_by_role("button", name="พิมพ์")).to_be_hidden()
    shoot(page_without_js, "receipt-no-js")
    folder = ARTIFACTS / "test_receipt_without_javascript_has_no_print_button_but_downloads"
    _download_pdf(page_without_js, number, folder)
