"""Signing in and out at /staff through the real routes: the same answer for every kind of
wrong, codes used once, enrolment through the one-time link, throttling, session rotation,
sign-out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig
from litestar.testing import TestClient

from portal.app import SESSION_COOKIE
from portal.settings import Settings
from portal.tables.staff_sign_in_attempt import StaffSignInAttempt
from portal.tables.staff_user import StaffUser
from tests.citizen.helpers import verify_phone
from tests.conftest import html
from tests.staff.helpers import (
    PASSWORD,
    Clock,
    RunDb,
    Staff,
    audit_rows,
    error_text,
    make_staff,
    post_form,
    post_sign_in,
    sign_in,
)

GENERIC_REFUSAL = "ชื่อผู้ใช้ รหัสผ่าน หรือรหัสจากแอปยืนยันตัวตนไม่ถูกต้อง"
CITIZEN_PHONE = ("0800000300", "+66800000300")


@pytest.fixture
def officer(run_db: RunDb, settings: Settings) -> Staff:
    return make_staff(run_db, settings, "somchai")


def session_of(browser: TestClient[Litestar], settings: Settings) -> dict[str, Any]:
    """Decrypt the browser's session cookie the way the app does."""
    backend = ClientSideSessionBackend(
        config=CookieBackendConfig(secret=settings.derive_key("session-cookie"), key=SESSION_COOKIE)
    )
    names = sorted(
        name
        for name in browser.cookies
        if name == SESSION_COOKIE or name.startswith(f"{SESSION_COOKIE}-")
    )
    if not names:
        return {}
    data: dict[str, Any] = backend.load_data([browser.cookies[n].encode() for n in names])
    return data


def session_cookie(browser: TestClient[Litestar]) -> str | None:
    return browser.cookies.get(SESSION_COOKIE)


def goes_to_sign_in(response: Any) -> bool:
    return response.status_code == 303 and response.headers["location"] == "/staff/sign-in"


def test_sign_in_page_asks_for_username_password_and_code(
    client: TestClient[Litestar],
) -> None:
    response = client.get("/staff/sign-in")
    assert response.status_code == 200
    page = html(response)
    assert page.select_one("h1").get_text(strip=True) == "เข้าสู่ระบบเจ้าหน้าที่"
    form = page.select_one("form[action='/staff/sign-in']")
    assert form is not None and form["method"] == "post"
    names = {field["name"] for field in form.select("input")}
    assert names == {"_csrf_token", "username", "password", "code"}
    assert form.select_one("input[name=password]")["type"] == "password"
    assert page.select_one(".error-summary") is None


def test_right_password_and_code_sign_in_to_the_inbox(
    client: TestClient[Litestar], run_db: RunDb, officer: Staff, clock: Clock
) -> None:
    response = post_sign_in(client, "somchai", officer.password, officer.next_code(clock))
    assert response.status_code == 303
    assert response.headers["location"] == "/staff"
    inbox = client.get("/staff", follow_redirects=False)
    assert inbox.status_code == 200
    assert html(inbox).select_one("h1").get_text(strip=True) == "กล่องคำร้อง"
    (row,) = audit_rows(run_db, "sign_in")
    assert row["actor"] == "somchai"
    assert row["client_ip"] == "testclient"
    tries = run_db(lambda: StaffSignInAttempt.select().where(StaffSignInAttempt.succeeded.eq(True)))
    assert [(t["username"], t["client_ip"]) for t in tries] == [("somchai", "testclient")]


def test_every_kind_of_wrong_gets_the_same_page_and_no_hint(
    client: TestClient[Litestar], run_db: RunDb, officer: Staff, clock: Clock, settings: Settings
) -> None:
    good_code = officer.next_code(clock)
    wrong_code = officer.wrong_code(clock)
    responses = {
        "wrong password": post_sign_in(client, "somchai", "Wrong-Pass-999", good_code),
        "wrong code": post_sign_in(client, "somchai", officer.password, wrong_code),
        "unknown username": post_sign_in(client, "nobody", officer.password, good_code),
    }
    texts = {case: error_text(response) for case, response in responses.items()}
    assert set(texts.values()) == {GENERIC_REFUSAL}, texts
    for case, response in responses.items():
        assert response.status_code == 422, case
        page = html(response)
        assert page.title.get_text(strip=True).startswith("ผิดพลาด: "), case
        assert page.select_one("input[name=password]").get("value") in (None, ""), case
        assert page.select_one("input[name=code]").get("value") in (None, ""), case
        assert "staff" not in session_of(client, settings), case

    # For the same username the two pages are the same page, token aside.
    def without_token(response: Any) -> str:
        page = html(response)
        for field in page.select("input[name=_csrf_token]"):
            field.decompose()
        return str(page.select_one("main"))

    assert without_token(responses["wrong password"]) == without_token(responses["wrong code"])
    assert client.get("/staff", follow_redirects=False).status_code == 303
    assert audit_rows(run_db, "sign_in") == []


