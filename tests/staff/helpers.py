"""Building blocks for back-office tests: staff accounts, authenticator codes, sign-in through
the real routes, and requests filed the way citizens file them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pyotp
from litestar import Litestar
from litestar.testing import TestClient

from portal.catalogue.service import get_active_service
from portal.citizen.service import FiledRequest, file_request
from portal.kernel.offices import OfficeDirectory, OfficeRef
from portal.settings import Settings
from portal.sms.outbox import SmsConfig
from portal.staff import enrolment
from portal.staff.accounts import StaffAccount, create_account, find_account, username_of
from portal.tables.audit_event import AuditEvent
from portal.tables.citizen_request import CitizenRequest
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.tables.reply_template import ReplyTemplate
from portal.tables.staff_enrolment import StaffEnrolment
from portal.tables.staff_note import StaffNote
from portal.tables.staff_sign_in_attempt import StaffSignInAttempt
from portal.tables.staff_user import StaffRole, StaffUser
from tests.citizen.helpers import (
    GENERAL_REQUEST_ANSWERS,
    new_submission_key,
    submit_form,
    verify_phone,
)
from tests.conftest import RunDb, csrf_token, filing_vault, fresh, html

ON_POSTGRES = os.environ.get("PORTAL_TEST_DATABASE_URL", "").startswith("postgres")

Browser = TestClient[Litestar]

BASE_URL = "https://eservice.example.go.th"
SMS = SmsConfig("OSS-LOCAL", "outbox")
STEP = 30
PASSWORD = "Tham-Ngan-2567!"
"""Passes the policy and contains none of the usernames used in these tests."""


async def office_ref(settings: Settings, office_id: int = DEFAULT_OFFICE_ID) -> OfficeRef:
    """The office as the portal sees it (settings filled in), read afresh from the database."""
    found = await OfficeDirectory(settings).by_id(office_id)
    assert found is not None, office_id
    return found


def default_office(settings: Settings | None = None) -> OfficeRef:
    """The default office (id 1) in a fresh event loop; ``settings`` None: the test settings'
    own defaults (what ``file_direct`` and most services need from it)."""
    if settings is None:
        return OfficeRef(
            id=DEFAULT_OFFICE_ID,
            slug="default",
            name="",
            base_url=BASE_URL,
            sms_link_base=BASE_URL,
        )
    return fresh(office_ref(settings))


async def empty_staff_tables() -> None:
    """The shared ``database`` fixture empties requests and messages; these are ours."""
    for table in (StaffNote, AuditEvent, StaffSignInAttempt, ReplyTemplate, StaffEnrolment):
        await table.delete(force=True)
    await CitizenRequest.update({CitizenRequest.assigned_to: None}, force=True)
    await StaffUser.delete(force=True)


class Clock:
    """The time ``portal.staff.sign_in`` sees: fixed, so that authenticator steps never roll
    over in the middle of a test."""

    def __init__(self) -> None:
        now = datetime.now(UTC).timestamp()
        self.now = datetime.fromtimestamp((int(now) // STEP) * STEP + STEP // 2, UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    @property
    def step(self) -> int:
        return int(self.now.timestamp()) // STEP


@dataclass
class Staff:
    id: int
    username: str
    role: str
    secret: str
    otpauth_uri: str
    password: str = PASSWORD
    link_token: str = ""
    """The enrolment link's token (already used unless made with ``enrolled=False``)."""
    last_step: int = 0
    sign_ins: list[int] = field(default_factory=list)

    def code_at_step(self, step: int) -> str:
        return pyotp.TOTP(self.secret).generate_otp(step)

    def wrong_code(self, clock: Clock) -> str:
        """Six digits the server would refuse now: no accepted step has them."""
        accepted = {self.code_at_step(clock.step + d) for d in (-1, 0, 1)}
        return next(c for c in ("000000", "111111", "222222") if c not in accepted)

    def next_code(self, clock: Clock) -> str:
        """A code the server has not seen yet: the earliest unused step it still accepts."""
        step = max(self.last_step + 1, clock.step - 1)
        assert step <= clock.step + 1, "no unused step left: advance the clock"
        self.last_step = step
        return self.code_at_step(step)


def secret_of(otpauth_uri: str) -> str:
    secret = pyotp.parse_uri(otpauth_uri).secret
    assert parse_qs(urlparse(otpauth_uri).query)["secret"] == [secret]
    return str(secret)


def make_staff(
    run_db: RunDb,
    settings: Settings,
    username: str = "somchai",
    *,
    role: str = "officer",
    display_name: str = "",
    enrolled: bool = True,
    password: str = PASSWORD,
    office_id: int = DEFAULT_OFFICE_ID,
) -> Staff:
    """An account of ``office_id`` made the way an admin makes one, then enrolled the way
    its owner enrols: the real link service with ``password`` and a code from the link page's
    QR secret. ``enrolled=False`` stops at the link (``Staff.link_token``), nobody can sign in
    yet."""

    async def create() -> Staff:
        office = await office_ref(settings, office_id)
        created = await create_account(
            office=office,
            username=username,
            role=role,
            display_name=display_name or username.title(),
            actor="test",
            enrolment_key=settings.derive_key("staff-enrolment"),
            totp_key=settings.derive_key("staff-totp"),
            grantable=tuple(StaffRole),  # as the portal command may (platform_admin too)
        )
        token = created.link.token
        page = await enrolment.link_page(
            office=office,
            token=token,
            key=settings.derive_key("staff-enrolment"),
            totp_key=settings.derive_key("staff-totp"),
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
                key=settings.derive_key("staff-enrolment"),
                totp_key=settings.derive_key("staff-totp"),
            )
            # Enrolment used the code of the current step; tests sign in on a fixed clock
            # and count on every step it accepts, so hand that one back.
            await StaffUser.update({StaffUser.totp_last_step: 0}).where(
                StaffUser.id == created.account.id
            )
        return Staff(
            id=created.account.id,
            username=created.account.username,
            role=role,
            secret=secret,
            otpauth_uri=page.otpauth_uri,
            password=password,
            link_token=token,
        )

    staff: Staff = run_db(create)
    return staff


