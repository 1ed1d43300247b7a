"""Issue 13, point 6: staff accounts belong to their person.

The attack before: the admin who created an account typed its password and could see its
authenticator secret, so could sign in as that colleague. Now an account is created with a
one-time link (72 h) that its owner opens to choose the password and scan the authenticator;
the admin's pages never hold either. A reset is only a new link, audited, and the old password
and authenticator stop working the moment it is issued. Every link that does not work is the
same 404; the link never reaches the access log; its form needs the CSRF token.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pyotp
import pytest

from portal.kernel.sealing import decrypt
from portal.settings import Settings
from portal.staff import enrolment
from portal.staff.enrolment import LINK_LIFETIME, EnrolmentError, complete
from portal.tables.staff_enrolment import StaffEnrolment
from portal.tables.staff_user import StaffUser
from portal.web.access_log import RedactSecrets
from tests.conftest import csrf_token, html
from tests.security.helpers import Browser, RunDb, page_without_tokens
from tests.staff.helpers import (
    PASSWORD,
    Clock,
    Staff,
    audit_rows,
    default_office,
    make_staff,
    post_form,
    post_sign_in,
    secret_of,
    sign_in,
)

NEW_PASSWORD = "Suan-Dok-Mai-2569"


@pytest.fixture
def admin_staff(run_db: RunDb, settings: Settings) -> Staff:
    return make_staff(run_db, settings, "boss", role="admin")


def create_via_admin(admin: Browser, username: str) -> tuple[Any, str]:
    response = post_form(
        admin,
        "/staff/accounts",
        {"username": username, "display_name": "มาลี ใจดี", "role": "officer"},
        page="/staff/accounts",
    )
    assert response.status_code == 200, response.text
    link = html(response).select_one("[data-enrolment-link]")
    assert link is not None
    return response, link.get_text(strip=True)


def link_path(url: str) -> str:
    return url.removeprefix("http://testserver.local").removeprefix(
        "https://eservice.example.go.th"
    )


def enrol(browser: Browser, path: str, password: str, code: str, again: str = "") -> Any:
    token = csrf_token(browser, path)
    return browser.post(
        path,
        data={
            "password": password,
            "password_again": again or password,
            "code": code,
            "_csrf_token": token,
        },
        follow_redirects=False,
    )


def qr_secret(browser: Browser, path: str) -> str:
    page = html(browser.get(path))
    uri = page.select_one("[data-otpauth-uri]")
    assert uri is not None
    return secret_of(uri.get_text(strip=True))


def user_row(run_db: RunDb, username: str) -> dict[str, Any]:
    row: dict[str, Any] = run_db(
        lambda: StaffUser.select().where(StaffUser.username == username).first()
    )
    return row


def test_the_admin_who_creates_an_account_never_learns_its_password_or_secret(
    client: Browser,
    new_browser: Any,
    run_db: RunDb,
    settings: Settings,
    admin_staff: Staff,
    clock: Clock,
) -> None:
    admin = sign_in(new_browser(), admin_staff, clock)
    created, url = create_via_admin(admin, "malee")
    path = link_path(url)
    assert url.startswith(settings.base_url + "/staff/enrol/")
    form = html(admin.get("/staff/accounts")).select_one("form[action='/staff/accounts']")
    assert form is not None and form.select_one("input[type=password]") is None

    # Nothing the admin's browser got holds the authenticator secret; the account has none of
    # the admin's choosing and cannot be signed in to.
    secret = decrypt(
        settings.derive_key("staff-totp"), user_row(run_db, "malee")["totp_secret_encrypted"]
    )
    assert secret not in created.text and "otpauth://" not in created.text
    assert secret not in admin.get("/staff/accounts").text
    assert user_row(run_db, "malee")["password_hash"] == ""
    for password in ("", PASSWORD, "not-a-real-password-only-for-equal-timing"):
        code = pyotp.TOTP(secret).at(clock.now)
        assert post_sign_in(new_browser(), "malee", password, code).status_code == 422
    # Only a keyed hash of the token is stored.
    token = path.rsplit("/", 1)[1]
    rows = run_db(lambda: StaffEnrolment.select(StaffEnrolment.token_hash))
    assert token not in str(rows) and len(rows) == 2  # the admin's own (used) link and this

    # The colleague opens the link, chooses a password and scans the QR code: signed in.
    colleague = new_browser()
    own_secret = qr_secret(colleague, path)
    assert own_secret == secret
    done = enrol(colleague, path, NEW_PASSWORD, pyotp.TOTP(own_secret).at(clock.now))
    assert done.status_code == 303 and done.headers["location"] == "/staff"
    assert colleague.get("/staff", follow_redirects=False).status_code == 200
    (event,) = audit_rows(run_db, "staff_enrolled")[-1:]
    assert event["actor"] == "malee" and event["details"] == {"purpose": "enrol"}


def test_every_link_that_does_not_work_is_the_same_404(
    client: Browser, new_browser: Any, run_db: RunDb, settings: Settings, clock: Clock
) -> None:
    used = make_staff(run_db, settings, "used")
    pending = make_staff(run_db, settings, "pending", enrolled=False)
    revoked_token = pending.link_token
    newer = run_db(
        lambda: enrolment.issue_reset_link(
            office=default_office(),
            staff_id=pending.id,
            actor="test",
            client_ip="",
            key=settings.derive_key("staff-enrolment"),
            totp_key=settings.derive_key("staff-totp"),
        )
    )
    expiring = make_staff(run_db, settings, "expiring", enrolled=False)
    switched_off = make_staff(run_db, settings, "gone", enrolled=False)
    run_db(
        lambda: StaffUser.update({StaffUser.active: False}).where(StaffUser.id == switched_off.id)
    )
    working = new_browser().get(f"/staff/enrol/{newer.token}")
    assert working.status_code == 200
    clock.advance(LINK_LIFETIME.total_seconds() + 1)  # ``expiring`` (and the others) expire
    dead = {
        "used": used.link_token,
        "revoked": revoked_token,
        "expired": expiring.link_token,
        "account off": switched_off.link_token,
        "made up": "A" * 43,
        "wrong shape": "short",
        "one character off": newer.token[:-1] + ("A" if newer.token[-1] != "A" else "B"),
    }
    pages = {}
    for case, token in dead.items():
        browser = new_browser()
        response = browser.get(f"/staff/enrol/{token}")
        assert response.status_code == 404, case
        # The language switch links back to the page it is on: the token aside, one page.
        pages[case] = page_without_tokens(response).replace(token, "TOKEN")
        posted = browser.post(
            f"/staff/enrol/{token}",
            data={
                "password": NEW_PASSWORD,
                "password_again": NEW_PASSWORD,
                "code": "123456",
                "_csrf_token": csrf_token(browser, "/staff/sign-in"),
            },
            follow_redirects=False,
        )
        assert posted.status_code == 404, case
    assert len(set(pages.values())) == 1, pages.keys()


def test_the_link_works_once_even_when_submitted_twice_at_once(
    run_db: RunDb, settings: Settings, clock: Clock
) -> None:
    pending = make_staff(run_db, settings, "malee", enrolled=False)
    code = pyotp.TOTP(pending.secret).at(clock.now)

    async def twice() -> list[Any]:
        return list(
            await asyncio.gather(
                *(
                    complete(
                        office=default_office(),
                        token=pending.link_token,
                        password=password,
                        password_again=password,
                        code=code,
                        client_ip="test",
                        key=settings.derive_key("staff-enrolment"),
                        totp_key=settings.derive_key("staff-totp"),
                    )
                    for password in (NEW_PASSWORD, "Another-Pass-2569")
                ),
                return_exceptions=True,
            )
        )

    results = run_db(twice)
    failures = [r for r in results if isinstance(r, EnrolmentError)]
    assert len(failures) == 1 and failures[0].code == "not_found"
    assert len(audit_rows(run_db, "staff_enrolled")) == 1


def test_the_link_page_needs_the_csrf_token_and_keeps_the_password_policy(
    client: Browser, new_browser: Any, run_db: RunDb, settings: Settings, clock: Clock
) -> None:
    pending = make_staff(run_db, settings, "malee", enrolled=False)
    path = f"/staff/enrol/{pending.link_token}"
    code = pyotp.TOTP(pending.secret).at(clock.now)
    browser = new_browser()
    browser.get(path)
    forged = browser.post(
        path,
        data={"password": NEW_PASSWORD, "password_again": NEW_PASSWORD, "code": code},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    for password, again, typed, expected in (
        ("short", "short", code, "password"),
        ("password123", "password123", code, "password"),
        ("malee-2569-pass", "malee-2569-pass", code, "password"),
        (NEW_PASSWORD, NEW_PASSWORD + "x", code, "password_again"),
        (NEW_PASSWORD, NEW_PASSWORD, "000000" if code != "000000" else "111111", "code"),
    ):
        refused = enrol(browser, path, password, typed, again)
        assert refused.status_code == 422, (password, typed)
        summary = html(refused).select_one(".error-summary a")
        assert summary is not None and summary["href"] == f"#{expected}"
    assert user_row(run_db, "malee")["password_hash"] == ""
    assert enrol(browser, path, NEW_PASSWORD, code).status_code == 303


def test_a_reset_ends_the_old_password_authenticator_and_sessions_at_once(
    client: Browser,
    new_browser: Any,
    run_db: RunDb,
    settings: Settings,
    admin_staff: Staff,
    clock: Clock,
) -> None:
    officer = make_staff(run_db, settings, "somchai")
    admin = sign_in(new_browser(), admin_staff, clock)
    officer_browser = sign_in(new_browser(), officer, clock)
    reset = post_form(admin, f"/staff/accounts/{officer.id}/enrolment", {}, page="/staff/accounts")
    assert reset.status_code == 200
    link = html(reset).select_one("[data-enrolment-link]")
    assert link is not None
    # The officer's session has ended; the old password and authenticator no longer work.
    assert officer_browser.get("/staff", follow_redirects=False).status_code == 303
    clock.advance(30)
    old = post_sign_in(new_browser(), "somchai", officer.password, officer.next_code(clock))
    assert old.status_code == 422
    (event,) = audit_rows(run_db, "staff_enrolment_reset")
    assert event["actor"] == "boss" and event["details"]["username"] == "somchai"
    # The old link is dead, the new one works, with a new authenticator secret.
    assert new_browser().get(f"/staff/enrol/{officer.link_token}").status_code == 404
    path = link_path(link.get_text(strip=True))
    colleague = new_browser()
    secret = qr_secret(colleague, path)
    assert secret != officer.secret
    assert enrol(colleague, path, NEW_PASSWORD, pyotp.TOTP(secret).at(clock.now)).status_code == 303
    # An admin cannot reset themselves by this route (another admin or the command does it).
    mine = post_form(admin, f"/staff/accounts/{admin_staff.id}/enrolment", {}, page="/staff")
    assert mine.status_code == 422


def test_officers_cannot_issue_links(
    client: Browser, new_browser: Any, run_db: RunDb, settings: Settings, clock: Clock
) -> None:
    officer = make_staff(run_db, settings, "somchai")
    other = make_staff(run_db, settings, "malee")
    browser = sign_in(new_browser(), officer, clock)
    answer = post_form(browser, f"/staff/accounts/{other.id}/enrolment", {}, page="/staff")
    assert answer.status_code == 403
    assert audit_rows(run_db, "staff_enrolment_reset") == []


def test_changing_ones_own_password_ends_the_other_sessions(
    client: Browser, new_browser: Any, run_db: RunDb, settings: Settings, clock: Clock
) -> None:
    officer = make_staff(run_db, settings, "somchai")
    here = sign_in(new_browser(), officer, clock)
    elsewhere = sign_in(new_browser(), officer, clock)
    wrong = post_form(
        here,
        "/staff/password",
        {
            "current_password": "Wrong-Pass-999",
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
        page="/staff/password",
    )
    assert wrong.status_code == 422
    changed = post_form(
        here,
        "/staff/password",
        {
            "current_password": officer.password,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
        page="/staff/password",
    )
    assert changed.status_code == 303
    assert here.get("/staff", follow_redirects=False).status_code == 200
    assert elsewhere.get("/staff", follow_redirects=False).status_code == 303
    assert [e["actor"] for e in audit_rows(run_db, "password_changed")] == ["somchai"]
    clock.advance(30)
    old = post_sign_in(new_browser(), "somchai", officer.password, officer.next_code(clock))
    assert old.status_code == 422
    officer.password = NEW_PASSWORD
    sign_in(new_browser(), officer, clock)


def test_guessing_the_current_password_is_throttled_like_sign_in(
    client: Browser, new_browser: Any, run_db: RunDb, settings: Settings, clock: Clock
) -> None:
    officer = make_staff(run_db, settings, "somchai")
    browser = sign_in(new_browser(), officer, clock)
    clock.advance(1)  # after the sign-in, whose success starts the count again
    body = {
        "current_password": "Wrong-Pass-999",
        "new_password": NEW_PASSWORD,
        "new_password_again": NEW_PASSWORD,
    }
    answers = [
        post_form(browser, "/staff/password", body, page="/staff/password").status_code
        for _ in range(5)
    ]
    assert answers == [422, 422, 422, 429, 429]


def test_the_link_is_kept_out_of_the_access_log() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("203.0.113.5:1234", "GET", "/staff/enrol/abcDEF123_-xyz?x=1", "1.1", 200),
        None,
    )
    RedactSecrets().filter(record)
    assert record.args is not None
    assert record.args[2] == "/staff/enrol/[redacted]?x=[redacted]"


def test_links_expire_after_72_hours() -> None:
    assert timedelta(hours=72) == LINK_LIFETIME
