"""A receipt belongs to its request's office: found only there, and it names that office."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from portal.web.offices import offices_of
from tests.conftest import RunDb, html, without_reference
from tests.offices import create_office
from tests.receipt.helpers import BASE_URL, file_request, pdf_text, thai_letters

B_NAME = "เทศบาลตำบลบางบีทดสอบ"


def test_a_receipt_is_found_and_named_at_its_own_office_only(
    app: Litestar, client: TestClient[Litestar], run_db: RunDb
) -> None:
    run_db(lambda: create_office("b", name=B_NAME, name_en="Bang Bee"))
    offices_of(app).forget()
    filed = file_request(client, run_db, "0800003301", prefix="/o/b")
    token = filed.tracking_token

    page = html(client.get(f"/o/b/t/{token}/receipt"))
    assert page.select_one("[data-receipt-office]").get_text(strip=True) == B_NAME
    pdf = client.get(f"/o/b/t/{token}/receipt.pdf")
    assert pdf.status_code == 200
    text = pdf_text(pdf.content)
    assert thai_letters(B_NAME) in thai_letters(text)
    assert thai_letters("เทศบาลตำบลตัวอย่าง") not in thai_letters(text)
    assert f"{BASE_URL}/o/b/t/{token}" in text  # the office's own address
    client.cookies.set("portal_lang", "en")
    english = html(client.get(f"/o/b/t/{token}/receipt"))
    assert english.select_one("[data-receipt-office]").get_text(strip=True) == "Bang Bee"
    client.cookies.delete("portal_lang")

    # At office A the token is one that does not exist.
    unknown = "Q" * len(token)
    for suffix in ("receipt", "receipt.pdf"):
        at_a: Any = client.get(f"/t/{token}/{suffix}")
        absent: Any = client.get(f"/t/{unknown}/{suffix}")
        assert at_a.status_code == absent.status_code == 404
        assert without_reference(at_a.text).replace(token, "T") == without_reference(
            absent.text
        ).replace(unknown, "T")
