"""The copy-paste "เข้าสู่ระบบ e-Service" button for the office's own website (issue 16, item 5):
one plain inline-styled link to the office's base URL, no script, shown with a preview."""

from __future__ import annotations

from bs4 import BeautifulSoup
from litestar import Litestar
from litestar.testing import TestClient

from portal.settings import Settings
from portal.staff.website_button import button_snippet
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.web.offices import offices_of
from tests.conftest import RunDb, html
from tests.offices import create_office
from tests.staff.helpers import Clock, make_staff, sign_in

Browser = TestClient[Litestar]
PATH = "/staff/admin/website-button"


def snippet_link(page: BeautifulSoup) -> BeautifulSoup:
    """The snippet as the office's web editor will read it, parsed from the page's text box."""
    box = page.select_one("textarea[data-button-snippet]")
    assert box is not None
    return BeautifulSoup(box.get_text(), "html.parser")


def test_an_admin_gets_a_plain_link_to_the_office_and_its_preview(
    client: Browser, run_db: RunDb, settings: Settings, clock: Clock
) -> None:
    sign_in(client, make_staff(run_db, settings, "boss", role="admin"), clock)
    page = html(client.get(PATH))
    assert page.select_one("h1").get_text(strip=True) == "ปุ่ม e-Service สำหรับเว็บไซต์ของสำนักงาน"
    snippet = snippet_link(page)
    (link,) = snippet.find_all(True)  # one element, nothing else
    assert link.name == "a"
    assert link["href"] == settings.base_url.rstrip("/") + "/"
    assert link.get_text() == "เข้าสู่ระบบ e-Service"
    assert "background:#0b5d3b" in link["style"] and "text-decoration:none" in link["style"]
    assert snippet.find("script") is None and "javascript:" not in str(snippet)
    assert not any(name.startswith("on") for name in link.attrs)
    preview = page.select_one("[data-button-preview] a")
    assert preview is not None
    assert (preview["href"], preview.get_text()) == (link["href"], link.get_text())
    assert page.select_one(f"nav a[href='{PATH}']") is not None


def test_each_office_gets_its_own_address_and_names_escaped(
    app: Litestar, run_db: RunDb, settings: Settings
) -> None:
    b_id = run_db(lambda: create_office("bangb", name='บาง"บี<', services=False))
    offices_of(app).forget()
    a, b = (run_db(lambda i=i: offices_of(app).by_id(i)) for i in (DEFAULT_OFFICE_ID, b_id))
    assert a is not None and b is not None
    link = BeautifulSoup(button_snippet(b), "html.parser").a
    assert link is not None
    assert link["href"] == f"{b.base_url}/" and b.base_url != a.base_url
    assert link["title"] == 'บริการออนไลน์ e-Service ของบาง"บี<'
    assert '"บี<' not in button_snippet(b)  # escaped in the markup itself


def test_officers_do_not_get_the_page(
    client: Browser, run_db: RunDb, settings: Settings, clock: Clock
) -> None:
    sign_in(client, make_staff(run_db, settings, "somchai"), clock)
    assert client.get(PATH).status_code == 403