def test_a_code_is_refused_the_second_time_even_after_signing_out(
    client: TestClient[Litestar],
    new_browser: Any,
    run_db: RunDb,
    officer: Staff,
    clock: Clock,
    settings: Settings,
) -> None:
    code = officer.next_code(clock)
    assert post_sign_in(client, "somchai", officer.password, code).status_code == 303
    assert goes_to_sign_in(post_form(client, "/staff/sign-out", {}, page="/staff"))
    again = post_sign_in(client, "somchai", officer.password, code)
    assert again.status_code == 422
    assert error_text(again) == GENERIC_REFUSAL
    # Nor on another device (someone who saw it over a shoulder).
    elsewhere = post_sign_in(new_browser(), "somchai", officer.password, code)
    assert elsewhere.status_code == 422
    assert len(audit_rows(run_db, "sign_in")) == 1
    # The next code works.
    sign_in(client, officer, clock)


def test_the_link_page_shows_the_account_its_qr_code_and_one_form(
    client: TestClient[Litestar], run_db: RunDb, settings: Settings, clock: Clock
) -> None:
    newcomer = make_staff(run_db, settings, "malee", enrolled=False)
    path = f"/staff/enrol/{newcomer.link_token}"
    enrol = client.get(path, follow_redirects=False)
    assert enrol.status_code == 200
    page = html(enrol)
    assert page.select_one("h1").get_text(strip=True) == "ตั้งรหัสผ่านและแอปยืนยันตัวตน"
    assert page.select_one("[data-enrol-username]").get_text(strip=True) == "malee"
    svg = page.select_one("figure.qr svg")
    assert svg is not None
    assert svg.select("path, rect"), "the QR code has no modules"
    assert page.select_one("figure.qr img") is None  # inline: no request for an image
    assert page.select_one("[data-otpauth-uri]").get_text(strip=True) == newcomer.otpauth_uri
    form = page.select_one(f"form[action='{path}']")
    assert form is not None and form["method"] == "post"
    fields = {field["name"]: field.get("type", "text") for field in form.select("input")}
    assert fields == {
        "_csrf_token": "hidden",
        "username": "text",
        "password": "password",
        "password_again": "password",
        "code": "text",
    }
    # Half-way is not signed in.
    assert goes_to_sign_in(client.get("/staff", follow_redirects=False))


