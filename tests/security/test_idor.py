"""Access to things by identifier (IDOR): every route that takes one, from the app's route list.

Already proved elsewhere and referenced, not repeated: the success page only for the browser
that filed (``tests/citizen/test_form_routes.py``); phone A never reads phone B's requests by
any tracking route (``tests/tracking/test_lookup_routes.py``); malformed and unknown tracking
tokens get the same 404 (``tests/tracking/test_routes.py``); a hand-written list of staff
routes is closed to citizens and admin routes to officers (``tests/staff/test_guards.py``).
Here the same rules are checked for every route the app has, so a new one cannot slip by.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar

from portal.settings import Settings
from portal.staff.reply_templates import seed_default_reply_templates
from portal.tables.citizen_request import CitizenRequest
from portal.tables.reply_template import ReplyTemplate
from portal.tables.service import Service
from tests.citizen.helpers import GENERAL_REQUEST_ANSWERS, verify_phone
from tests.conftest import csrf_token, html, without_reference
from tests.security.helpers import Browser, Endpoint, RunDb, endpoints, phone, snapshot
from tests.staff.helpers import (
    Clock,
    file_via_routes,
    make_staff,
    sign_in,
    track_verify,
    tracking_token,
)

ALICE = phone(30)
BOB = phone(31)

ACCESS_RULES = {
    "service_start": "public: a service of the catalogue",
    "phone_form": "public: a service of the catalogue",
    "phone_submit": "public: a service of the catalogue",
    "code_form": "public: a service of the catalogue",
    "code_submit": "public: a service of the catalogue",
    "code_resend": "public: a service of the catalogue",
    "service_form": "public: a service of the catalogue",
    "service_submit": "public: a service of the catalogue",
    "submitted": "only the browser that filed it (session list)",
    "track_link": "the token is the credential; status and timeline only",
    "receipt_page": "the tracking token is the credential; number, service, date and link only",
    "receipt_pdf": "the tracking token is the credential; number, service, date and link only",
    "track_detail": "only a browser verified for the request's phone",
    "staff_request": "staff_guard",
    "staff_request_status": "staff_guard",
    "staff_request_note": "staff_guard",
    "staff_request_assign": "staff_guard",
    "staff_request_phone": "staff_guard",
    "staff_reveal_citizen_id": "staff_guard",
    "staff_accounts_active": "admin_guard",
    "staff_service_edit": "admin_guard",
    "staff_service_update": "admin_guard",
    "staff_template_retire": "admin_guard",
    "asset": "public: files of portal/static only, by their current digest",
    "static": "public: files of portal/static only",
    "sms_report": "the secret URL token of the configured gateway",
    "set_language": "public: a language code; the cookie holds no personal data",
    "service_form_draft": "public: a service of the catalogue; the form's key must vouch for "
    "this browser, its verified phone and an unfiled verification, else the same 404 "
    "(tests/citizen/test_drafts.py)",
    "attachment_upload": "public: a service of the catalogue; the form's key must vouch for "
    "this browser and its verified phone (tests/attachments/test_routes.py)",
    "upload_file": "the uploader: the form's key vouching for this browser and phone, a "
    "pending file of that form (tests/attachments/test_access.py)",
    "track_attachment": "only a browser verified for the request's phone",
    "staff_attachment": "staff_guard",
    "staff_request_photo": "staff_guard",
    "staff_accounts_enrolment": "admin_guard",
    "staff_enrol": "the one-time enrolment token is the credential; any link that does not "
    "work is the same 404 (tests/security/test_staff_enrolment.py)",
    "staff_enrol_submit": "the one-time enrolment token is the credential",
    **dict.fromkeys(
        (
            "platform_office",
            "platform_office_hosts",
            "platform_office_details",
            "platform_office_active",
            "platform_office_invite",
            "platform_office_adopt",
            "platform_office_emblem",
            "platform_office_emblem_image",
        ),
        "platform_guard: a platform admin of the default office, on its host; anyone else "
        "the 404 of a missing page (tests/platform/test_routes.py)",
    ),
}
"""Every route with an identifier in its path, and who may use it. A new route fails
``test_every_route_with_an_identifier_has_an_access_rule`` until it is added here."""

STAFF_AUTH = {"staff_sign_in", "staff_sign_in_submit", "staff_enrol", "staff_enrol_submit"}
STAFF_AUTH_SIGN_OUT = "staff_sign_out"


def test_every_route_with_an_identifier_has_an_access_rule(app: Litestar) -> None:
    with_identifier = {e.name for e in endpoints(app) if "{" in e.path}
    assert with_identifier == set(ACCESS_RULES)


def test_every_back_office_route_is_guarded(app: Litestar) -> None:
    """Structure, not behaviour: the guard is on the route itself, not left to the handler."""
    for endpoint in endpoints(app):
        if not endpoint.path.startswith("/staff"):
            continue
        if endpoint.name in STAFF_AUTH or endpoint.name == STAFF_AUTH_SIGN_OUT:
            assert "staff_guard" not in endpoint.guard_names, endpoint.name
            continue
        assert "staff_guard" in endpoint.guard_names, endpoint.name
        admin_only = endpoint.path.startswith(
            (
                "/staff/accounts",
                "/staff/admin",
                "/staff/audit",
                "/staff/catalog",
                "/staff/privacy",
                "/staff/sms",
            )
        )
        assert ("admin_guard" in endpoint.guard_names) is admin_only, endpoint.name


def _staff_endpoints(app: Litestar) -> list[Endpoint]:
    return [
        e
        for e in endpoints(app)
        if e.path.startswith("/staff") and e.name not in STAFF_AUTH | {STAFF_AUTH_SIGN_OUT}
    ]


def _params(run_db: RunDb, number: str, staff_id: int) -> dict[str, str]:
    run_db(seed_default_reply_templates)
    template = run_db(lambda: ReplyTemplate.select(ReplyTemplate.id).first())
    service = run_db(lambda: Service.select(Service.id).first())
    return {
        "number": number,
        "staff_id": str(staff_id),
        "service_id": str(service["id"]),
        "template_id": str(template["id"]),
        "attachment_id": "1",
        "variant": "full",
    }


def _call(browser: Browser, endpoint: Endpoint, url: str, token: str) -> Any:
    if endpoint.method == "GET":
        return browser.get(url, follow_redirects=False)
    return browser.post(url, data={"_csrf_token": token}, follow_redirects=False)


def test_no_citizen_session_reaches_any_back_office_route(
    app: Litestar, client: Browser, new_browser: Any, run_db: RunDb, settings: Settings
) -> None:
    filer = new_browser()
    number = file_via_routes(filer, run_db, ALICE[0])
    tracking = new_browser()
    assert track_verify(tracking, run_db, ALICE[0]).status_code == 303
    verified = new_browser()
    verify_phone(verified, run_db, *BOB)
    officer = make_staff(run_db, settings, "somchai")
    params = _params(run_db, number, officer.id)
    before = snapshot(run_db)
    for who, browser in (("filer", filer), ("tracking", tracking), ("verified", verified)):
        token = csrf_token(browser, "/")
        for endpoint in _staff_endpoints(app):
            response = _call(browser, endpoint, endpoint.url(params), token)
            where = (who, endpoint.method, endpoint.name)
            assert response.status_code == 303, (where, response.status_code)
            assert response.headers["location"] == "/staff/sign-in", where
    assert snapshot(run_db) == before


def test_an_officer_reaches_no_admin_route(
    app: Litestar,
    client: Browser,
    new_browser: Any,
    run_db: RunDb,
    settings: Settings,
    clock: Clock,
) -> None:
    number = file_via_routes(new_browser(), run_db, ALICE[0])
    admin = make_staff(run_db, settings, "boss", role="admin")
    officer = sign_in(new_browser(), make_staff(run_db, settings, "somchai"), clock)
    params = _params(run_db, number, admin.id)
    token = csrf_token(officer, "/staff")
    before = snapshot(run_db)
    admin_routes = [e for e in _staff_endpoints(app) if "admin_guard" in e.guard_names]
    assert len(admin_routes) >= 10
    for endpoint in admin_routes:
        response = _call(officer, endpoint, endpoint.url(params), token)
        assert response.status_code == 403, endpoint.name
    assert snapshot(run_db) == before


def test_any_officer_may_work_any_request_by_design(
    client: Browser, new_browser: Any, run_db: RunDb, settings: Settings, clock: Clock
) -> None:
    """Requests belong to the office, not to one officer: assignment is a to-do list, not an
    access rule. Recorded here so that nobody mistakes it for a hole."""
    number = file_via_routes(new_browser(), run_db, ALICE[0])
    somchai = make_staff(run_db, settings, "somchai")
    other = sign_in(new_browser(), make_staff(run_db, settings, "somsri"), clock)
    run_db(
        lambda: CitizenRequest.update({CitizenRequest.assigned_to: somchai.id}).where(
            CitizenRequest.number == number
        )
    )
    assert other.get(f"/staff/requests/{number}", follow_redirects=False).status_code == 200


def test_success_pages_of_other_browsers_look_like_unknown_numbers(
    client: Browser, new_browser: Any, run_db: RunDb
) -> None:
    alice = new_browser()
    alice_number = file_via_routes(alice, run_db, ALICE[0])
    bob = new_browser()
    bob_number = file_via_routes(bob, run_db, BOB[0])
    assert alice.get(f"/e-service/requests/{alice_number}").status_code == 200
    foreign = alice.get(f"/e-service/requests/{bob_number}")
    unknown = alice.get("/e-service/requests/69-000000")
    assert foreign.status_code == unknown.status_code == 404
    # The pages differ only where they echo the address asked for (the language link).
    assert without_reference(foreign.text.replace(bob_number, "N")) == without_reference(
        unknown.text.replace("69-000000", "N")
    )
    # Bob's phone verified for tracking does not open the filing browser's success page.
    tracking = new_browser()
    assert track_verify(tracking, run_db, BOB[0]).status_code == 303
    assert tracking.get(f"/e-service/requests/{bob_number}").status_code == 404


def test_the_link_page_shows_no_personal_data(
    client: Browser, new_browser: Any, run_db: RunDb
) -> None:
    number = file_via_routes(new_browser(), run_db, ALICE[0])
    page = new_browser().get(f"/t/{tracking_token(run_db, number)}")
    assert page.status_code == 200
    text = html(page).get_text(" ")
    for secret in (
        ALICE[0],
        ALICE[0][1:],
        GENERAL_REQUEST_ANSWERS["citizen_id"],
        GENERAL_REQUEST_ANSWERS["first_name"],
        GENERAL_REQUEST_ANSWERS["last_name"],
        GENERAL_REQUEST_ANSWERS["address"],
        GENERAL_REQUEST_ANSWERS["details"],
    ):
        assert secret not in text, secret
    assert ALICE[0][-4:] in text  # the masked phone, for the owner to recognise


def test_neither_the_number_nor_a_near_token_opens_the_link(
    client: Browser, new_browser: Any, run_db: RunDb
) -> None:
    number = file_via_routes(new_browser(), run_db, ALICE[0])
    token = tracking_token(run_db, number)
    flipped = ("A" if token[0] != "A" else "B") + token[1:]
    visitor = new_browser()
    for guess in (number, number.replace("-", ""), flipped, token[:-1], token + "A", token.upper()):
        if guess == token:
            continue
        assert visitor.get(f"/t/{guess}").status_code == 404, guess


def test_tracking_follows_the_phone_when_staff_move_a_request(
    client: Browser, new_browser: Any, run_db: RunDb, settings: Settings, clock: Clock
) -> None:
    """A browser verified for the old phone loses the request the moment it moves; the new
    phone sees it. Every tracking read filters by the verified phone in the query itself."""
    number = file_via_routes(new_browser(), run_db, ALICE[0])
    old_owner = new_browser()
    assert track_verify(old_owner, run_db, ALICE[0]).status_code == 303
    assert old_owner.get(f"/track/requests/{number}").status_code == 200
    staff = sign_in(new_browser(), make_staff(run_db, settings, "somchai"), clock)
    token = csrf_token(staff, f"/staff/requests/{number}")
    moved = staff.post(
        f"/staff/requests/{number}/phone",
        data={"new_phone": BOB[0], "reason": "ตรวจบัตรประชาชนที่เคาน์เตอร์", "_csrf_token": token},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    assert old_owner.get(f"/track/requests/{number}").status_code == 404
    listed = html(old_owner.get("/track/requests")).select("[data-request-number]")
    assert listed == []
    new_owner = new_browser()
    assert track_verify(new_owner, run_db, BOB[0]).status_code == 303
    assert new_owner.get(f"/track/requests/{number}").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/..%2fapp.py",
        "/static/%2e%2e%2fsettings.py",
        "/static//etc/passwd",
        "/static/vendor/../../app.py",
        "/assets/000000000000/../app.py",
        "/assets/000000000000/..%2f..%2fapp.py",
        "/assets/000000000000/%2e%2e/%2e%2e/settings.py",
    ],
)
def test_static_paths_never_leave_the_static_folder(client: Browser, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code in (400, 404), (path, response.status_code)
    assert "def create_app" not in response.text
    assert "root:" not in response.text


def test_every_platform_route_is_guarded_and_404_for_everyone_else(
    app: Litestar,
    client: Browser,
    new_browser: Any,
    run_db: RunDb,
    settings: Settings,
    clock: Clock,
) -> None:
    """Citizens, officers and office admins: every platform route (GET and POST, with a good
    CSRF token) answers 404 and changes nothing."""
    platform = [e for e in endpoints(app) if e.path.startswith("/platform")]
    assert len(platform) >= 8
    assert all("platform_guard" in e.guard_names for e in platform)
    filer = new_browser()
    file_via_routes(filer, run_db, ALICE[0])
    officer = sign_in(new_browser(), make_staff(run_db, settings, "somchai"), clock)
    admin = sign_in(new_browser(), make_staff(run_db, settings, "boss", role="admin"), clock)
    before = snapshot(run_db)
    for who, browser in (("filer", filer), ("officer", officer), ("admin", admin)):
        token = csrf_token(browser, "/")
        for endpoint in platform:
            response = _call(browser, endpoint, endpoint.url({"office_id": "1"}), token)
            assert response.status_code == 404, (who, endpoint.method, endpoint.name)
    assert snapshot(run_db) == before
