from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.kernel.clock import buddhist_year
from portal.tables.citizen_request import CitizenRequest
from tests.citizen.helpers import GENERAL_REQUEST_ANSWERS, submit_form, verify_phone
from tests.conftest import html


def _filed_request(client: TestClient[Litestar], run_db: Any) -> Any:
    verify_phone(client, run_db, "0800000020", "+66800000020")
    submit_form(client, GENERAL_REQUEST_ANSWERS)
    return run_db(lambda: CitizenRequest.objects().first())


def test_tracking_link_shows_number_service_and_status(
    client: TestClient[Litestar], run_db: Any, new_browser: Any
) -> None:
    request = _filed_request(client, run_db)
    response = new_browser().get(f"/t/{request.tracking_token}")
    assert response.status_code == 200
    page = html(response)
    assert page.select_one("[data-request-number]").get_text(strip=True) == request.number
    assert "แจ้งคำร้องทั่วไป" in page.select_one(".summary-list").get_text()
    assert page.select_one("[data-status]").get_text(strip=True) == "ได้รับเรื่องแล้ว"
    assert "08x-xxx-0020" in page.get_text()
    text = page.get_text()
    for private in ("สมศรี", "ทดสอบ", GENERAL_REQUEST_ANSWERS["citizen_id"], "ท่อระบายน้ำหน้าบ้าน"):
        assert private not in text
    be_year = str(buddhist_year(request.created_at))
    assert be_year in page.select_one(".summary-list").get_text()


@pytest.mark.parametrize(
    "token", ["x" * 24, "short", "../../etc/passwd", "A" * 200, "%00%00%00%00%00%00%00%00"]
)
def test_bad_tokens_all_get_the_same_404(client: TestClient[Litestar], token: str) -> None:
    response = client.get(f"/t/{token}")
    assert response.status_code == 404
    assert html(response).select_one("h1").get_text(strip=True) == "ไม่พบหน้าที่ต้องการ"


def _move_to_new_phone(run_db: Any, number: str) -> None:
    from portal.casework.phone_change import change_phone
    from tests.staff.helpers import SMS, default_office

    run_db(
        lambda: change_phone(
            number=number,
            new_phone="+66800000021",
            reason="ตรวจบัตรประชาชนที่เคาน์เตอร์แล้ว",
            office=default_office(),
            sms=SMS,
        )
    )


def test_an_old_link_after_a_phone_change_says_the_request_moved(
    client: TestClient[Litestar], run_db: Any, new_browser: Any
) -> None:
    request = _filed_request(client, run_db)
    old_token = request.tracking_token
    _move_to_new_phone(run_db, request.number)
    response = new_browser().get(f"/t/{old_token}")
    assert response.status_code == 410
    page = html(response)
    assert page.select_one("[data-moved]") is not None
    assert page.select_one("h1").get_text(strip=True) == "คำร้องย้ายไปแจ้งผลที่เบอร์อื่นแล้ว"
    assert page.select_one("a[data-contact-link]")["href"] == "/contact"
    # Nothing of the request: not its number, status, service, either phone, or what was written.
    text = page.get_text()
    for private in (
        request.number,
        "แจ้งคำร้องทั่วไป",
        "ได้รับเรื่องแล้ว",
        "0020",
        "0021",
        "สมศรี",
        "ท่อระบายน้ำหน้าบ้าน",
    ):
        assert private not in text, private
    assert page.select_one("[data-request-number]") is None
    assert page.select_one("[data-receipt-pdf]") is None
    # The new link works; the old receipt links do not.
    moved = run_db(lambda: CitizenRequest.objects().first())
    assert new_browser().get(f"/t/{moved.tracking_token}").status_code == 200
    assert new_browser().get(f"/t/{old_token}/receipt").status_code == 404


def test_the_moved_page_in_english(
    client: TestClient[Litestar], run_db: Any, new_browser: Any
) -> None:
    request = _filed_request(client, run_db)
    _move_to_new_phone(run_db, request.number)
    browser = new_browser()
    browser.cookies.set("portal_lang", "en")
    response = browser.get(f"/t/{request.tracking_token}")
    assert response.status_code == 410
    heading = html(response).select_one("h1").get_text(strip=True)
    assert heading == "This request now reports to another phone number"


def test_a_look_alike_of_an_old_link_is_a_plain_404(
    client: TestClient[Litestar], run_db: Any
) -> None:
    request = _filed_request(client, run_db)
    old_token = request.tracking_token
    _move_to_new_phone(run_db, request.number)
    for token in (old_token[:-1] + ("A" if old_token[-1] != "A" else "B"), old_token.upper()):
        if token == old_token:
            continue
        response = client.get(f"/t/{token}")
        assert response.status_code == 404
        assert html(response).select_one("h1").get_text(strip=True) == "ไม่พบหน้าที่ต้องการ"
