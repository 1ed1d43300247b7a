"""Who reaches which back-office route: nobody without a staff sign-in (a citizen's verified
session included), officers not the admin pages, and no POST without the CSRF token."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.settings import Settings
from portal.tables.citizen_request import CitizenRequest
from portal.tables.request_event import RequestEvent
from portal.tables.staff_note import StaffNote
from portal.tables.staff_user import StaffUser
from tests.citizen.helpers import verify_phone
from tests.conftest import csrf_token
from tests.staff.helpers import Clock, RunDb, Staff, file_via_routes, make_staff, sign_in

CITIZEN_PHONE = "0800000310"


def staff_routes(number: str, other_id: int) -> list[tuple[str, str, dict[str, str]]]:
    return [
        ("GET", "/staff", {}),
        ("POST", "/staff/export.csv", {}),
        ("GET", f"/staff/requests/{number}", {}),
        ("POST", f"/staff/requests/{number}/status", {"status": "completed", "note": "x"}),
        ("POST", f"/staff/requests/{number}/notes", {"text": "internal"}),
        ("POST", f"/staff/requests/{number}/assign", {"staff_id": str(other_id)}),
        (
            "POST",
            f"/staff/requests/{number}/phone",
            {"new_phone": "0800000311", "reason": "ตรวจบัตรประชาชนที่เคาน์เตอร์"},
        ),
        *admin_routes(other_id),
    ]


def admin_routes(other_id: int) -> list[tuple[str, str, dict[str, str]]]:
    return [
        ("GET", "/staff/audit", {}),
        ("GET", "/staff/accounts", {}),
        ("GET", "/staff/sms", {}),
        ("GET", "/staff/admin/website-button", {}),
        (
            "POST",
            "/staff/accounts",
            {"username": "intruder", "role": "admin"},
        ),
        ("POST", f"/staff/accounts/{other_id}/active", {"active": "0"}),
        ("POST", f"/staff/accounts/{other_id}/enrolment", {}),
    ]


def call(
    browser: TestClient[Litestar], method: str, path: str, data: dict[str, str], token: str | None
) -> Any:
    if method == "GET":
        return browser.get(path, follow_redirects=False)
    body = {**data, "_csrf_token": token} if token else data
    return browser.post(path, data=body, follow_redirects=False)


@pytest.fixture
def admin(run_db: RunDb, settings: Settings) -> Staff:
    return make_staff(run_db, settings, "boss", role="admin")


@pytest.fixture
def officer(run_db: RunDb, settings: Settings) -> Staff:
    return make_staff(run_db, settings, "somchai")


def state(run_db: RunDb, number: str) -> tuple[Any, ...]:
    """Everything the POSTs above could change."""

    async def read() -> tuple[Any, ...]:
        request = await CitizenRequest.select(
            CitizenRequest.status, CitizenRequest.phone, CitizenRequest.assigned_to
        ).where(CitizenRequest.number == number)
        users = await StaffUser.select(
            StaffUser.username, StaffUser.active, StaffUser.password_hash
        ).order_by(StaffUser.id)
        return (
            request,
            await RequestEvent.count(),
            await StaffNote.count(),
            users,
        )

    result: tuple[Any, ...] = run_db(read)
    return result


def test_anonymous_and_citizen_browsers_are_sent_to_sign_in_from_every_staff_route(
    client: TestClient[Litestar], new_browser: Any, run_db: RunDb, officer: Staff
) -> None:
    filer = new_browser()
    number = file_via_routes(filer, run_db, CITIZEN_PHONE)
    assert filer.get(f"/e-service/requests/{number}", follow_redirects=False).status_code == 200
    verified = new_browser()
    verify_phone(verified, run_db, "0800000312", "+66800000312")
    # A phone proved by OTP: this browser may open the citizen form.
    assert (
        verified.get("/e-service/general-request/form", follow_redirects=False).status_code == 200
    )
    before = state(run_db, number)
    browsers = {"anonymous": new_browser(), "filer": filer, "verified": verified}
    for browser_name, browser in browsers.items():
        token = csrf_token(browser, "/staff/sign-in")
        for method, path, data in staff_routes(number, officer.id):
            response = call(browser, method, path, data, token)
            assert response.status_code == 303, (browser_name, method, path, response.text)
            assert response.headers["location"] == "/staff/sign-in", (browser_name, path)
    assert state(run_db, number) == before


def test_an_htmx_request_without_a_session_is_told_where_to_sign_in(
    client: TestClient[Litestar],
) -> None:
    response = client.get("/staff", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.headers["hx-redirect"] == "/staff/sign-in"


def test_an_officer_gets_403_on_every_admin_route_and_changes_nothing(
    client: TestClient[Litestar],
    run_db: RunDb,
    officer: Staff,
    admin: Staff,
    clock: Clock,
) -> None:
    sign_in(client, officer, clock)
    token = csrf_token(client, "/staff")
    before = state(run_db, "69-000000")
    for method, path, data in admin_routes(admin.id):
        response = call(client, method, path, data, token)
        assert response.status_code == 403, (method, path)
    assert state(run_db, "69-000000") == before
    # The officer is not shown the admin links either.
    page = client.get("/staff").text
    assert "/staff/accounts" not in page
    assert "/staff/audit" not in page


def test_an_admin_reaches_the_admin_pages(
    client: TestClient[Litestar], admin: Staff, clock: Clock
) -> None:
    sign_in(client, admin, clock)
    for path in ("/staff/audit", "/staff/accounts", "/staff/admin/website-button"):
        assert client.get(path, follow_redirects=False).status_code == 200, path


def test_every_post_without_the_csrf_token_is_403_and_changes_nothing(
    client: TestClient[Litestar],
    new_browser: Any,
    run_db: RunDb,
    admin: Staff,
    officer: Staff,
    clock: Clock,
) -> None:
    number = file_via_routes(new_browser(), run_db, CITIZEN_PHONE)
    sign_in(client, admin, clock)
    before = state(run_db, number)
    posts = [route for route in staff_routes(number, officer.id) if route[0] == "POST"]
    posts += [
        ("POST", "/staff/sign-out", {}),
        ("POST", f"/staff/enrol/{officer.link_token}", {"code": "123456"}),
        (
            "POST",
            "/staff/password",
            {"current_password": admin.password, "new_password": "Another-Pass-2569"},
        ),
    ]
    for method, path, data in posts:
        assert call(client, method, path, data, None).status_code == 403, path
        # A wrong token is no better than none.
        bad = {**data, "_csrf_token": "not-the-token"}
        assert client.post(path, data=bad, follow_redirects=False).status_code == 403, path
    assert state(run_db, number) == before
    # Still signed in: the forged sign-out did nothing.
    assert client.get("/staff", follow_redirects=False).status_code == 200


def test_sign_in_itself_needs_the_csrf_token(
    client: TestClient[Litestar], run_db: RunDb, officer: Staff, clock: Clock
) -> None:
    response = client.post(
        "/staff/sign-in",
        data={
            "username": "somchai",
            "password": officer.password,
            "code": officer.next_code(clock),
        },
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert client.get("/staff", follow_redirects=False).status_code == 303


def test_platform_pages_are_a_404_not_a_sign_in_redirect_for_everyone_but_a_platform_admin(
    client: TestClient[Litestar],
    new_browser: Any,
    run_db: RunDb,
    settings: Settings,
    admin: Staff,
    clock: Clock,
) -> None:
    """Unlike the staff pages (sent to sign in), the platform's are not admitted to exist."""
    signed_in_admin = sign_in(new_browser(), admin, clock)
    for browser in (new_browser(), signed_in_admin):
        for path in ("/platform/offices", "/platform/offices/1"):
            response = browser.get(path, follow_redirects=False)
            assert response.status_code == 404, path
            assert "location" not in response.headers
    platform = make_staff(run_db, settings, "platform", role="platform_admin")
    assert sign_in(new_browser(), platform, clock).get("/platform/offices").status_code == 200
