"""No one can lock a chosen citizen out (issue 13, point 4).

Before: a stranger's ten wrong guesses for someone's number locked that phone for 24 hours,
for filing and tracking, silently. Now wrong guesses are bounded per code (5) and per (phone,
browser) (10); the phone-wide ceiling (100, NIST SP 800-63B) stays, and the per-phone send
limits keep guessing infeasible (see ``portal/otp/policy.py`` for the arithmetic).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from piccolo.query.functions.aggregate import Sum

from portal.kernel.offices import OfficeRef
from portal.otp.policy import OtpPolicy
from portal.otp.service import RateLimited, check_code, issue_code
from portal.sms.outbox import SmsConfig
from portal.tables.citizen_request import CitizenRequest
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.tables.otp_challenge import OtpChallenge
from tests.citizen.helpers import (
    GENERAL_REQUEST_ANSWERS,
    enter_code,
    latest_code,
    send_code,
    submit_form,
)
from tests.conftest import csrf_token, fresh, html
from tests.security.helpers import Browser, RunDb, browser_from, phone

TEST_OFFICE = OfficeRef(id=DEFAULT_OFFICE_ID, slug="main", name="เทศบาลทดสอบ")
"""The default office for calls straight to the OTP service (issue 16)."""

VICTIM, VICTIM_E164 = phone(10)
DEFAULT = OtpPolicy()
KEY = b"otp-lockout-test-key-0123456789ab"
SMS = SmsConfig(sender="OSS-LOCAL", backend="outbox")


def _backdate(run_db: RunDb, by: timedelta) -> None:
    async def shift() -> None:
        for row in await OtpChallenge.select(OtpChallenge.id, OtpChallenge.created_at):
            await OtpChallenge.update({OtpChallenge.created_at: row["created_at"] - by}).where(
                OtpChallenge.id == row["id"]
            )

    run_db(shift)


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def _summary(response: Any) -> str:
    summary = html(response).select_one(".error-summary")
    assert summary is not None, response.text
    return str(summary.get_text(" ", strip=True))


def _resend(browser: Browser) -> Any:
    token = csrf_token(browser, "/e-service/general-request/verify")
    return browser.post(
        "/e-service/general-request/resend", data={"_csrf_token": token}, follow_redirects=False
    )


def test_a_strangers_wrong_guesses_do_not_lock_the_owner_out(
    app: Litestar, client: Browser, run_db: RunDb
) -> None:
    """The attacker asks codes for the victim's number from their own browser and guesses
    wrong until they are throttled; the victim, from their own browser, asks a fresh code,
    verifies, files a request and tracks it."""
    attacker = browser_from(app, client, "198.51.100.66")
    assert send_code(attacker, VICTIM).status_code == 303
    for _ in range(DEFAULT.wrong_tries_per_code):
        assert enter_code(attacker, _wrong(latest_code(run_db, VICTIM_E164))).status_code == 422
    _backdate(run_db, DEFAULT.resend_after + timedelta(seconds=1))
    assert _resend(attacker).status_code == 303
    for _ in range(DEFAULT.wrong_tries_per_code):
        assert enter_code(attacker, _wrong(latest_code(run_db, VICTIM_E164))).status_code == 422
    # The attacker's own browser is throttled: no more codes, an honest wait of about a day.
    _backdate(run_db, DEFAULT.resend_after + timedelta(seconds=1))
    throttled = send_code(attacker, VICTIM)
    assert throttled.status_code == 429
    assert 23 * 3600 < int(throttled.headers["retry-after"]) <= 24 * 3600
    assert "กรอกรหัสผิดหลายครั้งเกินไป" in _summary(throttled)

    victim = browser_from(app, client, "203.0.113.10")
    assert send_code(victim, VICTIM).status_code == 303
    assert enter_code(victim, latest_code(run_db, VICTIM_E164)).status_code == 303
    filed = submit_form(victim, GENERAL_REQUEST_ANSWERS)
    assert filed.status_code == 303
    assert filed.headers["location"].startswith("/e-service/requests/")
    assert run_db(lambda: CitizenRequest.count().where(CitizenRequest.phone == VICTIM_E164)) == 1

    # Tracking too (past the phone's 15-minute send limit the three codes above used).
    _backdate(run_db, DEFAULT.short_window)
    token = csrf_token(victim, "/track")
    asked = victim.post(
        "/track", data={"phone": VICTIM, "_csrf_token": token}, follow_redirects=False
    )
    assert asked.status_code == 303
    token = csrf_token(victim, "/track/verify")
    tracked = victim.post(
        "/track/verify",
        data={"code": latest_code(run_db, VICTIM_E164), "_csrf_token": token},
        follow_redirects=False,
    )
    assert tracked.status_code == 303
    assert tracked.headers["location"] == "/track/requests"
    # And the attacker is still throttled, for tracking as well.
    token = csrf_token(attacker, "/track")
    refused = attacker.post(
        "/track", data={"phone": VICTIM, "_csrf_token": token}, follow_redirects=False
    )
    assert refused.status_code == 429


def _failures() -> int:
    row = fresh(
        OtpChallenge.select(Sum(OtpChallenge.failed_attempts, alias="n"))
        .where(OtpChallenge.phone == VICTIM_E164)
        .first()
    )
    return int(row["n"] or 0) if row else 0


async def _guess_with_fresh_browsers(rounds: int, policy: OtpPolicy) -> list[str]:
    """A new browser each round asks a code for the victim and spends every try on it; the
    rows are moved 15 minutes back after each round so only the daily limits bind."""
    outcomes = []
    for n in range(rounds):
        session = f"stranger-{n}"
        try:
            issued = await issue_code(
                phone=VICTIM_E164,
                purpose="submit",
                session_id=session,
                client_ip=f"198.51.100.{n % 250 + 1}",
                key=KEY,
                sms=SMS,
                policy=policy,
                office=TEST_OFFICE,
            )
        except RateLimited as limited:
            outcomes.append(limited.reason)
            continue
        for _ in range(policy.wrong_tries_per_code):
            try:
                await check_code(
                    challenge_id=issued.challenge_id,
                    phone=VICTIM_E164,
                    purpose="submit",
                    session_id=session,
                    code="999999",  # wrong but for a one-in-a-million chance
                    key=KEY,
                    policy=policy,
                    office=TEST_OFFICE,
                )
            except RateLimited as limited:
                outcomes.append(limited.reason)
                break
        else:
            outcomes.append("guessed")
        for row in await OtpChallenge.select(OtpChallenge.id, OtpChallenge.created_at):
            await OtpChallenge.update(
                {OtpChallenge.created_at: row["created_at"] - policy.short_window}
            ).where(OtpChallenge.id == row["id"])
    return outcomes


@pytest.mark.usefixtures("database")
def test_guesses_from_fresh_browsers_stay_far_below_the_code_space() -> None:
    """Rotating browsers does not buy guesses: the phone's daily send limit caps them at
    10 codes x 5 tries = 50 a day, against 10^6 possible codes."""
    outcomes = fresh(_guess_with_fresh_browsers(30, DEFAULT))
    assert outcomes.count("guessed") == DEFAULT.sends_per_phone_day
    assert set(outcomes) == {"guessed", "phone_day"}
    assert _failures() <= DEFAULT.sends_per_phone_day * DEFAULT.wrong_tries_per_code == 50


@pytest.mark.usefixtures("database")
def test_the_phone_ceiling_holds_when_the_send_limits_are_raised() -> None:
    """An office that raises the per-phone send limits still keeps the NIST ceiling: at 100
    failures in 24 hours the phone is locked for every browser."""
    generous = OtpPolicy(sends_per_phone_short=1000, sends_per_phone_day=1000)
    outcomes = fresh(_guess_with_fresh_browsers(25, generous))
    assert _failures() == generous.wrong_tries_per_phone == 100
    assert outcomes[-1] == "phone_locked"
    assert outcomes.count("guessed") == 20
    with pytest.raises(RateLimited) as caught:
        fresh(
            issue_code(
                phone=VICTIM_E164,
                purpose="track",
                session_id="the-owner",
                client_ip="203.0.113.10",
                key=KEY,
                sms=SMS,
                policy=generous,
                office=TEST_OFFICE,
            )
        )
    assert caught.value.reason == "phone_locked"
