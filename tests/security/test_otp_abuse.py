"""OTP guessing and SMS pumping, the way an attacker would try them: many browsers, many codes,
many phones, many addresses, and all at once.

Already proved elsewhere, and not repeated here: one browser's five wrong tries kill a code and
ten lock that browser for that phone, a new code does not lift the lock, the phone-wide
ceiling (``tests/otp/test_service.py``, service level); a stranger's guesses do not lock the
owner out (``test_otp_lockout.py``); a busy carrier address keeps working
(``test_otp_address_limits.py``); ten simultaneous correct tries pass once
(``tests/citizen/test_verify_routes.py``); the daily budget refuses a code through the routes
(``tests/sms/test_journey.py``).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from piccolo.query.functions.aggregate import Sum

from portal.kernel.offices import OfficeRef
from portal.otp.codes import session_hash
from portal.otp.policy import OtpPolicy
from portal.otp.service import CheckOutcome, RateLimited, check_code, issue_code
from portal.sms.outbox import SmsConfig
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.tables.otp_challenge import OtpChallenge
from portal.tables.sms_message import SmsMessage, SmsState
from tests.citizen.helpers import enter_code, latest_code, send_code
from tests.conftest import csrf_token, fresh, html
from tests.security.helpers import Browser, RunDb, browser_from, phone

TEST_OFFICE = OfficeRef(id=DEFAULT_OFFICE_ID, slug="main", name="เทศบาลทดสอบ")
"""The default office for calls straight to the OTP service (issue 16)."""

VICTIM, VICTIM_E164 = phone(0)
KEY = b"otp-abuse-test-key-0123456789abcd"
SMS = SmsConfig(sender="OSS-LOCAL", backend="outbox")
DEFAULT = OtpPolicy()


def wrong_tries(run_db: RunDb, e164: str) -> int:
    row = run_db(
        lambda: (
            OtpChallenge.select(Sum(OtpChallenge.failed_attempts, alias="n"))
            .where(OtpChallenge.phone == e164)
            .first()
        )
    )
    return int(row["n"] or 0)


def sms_count(run_db: RunDb, e164: str | None = None) -> int:
    query = SmsMessage.count()
    if e164:
        query = query.where(SmsMessage.to_phone == e164)
    return int(run_db(lambda: query))


def backdate_codes(run_db: RunDb, by: timedelta) -> None:
    async def shift() -> None:
        for row in await OtpChallenge.select(OtpChallenge.id, OtpChallenge.created_at):
            await OtpChallenge.update({OtpChallenge.created_at: row["created_at"] - by}).where(
                OtpChallenge.id == row["id"]
            )

    run_db(shift)


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def error_summary(response: Any) -> str:
    summary = html(response).select_one(".error-summary")
    assert summary is not None, response.text
    return str(summary.get_text(" ", strip=True))


# Guessing


def test_guessing_across_codes_stops_at_ten_wrong_tries_for_the_browser(
    client: Browser, new_browser: Any, run_db: RunDb
) -> None:
    """Five wrong tries on a first code, five on a new one: this browser is locked for this
    phone and nothing more is sent to it (that even a right code is then refused is shown in
    ``tests/otp/test_service.py``); another browser is not held back."""
    assert send_code(client, VICTIM).status_code == 303
    first = latest_code(run_db, VICTIM_E164)
    assert [enter_code(client, wrong(first)).status_code for _ in range(5)] == [422] * 5
    assert "ขอรหัสใหม่" in error_summary(enter_code(client, first))  # dead: ask for a new one

    backdate_codes(run_db, DEFAULT.resend_after + timedelta(seconds=1))
    token = csrf_token(client, "/e-service/general-request/verify")
    resent = client.post(
        "/e-service/general-request/resend", data={"_csrf_token": token}, follow_redirects=False
    )
    assert resent.status_code == 303
    second = latest_code(run_db, VICTIM_E164)
    assert [enter_code(client, wrong(second)).status_code for _ in range(4)] == [422] * 4
    assert enter_code(client, wrong(second)).status_code == 422  # the tenth
    assert wrong_tries(run_db, VICTIM_E164) == DEFAULT.wrong_tries_per_browser

    sent_before = sms_count(run_db, VICTIM_E164)
    backdate_codes(run_db, DEFAULT.resend_after + timedelta(seconds=1))
    refused = send_code(client, VICTIM)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 23 * 3600
    assert "กรอกรหัสผิดหลายครั้งเกินไป" in error_summary(refused)
    assert sms_count(run_db, VICTIM_E164) == sent_before
    # Another browser (the owner's) still gets a code and gets in.
    other = new_browser()
    assert send_code(other, VICTIM).status_code == 303
    assert enter_code(other, latest_code(run_db, VICTIM_E164)).status_code == 303


CEILING = OtpPolicy(wrong_tries_per_phone=10)
"""The phone-wide ceiling brought down to ten, so three browsers' codes (15 tries) can pass it."""


