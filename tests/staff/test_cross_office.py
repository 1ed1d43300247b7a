"""The back office of one office never reaches another's (issue 16): accounts sign in at their
own office only, a session counts only where it began, and every number, id and link of office
B asked for at office A answers like a missing one, changing nothing.

Office A is the default office given the host ``a.example.test``; office B is made with
``tests/offices.py`` on ``b.example.test``, with its own sender and its own ``somchai``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.kernel.offices import OfficeRef
from portal.settings import Settings
from portal.tables.audit_event import AuditEvent
from portal.tables.citizen_request import CitizenRequest
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.tables.reply_template import ReplyTemplate
from portal.tables.service import Service
from portal.tables.sms_message import SmsMessage
from portal.tables.staff_note import StaffNote
from portal.tables.staff_sign_in_attempt import StaffSignInAttempt
from portal.tables.staff_user import StaffUser
from portal.web.offices import offices_of
from tests.conftest import RunDb, csrf_token, html, without_reference
from tests.offices import add_host, create_office
from tests.staff.helpers import (
    Clock,
    Staff,
    error_text,
    file_direct,
    make_staff,
    post_sign_in,
    sign_in,
)

Browser = TestClient[Litestar]

A_HOST = "a.example.test"
B_HOST = "b.example.test"
B_SENDER = "BANGBEE"
CITIZEN = "+66800000470"
MISSING = "69-999999"


@dataclass
class World:
    a: OfficeRef
    b: OfficeRef
    a_officer: Staff
    b_officer: Staff
    b_admin: Staff
    b_number: str


def browser_at(app: Litestar, client: Browser, host: str) -> Browser:
    """Another browser (its own cookies) on ``host``, served by the app ``client`` runs."""
    browser: Browser = TestClient(app=app, base_url=f"http://{host}")
    browser.blocking_portal = client.blocking_portal
    return browser


@pytest.fixture
def world(app: Litestar, client: Browser, run_db: RunDb, settings: Settings) -> World:
    run_db(lambda: add_host(DEFAULT_OFFICE_ID, A_HOST))
    b_id = run_db(lambda: create_office("bangb", hosts=(B_HOST,), sms_sender=B_SENDER))
    directory = offices_of(app)
    directory.forget()
    a, b = (run_db(lambda i=i: directory.by_id(i)) for i in (DEFAULT_OFFICE_ID, b_id))
    assert a is not None and b is not None
    # The same sign-in name at both offices: two people.
    a_officer = make_staff(run_db, settings, "somchai")
    b_officer = make_staff(run_db, settings, "somchai", office_id=b.id)
    b_admin = make_staff(run_db, settings, "boss", role="admin", office_id=b.id)
    filed = file_direct(run_db, CITIZEN, office=b)
    return World(a, b, a_officer, b_officer, b_admin, filed.number)


def at_a(app: Litestar, client: Browser, staff: Staff, clock: Clock) -> Browser:
    return sign_in(browser_at(app, client, A_HOST), staff, clock)


def post(browser: Browser, path: str, data: dict[str, str] | None = None) -> Any:
    token = csrf_token(browser, "/staff")
    return browser.post(path, data={**(data or {}), "_csrf_token": token}, follow_redirects=False)


def b_request(run_db: RunDb, world: World) -> dict[str, Any]:
    row: dict[str, Any] = run_db(
        lambda: (
            CitizenRequest.select()
            .where(CitizenRequest.office == world.b.id, CitizenRequest.number == world.b_number)
            .first()
        )
    )
    return row


def test_an_account_of_office_b_is_refused_at_a_like_a_wrong_password(
    app: Litestar, client: Browser, run_db: RunDb, world: World, clock: Clock
) -> None:
    at_a_host = browser_at(app, client, A_HOST)
    wrong = post_sign_in(at_a_host, "boss", "Wrong-Pass-999", world.b_admin.wrong_code(clock))
    right_elsewhere = post_sign_in(
        at_a_host, "boss", world.b_admin.password, world.b_admin.next_code(clock)
    )
    assert wrong.status_code == right_elsewhere.status_code == 422
    assert error_text(wrong) == error_text(right_elsewhere)
    assert "staff" not in str(at_a_host.cookies)  # nothing signed in
    assert goes_to_sign_in(at_a_host.get("/staff", follow_redirects=False))
    # Counted at A, where it was tried.
    tried = run_db(
        lambda: StaffSignInAttempt.select(StaffSignInAttempt.office).where(
            StaffSignInAttempt.username == "boss"
        )
    )
    assert {row["office"] for row in tried} == {world.a.id}
    # The same account signs in at its own office.
    sign_in(browser_at(app, client, B_HOST), world.b_admin, clock)


def test_the_same_name_at_two_offices_is_two_accounts(
    app: Litestar, client: Browser, run_db: RunDb, world: World, clock: Clock
) -> None:
    at_a(app, client, world.a_officer, clock)
    sign_in(browser_at(app, client, B_HOST), world.b_officer, clock)
    by_office = run_db(
        lambda: AuditEvent.select(AuditEvent.office).where(
            AuditEvent.action == "sign_in", AuditEvent.actor == "somchai"
        )
    )
    assert sorted(row["office"] for row in by_office) == sorted([world.a.id, world.b.id])


def same_page(one: Any, other: Any) -> bool:
    """The same page but for what differs per answer (error reference, CSRF token)."""

    def main(response: Any) -> str:
        found = html(response).select_one("main")
        assert found is not None, response.text
        return without_reference(str(found))

    return bool(main(one) == main(other))


def goes_to_sign_in(response: Any) -> bool:
    return response.status_code == 303 and response.headers["location"] == "/staff/sign-in"


def test_a_session_of_office_a_is_signed_out_at_office_b(
    app: Litestar, client: Browser, world: World, clock: Clock
) -> None:
    """One cookie sent to both (as on 127.0.0.1 with ``/o/<slug>/``): at B nobody is in."""
    a_browser = at_a(app, client, world.a_officer, clock)
    assert a_browser.get("/staff").status_code == 200
    b_browser = browser_at(app, client, B_HOST)
    for cookie in a_browser.cookies.jar:
        b_browser.cookies.set(cookie.name, cookie.value or "", domain=B_HOST)
    assert goes_to_sign_in(b_browser.get("/staff", follow_redirects=False))
    assert goes_to_sign_in(b_browser.get("/staff/accounts", follow_redirects=False))
    assert a_browser.get("/staff").status_code == 200  # still in at A


def test_office_b_requests_are_not_found_and_unchanged_at_a(
    app: Litestar, client: Browser, run_db: RunDb, world: World, clock: Clock
) -> None:
    a_browser = at_a(app, client, world.a_officer, clock)
    missing = a_browser.get(f"/staff/requests/{MISSING}")
    assert missing.status_code == 404
    seen = a_browser.get(f"/staff/requests/{world.b_number}")
    assert seen.status_code == 404 and same_page(seen, missing)
    before = b_request(run_db, world)
    base = f"/staff/requests/{world.b_number}"
    for path, data in (
        (f"{base}/status", {"status": "in_progress", "note": ""}),
        (f"{base}/notes", {"text": "ของ A"}),
        (f"{base}/assign", {"staff_id": str(world.a_officer.id)}),
        (f"{base}/phone", {"new_phone": "0800000471", "reason": "ตรวจบัตรแล้ว"}),
        (f"{base}/citizen-id", {}),
    ):
        assert post(a_browser, path, data).status_code == 404, path
    assert b_request(run_db, world) == before
    assert run_db(lambda: StaffNote.count()) == 0
    assert run_db(lambda: SmsMessage.count().where(SmsMessage.purpose != "receipt")) == 0
    inbox = a_browser.get("/staff")
    assert world.b_number not in inbox.text
    found = html(a_browser.get(f"/staff?q={world.b_number}")).select("tbody")
    assert world.b_number not in " ".join(body.get_text() for body in found)
    export = post(a_browser, "/staff/export.csv", {"q": ""})
    assert export.status_code == 200 and world.b_number not in export.text


def test_requests_cannot_be_given_to_another_offices_officer(
    app: Litestar, client: Browser, run_db: RunDb, world: World, clock: Clock
) -> None:
    a_number = file_direct(run_db, CITIZEN, office=world.a).number
    a_browser = at_a(app, client, world.a_officer, clock)
    path = f"/staff/requests/{a_number}/assign"
    refused = post(a_browser, path, {"staff_id": str(world.b_officer.id)})
    assert refused.status_code == 404
    assigned = run_db(
        lambda: (
            CitizenRequest.select(CitizenRequest.assigned_to)
            .where(CitizenRequest.number == a_number, CitizenRequest.office == world.a.id)
            .first()
        )
    )
    assert assigned["assigned_to"] is None
    assert post(a_browser, path, {"staff_id": str(world.a_officer.id)}).status_code == 303
    page = html(a_browser.get(f"/staff/requests/{a_number}"))
    offered = {option["value"] for option in page.select("select[name=staff_id] option")}
    assert str(world.a_officer.id) in offered and str(world.b_officer.id) not in offered


def test_office_b_status_sms_comes_from_b_and_links_to_b(
    app: Litestar, client: Browser, run_db: RunDb, world: World, clock: Clock
) -> None:
    b_browser = sign_in(browser_at(app, client, B_HOST), world.b_officer, clock)
    path = f"/staff/requests/{world.b_number}/status"
    assert post(b_browser, path, {"status": "in_progress", "note": ""}).status_code == 303
    (sms,) = run_db(lambda: SmsMessage.select().where(SmsMessage.purpose == "status"))
    assert (sms["office"], sms["sender"]) == (world.b.id, B_SENDER)
    assert f"{world.b.sms_link_base}/t/" in sms["text"]
    audited = run_db(
        lambda: AuditEvent.select(AuditEvent.office).where(AuditEvent.action == "change_status")
    )
    assert [row["office"] for row in audited] == [world.b.id]


def test_office_b_admin_things_are_not_found_at_a(
    app: Litestar, client: Browser, run_db: RunDb, settings: Settings, world: World, clock: Clock
) -> None:
    a_admin = make_staff(run_db, settings, "kanya", role="admin")
    a_browser = at_a(app, client, a_admin, clock)
    # B's admin acts at B: its audit trail stays B's.
    sign_in(browser_at(app, client, B_HOST), world.b_admin, clock)
    accounts = a_browser.get("/staff/accounts").text
    assert "boss" not in accounts and "kanya" in accounts
    audit = a_browser.get("/staff/audit?actor=boss")
    assert audit.status_code == 200 and html(audit).select("tr[data-audit-action]") == []
    for path in (
        f"/staff/accounts/{world.b_officer.id}/active",
        f"/staff/accounts/{world.b_officer.id}/enrolment",
    ):
        assert post(a_browser, path, {"active": "0"}).status_code == 404, path
    b_user = run_db(
        lambda: (
            StaffUser.select(StaffUser.active, StaffUser.password_hash)
            .where(StaffUser.id == world.b_officer.id)
            .first()
        )
    )
    assert b_user["active"] is True and b_user["password_hash"] != ""
    b_service = run_db(
        lambda: Service.select(Service.id).where(Service.office == world.b.id).first()
    )["id"]
    assert a_browser.get(f"/staff/catalogue/{b_service}").status_code == 404
    assert post(a_browser, f"/staff/catalogue/{b_service}", {"name": "x"}).status_code == 404
    b_template = run_db(
        lambda: (
            ReplyTemplate.select(ReplyTemplate.id).where(ReplyTemplate.office == world.b.id).first()
        )
    )["id"]
    retire = post(a_browser, f"/staff/catalogue/templates/{b_template}/retire")
    assert retire.status_code == 404
    still = run_db(
        lambda: (
            ReplyTemplate.select(ReplyTemplate.active).where(ReplyTemplate.id == b_template).first()
        )
    )
    assert still["active"] is True


def test_an_enrolment_link_works_at_its_own_office_only(
    app: Litestar, client: Browser, run_db: RunDb, settings: Settings, world: World
) -> None:
    newcomer = make_staff(run_db, settings, "malee", enrolled=False, office_id=world.b.id)
    path = f"/staff/enrol/{newcomer.link_token}"
    at_a_host = browser_at(app, client, A_HOST).get(path)
    made_up = browser_at(app, client, A_HOST).get("/staff/enrol/" + "x" * 43)
    assert at_a_host.status_code == made_up.status_code == 404
    assert same_page(at_a_host, made_up)
    assert browser_at(app, client, B_HOST).get(path).status_code == 200


def test_office_b_files_are_not_found_at_a(
    app: Litestar, client: Browser, run_db: RunDb, settings: Settings, world: World, clock: Clock
) -> None:
    from tests.attachments.helpers import attach_after_photo

    photo = run_db(
        lambda: attach_after_photo(settings, world.b_number, world.b_officer.id, world.b.id)
    )
    a_browser = at_a(app, client, world.a_officer, clock)
    for variant in ("full", "preview"):
        assert a_browser.get(f"/staff/attachments/{photo}/{variant}").status_code == 404
    b_browser = sign_in(browser_at(app, client, B_HOST), world.b_officer, clock)
    assert b_browser.get(f"/staff/attachments/{photo}/full").status_code == 200
