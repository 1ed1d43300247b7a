"""Nobody learns who filed a request or who works at the office by asking.

Every valid phone gets a real code, so nothing differs until the code is entered; after it only
the phone's holder learns whether it filed anything. Already proved elsewhere: the tracking
lookup answers and times alike for a phone with and without requests
(``tests/tracking/test_lookup_routes.py``); tracking tokens, foreign and
unknown request numbers all get the same 404 (``tests/tracking/test_routes.py``, same file,
``tests/security/test_idor.py`` for the success page); every kind of wrong sign-in gets the
same message and throttling treats known and unknown usernames alike
(``tests/staff/test_auth_routes.py``). Here: the steps after the lookup, whole pages rather
than messages, inactive accounts, and sign-in timing.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from portal.settings import Settings
from portal.sms.outbox import list_messages
from portal.tables.staff_sign_in_attempt import StaffSignInAttempt
from portal.tables.staff_user import StaffUser
from tests.citizen.helpers import latest_code
from tests.conftest import csrf_token
from tests.security.helpers import Browser, RunDb, page_without_tokens, phone
from tests.staff.helpers import Clock, file_via_routes, make_staff, post_sign_in, track_lookup

FILED = phone(50)
NEVER = phone(51)


def _same_page(known: Any, unknown: Any, known_text: str, unknown_text: str) -> None:
    assert known.status_code == unknown.status_code
    assert known.headers.get("retry-after") == unknown.headers.get("retry-after")
    assert page_without_tokens(known).replace(known_text, "X") == page_without_tokens(
        unknown
    ).replace(unknown_text, "X")


def test_every_tracking_step_looks_the_same_for_a_phone_without_requests(
    client: Browser, new_browser: Any, run_db: RunDb
) -> None:
    file_via_routes(new_browser(), run_db, FILED[0])
    known, unknown = new_browser(), new_browser()
    for browser, number in ((known, FILED), (unknown, NEVER)):
        assert track_lookup(browser, number[0]).status_code == 303

    def wrong_code(browser: Browser) -> Any:
        token = csrf_token(browser, "/track/verify")
        return browser.post(
            "/track/verify", data={"code": "000000", "_csrf_token": token}, follow_redirects=False
        )

    def resend(browser: Browser) -> Any:
        token = csrf_token(browser, "/track/verify")
        return browser.post("/track/resend", data={"_csrf_token": token}, follow_redirects=False)

    def again(browser: Browser, number: str) -> Any:
        return track_lookup(browser, number)

    known_last4, unknown_last4 = FILED[0][-4:], NEVER[0][-4:]
    _same_page(wrong_code(known), wrong_code(unknown), known_last4, unknown_last4)
    _same_page(resend(known), resend(unknown), known_last4, unknown_last4)
    _same_page(again(known, FILED[0]), again(unknown, NEVER[0]), FILED[0], NEVER[0])
    _same_page(known.get("/track/verify"), unknown.get("/track/verify"), known_last4, unknown_last4)

    # Every send above was a real SMS to both phones, none a stand-in: the budget, the outbox
    # and the phone itself see the same (the filer's one extra code was for filing).
    def codes(e164: str) -> list[dict[str, Any]]:
        sent = run_db(lambda: list_messages(office=None, to_phone=e164))
        return [m for m in sent if m["purpose"] == "otp"]

    assert len(codes(FILED[1])) - 1 == len(codes(NEVER[1])) >= 1
    assert all(m["state"] != "suppressed" and m["text"] for m in codes(NEVER[1]))

    # The right code takes both to the same address; only there does the holder learn.
    answers = []
    for browser, number in ((known, FILED), (unknown, NEVER)):
        token = csrf_token(browser, "/track/verify")
        answers.append(
            browser.post(
                "/track/verify",
                data={"code": latest_code(run_db, number[1]), "_csrf_token": token},
                follow_redirects=False,
            )
        )
    assert [a.status_code for a in answers] == [303, 303]
    assert answers[0].headers["location"] == answers[1].headers["location"] == "/track/requests"


def _sign_in_page(browser: Browser, username: str, password: str) -> Any:
    return post_sign_in(browser, username, password, "000000")


def test_sign_in_pages_are_the_same_for_known_unknown_and_inactive_usernames(
    client: Browser, new_browser: Any, run_db: RunDb, settings: Settings
) -> None:
    make_staff(run_db, settings, "somchai")
    make_staff(run_db, settings, "retired")
    run_db(
        lambda: StaffUser.update({StaffUser.active: False}).where(StaffUser.username == "retired")
    )
    staff = make_staff(run_db, settings, "somsri")
    pages = {}
    for username, password in (
        ("somchai", "Wrong-Pass-999"),
        ("nobody1", "Wrong-Pass-999"),
        ("retired", staff.password),  # the right password of a deactivated account
    ):
        run_db(lambda: StaffSignInAttempt.delete(force=True))
        response = _sign_in_page(new_browser(), username, password)
        pages[username] = (
            response.status_code,
            page_without_tokens(response).replace(username, "U"),
        )
    assert len(set(pages.values())) == 1, pages


def test_sign_in_takes_as_long_for_unknown_usernames(
    client: Browser, new_browser: Any, run_db: RunDb, settings: Settings, clock: Clock
) -> None:
    """The password hash is checked for unknown usernames too (against a dummy hash)."""
    make_staff(run_db, settings, "somchai")
    browser = new_browser()

    def timed(username: str) -> float:
        run_db(lambda: StaffSignInAttempt.delete(force=True))
        started = time.perf_counter()
        response = _sign_in_page(browser, username, "Wrong-Pass-999")
        elapsed = time.perf_counter() - started
        assert response.status_code == 422
        return elapsed

    known, unknown = [], []
    for n in range(7):
        known.append(timed("somchai"))
        unknown.append(timed(f"nobody{n}"))
    gap = abs(statistics.median(known) - statistics.median(unknown))
    assert gap < max(0.01, 0.3 * statistics.median(known)), (known, unknown)