def _live_codes(sessions: list[str], policy: OtpPolicy = DEFAULT) -> list[int]:
    """A live code to VICTIM for each session (distinct browsers), ids returned."""
    ids = []
    for n, session in enumerate(sessions):
        issued = fresh(
            issue_code(
                phone=VICTIM_E164,
                purpose="submit",
                session_id=session,
                client_ip=f"192.0.2.{n + 1}",
                key=KEY,
                sms=SMS,
                policy=policy,
                office=TEST_OFFICE,
            )
        )
        ids.append(issued.challenge_id)
    return ids


def _guess_all_at_once(
    guesses: list[tuple[int, str]], code: str, policy: OtpPolicy = DEFAULT
) -> list[str]:
    """Check every (challenge id, session) guess of ``code`` concurrently: outcomes."""

    async def guess(challenge_id: int, session: str) -> str:
        try:
            result = await check_code(
                challenge_id=challenge_id,
                phone=VICTIM_E164,
                purpose="submit",
                session_id=session,
                code=code,
                key=KEY,
                policy=policy,
                office=TEST_OFFICE,
            )
        except RateLimited as limited:
            return limited.reason
        return result.outcome.value

    async def all_at_once() -> list[str]:
        return list(await asyncio.gather(*(guess(cid, session) for cid, session in guesses)))

    return fresh(all_at_once())


@pytest.mark.usefixtures("database")
def test_simultaneous_guesses_on_one_code_count_five_at_most() -> None:
    (challenge_id,) = _live_codes(["browser-a"])
    outcomes = _guess_all_at_once([(challenge_id, "browser-a")] * 20, "999999")
    assert outcomes.count(CheckOutcome.wrong.value) <= DEFAULT.wrong_tries_per_code - 1
    row = fresh(OtpChallenge.select().where(OtpChallenge.id == challenge_id).first())
    assert row["failed_attempts"] == DEFAULT.wrong_tries_per_code


@pytest.mark.usefixtures("database")
def test_simultaneous_guesses_across_live_codes_stay_within_the_phone_limit() -> None:
    """Three browsers hold live codes for one phone (the most 15 minutes allow) and fire ten
    guesses each at once: no more wrong tries than the phone's ceiling may be weighed."""
    sessions = ["browser-a", "browser-b", "browser-c"]
    ids = _live_codes(sessions, CEILING)
    guesses = [(cid, session) for cid, session in zip(ids, sessions, strict=True)] * 10
    outcomes = _guess_all_at_once(guesses, "999999", CEILING)
    weighed = [o for o in outcomes if o in (CheckOutcome.wrong.value, CheckOutcome.exhausted.value)]
    total = fresh(
        OtpChallenge.select(Sum(OtpChallenge.failed_attempts, alias="n"))
        .where(OtpChallenge.phone == VICTIM_E164)
        .first()
    )
    assert total is not None
    assert int(total["n"]) <= CEILING.wrong_tries_per_phone, outcomes
    assert outcomes.count("phone_locked") >= len(guesses) - len(weighed)
    # The phone is locked now, for every code and every browser.
    with pytest.raises(RateLimited) as caught:
        _live_codes(["browser-d"], CEILING)
    assert caught.value.reason == "phone_locked"


