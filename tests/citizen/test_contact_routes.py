"""The contact page every "ติดต่อเจ้าหน้าที่" links to: the office's phone, LINE, e-mail,
address, map and hours from the settings; what is not set is not shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.app import create_app
from portal.office.contact import OfficeContact
from portal.ops.checks import OK, WARN, check_office_contact
from portal.settings import SettingsError
from portal.tables.citizen_request import CitizenRequest
from tests.citizen.helpers import GENERAL_REQUEST_ANSWERS, submit_form, verify_phone
from tests.conftest import fresh, html, make_settings

FULL = {
    "PORTAL_OFFICE_NAME": "อบต.ทดสอบ",
    "PORTAL_OFFICE_PHONE": "0 2123 4567",
    "PORTAL_OFFICE_LINE_URL": "https://lin.ee/AbC123x",
    "PORTAL_OFFICE_EMAIL": "saraban@example.go.th",
    "PORTAL_OFFICE_ADDRESS": "99 หมู่ 1 ตำบลทดสอบ อำเภอเมือง จังหวัดทดสอบ 10000",
    "PORTAL_OFFICE_MAP_URL": "https://maps.google.com/?q=13.7563,100.5018",
    "PORTAL_OFFICE_HOURS": "จันทร์–เสาร์ 08:00–16:00 น.",
}


def contact_page(tmp_path: Path, database: str, **environ: str) -> TestClient[Litestar]:
    return TestClient(app=create_app(make_settings(tmp_path, database, **environ)))


def test_every_channel_that_is_set_is_shown(tmp_path: Path, database: str) -> None:
    with contact_page(tmp_path, database, **FULL) as client:
        response = client.get("/contact")
    assert response.status_code == 200
    page = html(response)
    assert page.select_one("h1").get_text(strip=True) == "ติดต่อเจ้าหน้าที่"
    call = page.select_one("a[data-contact-phone]")
    assert call["href"] == "tel:021234567"
    assert "0 2123 4567" in call.get_text()
    assert "button--large" in call["class"]  # a big tap target
    assert page.select_one("a[data-contact-line]")["href"] == FULL["PORTAL_OFFICE_LINE_URL"]
    email = page.select_one("a[data-contact-email]")
    assert email["href"] == "mailto:saraban@example.go.th"
    assert (
        page.select_one("[data-contact-address]").get_text(strip=True)
        == (FULL["PORTAL_OFFICE_ADDRESS"])
    )
    assert page.select_one("a[data-contact-map]")["href"] == FULL["PORTAL_OFFICE_MAP_URL"]
    assert (
        page.select_one("[data-contact-hours]").get_text(strip=True)
        == (FULL["PORTAL_OFFICE_HOURS"])
    )
    assert page.select_one("[data-contact-office]").get_text(strip=True) == "อบต.ทดสอบ"
    assert page.select_one("[data-contact-visit]") is None


def test_what_is_unset_is_not_shown(tmp_path: Path, database: str) -> None:
    with contact_page(
        tmp_path, database, PORTAL_OFFICE_LINE_URL="https://line.me/R/ti/p/@oss"
    ) as client:
        page = html(client.get("/contact"))
    assert page.select_one("a[data-contact-line]") is not None
    for absent in ("phone", "email", "address", "map"):
        assert page.select_one(f"[data-contact-{absent}]") is None, absent
    assert page.select_one("a[href^='tel:']") is None
    assert page.select_one("a[href^='mailto:']") is None
    # The usual government hours when the office wrote none.
    hours = page.select_one("[data-contact-hours]").get_text(strip=True)
    assert hours == "จันทร์–ศุกร์ 08:30–16:30 น. เว้นวันหยุดราชการ"


def test_with_nothing_set_it_names_the_office(client: TestClient[Litestar]) -> None:
    page = html(client.get("/contact"))
    visit = page.select_one("[data-contact-visit]")
    assert visit is not None and "เทศบาลตำบลตัวอย่าง" in visit.get_text()
    assert page.select_one("a[href^='tel:']") is None


def test_the_privacy_contact_stands_in_for_phone_and_email(tmp_path: Path, database: str) -> None:
    environ = {
        "PORTAL_PRIVACY_CONTACT_PHONE": "02-765-4321",
        "PORTAL_PRIVACY_CONTACT_EMAIL": "dpo@example.go.th",
    }
    with contact_page(tmp_path, database, **environ) as client:
        page = html(client.get("/contact"))
    assert page.select_one("a[data-contact-phone]")["href"] == "tel:027654321"
    assert page.select_one("a[data-contact-email]")["href"] == "mailto:dpo@example.go.th"
    # The office's own numbers win over the privacy contact's.
    both = {**environ, "PORTAL_OFFICE_PHONE": "1111"}
    with contact_page(tmp_path, database, **both) as client:
        page = html(client.get("/contact"))
    assert page.select_one("a[data-contact-phone]")["href"] == "tel:1111"


def test_english(client: TestClient[Litestar]) -> None:
    client.cookies.set("portal_lang", "en")
    page = html(client.get("/contact"))
    assert page.select_one("h1").get_text(strip=True) == "Contact the office"
    hours = page.select_one("[data-contact-hours]").get_text(strip=True)
    assert hours == "Monday–Friday 08:30–16:30, except public holidays"


def test_the_pages_link_to_it(client: TestClient[Litestar]) -> None:
    """The footer of every page carries the link (the success page, receipt, lookup and the
    old-link page are tested where they are built)."""
    for path in ("/", "/privacy", "/contact"):
        page = html(client.get(path))
        assert page.select_one("footer a[href='/contact']") is not None, path


def test_the_success_page_and_the_receipt_link_to_it(
    client: TestClient[Litestar], run_db: Any
) -> None:
    verify_phone(client, run_db, "0800000031", "+66800000031")
    submitted = submit_form(client, GENERAL_REQUEST_ANSWERS)
    success = html(client.get(submitted.headers["location"]))
    link = success.select_one("main a[data-contact-link]")
    assert link is not None and link["href"] == "/contact"
    filed = run_db(lambda: CitizenRequest.objects().first())
    receipt = html(client.get(f"/t/{filed.tracking_token}/receipt"))
    assert receipt.select_one("main a[data-contact-link]")["href"] == "/contact"


def test_post_and_garbage_are_refused_politely(client: TestClient[Litestar]) -> None:
    assert client.post("/contact").status_code in (403, 405)
    response = client.get("/contact/../../etc/passwd")
    assert response.status_code == 404
    assert client.get("/contact?x=%00%ff").status_code == 200


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORTAL_OFFICE_PHONE", "โทร 02"),
        ("PORTAL_OFFICE_PHONE", "123"),
        ("PORTAL_OFFICE_PHONE", "0" * 16),
        ("PORTAL_OFFICE_PHONE", "02-123-4567 ext 5"),
        ("PORTAL_OFFICE_LINE_URL", "http://line.me/R/ti/p/@oss"),
        ("PORTAL_OFFICE_LINE_URL", "https://evil.example/line.me/"),
        ("PORTAL_OFFICE_LINE_URL", "javascript:alert(1)"),
        ("PORTAL_OFFICE_EMAIL", "saraban"),
        ("PORTAL_OFFICE_EMAIL", "a@b"),
        ("PORTAL_OFFICE_EMAIL", "a@b@example.go.th"),
        ("PORTAL_OFFICE_MAP_URL", "http://maps.google.com/"),
        ("PORTAL_OFFICE_MAP_URL", "javascript:alert(1)"),
        ("PORTAL_OFFICE_ADDRESS", "ก" * 301),
        ("PORTAL_OFFICE_HOURS", "ก" * 301),
    ],
)
def test_bad_settings_refuse_to_start(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        make_settings(tmp_path, "sqlite:///x.sqlite3", **{name: value})


@pytest.mark.parametrize(
    "phone", ["0 2123 4567", "02-123-4567", "021234567", "1111", "+66 2123 4567"]
)
def test_phone_forms_offices_write(tmp_path: Path, phone: str) -> None:
    settings = make_settings(tmp_path, "sqlite:///x.sqlite3", PORTAL_OFFICE_PHONE=phone)
    assert settings.office_phone == phone
    dial = OfficeContact.from_settings(settings).dial
    assert dial.lstrip("+").isdigit()


def test_portal_check_warns_in_production_without_a_phone(tmp_path: Path) -> None:
    production = {
        "PORTAL_ENV": "production",
        "PORTAL_SMS_BACKEND": "webhook",
        "PORTAL_SMS_WEBHOOK_URL": "https://sms.example.go.th/send",
    }
    settings = make_settings(tmp_path, "sqlite:///x.sqlite3", **production)
    result = check_office_contact(settings)
    assert result.status == WARN and "PORTAL_OFFICE_PHONE" in result.detail
    with_phone = make_settings(tmp_path, "sqlite:///x.sqlite3", **production, **FULL)
    result = check_office_contact(with_phone)
    assert result.status == OK
    assert "phone" in result.detail and "LINE" in result.detail
    development = check_office_contact(make_settings(tmp_path, "sqlite:///x.sqlite3"))
    assert development.status == OK


def test_start_up_warns_in_production_without_a_phone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from types import SimpleNamespace

    from portal.office.contact import warn_if_unset

    production = {
        "PORTAL_ENV": "production",
        "PORTAL_SMS_BACKEND": "webhook",
        "PORTAL_SMS_WEBHOOK_URL": "https://sms.example.go.th/send",
    }
    for environ, warned in ((production, True), ({**production, **FULL}, False), ({}, False)):
        caplog.clear()
        settings = make_settings(tmp_path, "sqlite:///x.sqlite3", **environ)
        app = SimpleNamespace(state={"settings": settings})
        with caplog.at_level("WARNING", logger="portal"):
            fresh(warn_if_unset(app))  # type: ignore[arg-type]
        assert ("PORTAL_OFFICE_PHONE" in caplog.text) is warned, environ
