"""The privacy notice: what PDPA sections 23 and 24 require it to say, from the settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from litestar import Litestar
from litestar.testing import TestClient

from portal.app import create_app
from portal.settings import SettingsError
from tests.conftest import html, make_settings


def section(page: BeautifulSoup, heading_id: str) -> str:
    """The text from one ``h2`` to the next."""
    heading = page.select_one(f"h2#{heading_id}")
    assert heading is not None, heading_id
    parts = []
    for sibling in heading.find_next_siblings():
        if sibling.name == "h2":
            break
        parts.append(sibling.get_text(" ", strip=True))
    return " ".join(parts)


def test_notice_names_controller_purposes_basis_retention_rights_and_contact(
    client: TestClient[Litestar],
) -> None:
    response = client.get("/privacy")
    assert response.status_code == 200
    page = html(response)
    assert page.select_one("h1").get_text(strip=True) == "ประกาศความเป็นส่วนตัว"
    assert "เทศบาลตำบลตัวอย่าง" in section(page, "controller")
    assert "SMS" in section(page, "purposes")
    assert "มาตรา 24" in section(page, "legal-basis")
    for kept in ("หมายเลขโทรศัพท์", "เลขประจำตัวประชาชน", "รูปถ่าย", "ตำแหน่งที่ตั้ง"):
        assert kept in section(page, "collected"), kept
    retention = section(page, "retention")
    assert "1825 วัน" in retention and "5 ปี" in retention
    rights = section(page, "rights")
    for right in ("เข้าถึง", "แก้ไข", "ลบ", "คัดค้าน", "ร้องเรียน"):
        assert right in rights, right
    assert page.select_one('#rights ~ ul a[href="https://www.pdpc.or.th"]') is not None
    assert "บัตรประจำตัวประชาชน" in section(page, "contact")
    assert page.select_one("[data-privacy-contact]") is None  # none configured


def test_notice_follows_the_settings(tmp_path: Path, database: str) -> None:
    settings = make_settings(
        tmp_path,
        database,
        PORTAL_OFFICE_NAME="อบต.ทดสอบ",
        PORTAL_RETENTION_DAYS="90",
        PORTAL_PRIVACY_CONTACT_PHONE="0 2123 4567",
        PORTAL_PRIVACY_CONTACT_EMAIL="dpo@example.go.th",
    )
    with TestClient(app=create_app(settings)) as client:
        page = html(client.get("/privacy"))
    assert "อบต.ทดสอบ" in section(page, "controller")
    retention = section(page, "retention")
    assert "90 วัน" in retention and "ประมาณ" not in retention
    contact = page.select_one("[data-privacy-contact]")
    assert contact.select_one('a[href="tel:021234567"]').get_text(strip=True) == "0 2123 4567"
    assert contact.select_one('a[href="mailto:dpo@example.go.th"]') is not None


def test_notice_in_english(client: TestClient[Litestar]) -> None:
    client.get("/lang/en?next=/privacy")
    page = html(client.get("/privacy"))
    assert page.select_one("html")["lang"] == "en"
    assert page.select_one("h1").get_text(strip=True) == "Privacy notice"
    assert "section 24" in section(page, "legal-basis")
    assert "1825 days (about 5 years)" in section(page, "retention")
    assert "Example Subdistrict Municipality" in section(page, "controller")


@pytest.mark.parametrize("days", ["29", "0", "-1", "ห้า", "1e3"])
def test_retention_below_30_days_or_not_a_number_refuses_to_start(
    tmp_path: Path, days: str
) -> None:
    with pytest.raises(SettingsError, match="PORTAL_RETENTION_DAYS"):
        make_settings(tmp_path, "sqlite:///x.sqlite3", PORTAL_RETENTION_DAYS=days)


def test_retention_defaults_to_five_years(tmp_path: Path) -> None:
    assert make_settings(tmp_path, "sqlite:///x.sqlite3").retention_days == 1825
    assert (
        make_settings(tmp_path, "sqlite:///x.sqlite3", PORTAL_RETENTION_DAYS="30").retention_days
        == 30
    )


def test_a_contact_email_must_look_like_one(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="PORTAL_PRIVACY_CONTACT_EMAIL"):
        make_settings(tmp_path, "sqlite:///x.sqlite3", PORTAL_PRIVACY_CONTACT_EMAIL="โทรหาเรา")


def test_footer_links_the_notice_on_every_page(client: TestClient[Litestar]) -> None:
    for path in ("/", "/e-service", "/track", "/privacy", "/staff/sign-in"):
        link = html(client.get(path)).select_one('footer a[href="/privacy"]')
        assert link is not None, path
