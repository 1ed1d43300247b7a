"""Codes, checks and their limits per office (issue 16), on the service against a real database.

A phone verified at office A is not verified at office B; its code limits count per office;
the platform's ceiling (``OtpPolicy.across_offices``: three times each per-phone limit) holds
across offices; per-address limits stay platform-wide; each office spends its own SMS budget.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from portal.db_engines import office_scope
from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.otp.form_keys import form_key_verification, issue_form_key
from portal.otp.policy import OtpPolicy
from portal.otp.service import CheckOutcome, CheckResult, IssuedCode, RateLimited
from portal.otp.verifications import consume_verification, verification_is_open
from portal.tables.otp_challenge import OtpChallenge
from portal.tables.sms_message import SmsMessage, SmsPurpose
from tests.conftest import fresh
from tests.offices import create_office, office_ref
from tests.otp.test_service import (
    DEFAULT,
    KEY,
    PHONE,
    check,
    fail_times,
    issue,
    past_cooldown,
    sent_code,
    wrong_code,
)

pytestmark = pytest.mark.usefixtures("database")


def office(slug: str, **columns: object) -> OfficeRef:
    async def make() -> OfficeRef:
        return await office_ref(await create_office(slug, services=False, **columns))

    return fresh(make())


def main() -> OfficeRef:
    return fresh(office_ref())


def issue_at(each: OfficeRef, *args: Any, **kwargs: Any) -> IssuedCode:
    """``issue`` as a request of ``each`` makes it: under its row security on PostgreSQL, which
    must not hide the other offices' rows from the platform-wide limits."""
    with office_scope(each.id):
        return issue(*args, office=each, **kwargs)


def check_at(each: OfficeRef, *args: Any, **kwargs: Any) -> CheckResult:
    with office_scope(each.id):
        return check(*args, office=each, **kwargs)


def test_a_code_sent_at_one_office_is_unknown_at_another() -> None:
    here, there = main(), office("nongbua")
    issued = issue(office=here)
    code = sent_code()
    assert check(issued, code, office=there).outcome is CheckOutcome.unknown
    assert check(issued, code, office=here).outcome is CheckOutcome.passed


def test_a_verification_counts_only_at_its_office() -> None:
    here, there = main(), office("nongbua")
    issued = issue(office=here)
    assert check(issued, sent_code(), office=here).outcome is CheckOutcome.passed
    assert not fresh(verification_is_open(issued.challenge_id, PHONE, "submit", office=there))
    assert not fresh(
        consume_verification(issued.challenge_id, PHONE, utcnow(), "submit", office=there)
    )
    assert fresh(verification_is_open(issued.challenge_id, PHONE, "submit", office=here))
    assert fresh(consume_verification(issued.challenge_id, PHONE, utcnow(), "submit", office=here))


def test_a_form_key_shown_at_one_office_vouches_nowhere_else() -> None:
    now = utcnow()
    key = issue_form_key(KEY, browser="b", phone=PHONE, verification=7, now=now, office_id=2)
    assert form_key_verification(KEY, key, browser="b", phone=PHONE, now=now, office_id=2) == 7
    assert form_key_verification(KEY, key, browser="b", phone=PHONE, now=now, office_id=1) is None
    assert form_key_verification(KEY, key, browser="b", phone=PHONE, now=now, office_id=3) is None


def test_the_code_row_and_its_sms_belong_to_the_office_and_carry_its_sender() -> None:
    there = office("nongbua", sms_sender="NONGBUA")
    issued = issue(office=there)
    challenge = fresh(OtpChallenge.select().where(OtpChallenge.id == issued.challenge_id).first())
    assert challenge["office"] == there.id
    (message,) = fresh(SmsMessage.select().where(SmsMessage.purpose == SmsPurpose.otp))
    assert (message["office"], message["sender"]) == (there.id, "NONGBUA")


def test_the_phone_limits_count_per_office() -> None:
    here, there = main(), office("nongbua")
    for browser in ("b1", "b2", "b3"):
        issue(session=browser, office=here)
    with pytest.raises(RateLimited) as caught:
        issue(session="b4", office=here)
    assert caught.value.reason == "phone_short"
    issued = issue(session="b4", office=there)  # the same phone, another office: its own count
    assert check(issued, sent_code(), session="b4", office=there).outcome is CheckOutcome.passed