def post_sign_in(browser: Browser, username: str, password: str, code: str) -> Any:
    token = csrf_token(browser, "/staff/sign-in")
    return browser.post(
        "/staff/sign-in",
        data={"username": username, "password": password, "code": code, "_csrf_token": token},
        follow_redirects=False,
    )


def sign_in(browser: Browser, staff: Staff, clock: Clock) -> Browser:
    response = post_sign_in(browser, staff.username, staff.password, staff.next_code(clock))
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/staff"
    return browser


def post_form(browser: Browser, path: str, data: dict[str, str], *, page: str = "") -> Any:
    """POST like the page's own form does: with the CSRF token the page carries."""
    token = csrf_token(browser, page or "/staff/sign-in")
    return browser.post(path, data={**data, "_csrf_token": token}, follow_redirects=False)


def error_text(response: Any) -> str:
    summary = html(response).select_one(".error-summary p")
    assert summary is not None, response.text
    return summary.get_text(" ", strip=True)


def file_via_routes(
    browser: Browser, run_db: RunDb, phone: str, answers: dict[str, str] | None = None
) -> str:
    """A citizen's journey: prove the phone by OTP, send the form; returns the number."""
    e164 = "+66" + phone.removeprefix("0")
    verify_phone(browser, run_db, phone, e164)
    response = submit_form(browser, answers or GENERAL_REQUEST_ANSWERS)
    assert response.status_code == 303, response.text
    number: str = response.headers["location"].rsplit("/", 1)[1]
    return number


def file_direct(
    run_db: RunDb | None,
    e164: str,
    answers: dict[str, str] | None = None,
    service_slug: str = "general-request",
    office: OfficeRef | None = None,
) -> FiledRequest:
    """File through the citizen service itself (no OTP), for tests that need many requests,
    at ``office`` (None: the default office). ``run_db`` None runs it in a fresh event loop."""
    at = office or default_office()

    async def go() -> FiledRequest:
        service = await get_active_service(service_slug, office=at)
        assert service is not None
        return await file_request(
            office=at,
            service=service,
            phone=e164,
            answers=answers or GENERAL_REQUEST_ANSWERS,
            submission_key=new_submission_key(),
            sms=SMS.for_office(at),
            vault=filing_vault(),
        )

    if run_db is None:
        return fresh(go)
    filed: FiledRequest = run_db(go)
    return filed


def backdate(run_db: RunDb, number: str, when: datetime) -> None:
    run_db(
        lambda: CitizenRequest.update({CitizenRequest.created_at: when}).where(
            CitizenRequest.number == number
        )
    )


def audit_rows(run_db: RunDb, action: str | None = None) -> list[dict[str, Any]]:
    import json

    async def read() -> list[dict[str, Any]]:
        query = AuditEvent.select(
            AuditEvent.all_columns(), AuditEvent.request.number.as_alias("number")
        ).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        rows: list[dict[str, Any]] = await query
        for row in rows:
            if isinstance(row["details"], str):
                row["details"] = json.loads(row["details"])
        return rows

    rows: list[dict[str, Any]] = run_db(read)
    return rows


def track_lookup(browser: Browser, phone: str) -> Any:
    token = csrf_token(browser, "/track")
    return browser.post(
        "/track", data={"phone": phone, "number": "", "_csrf_token": token}, follow_redirects=False
    )


def track_verify(browser: Browser, run_db: RunDb, phone: str) -> Any:
    """Way 2 of tracking: prove ``phone`` (national form) by OTP; returns the code answer."""
    from tests.citizen.helpers import latest_code

    assert track_lookup(browser, phone).status_code == 303
    code = latest_code(run_db, "+66" + phone.removeprefix("0"))
    token = csrf_token(browser, "/track/verify")
    return browser.post(
        "/track/verify", data={"code": code, "_csrf_token": token}, follow_redirects=False
    )


def tracking_token(run_db: RunDb, number: str) -> str:
    row = run_db(
        lambda: (
            CitizenRequest.select(CitizenRequest.tracking_token)
            .where(CitizenRequest.number == number)
            .first()
        )
    )
    return str(row["tracking_token"])


async def get_account(staff_id: int, office: OfficeRef | None = None) -> StaffAccount | None:
    """One account of ``office`` (None: the default one) by id (the product looks accounts up
    by sign-in name only)."""
    at = office or default_office()
    username = await username_of(staff_id, office=at)
    return await find_account(username, office=at) if username is not None else None