def test_enrolling_through_the_link_signs_in_and_later_sign_ins_need_a_code(
    client: TestClient[Litestar], run_db: RunDb, settings: Settings, clock: Clock
) -> None:
    newcomer = make_staff(run_db, settings, "malee", enrolled=False)
    path = f"/staff/enrol/{newcomer.link_token}"
    wrong = post_form(
        client,
        path,
        {"password": PASSWORD, "password_again": PASSWORD, "code": newcomer.wrong_code(clock)},
        page=path,
    )
    assert wrong.status_code == 422
    assert html(wrong).select_one("figure.qr svg") is not None
    assert page_title(wrong).startswith("ผิดพลาด: ")
    assert html(wrong).select_one("input[name=password]").get("value") in (None, "")
    done = post_form(
        client,
        path,
        {"password": PASSWORD, "password_again": PASSWORD, "code": newcomer.next_code(clock)},
        page=path,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/staff"
    assert client.get("/staff", follow_redirects=False).status_code == 200
    assert run_db(
        lambda: StaffUser.select(StaffUser.totp_enrolled).where(StaffUser.id == newcomer.id).first()
    ) == {"totp_enrolled": True}
    assert [row["actor"] for row in audit_rows(run_db, "staff_enrolled")] == ["malee"]
    # The link is spent; from now on the code is asked for at every sign-in.
    post_form(client, "/staff/sign-out", {}, page="/staff")
    assert client.get(path, follow_redirects=False).status_code == 404
    assert post_sign_in(client, "malee", PASSWORD, "").status_code == 422
    sign_in(client, newcomer, clock)


def test_the_old_enrolment_address_without_a_link_is_gone(
    client: TestClient[Litestar],
) -> None:
    assert client.get("/staff/enrol", follow_redirects=False).status_code == 404


def page_title(response: Any) -> str:
    return str(html(response).title.get_text(strip=True))


@pytest.mark.parametrize("username", ["somchai", "nobody"])
def test_after_three_failures_the_fourth_try_answers_429_with_retry_after(
    client: TestClient[Litestar], officer: Staff, clock: Clock, username: str
) -> None:
    for _ in range(3):
        assert post_sign_in(client, username, "Wrong-Pass-999", "000000").status_code == 422
    response = post_sign_in(client, username, officer.password, officer.next_code(clock))
    assert response.status_code == 429
    retry_after = int(response.headers["retry-after"])
    assert 0 < retry_after <= 60
    assert error_text(response) == f"ลองเข้าสู่ระบบผิดหลายครั้ง กรุณารอ {retry_after} วินาทีแล้วลองใหม่"
    assert goes_to_sign_in(client.get("/staff", follow_redirects=False))


def test_known_and_unknown_usernames_are_throttled_with_the_same_page(
    client: TestClient[Litestar], new_browser: Any, run_db: RunDb, officer: Staff, clock: Clock
) -> None:
    pages = {}
    for username in ("somchai", "nobody"):
        run_db(lambda: StaffSignInAttempt.delete(force=True))
        for _ in range(3):
            post_sign_in(client, username, "Wrong-Pass-999", "000000")
        response = post_sign_in(client, username, "Wrong-Pass-999", "000000")
        assert response.status_code == 429
        pages[username] = (response.headers["retry-after"], error_text(response))
    assert pages["somchai"] == pages["nobody"]


def test_sign_in_rotates_the_session_and_drops_citizen_state(
    client: TestClient[Litestar], run_db: RunDb, officer: Staff, clock: Clock, settings: Settings
) -> None:
    verify_phone(client, run_db, *CITIZEN_PHONE)
    before_cookie = session_cookie(client)
    before = session_of(client, settings)
    assert "verified:submit" in before
    assert "browser" in before

    sign_in(client, officer, clock)
    after_cookie = session_cookie(client)
    after = session_of(client, settings)
    assert after_cookie is not None and after_cookie != before_cookie
    assert list(after) == ["staff"]
    assert after["staff"]["id"] == officer.id
    # The citizen's verified phone is gone: the form asks for the phone again.
    form = client.get("/e-service/general-request/form", follow_redirects=False)
    assert form.status_code == 303
    assert form.headers["location"].startswith("/e-service/general-request/phone")


def test_a_signed_in_officer_visiting_the_sign_in_page_goes_to_the_inbox(
    client: TestClient[Litestar], officer: Staff, clock: Clock
) -> None:
    sign_in(client, officer, clock)
    response = client.get("/staff/sign-in", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/staff"


def test_sign_out_ends_the_session(
    client: TestClient[Litestar], officer: Staff, clock: Clock, settings: Settings
) -> None:
    sign_in(client, officer, clock)
    assert client.get("/staff", follow_redirects=False).status_code == 200
    response = post_form(client, "/staff/sign-out", {}, page="/staff")
    assert goes_to_sign_in(response)
    assert "staff" not in session_of(client, settings)
    assert goes_to_sign_in(client.get("/staff", follow_redirects=False))
    assert goes_to_sign_in(post_form(client, "/staff/export.csv", {}))


def test_a_cookie_copied_before_sign_out_no_longer_opens_the_back_office(
    client: TestClient[Litestar], new_browser: Any, officer: Staff, clock: Clock
) -> None:
    sign_in(client, officer, clock)
    copied = session_cookie(client)
    assert copied is not None
    post_form(client, "/staff/sign-out", {}, page="/staff")
    thief = new_browser()
    thief.cookies.set(SESSION_COOKIE, copied)
    assert goes_to_sign_in(thief.get("/staff", follow_redirects=False))


def test_sign_out_needs_the_csrf_token(
    client: TestClient[Litestar], officer: Staff, clock: Clock
) -> None:
    sign_in(client, officer, clock)
    assert client.post("/staff/sign-out", follow_redirects=False).status_code == 403
    assert client.get("/staff", follow_redirects=False).status_code == 200


def test_the_idle_limit_applies_through_the_routes(
    client: TestClient[Litestar],
    officer: Staff,
    clock: Clock,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sign_in(client, officer, clock)
    since = session_of(client, settings)["staff"]["seen"]
    later = datetime.fromtimestamp(since, UTC) + timedelta(minutes=31)
    monkeypatch.setattr("portal.staff.guards.utcnow", lambda: later)
    assert goes_to_sign_in(client.get("/staff", follow_redirects=False))
