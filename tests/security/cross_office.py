"""Two offices side by side for the cross-office proof (``test_cross_office.py``): each with its
host name, services, staff, a citizen's requests (one with a file, a note, a status change) and
the rows those leave (SMS, audit), all made through the real routes where a person would.

Office A is the default office (id 1) given a host name; office B is made with
``tests/offices.py``. The same phone files at both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyotp
from litestar import Litestar
from litestar.testing import TestClient

from portal.kernel.offices import OfficeRef
from portal.settings import Settings
from portal.staff import enrolment
from portal.staff.accounts import create_account
from portal.tables.citizen_request import CitizenRequest
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.tables.reply_template import ReplyTemplate
from portal.tables.service import Service
from portal.tables.sms_message import SmsMessage
from portal.tables.staff_user import StaffUser
from portal.web.offices import offices_of
from tests.attachments.helpers import file_complaint, jpeg_with_gps, pending_ids, upload
from tests.citizen.helpers import GENERAL_REQUEST_ANSWERS, submit_form
from tests.conftest import RunDb, csrf_token, html
from tests.offices import add_host, create_office
from tests.security.helpers import phone
from tests.staff.helpers import PASSWORD, Clock, Staff, secret_of, sign_in, track_lookup

Browser = TestClient[Litestar]

A_HOST = "a.example.test"
B_HOST = "b.example.test"
CITIZEN = phone(40)
"""The one phone that files at both offices."""
B_OFFICE_PHONE = phone(41)
B_NAME = "เทศบาลตำบลบางบีทดสอบ"
B_SLUG = "b-only-complaint"
B_SERVICE_NAME = "เรื่องร้องเรียนเฉพาะบางบี"
B_FIRST_NAME = "บีบีลับเฉพาะ"
B_NOTE = "บันทึกภายในของบางบีเท่านั้น"
B_STATUS_NOTE = "บางบีรับเรื่องแล้ว"
A_FIRST_NAME = "เอเอทดสอบ"


@dataclass
class OfficeWorld:
    """One office as the walk needs it: who works there and the identifiers of its things."""

    ref: OfficeRef
    host: str
    officer: Staff
    admin: Staff
    number: str = ""
    tracking_token: str = ""
    attachment_id: int = 0
    slug: str = "general-request"
    service_id: int = 0
    template_id: int = 0
    enrol_token: str = ""
    enrol_secret: str = ""
    """A colleague's unused enrolment link and the authenticator secret its page shows."""

    @property
    def id(self) -> int:
        return self.ref.id


def browser_at(app: Litestar, client: Browser, host: str) -> Browser:
    """A new browser (own cookies) on ``host``, served by the app ``client`` runs."""
    browser: Browser = TestClient(app=app, base_url=f"http://{host}")
    browser.blocking_portal = client.blocking_portal
    return browser


def office_refs(app: Litestar, run_db: RunDb, *ids: int) -> list[OfficeRef]:
    """The offices as the app sees them now (its directory told to reload first)."""
    directory = offices_of(app)
    directory.forget()

    async def read() -> list[OfficeRef | None]:
        return [await directory.by_id(office_id) for office_id in ids]

    refs: list[OfficeRef | None] = run_db(read)
    found = [ref for ref in refs if ref is not None]
    assert len(found) == len(ids), ids
    return found


def make_offices(app: Litestar, run_db: RunDb) -> tuple[OfficeRef, OfficeRef]:
    """A: the default office on ``A_HOST``; B: a new office on ``B_HOST``."""
    run_db(lambda: add_host(DEFAULT_OFFICE_ID, A_HOST))
    b_id = run_db(
        lambda: create_office("bangb", name=B_NAME, hosts=(B_HOST,), phone=B_OFFICE_PHONE[0])
    )
    a, b = office_refs(app, run_db, DEFAULT_OFFICE_ID, b_id)
    return a, b


# Staff


