"""The receipt PDF (``/t/<token>/receipt.pdf``): what it says, its QR code, its font."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from litestar import Litestar
from litestar.testing import TestClient

from portal.app import create_app
from portal.kernel.clock import buddhist_year
from portal.otp.policy import OtpPolicy
from portal.tables.service import Service
from tests.conftest import app_loop, html, make_settings
from tests.receipt.helpers import BASE_URL, file_request, pdf_reader, pdf_text, thai_letters

Browser = Callable[[], TestClient[Litestar]]
A4_POINTS = (595, 842)


def _download(browser: TestClient[Litestar], token: str) -> Any:
    response = browser.get(f"/t/{token}/receipt.pdf")
    assert response.status_code == 200
    return response


def test_pdf_download_headers(client: TestClient[Litestar], run_db: Any) -> None:
    filed = file_request(client, run_db, "0800003101")
    response = _download(client, filed.tracking_token)
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="receipt-{filed.number}.pdf"'
    )
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.content.startswith(b"%PDF-")


def test_pdf_says_office_number_service_date_target_days_and_status(
    client: TestClient[Litestar], run_db: Any, new_browser: Browser
) -> None:
    filed = file_request(client, run_db, "0800003102")
    target_days = run_db(
        lambda: Service.select(Service.target_days).where(Service.slug == "general-request").first()
    )["target_days"]
    content = _download(new_browser(), filed.tracking_token).content
    reader = pdf_reader(content)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == A4_POINTS
    text = pdf_text(content)
    assert filed.number in text
    assert str(buddhist_year(filed.created_at)) in text
    assert f"{target_days} " in text
    assert f"{BASE_URL}/t/{filed.tracking_token}" in text
    letters = thai_letters(text)
    for words in ("เทศบาลตำบลตัวอย่าง", "ใบรับคำร้อง", "แจ้งคำร้องทั่วไป", "ได้รับเรื่องแล้ว"):
        assert thai_letters(words) in letters, words
    # Nothing the SMS link's page hides.
    assert "3102" not in text.replace(filed.number, "")
    assert thai_letters("สมศรี") not in letters


def test_pdf_embeds_the_thai_font(client: TestClient[Litestar], run_db: Any) -> None:
    filed = file_request(client, run_db, "0800003103")
    reader = pdf_reader(_download(client, filed.tracking_token).content)
    fonts = reader.pages[0]["/Resources"]["/Font"]
    embedded = []
    for ref in fonts.values():
        font = ref.get_object()
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor, font["/BaseFont"]
        assert "/ToUnicode" in font
        embedded.append(str(font["/BaseFont"]))
    assert len(embedded) == 2  # regular and bold
    assert all("Garuda" in name for name in embedded)


def test_pdf_qr_code_decodes_to_exactly_the_tracking_link(
    client: TestClient[Litestar], run_db: Any
) -> None:
    filed = file_request(client, run_db, "0800003104")
    reader = pdf_reader(_download(client, filed.tracking_token).content)
    images = reader.pages[0].images
    assert len(images) == 1
    codes = zxingcpp.read_barcodes(images[0].image)
    assert [code.text for code in codes] == [f"{BASE_URL}/t/{filed.tracking_token}"]
    assert codes[0].format == zxingcpp.BarcodeFormat.QRCode


def test_pdf_follows_the_page_language(client: TestClient[Litestar], run_db: Any) -> None:
    filed = file_request(client, run_db, "0800003105")
    client.get("/lang/en?next=/")
    content = _download(client, filed.tracking_token).content
    text = pdf_text(content)
    for words in ("Receipt", "General request", "Received", "Example Subdistrict Municipality"):
        assert words in text, words
    assert str(filed.created_at.year) in text
    assert thai_letters(text) == ""
    assert pdf_reader(content).trailer["/Root"]["/Lang"] == "en"


def test_missing_font_gets_a_thai_page_and_one_clear_log_line(
    tmp_path: Path,
    database: str,
    otp_policy: OtpPolicy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    empty = tmp_path / "no-fonts"
    empty.mkdir()
    settings = make_settings(tmp_path, database, PORTAL_RECEIPT_FONT_DIR=str(empty))
    with TestClient(app=create_app(settings, otp_policy=otp_policy)) as client:
        run_db = app_loop(client)

        filed = file_request(client, run_db, "0800003106")
        # The app leaves the root handlers alone (portal/web/log_format.py sets logging up):
        # pytest's capture hears the portal's records once.
        with caplog.at_level(logging.ERROR, logger="portal"):
            response = client.get(f"/t/{filed.tracking_token}/receipt.pdf")
        # The page still works: the citizen can print it instead.
        assert client.get(f"/t/{filed.tracking_token}/receipt").status_code == 200
    assert response.status_code == 503
    assert "content-disposition" not in response.headers
    page = html(response)
    assert page.select_one("h1").get_text(strip=True) == "ดาวน์โหลดใบรับคำร้องไม่ได้ในขณะนี้"
    assert page.select_one("main a.button")["href"] == f"/t/{filed.tracking_token}/receipt"
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info is None
    assert str(empty) in errors[0].getMessage()
    assert "fonts-thai-tlwg" in errors[0].getMessage()


def test_start_up_warns_when_the_font_is_missing(
    tmp_path: Path, database: str, otp_policy: OtpPolicy, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, database, PORTAL_RECEIPT_FONT_DIR=str(tmp_path))
    app = create_app(settings, otp_policy=otp_policy)
    portal_logger = logging.getLogger("portal")
    portal_logger.addHandler(caplog.handler)
    try:
        with TestClient(app=app):
            pass
    finally:
        portal_logger.removeHandler(caplog.handler)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("PORTAL_RECEIPT_FONT_DIR" in message for message in warnings)


def test_start_up_is_quiet_when_the_font_is_there(
    app: Litestar, caplog: pytest.LogCaptureFixture
) -> None:
    portal_logger = logging.getLogger("portal")
    portal_logger.addHandler(caplog.handler)
    try:
        with TestClient(app=app):
            pass
    finally:
        portal_logger.removeHandler(caplog.handler)
    assert not [r for r in caplog.records if "receipt PDF" in r.getMessage()]


def test_a_long_service_name_wraps_and_stays_on_one_page() -> None:
    from portal.receipt.fonts import find_fonts
    from portal.receipt.pdf import ReceiptText, render_receipt_pdf

    long_name = "ขออนุญาตก่อสร้างดัดแปลงรื้อถอนหรือเคลื่อนย้ายอาคาร " * 4  # 200 characters
    text = ReceiptText(
        language="th",
        office="องค์การบริหารส่วนตำบลตัวอย่างที่มีชื่อยาวมากเป็นพิเศษ",
        title="ใบรับคำร้อง",
        rows=[("เลขที่คำร้อง", "69-000001"), ("บริการ", long_name.strip())],
        qr_caption="สแกน",
        link_label="ลิงก์",
        note="หมายเหตุ",
        issued="ข้อมูล",
    )
    content = render_receipt_pdf(text, f"{BASE_URL}/t/{'a' * 24}", find_fonts(None))
    reader = pdf_reader(content)
    assert len(reader.pages) == 1
    extracted = thai_letters(pdf_text(content))
    assert thai_letters(long_name) in extracted.replace("\n", "")
