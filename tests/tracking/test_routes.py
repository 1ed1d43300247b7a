from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.tables.citizen_request import CitizenRequest
from portal.timeutil import buddhist_year
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