def make_office_staff(
    run_db: RunDb,
    settings: Settings,
    office: OfficeRef,
    username: str,
    *,
    role: str = "officer",
    enrolled: bool = True,
    password: str = PASSWORD,
) -> Staff:
    """An account of ``office`` made and enrolled the way ``tests/staff/helpers.make_staff``
    does it for the default office."""
    enrol_key = settings.derive_key("staff-enrolment")
    totp_key = settings.derive_key("staff-totp")

    async def create() -> Staff:
        created = await create_account(
            office=office,
            username=username,
            role=role,
            display_name=username.title(),
            actor="test",
            enrolment_key=enrol_key,
            totp_key=totp_key,
        )
        staff_id, token = int(created.account.id), created.link.token
        page = await enrolment.link_page(
            office=office, token=token, key=enrol_key, totp_key=totp_key
        )
        assert page is not None
        secret = secret_of(page.otpauth_uri)
        if enrolled:
            await enrolment.complete(
                office=office,
                token=token,
                password=password,
                password_again=password,
                code=pyotp.TOTP(secret).at(enrolment.utcnow()),
                client_ip="test",
                key=enrol_key,
                totp_key=totp_key,
            )
            await StaffUser.update({StaffUser.totp_last_step: 0}).where(StaffUser.id == staff_id)
        return Staff(staff_id, username, role, secret, page.otpauth_uri, password, token)

    staff: Staff = run_db(create)
    return staff


# Citizens


def latest_code_at(run_db: RunDb, office_id: int, e164: str) -> str:
    """The newest OTP code sent to ``e164`` by ``office_id`` (its own SMS row)."""
    row = run_db(
        lambda: (
            SmsMessage.select(SmsMessage.text)
            .where(
                (SmsMessage.to_phone == e164)
                & (SmsMessage.purpose == "otp")
                & (SmsMessage.office == office_id)
            )
            .order_by(SmsMessage.id, ascending=False)
            .first()
        )
    )
    assert row is not None, f"no OTP SMS of office {office_id} for {e164}"
    return next(str(w) for w in str(row["text"]).split() if w.isdigit() and len(w) == 6)


