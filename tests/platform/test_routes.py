"""The platform pages and what they make, through the app: a new office takes a filing at once
on its own host (and at ``/o/<slug>/`` in development), a disabled one answers 404, an invited
admin's link works at that office only, and nobody but a platform admin of the default office,
on the default office's host, even learns that the pages exist."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Litestar

from portal.catalogue.library import standard_slugs
from portal.settings import Settings
from portal.tables.citizen_request import CitizenRequest
from portal.tables.office import DEFAULT_OFFICE_ID, Office, OfficeHost
from portal.tables.service import Service
from portal.tables.staff_user import StaffUser
from tests.citizen.helpers import GENERAL_REQUEST_ANSWERS, submit_form, verify_phone
from tests.conftest import RunDb, csrf_token, html, without_reference
from tests.offices import add_host, create_office
from tests.platform.helpers import Browser, audit_actions, browser_at, reload_offices
from tests.staff.helpers import Clock, Staff, make_staff, sign_in

DEFAULT_HOST = "testserver.local"
NONGBUA = "nongbua.example.go.th"
PAGES = ("/platform/offices", "/platform/offices/1")


def _two_offices(run_db: RunDb, app: Litestar) -> int:
    run_db(lambda: add_host(DEFAULT_OFFICE_ID, DEFAULT_HOST))
    office_id: int = run_db(lambda: create_office("nongbua", hosts=(NONGBUA,)))
    reload_offices(app)
    return office_id


def _plain(page: str) -> str:
    """A 404 page less what differs between any two answers (reference, CSRF token)."""
    return re.sub(r'"x-csrftoken": "[0-9a-f]*"', "", without_reference(page))


def _post(browser: Browser, path: str, data: dict[str, str], page: str = PAGES[0]) -> Any:
    token = csrf_token(browser, page)
    return browser.post(path, data={**data, "_csrf_token": token}, follow_redirects=False)


def _file(browser: Browser, run_db: RunDb, phone: str, prefix: str = "") -> str:
    verify_phone(browser, run_db, phone, "+66" + phone[1:], prefix=prefix)
    response = submit_form(browser, GENERAL_REQUEST_ANSWERS, prefix=prefix)
    assert response.status_code == 303, response.text
    return str(response.headers["location"]).rsplit("/", 1)[1]


def _office_of_request(run_db: RunDb, number: str, office_id: int) -> bool:
    found: bool = run_db(
        lambda: CitizenRequest.exists().where(
            (CitizenRequest.number == number) & (CitizenRequest.office == office_id)
        )
    )
    return found


def test_a_new_office_takes_a_filing_at_once_on_its_host(
    app: Litestar, client: Browser, run_db: RunDb
) -> None:
    office_id = _two_offices(run_db, app)
    citizen = browser_at(app, client, f"http://{NONGBUA}")
    menu = html(citizen.get("/e-service"))
    assert "เทศบาลตำบลnongbua" in menu.get_text()
    number = _file(citizen, run_db, "0800000401")
    assert _office_of_request(run_db, number, office_id)
    assert not _office_of_request(run_db, number, DEFAULT_OFFICE_ID)


def test_a_new_office_takes_a_filing_at_its_development_prefix(
    app: Litestar, client: Browser, run_db: RunDb
) -> None:
    office_id: int = run_db(lambda: create_office("nongbua"))
    reload_offices(app)
    number = _file(client, run_db, "0800000402", prefix="/o/nongbua")
    assert _office_of_request(run_db, number, office_id)


def test_a_disabled_office_answers_404_on_its_host_and_prefix(
    app: Litestar, client: Browser, run_db: RunDb
) -> None:
    office_id = _two_offices(run_db, app)
    citizen = browser_at(app, client, f"http://{NONGBUA}")
    assert citizen.get("/e-service").status_code == 200
    unknown = browser_at(app, client, "http://unknown.example").get("/e-service")
    run_db(lambda: Office.update({Office.active: False}).where(Office.id == office_id))
    run_db(lambda: add_host(office_id, "spare.example"))  # bumps updated_at too
    reload_offices(app)
    for path in ("/e-service", "/"):
        response = citizen.get(path)
        assert response.status_code == 404
        assert response.text == unknown.text  # like an unknown host: no office named
    assert client.get("/o/nongbua/e-service").status_code == 404
    assert client.get("/e-service").status_code == 200  # the default office answers


def test_only_a_platform_admin_of_the_default_office_sees_the_platform_pages(
    app: Litestar,
    client: Browser,
    new_browser: Any,
    run_db: RunDb,
    settings: Settings,
    clock: Clock,
    platform_admin: Staff,
) -> None:
    office_id = _two_offices(run_db, app)
    missing = client.get("/platform/no-such-page")
    assert missing.status_code == 404
    officer = make_staff(run_db, settings, "somchai")
    admin = make_staff(run_db, settings, "boss", role="admin")
    # A platform_admin role in another office counts for nothing (the CLI refuses to make one;
    # here it is written directly).
    elsewhere = make_staff(
        run_db, settings, "elsewhere", role="platform_admin", office_id=office_id
    )
    at_nongbua = browser_at(app, client, f"http://{NONGBUA}")
    nongbua_admin = make_staff(run_db, settings, "nb-boss", role="admin", office_id=office_id)
    browsers = {
        "anonymous": new_browser(),
        "officer": sign_in(new_browser(), officer, clock),
        "admin": sign_in(new_browser(), admin, clock),
        "platform_admin elsewhere": sign_in(at_nongbua, elsewhere, clock),
        "nongbua's admin": sign_in(
            browser_at(app, client, f"http://{NONGBUA}"), nongbua_admin, clock
        ),
    }
    for who, browser in browsers.items():
        for path in PAGES:
            response = browser.get(path, follow_redirects=False)
            assert response.status_code == 404, (who, path)
            missing_page = browser.get("/platform/no-such-page").text
            assert _plain(response.text).replace(path, "") == _plain(missing_page).replace(
                "/platform/no-such-page", ""
            ), (who, path)
    # The platform admin, on the default office's host, reaches them; not on another host.
    signed_in = sign_in(client, platform_admin, clock)
    page = html(signed_in.get(PAGES[0]))
    assert {row["data-office"] for row in page.select("tr[data-office]")} == {"default", "nongbua"}
    assert page.select_one("a[href='/platform/offices']") is not None  # the staff menu link
    assert signed_in.get(f"/platform/offices/{office_id}").status_code == 200
    assert signed_in.get("/o/nongbua/platform/offices").status_code == 404


def test_a_platform_admin_creates_an_office_that_takes_requests(
    app: Litestar, client: Browser, run_db: RunDb, clock: Clock, platform_admin: Staff
) -> None:
    run_db(lambda: add_host(DEFAULT_OFFICE_ID, DEFAULT_HOST))
    reload_offices(app)
    sign_in(client, platform_admin, clock)
    response = _post(
        client,
        "/platform/offices",
        {"slug": "nongbua", "name": "เทศบาลตำบลหนองบัว", "name_en": "Nong Bua", "hosts": NONGBUA},
    )
    assert response.status_code == 303, response.text
    office_id = int(response.headers["location"].rsplit("/", 1)[1])
    page = html(client.get(response.headers["location"]))
    assert page.select_one("h1[data-office=nongbua]") is not None
    slugs = run_db(lambda: Service.select(Service.slug).where(Service.office == office_id))
    assert sorted(row["slug"] for row in slugs) == sorted(standard_slugs())
    assert audit_actions(run_db, office_id)[0][0] == "office_created"
    number = _file(browser_at(app, client, f"http://{NONGBUA}"), run_db, "0800000403")
    assert _office_of_request(run_db, number, office_id)
    listed = html(client.get("/platform/offices"))
    assert listed.select_one("tr[data-office=nongbua] [data-requests]").get_text() == "1"


def test_the_create_form_refuses_bad_input_and_the_first_host_of_another_office(
    client: Browser, run_db: RunDb, clock: Clock, platform_admin: Staff
) -> None:
    sign_in(client, platform_admin, clock)
    cases = [
        ({"slug": "Bad Slug", "name": "เทศบาล"}, "slug"),
        ({"slug": "nongbua", "name": "Nong Bua"}, "name"),
        ({"slug": "nongbua", "name": "เทศบาล", "hosts": "https://x.example"}, "host"),
        ({"slug": "nongbua", "name": "เทศบาล", "hosts": NONGBUA}, "default_office_needs_host"),
    ]
    for data, code in cases:
        response = _post(client, "/platform/offices", data)
        assert response.status_code == 422, data
        page = html(response)
        assert page.select_one("[data-error]")["data-error"] == code
        assert page.select_one("#slug")["value"] == data["slug"]  # what was typed is kept
    assert run_db(lambda: Office.count()) == 1


def test_the_office_page_edits_hosts_details_and_state(
    app: Litestar, client: Browser, run_db: RunDb, clock: Clock, platform_admin: Staff
) -> None:
    office_id = _two_offices(run_db, app)
    sign_in(client, platform_admin, clock)
    page = f"/platform/offices/{office_id}"
    response = _post(client, f"{page}/hosts", {"hosts": f"{NONGBUA}\nnb.example"}, page)
    assert html(response).select_one("[data-saved=hosts]") is not None
    hosts = run_db(lambda: OfficeHost.select(OfficeHost.host).where(OfficeHost.office == office_id))
    assert sorted(row["host"] for row in hosts) == ["nb.example", NONGBUA]
    response = _post(
        client,
        f"{page}/details",
        {"name": "เทศบาลตำบลหนองบัว", "sms_sender": "NONGBUA", "phone": "080-000-0404"},
        page,
    )
    assert html(response).select_one("[data-saved=details]") is not None
    reload_offices(app)
    contact = browser_at(app, client, "http://nb.example").get("/contact")
    assert "080-000-0404" in contact.text
    assert "เทศบาลตำบลหนองบัว" in contact.text
    bad = _post(client, f"{page}/details", {"name": "เทศบาล", "sms_sender": "TOO-LONG-NAME"}, page)
    assert bad.status_code == 422
    assert html(bad).select_one("[data-error]")["data-error"] == "sender"
    response = _post(client, f"{page}/active", {"active": "0"}, page)
    assert html(response).select_one("[data-active]")["data-active"] == "0"
    reload_offices(app)
    assert browser_at(app, client, "http://nb.example").get("/contact").status_code == 404
    # The default office cannot be switched off, and its env-managed details are not edited.
    assert _post(client, "/platform/offices/1/active", {"active": "0"}).status_code == 422
    assert _post(client, "/platform/offices/1/details", {"name": "เทศบาลอื่น"}).status_code == 422
    assert client.get("/e-service").status_code == 200
    assert client.get("/platform/offices/999999").status_code == 404


def test_an_invited_admin_enrols_at_that_office_only(
    app: Litestar, client: Browser, run_db: RunDb, clock: Clock, platform_admin: Staff
) -> None:
    office_id = _two_offices(run_db, app)
    sign_in(client, platform_admin, clock)
    page = f"/platform/offices/{office_id}"
    response = _post(
        client, f"{page}/admins", {"username": "nb-admin", "display_name": "ผอ."}, page
    )
    assert response.status_code == 200, response.text
    url = html(response).select_one("[data-enrolment-link]").get_text(strip=True)
    # The office's own address (none set: its first host name, with the platform's scheme).
    assert url.startswith(f"https://{NONGBUA}/staff/enrol/")
    path = "/staff/enrol/" + url.rsplit("/staff/enrol/", 1)[1]
    row = run_db(
        lambda: (
            StaffUser.select(StaffUser.office, StaffUser.role)
            .where(StaffUser.username == "nb-admin")
            .first()
        )
    )
    assert (row["office"], row["role"]) == (office_id, "admin")
    assert ("office_admin_invited", {"username": "nb-admin"}) in audit_actions(run_db, office_id)
    # Not shown again on the next load.
    assert html(client.get(page)).select_one("[data-enrolment-link]") is None
    assert browser_at(app, client, f"http://{NONGBUA}").get(path).status_code == 200
    assert client.get(path).status_code == 404  # the default office's host
    taken = _post(client, f"{page}/admins", {"username": "nb-admin"}, page)
    assert html(taken).select_one("[data-error]")["data-error"] == "username_taken"


def test_the_library_adds_more_forms_to_an_office(
    app: Litestar, client: Browser, run_db: RunDb, clock: Clock, platform_admin: Staff
) -> None:
    office_id = _two_offices(run_db, app)
    sign_in(client, platform_admin, clock)
    page = f"/platform/offices/{office_id}"
    before = html(client.get(page))
    assert before.select_one("[data-form=building-permit] input[name=slug]") is not None
    response = _post(client, f"{page}/services", {"slug": "building-permit"}, page)
    assert html(response).select_one("[data-form=building-permit] [data-adopted]") is not None
    reload_offices(app)
    form = browser_at(app, client, f"http://{NONGBUA}").get("/e-service")
    assert "ขออนุญาตก่อสร้างอาคาร" in form.text
    assert "ขออนุญาตก่อสร้างอาคาร" not in client.get("/e-service").text


@pytest.mark.parametrize("path", ["/platform/offices", "/platform/offices/1/hosts"])
def test_platform_posts_need_the_csrf_token(
    client: Browser, run_db: RunDb, clock: Clock, platform_admin: Staff, path: str
) -> None:
    sign_in(client, platform_admin, clock)
    data = {"slug": "nongbua", "name": "เทศบาล", "hosts": "x.example"}
    assert client.post(path, data=data, follow_redirects=False).status_code == 403
    assert run_db(lambda: Office.count()) == 1
    assert run_db(lambda: OfficeHost.count()) == 0