def test_the_platform_ceiling_holds_across_offices() -> None:
    """Walking offices does not flood a phone: three offices' worth, then the same Thai 429."""
    policy = OtpPolicy(sends_per_phone_short=1)
    offices = [main(), office("nongbua"), office("bankhai"), office("wangnoi")]
    for n, each in enumerate(offices[:3]):
        issue_at(each, session=f"b{n}", policy=policy)
    with pytest.raises(RateLimited) as caught:
        issue_at(offices[3], session="b9", policy=policy)
    assert caught.value.reason == "phone_short"
    assert 0 < caught.value.retry_after_seconds <= policy.short_window.total_seconds()
    assert fresh(OtpChallenge.count()) == 3


def test_wrong_tries_lock_the_browser_at_that_office_only() -> None:
    here, there = main(), office("nongbua")
    first = issue(office=here)
    fail_times(first, 5)
    past_cooldown()
    second = issue(office=here)
    fail_times(second, 5)
    past_cooldown()
    with pytest.raises(RateLimited) as caught:
        issue(office=here)
    assert caught.value.reason == "browser_locked"
    elsewhere = issue(office=there)
    assert check(elsewhere, sent_code(), office=there).outcome is CheckOutcome.passed


def test_the_phone_lock_counts_per_office_under_a_platform_ceiling() -> None:
    policy = OtpPolicy(wrong_tries_per_phone=5, wrong_tries_per_browser=100, platform_factor=2)
    offices = [main(), office("nongbua"), office("bankhai")]
    for n, each in enumerate(offices[:2]):
        issued = issue_at(each, session=f"b{n}", policy=policy)
        wrong = wrong_code(sent_code())
        for _ in range(5):
            check_at(each, issued, wrong, session=f"b{n}", policy=policy)
        with pytest.raises(RateLimited) as locked:
            issue_at(each, session=f"c{n}", policy=policy)
        assert locked.value.reason == "phone_locked"
    with pytest.raises(RateLimited) as ceiling:
        issue_at(offices[2], session="c9", policy=policy)
    assert ceiling.value.reason == "phone_locked"
    assert 23 * 3600 < ceiling.value.retry_after_seconds <= 24 * 3600


def test_address_limits_stay_platform_wide() -> None:
    """One attacker walking offices is still one address."""
    policy = OtpPolicy(phones_per_ip_hour=2)
    offices = [main(), office("nongbua"), office("bankhai")]
    for n, each in enumerate(offices[:2]):
        issue_at(each, f"+6680000001{n}", session=f"b{n}", policy=policy)
    with pytest.raises(RateLimited) as caught:
        issue_at(offices[2], "+66800000019", session="b9", policy=policy)
    assert caught.value.reason == "ip_phones"


def test_an_office_out_of_budget_refuses_codes_while_another_sends() -> None:
    here, there = main(), office("nongbua", sms_daily_budget=1)
    issue("+66800000011", session="b1", office=there)
    with pytest.raises(RateLimited) as caught:
        issue("+66800000012", session="b2", office=there)
    assert caught.value.reason == "budget"
    assert 0 < caught.value.retry_after_seconds <= 24 * 3600
    issue("+66800000012", session="b2", office=here)
    assert fresh(SmsMessage.count().where(SmsMessage.office == here.id)) == 1


def test_the_platform_budget_ceiling_counts_every_office() -> None:
    policy = OtpPolicy(daily_budget=2)
    offices = [main(), office("nongbua"), office("bankhai")]
    for n, each in enumerate(offices[:2]):
        issue_at(each, f"+6680000001{n}", session=f"b{n}", policy=policy)
    with pytest.raises(RateLimited) as caught:
        issue_at(offices[2], "+66800000019", session="b9", policy=policy)
    assert caught.value.reason == "budget"


def test_the_default_policy_ceiling_is_three_times_each_phone_limit() -> None:
    assert DEFAULT.platform_factor == 3
    assert DEFAULT.across_offices(DEFAULT.sends_per_phone_day) == 30
    assert timedelta(hours=24) == DEFAULT.wrong_tries_window