def verify_at(browser: Browser, run_db: RunDb, office_id: int, service: str) -> None:
    """Prove ``CITIZEN`` to file ``service`` at the browser's office."""
    token = csrf_token(browser, f"/e-service/{service}/phone")
    sent = browser.post(
        f"/e-service/{service}/phone",
        data={"phone": CITIZEN[0], "_csrf_token": token},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    code = latest_code_at(run_db, office_id, CITIZEN[1])
    token = csrf_token(browser, f"/e-service/{service}/verify")
    entered = browser.post(
        f"/e-service/{service}/verify",
        data={"code": code, "_csrf_token": token},
        follow_redirects=False,
    )
    assert entered.status_code == 303, entered.text


def track_verify_at(browser: Browser, run_db: RunDb, office_id: int) -> None:
    """Way 2 of tracking for ``CITIZEN`` at the browser's office."""
    assert track_lookup(browser, CITIZEN[0]).status_code == 303
    code = latest_code_at(run_db, office_id, CITIZEN[1])
    token = csrf_token(browser, "/track/verify")
    answer = browser.post(
        "/track/verify", data={"code": code, "_csrf_token": token}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text


def file_general(browser: Browser, run_db: RunDb, office_id: int, first_name: str) -> str:
    verify_at(browser, run_db, office_id, "general-request")
    answers = {**GENERAL_REQUEST_ANSWERS, "first_name": first_name}
    response = submit_form(browser, answers)
    assert response.status_code == 303, response.text
    return str(response.headers["location"]).rsplit("/", 1)[1]


def file_with_photo(browser: Browser, run_db: RunDb, office_id: int) -> tuple[str, int]:
    """A complaint with a photo: (number, the attachment's id)."""
    verify_at(browser, run_db, office_id, "complaint")
    field = html(browser.get("/e-service/complaint/form")).select_one("input[name=submission_key]")
    assert field is not None
    key = str(field["value"])
    ids = pending_ids(upload(browser, key, jpeg_with_gps()))
    assert ids, "the photo was not taken"
    response = file_complaint(browser, key, attachment_ids=ids, first_name=B_FIRST_NAME)
    assert response.status_code == 303, response.text
    return str(response.headers["location"]).rsplit("/", 1)[1], ids[-1]


# Staff work


def staff_post(browser: Browser, path: str, data: dict[str, str]) -> Any:
    token = csrf_token(browser, "/staff")
    return browser.post(path, data={**data, "_csrf_token": token}, follow_redirects=False)


def work_the_request(browser: Browser, number: str) -> None:
    """B's officer leaves an internal note and moves the request on (SMS, events, audit)."""
    noted = staff_post(browser, f"/staff/requests/{number}/notes", {"text": B_NOTE})
    assert noted.status_code == 303, noted.text
    moved = staff_post(
        browser,
        f"/staff/requests/{number}/status",
        {"status": "in_progress", "note": B_STATUS_NOTE},
    )
    assert moved.status_code == 303, moved.text


# The two offices


def build_office_a(
    app: Litestar,
    client: Browser,
    run_db: RunDb,
    settings: Settings,
    clock: Clock,
    a: OfficeRef,
) -> tuple[OfficeWorld, Browser, Browser, Browser]:
    """A's staff signed in, and ``CITIZEN`` filing and tracking at A: (world, officer,
    admin, citizen) browsers, all on ``A_HOST``."""
    world = OfficeWorld(
        a,
        A_HOST,
        make_office_staff(run_db, settings, a, "aofficer"),
        make_office_staff(run_db, settings, a, "aadmin", role="admin"),
    )
    citizen = browser_at(app, client, A_HOST)
    world.number = file_general(citizen, run_db, a.id, A_FIRST_NAME)
    track_verify_at(citizen, run_db, a.id)
    officer = sign_in(browser_at(app, client, A_HOST), world.officer, clock)
    admin = sign_in(browser_at(app, client, A_HOST), world.admin, clock)
    return world, officer, admin, citizen


def build_office_b(
    app: Litestar,
    client: Browser,
    run_db: RunDb,
    settings: Settings,
    clock: Clock,
    b: OfficeRef,
) -> OfficeWorld:
    """B with a request of every kind of thing: file, note, status change, SMS, audit rows, a
    service and template of its own, and a colleague's unused enrolment link."""
    world = OfficeWorld(
        b,
        B_HOST,
        make_office_staff(run_db, settings, b, "bofficer"),
        make_office_staff(run_db, settings, b, "badmin", role="admin"),
    )
    newbie = make_office_staff(run_db, settings, b, "bnewbie", enrolled=False)
    world.enrol_token, world.enrol_secret = newbie.link_token, newbie.secret
    citizen = browser_at(app, client, B_HOST)
    # A first request, so that the one whose identifiers are used has a number A never had.
    file_general(citizen, run_db, b.id, B_FIRST_NAME)
    world.number, world.attachment_id = file_with_photo(citizen, run_db, b.id)
    work_the_request(sign_in(browser_at(app, client, B_HOST), world.officer, clock), world.number)
    run_db(lambda: _b_identifiers(world))
    return world


async def _b_identifiers(world: OfficeWorld) -> None:
    """B's request's token, and a service (renamed so no office A slug matches) and template."""
    request = await (
        CitizenRequest.select(CitizenRequest.tracking_token, CitizenRequest.service)
        .where((CitizenRequest.number == world.number) & (CitizenRequest.office == world.id))
        .first()
    )
    assert request is not None, world.number
    world.tracking_token = str(request["tracking_token"])
    world.service_id = int(request["service"])
    await Service.update({Service.slug: B_SLUG, Service.name: B_SERVICE_NAME}).where(
        (Service.id == world.service_id) & (Service.office == world.id)
    )
    world.slug = B_SLUG
    template = await (
        ReplyTemplate.select(ReplyTemplate.id)
        .where(ReplyTemplate.office == world.id)
        .order_by(ReplyTemplate.id)
        .first()
    )
    assert template is not None, "office B has no reply templates"
    world.template_id = int(template["id"])
