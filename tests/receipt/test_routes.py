"""The receipt page (``/t/<token>/receipt``) and where citizens find it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.kernel.clock import buddhist_year
from portal.settings import Settings
from portal.tables.service import Service
from portal.web.templating import english_date, thai_date
from tests.citizen.helpers import GENERAL_REQUEST_ANSWERS
from tests.conftest import html, make_settings
from tests.receipt.helpers import BASE_URL, file_request, pdf_text, thai_letters

OFFICE = "เทศบาลตำบลหนองบัว & บ้านใหม่"
Browser = Callable[[], TestClient[Litestar]]


@pytest.fixture
def settings(tmp_path: Path, database: str) -> Settings:
    return make_settings(tmp_path, database, PORTAL_OFFICE_NAME=OFFICE)


def _facts(page: Any) -> dict[str, str]:
    return {
        row.select_one("dt").get_text(strip=True): row.select_one("dd").get_text(" ", strip=True)
        for row in page.select(".receipt__facts > div")
    }


def test_success_page_links_to_the_receipt_page_and_its_pdf(
    client: TestClient[Litestar], run_db: Any
) -> None:
    filed = file_request(client, run_db, "0800003001")
    page = html(client.get(f"/e-service/requests/{filed.number}"))
    receipt = page.find("a", string="ใบรับคำร้อง")
    download = page.find("a", string="ดาวน์โหลดใบรับคำร้อง (PDF)")
    assert receipt["href"] == f"/t/{filed.tracking_token}/receipt"
    assert download["href"] == f"/t/{filed.tracking_token}/receipt.pdf"
    assert download.has_attr("download")


def test_receipt_shows_office_number_service_dates_target_days_status_and_link(
    client: TestClient[Litestar], run_db: Any, new_browser: Browser
) -> None:
    filed = file_request(client, run_db, "0800003002")
    target_days = run_db(
        lambda: Service.select(Service.target_days).where(Service.slug == "general-request").first()
    )["target_days"]
    # Opened on another phone, as from the SMS link: the token is all it takes.
    response = new_browser().get(f"/t/{filed.tracking_token}/receipt")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    page = html(response)
    assert page.select_one(".receipt__office").get_text(strip=True) == OFFICE
    assert page.select_one("h1").get_text(strip=True) == "ใบรับคำร้อง"
    assert page.select_one("title").get_text().startswith(f"ใบรับคำร้อง {filed.number}")
    facts = _facts(page)
    assert facts["เลขที่คำร้อง"] == filed.number
    assert facts["บริการ"] == "แจ้งคำร้องทั่วไป"
    assert facts["วันที่ยื่น"] == thai_date(filed.created_at)
    assert str(buddhist_year(filed.created_at)) in facts["วันที่ยื่น"]
    assert facts["ระยะเวลาดำเนินการ"] == f"{target_days} วัน"
    expected = filed.created_at + timedelta(days=target_days)
    assert facts["คาดว่าจะแล้วเสร็จภายใน"] == thai_date(expected, with_time=False)
    assert facts["สถานะปัจจุบัน"] == "ได้รับเรื่องแล้ว"
    link = page.select_one("[data-tracking-link]")
    assert link.get_text(strip=True) == link["href"] == f"{BASE_URL}/t/{filed.tracking_token}"
    qr = page.select_one(".receipt__qr [role=img]")
    assert qr["aria-label"] and qr.select_one("svg path") is not None
    assert page.select_one("[data-receipt-pdf]")["href"] == (
        f"/t/{filed.tracking_token}/receipt.pdf"
    )
    # Printing needs JavaScript: the button is there for app.js to reveal, hidden without it.
    assert page.find("button", string="พิมพ์").has_attr("hidden")
    assert not page.select("script:not([src])")


def test_receipt_holds_nothing_the_tracking_page_hides(
    client: TestClient[Litestar], run_db: Any, new_browser: Browser
) -> None:
    filed = file_request(client, run_db, "0800003003")
    text = html(new_browser().get(f"/t/{filed.tracking_token}/receipt")).select_one("main")
    shown = text.get_text(" ")
    for private in (*GENERAL_REQUEST_ANSWERS.values(), "0800003003", "080-000-3003", "3003"):
        assert private not in shown, private


def test_receipt_in_english_follows_the_language_switch(
    client: TestClient[Litestar], run_db: Any
) -> None:
    filed = file_request(client, run_db, "0800003004")
    client.get("/lang/en?next=/")
    page = html(client.get(f"/t/{filed.tracking_token}/receipt"))
    assert page.select_one("html")["lang"] == "en"
    assert page.select_one("h1").get_text(strip=True) == "Receipt"
    facts = _facts(page)
    assert facts["Service"] == "General request"
    assert facts["Filed on"] == english_date(filed.created_at)
    assert facts["Time to complete"].endswith(" days")
    assert facts["Current status"] == "Received"
    assert page.find("a", string="Download the receipt (PDF)") is not None


def test_tracking_link_and_my_requests_link_to_the_receipt(
    client: TestClient[Litestar], run_db: Any, new_browser: Browser
) -> None:
    filed = file_request(client, run_db, "0800003005")
    way_1 = html(new_browser().get(f"/t/{filed.tracking_token}"))
    assert way_1.find("a", string="ใบรับคำร้อง")["href"] == f"/t/{filed.tracking_token}/receipt"
    # Way 2: the same phone proves itself on the website and opens the request.
    from tests.tracking.test_lookup_routes import _enter_track_code, _lookup, _track_code

    phone = new_browser()
    assert _lookup(phone, "0800003005").status_code == 303
    assert _enter_track_code(phone, _track_code(run_db, "+66800003005")).status_code == 303
    detail = html(phone.get(f"/track/requests/{filed.number}"))
    assert detail.find("a", string="ดาวน์โหลดใบรับคำร้อง (PDF)")["href"] == (
        f"/t/{filed.tracking_token}/receipt.pdf"
    )


@pytest.mark.parametrize(
    "token", ["x" * 24, "short", "A" * 200, "%00%00%00%00%00%00%00%00", "-" * 24]
)
@pytest.mark.parametrize("suffix", ["/receipt", "/receipt.pdf"])
def test_bad_tokens_get_the_tracking_pages_own_404(
    client: TestClient[Litestar], token: str, suffix: str
) -> None:
    tracking = client.get(f"/t/{token}")
    response = client.get(f"/t/{token}{suffix}")
    assert response.status_code == tracking.status_code == 404
    assert response.headers["content-type"] == tracking.headers["content-type"]
    assert _error_page_words(response) == _error_page_words(tracking)
    assert "content-disposition" not in response.headers


def _error_page_words(response: Any) -> str:
    """The page's words, less its per-request reference (a new one for every error)."""
    main = html(response).select_one("main")
    for reference in main.select("[data-reference]"):
        reference.decompose()
    return str(main.get_text())


def test_a_real_token_with_one_character_changed_is_unknown(
    client: TestClient[Litestar], run_db: Any
) -> None:
    filed = file_request(client, run_db, "0800003006")
    wrong = filed.tracking_token[:-1] + ("A" if filed.tracking_token[-1] != "A" else "B")
    for suffix in ("/receipt", "/receipt.pdf"):
        assert client.get(f"/t/{wrong}{suffix}").status_code == 404


def test_pdf_keeps_the_office_name_as_written(client: TestClient[Litestar], run_db: Any) -> None:
    """Words reach the PDF through JSON, not HTML: "&" stays "&", never "&amp;"."""
    filed = file_request(client, run_db, "0800003007")
    text = pdf_text(client.get(f"/t/{filed.tracking_token}/receipt.pdf").content)
    assert " & " in text
    assert "&amp;" not in text
    assert thai_letters(OFFICE) in thai_letters(text)
