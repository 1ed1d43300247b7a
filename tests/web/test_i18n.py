"""English on request, Thai by default: the switch keeps the page, dates follow the language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from litestar import Litestar
from litestar.testing import TestClient

from portal.web.i18n import load_catalogues
from tests.conftest import html


def test_thai_is_the_default(client: TestClient[Litestar]) -> None:
    page = html(client.get("/"))
    assert page.select_one("html")["lang"] == "th"
    assert page.find("a", string="เข้าสู่ระบบ e-Service") is not None
    switch = page.select_one(".language-switch a")
    assert switch.get_text(strip=True) == "English"
    assert switch["href"] == "/lang/en?next=/"


def test_switching_to_english_keeps_the_page_and_is_remembered(
    client: TestClient[Litestar],
) -> None:
    response = client.get("/lang/en?next=/e-service", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/e-service"
    page = html(client.get("/e-service"))
    assert page.select_one("html")["lang"] == "en"
    assert page.select_one(".lead").get_text(strip=True) == "Choose the service you need"
    assert page.select_one(".language-switch a").get_text(strip=True) == "ภาษาไทย"
    phone = html(client.get("/e-service/general-request/phone"))
    assert phone.find("button", string="Send verification code") is not None
    client.get("/lang/th?next=/")
    assert html(client.get("/")).select_one("html")["lang"] == "th"


def test_switch_never_redirects_off_the_site(client: TestClient[Litestar]) -> None:
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = client.get(f"/lang/en?next={target}", follow_redirects=False)
        assert response.headers["location"] == "/"
    assert client.get("/lang/fr", follow_redirects=False).status_code == 404


def test_english_errors_and_dates(client: TestClient[Litestar], run_db: Any) -> None:
    client.get("/lang/en?next=/")
    token = html(client.get("/e-service/general-request/phone")).select_one(
        "input[name=_csrf_token]"
    )["value"]
    response = client.post(
        "/e-service/general-request/phone", data={"phone": "021234567", "_csrf_token": token}
    )
    assert response.status_code == 422
    page = html(response)
    assert "This is not a mobile number" in page.select_one("#phone-error").get_text()
    assert page.select_one("title").get_text().startswith("Error: ")


def test_every_english_message_is_translated() -> None:
    english = load_catalogues()["en"]
    assert len(english) > 100
    assert all(text.strip() for text in english.values())


def test_office_written_names_and_labels_switch_when_translated(
    client: TestClient[Litestar], run_db: Any
) -> None:
    client.get("/lang/en?next=/")
    menu = html(client.get("/e-service"))
    assert menu.select_one(".card__title").get_text(strip=True) == "General request"
    from tests.citizen.helpers import verify_phone

    verify_phone(client, run_db, "0800000092", "+66800000092")
    form = html(client.get("/e-service/general-request/form"))
    assert form.select_one("label[for=f-first_name]").get_text(strip=True) == "First name"
    options = [o.get_text(strip=True) for o in form.select("#f-title option")]
    assert "Mrs" in options
    # The stored answer stays the office's Thai option.
    assert form.select_one("#f-title option[value='นาง']").get_text(strip=True) == "Mrs"


def test_every_message_of_the_citizen_pages_has_its_english() -> None:
    """Extracted as babel.cfg says (what a translator runs): a Thai sentence added to a template
    without its English would show Thai on the English pages."""
    root = Path(__file__).resolve().parents[2]
    with (root / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    english = load_catalogues()["en"]
    extracted = list(extract_from_dir(root, method_map, options_map))
    assert len(extracted) > 200  # the mapping really found the templates
    missing = sorted(
        {
            message if isinstance(message, str) else message[0]
            for _, _, message, _, _ in extracted
            if (message if isinstance(message, str) else message[0]) not in english
        }
    )
    assert missing == []
