from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

from tests.citizen.helpers import verify_phone
from tests.conftest import html


def test_home_page_has_the_e_service_button_in_highlights(client: TestClient[Litestar]) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = html(response)
    assert page.select_one("html")["lang"] == "th"
    highlights = page.select_one("section.highlights")
    assert highlights is not None
    button = highlights.find("a", string="เข้าสู่ระบบ e-Service")
    assert button is not None
    assert button["href"] == "/e-service"


def test_menu_lists_seeded_services_as_cards(client: TestClient[Litestar]) -> None:
    page = html(client.get("/e-service"))
    titles = [title.get_text(strip=True) for title in page.select(".card .card__title")]
    assert titles[0] == "แจ้งคำร้องทั่วไป"
    assert len(titles) >= 6
    first = page.select_one(".card")
    assert first["href"] == "/e-service/general-request"
    assert first["hx-get"] == "/e-service/general-request"


def test_htmx_menu_is_a_partial(client: TestClient[Litestar]) -> None:
    page = html(client.get("/e-service", headers={"HX-Request": "true"}))
    assert page.select_one("html") is None
    assert page.select_one("h1").get_text(strip=True) == "E-Service"


def test_service_card_leads_to_phone_step_until_verified(
    client: TestClient[Litestar], run_db: object
) -> None:
    response = client.get("/e-service/general-request", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/e-service/general-request/phone"
    verify_phone(client, run_db, "0800000003", "+66800000003")  # type: ignore[arg-type]
    response = client.get("/e-service/street-light", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/e-service/street-light/form"


def test_unknown_service_is_a_thai_404(client: TestClient[Litestar]) -> None:
    for path in ("/e-service/no-such-service", "/e-service/no-such-service/phone"):
        response = client.get(path)
        assert response.status_code == 404
        assert html(response).select_one("h1").get_text(strip=True) == "ไม่พบหน้าที่ต้องการ"


def test_static_assets_are_served(client: TestClient[Litestar]) -> None:
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/static/vendor/htmx.min.js").status_code == 200