@pytest.mark.usefixtures("database")
def test_codes_are_bound_to_the_session_hash_not_guessable_across_sessions() -> None:
    """A guess sent with another session's challenge id is weighed against nothing."""
    (challenge_id,) = _live_codes(["browser-a"])
    outcomes = _guess_all_at_once([(challenge_id, "browser-b")] * 5, "999999")
    assert set(outcomes) == {CheckOutcome.unknown.value}
    row = fresh(OtpChallenge.select().where(OtpChallenge.id == challenge_id).first())
    assert row["failed_attempts"] == 0
    assert row["session_hash"] == session_hash("browser-a")


# SMS pumping


def test_one_address_asking_for_many_phones_is_stopped_at_its_hourly_limit(
    app: Litestar, client: Browser, run_db: RunDb
) -> None:
    """A bot at one address walks through phone numbers, on both OTP forms: it is stopped at
    the distinct phones one address may bring in an hour."""
    bot = browser_from(app, client, "203.0.113.7")
    limit = DEFAULT.phones_per_ip_hour
    answers = []
    for n in range(limit):
        answers.append(send_code(bot, phone(n + 1)[0]).status_code)
    assert answers == [303] * limit
    for n in range(limit, limit + 5):
        refused = send_code(bot, phone(n + 1)[0])
        assert refused.status_code == 429
        assert 0 < int(refused.headers["retry-after"]) <= 3600
        token = csrf_token(bot, "/track")
        tracked = bot.post(
            "/track",
            data={"phone": phone(n + 1)[0], "_csrf_token": token},
            follow_redirects=False,
        )
        assert tracked.status_code == 429
    assert sms_count(run_db) == limit
    # Someone else, elsewhere, is not held back by the bot.
    other = browser_from(app, client, "198.51.100.20")
    assert send_code(other, phone(50)[0]).status_code == 303


def test_one_phone_asked_for_from_many_addresses_gets_three_codes_in_fifteen_minutes(
    app: Litestar, client: Browser, run_db: RunDb
) -> None:
    answers = []
    for n in range(10):
        bot = browser_from(app, client, f"203.0.113.{n + 1}")
        answers.append(send_code(bot, VICTIM).status_code)
    short = DEFAULT.sends_per_phone_short
    assert answers == [303] * short + [429] * (10 - short)
    assert sms_count(run_db, VICTIM_E164) == short


@pytest.mark.parametrize("otp_policy", [OtpPolicy(daily_budget=12)])
def test_many_phones_from_many_addresses_stop_at_the_daily_budget(
    app: Litestar, client: Browser, new_browser: Any, run_db: RunDb
) -> None:
    """The distributed version: every request from a fresh address and browser, to a fresh
    phone, alternating the filing and the tracking forms. Only the budget can stop it."""
    statuses = []
    for n in range(30):
        bot = browser_from(app, client, f"203.0.113.{n + 1}")
        number = phone(100 + n)[0]
        if n % 2:
            statuses.append(send_code(bot, number).status_code)
        else:
            token = csrf_token(bot, "/track")
            response = bot.post(
                "/track", data={"phone": number, "_csrf_token": token}, follow_redirects=False
            )
            statuses.append(response.status_code)
            if response.status_code == 429:
                assert "ครบจำนวน" in error_summary(response)
    # Every lookup is a real code, whether or not the phone filed (issue 17): the twelve codes
    # are sent by n = 11, and from then on both forms answer 429.
    assert statuses == [303] * 12 + [429] * 18
    assert sms_count(run_db) == 12
    delivered = run_db(lambda: SmsMessage.count().where(SmsMessage.state != SmsState.suppressed))
    assert delivered == 12


@pytest.mark.usefixtures("database")
def test_simultaneous_sends_from_many_addresses_never_pass_the_budget() -> None:
    policy = OtpPolicy(daily_budget=10)

    async def ask(n: int) -> str:
        try:
            await issue_code(
                phone=phone(200 + n)[1],
                purpose="submit",
                session_id=f"bot-{n}",
                client_ip=f"203.0.113.{n + 1}",
                key=KEY,
                sms=SMS,
                policy=policy,
                office=TEST_OFFICE,
            )
        except RateLimited as limited:
            return limited.reason
        return "sent"

    async def all_at_once() -> list[str]:
        return list(await asyncio.gather(*(ask(n) for n in range(40))))

    outcomes = fresh(all_at_once())
    assert sorted(outcomes) == ["budget"] * 30 + ["sent"] * 10
    assert fresh(SmsMessage.count()) == 10
