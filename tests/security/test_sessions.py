"""Session fixation and replayed codes.

The session is a signed, encrypted cookie: nothing about a browser is kept on the server except
what codes are bound to (a hash of the session's random ``browser`` id). Fixation therefore
means: an attacker plants a cookie they hold a copy of into a victim's browser, waits for the
victim to prove their phone or sign in, and uses the copy. Every step that raises privilege
must leave that copy worthless: the cookie changes and the copy opens nothing.

Already proved elsewhere: staff sign-in replaces the whole session and drops citizen state,
and a copied staff cookie dies at sign-out (``tests/staff/test_auth_routes.py``); an
authenticator code is refused the second time, also on another device (same file); a citizen
code works only in the browser that asked for it (``tests/citizen/test_verify_routes.py``).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from litestar import Litestar
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig

from portal.app import SESSION_COOKIE
from portal.settings import Settings
from portal.tables.otp_challenge import OtpChallenge
from tests.citizen.helpers import enter_code, latest_code, send_code
from tests.conftest import csrf_token, html
from tests.security.helpers import Browser, RunDb, browser_from, phone
from tests.staff.helpers import (
    Clock,
    file_via_routes,
    make_staff,
    post_sign_in,
    track_lookup,
    track_verify,
)

VICTIM = phone(40)


def session_data(browser: Browser, settings: Settings) -> dict[str, Any]:
    backend = ClientSideSessionBackend(
        config=CookieBackendConfig(secret=settings.derive_key("session-cookie"), key=SESSION_COOKIE)
    )
    value = browser.cookies.get(SESSION_COOKIE)
    assert value is not None
    data: dict[str, Any] = backend.load_data([value.encode()])
    return data


def set_session(browser: Browser, value: str) -> None:
    browser.cookies.delete(SESSION_COOKIE)
    browser.cookies.set(SESSION_COOKIE, value, domain="testserver.local")


def plant(attacker: Browser, victim: Browser) -> str:
    """Copy the attacker's session cookie into the victim's browser; returns the copy."""
    copied = attacker.cookies.get(SESSION_COOKIE)
    assert copied is not None
    set_session(victim, copied)
    return copied


def test_a_planted_session_is_worthless_after_the_victim_proves_their_phone(
    client: Browser, new_browser: Any, run_db: RunDb, settings: Settings
) -> None:
    attacker, victim = new_browser(), new_browser()
    csrf_token(attacker, "/e-service/general-request/phone")
    assert send_code(attacker, phone(41)[0]).status_code == 303  # a session with a browser id
    copied = plant(attacker, victim)
    planted_browser = session_data(victim, settings)["browser"]

    assert send_code(victim, VICTIM[0]).status_code == 303
    assert enter_code(victim, latest_code(run_db, VICTIM[1])).status_code == 303
    assert victim.cookies.get(SESSION_COOKIE) != copied
    assert session_data(victim, settings)["browser"] != planted_browser
    assert victim.get("/e-service/general-request/form", follow_redirects=False).status_code == 200

    # The attacker, holding the cookie from before, has nothing.
    set_session(attacker, copied)
    response = attacker.get("/e-service/general-request/form", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/e-service/general-request/phone")


def test_a_planted_session_is_worthless_after_the_victim_proves_their_phone_for_tracking(
    client: Browser, new_browser: Any, run_db: RunDb, settings: Settings
) -> None:
    file_via_routes(new_browser(), run_db, VICTIM[0])
    attacker, victim = new_browser(), new_browser()
    assert track_lookup(attacker, phone(41)[0]).status_code == 303
    copied = plant(attacker, victim)
    assert track_verify(victim, run_db, VICTIM[0]).status_code == 303
    assert victim.cookies.get(SESSION_COOKIE) != copied
    assert victim.get("/track/requests", follow_redirects=False).status_code == 200

    set_session(attacker, copied)
    page = attacker.get("/track/requests", follow_redirects=False)
    assert page.status_code == 200
    assert "data-request-number" not in page.text
    # The page's words, not its markup: a random CSRF token may hold any four digits.
    assert VICTIM[0][-4:] not in html(page).get_text()


def test_a_planted_session_is_worthless_after_the_victim_signs_in_to_the_back_office(
    client: Browser, new_browser: Any, run_db: RunDb, settings: Settings, clock: Clock
) -> None:
    officer = make_staff(run_db, settings, "somchai")
    attacker, victim = new_browser(), new_browser()
    assert send_code(attacker, phone(41)[0]).status_code == 303
    copied = plant(attacker, victim)
    response = post_sign_in(victim, "somchai", officer.password, officer.next_code(clock))
    assert response.status_code == 303
    assert victim.cookies.get(SESSION_COOKIE) != copied
    assert list(session_data(victim, settings)) == ["staff"]

    set_session(attacker, copied)
    assert attacker.get("/staff", follow_redirects=False).headers["location"] == "/staff/sign-in"


def test_a_captured_code_submission_replayed_with_its_cookie_is_refused(
    client: Browser, new_browser: Any, run_db: RunDb
) -> None:
    """Someone records the victim's whole code request (cookie, token and code) and sends it
    again, before or after the victim: the code is used once."""
    victim = new_browser()
    assert send_code(victim, VICTIM[0]).status_code == 303
    code = latest_code(run_db, VICTIM[1])
    token = csrf_token(victim, "/e-service/general-request/verify")
    cookies = dict(victim.cookies)
    assert enter_code(victim, code).status_code == 303

    replayer = new_browser()
    for name, value in cookies.items():
        replayer.cookies.set(name, value)
    replayed = replayer.post(
        "/e-service/general-request/verify",
        data={"code": code, "_csrf_token": token},
        follow_redirects=False,
    )
    assert replayed.status_code == 422
    form = replayer.get("/e-service/general-request/form", follow_redirects=False)
    assert form.status_code == 303
    used = run_db(lambda: OtpChallenge.select().where(OtpChallenge.phone == VICTIM[1]))
    assert [row["used_at"] is not None for row in used] == [True]
    assert used[0]["failed_attempts"] == 0


def test_two_devices_sending_the_same_authenticator_code_at_once_sign_in_once(
    app: Litestar, client: Browser, run_db: RunDb, settings: Settings, clock: Clock
) -> None:
    """A code read over a shoulder and typed at the same moment on another device. Each
    device is on its own address, so the per-address throttle lets every try through to the
    code (from one address it would stop the fourth: tests/security/test_staff_lockout.py)."""
    officer = make_staff(run_db, settings, "somchai")
    code = officer.next_code(clock)
    browsers = [browser_from(app, client, f"198.51.100.{n + 1}") for n in range(6)]
    tokens = [csrf_token(browser, "/staff/sign-in") for browser in browsers]

    def attempt(n: int) -> int:
        response = browsers[n].post(
            "/staff/sign-in",
            data={
                "username": "somchai",
                "password": officer.password,
                "code": code,
                "_csrf_token": tokens[n],
            },
            follow_redirects=False,
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(attempt, range(6)))
    assert sorted(statuses) == [303] + [422] * 5, statuses
    signed_in = [b for b in browsers if b.get("/staff", follow_redirects=False).status_code == 200]
    assert len(signed_in) == 1
