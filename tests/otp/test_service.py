"""The OTP rules of DESIGN.md section 5, exercised on the service against a real database.

Each test drives ``issue_code``/``check_code`` in a fresh event loop
(``tests.conftest.fresh``). Time is moved by backdating rows (``backdate``), never by sleeping.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest

from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.otp.codes import session_hash
from portal.otp.policy import OtpPolicy
from portal.otp.service import (
    CheckOutcome,
    CheckResult,
    IssuedCode,
    RateLimited,
    check_code,
    issue_code,
)
from portal.sms.outbox import SmsConfig, enqueue
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.tables.otp_challenge import OtpChallenge
from portal.tables.sms_message import SmsMessage, SmsPurpose
from tests.conftest import fresh

KEY = b"otp-service-test-key-0123456789ab"
SMS = SmsConfig(sender="OSS-LOCAL", backend="outbox")
PHONE = "+66800000001"
OTHER_PHONE = "+66800000002"
BROWSER = "browser-a"
IP = "192.0.2.10"
DEFAULT = OtpPolicy()
MAIN = OfficeRef(id=DEFAULT_OFFICE_ID, slug="main", name="เทศบาลทดสอบ")

pytestmark = pytest.mark.usefixtures("database")


def issue(
    phone: str = PHONE,
    *,
    session: str = BROWSER,
    purpose: str = "submit",
    ip: str = IP,
    policy: OtpPolicy = DEFAULT,
    office: OfficeRef = MAIN,
) -> IssuedCode:
    return fresh(
        issue_code(
            phone=phone,
            purpose=purpose,
            session_id=session,
            client_ip=ip,
            key=KEY,
            sms=SMS,
            policy=policy,
            office=office,
        )
    )


def check(
    issued: IssuedCode,
    code: str,
    *,
    phone: str = PHONE,
    session: str = BROWSER,
    purpose: str = "submit",
    policy: OtpPolicy = DEFAULT,
    office: OfficeRef = MAIN,
) -> CheckResult:
    return fresh(
        check_code(
            challenge_id=issued.challenge_id,
            phone=phone,
            purpose=purpose,
            session_id=session,
            code=code,
            key=KEY,
            policy=policy,
            office=office,
        )
    )


def sent_code(phone: str = PHONE) -> str:
    """The code in the newest OTP SMS to ``phone``, read from the outbox like a phone would."""
    row = fresh(
        SmsMessage.select(SmsMessage.text)
        .where(SmsMessage.to_phone == phone, SmsMessage.purpose == SmsPurpose.otp)
        .order_by(SmsMessage.id, ascending=False)
        .first()
    )
    assert row is not None, f"no OTP SMS to {phone}"
    match = re.search(r"\b(\d{6})\b", row["text"])
    assert match is not None
    return match.group(1)


def wrong_code(right: str) -> str:
    return "000000" if right != "000000" else "111111"


def backdate(by: timedelta) -> None:
    """Pretend every code so far was sent ``by`` earlier (rows keep their order)."""

    async def shift() -> None:
        rows = await OtpChallenge.select(OtpChallenge.id, OtpChallenge.created_at)
        for row in rows:
            await OtpChallenge.update({OtpChallenge.created_at: row["created_at"] - by}).where(
                OtpChallenge.id == row["id"]
            )

    fresh(shift())


def past_cooldown() -> None:
    backdate(DEFAULT.resend_after + timedelta(seconds=1))


def counts() -> tuple[int, int]:
    """(codes issued, SMS written)."""
    return fresh(OtpChallenge.count()), fresh(SmsMessage.count())


def fail_times(issued: IssuedCode, times: int, phone: str = PHONE) -> list[CheckResult]:
    wrong = wrong_code(sent_code(phone))
    return [check(issued, wrong, phone=phone) for _ in range(times)]


# Checking a code


def test_right_code_passes_once() -> None:
    issued = issue()
    code = sent_code()
    assert check(issued, code).outcome is CheckOutcome.passed
    assert check(issued, code).outcome is CheckOutcome.unknown


def test_code_with_surrounding_spaces_passes() -> None:
    issued = issue()
    assert check(issued, f" {sent_code()} ").outcome is CheckOutcome.passed


def test_code_typed_with_thai_digits_passes() -> None:
    issued = issue()
    thai = sent_code().translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙"))
    assert check(issued, thai).outcome is CheckOutcome.passed


def test_wrong_code_counts_down_tries() -> None:
    issued = issue()
    results = fail_times(issued, 4)
    assert [r.outcome for r in results] == [CheckOutcome.wrong] * 4
    assert [r.tries_left for r in results] == [4, 3, 2, 1]


def test_malformed_code_does_not_use_up_a_try() -> None:
    issued = issue()
    result = check(issued, "12ab")
    assert result.outcome is CheckOutcome.malformed
    assert result.tries_left == 5
    assert fail_times(issued, 1)[0].tries_left == 4


def test_fifth_wrong_try_kills_the_code_even_for_the_right_code_afterwards() -> None:
    issued = issue()
    code = sent_code()
    results = fail_times(issued, 5)
    assert results[-1].outcome is CheckOutcome.exhausted
    assert check(issued, code).outcome is CheckOutcome.exhausted
    assert fresh(OtpChallenge.select().first())["used_at"] is None


def test_expired_code_is_refused() -> None:
    issued = issue()
    code = sent_code()
    fresh(
        OtpChallenge.update({OtpChallenge.expires_at: utcnow() - timedelta(seconds=1)}).where(
            OtpChallenge.id == issued.challenge_id
        )
    )
    assert check(issued, code).outcome is CheckOutcome.expired


def test_code_is_valid_for_five_minutes() -> None:
    before = utcnow()
    issued = issue()
    assert timedelta(minutes=5) - timedelta(seconds=5) < issued.expires_at - before
    assert issued.expires_at - before <= timedelta(minutes=5) + timedelta(seconds=5)


@pytest.mark.parametrize(
    "elsewhere",
    [
        {"phone": OTHER_PHONE},
        {"purpose": "track"},
        {"session": "browser-b"},
    ],
    ids=["other-phone", "other-purpose", "other-session"],
)
def test_code_is_bound_to_phone_purpose_and_session(elsewhere: dict[str, str]) -> None:
    issued = issue()
    code = sent_code()
    assert check(issued, code, **elsewhere).outcome is CheckOutcome.unknown
    # Trying it elsewhere neither used it up nor counted as a wrong try here.
    assert check(issued, code).outcome is CheckOutcome.passed


def test_unknown_challenge_id_is_unknown() -> None:
    issued = issue()
    missing = IssuedCode(issued.challenge_id + 1000, issued.expires_at, issued.resend_at)
    assert check(missing, sent_code()).outcome is CheckOutcome.unknown


def test_ten_simultaneous_correct_checks_pass_exactly_once() -> None:
    issued = issue()
    code = sent_code()

    async def attempt() -> CheckResult:
        return await check_code(
            challenge_id=issued.challenge_id,
            phone=PHONE,
            purpose="submit",
            session_id=BROWSER,
            code=code,
            key=KEY,
            policy=DEFAULT,
            office=MAIN,
        )

    async def all_at_once() -> list[CheckResult]:
        return list(await asyncio.gather(*(attempt() for _ in range(10))))

    outcomes = [result.outcome for result in fresh(all_at_once())]
    assert outcomes.count(CheckOutcome.passed) == 1, outcomes


def _send_all_at_once(sessions: list[str]) -> list[str]:
    """Ask for codes to PHONE from several requests at the same moment: 'sent' or the reason."""

    async def attempt(session: str) -> str:
        try:
            await issue_code(
                phone=PHONE,
                purpose="submit",
                session_id=session,
                client_ip=IP,
                key=KEY,
                sms=SMS,
                policy=DEFAULT,
                office=MAIN,
            )
        except RateLimited as limited:
            return limited.reason
        return "sent"

    async def all_at_once() -> list[str]:
        return list(await asyncio.gather(*(attempt(session) for session in sessions)))

    return fresh(all_at_once())


def test_simultaneous_sends_from_one_browser_send_one_code() -> None:
    outcomes = _send_all_at_once([BROWSER] * 5)
    assert sorted(outcomes) == ["resend_too_soon"] * 4 + ["sent"], outcomes
    assert counts() == (1, 1)


def test_simultaneous_sends_to_one_phone_stay_within_the_limit() -> None:
    outcomes = _send_all_at_once([f"browser-{n}" for n in range(6)])
    assert sorted(outcomes) == ["phone_short"] * 3 + ["sent"] * 3, outcomes
    assert counts() == (3, 3)


# What is stored and sent


def test_only_a_keyed_hash_of_the_code_is_stored() -> None:
    issued = issue()
    code = sent_code()
    row = fresh(OtpChallenge.select().where(OtpChallenge.id == issued.challenge_id).first())
    assert code not in row["code_hash"]
    assert re.fullmatch(r"[0-9a-f]{64}", row["code_hash"])
    assert row["session_hash"] == session_hash(BROWSER)
    assert BROWSER not in row["session_hash"]
    assert row["phone"] == PHONE
    assert row["client_ip"] == IP


def test_code_is_sent_through_the_outbox_with_sender_and_purpose() -> None:
    issue()
    code = sent_code()
    messages = fresh(SmsMessage.select())
    assert len(messages) == 1
    message = messages[0]
    assert message["to_phone"] == PHONE
    assert message["sender"] == "OSS-LOCAL"
    assert message["purpose"] == "otp"
    assert message["backend"] == "outbox"
    assert code in message["text"]


# Resending


def test_resend_within_a_minute_is_refused_and_sends_nothing() -> None:
    issue()
    with pytest.raises(RateLimited) as caught:
        issue()
    assert caught.value.reason == "resend_too_soon"
    assert 1 <= caught.value.retry_after_seconds <= 60
    assert counts() == (1, 1)


def test_refused_resend_leaves_the_first_code_working() -> None:
    issued = issue()
    code = sent_code()
    with pytest.raises(RateLimited):
        issue()
    assert check(issued, code).outcome is CheckOutcome.passed


def test_resend_after_the_cooldown_kills_the_old_code() -> None:
    first = issue()
    first_code = sent_code()
    past_cooldown()
    second = issue()
    second_code = sent_code()
    assert second.challenge_id != first.challenge_id
    assert check(first, first_code).outcome is CheckOutcome.unknown
    assert check(second, second_code).outcome is CheckOutcome.passed


def test_resend_tells_when_the_next_one_is_allowed() -> None:
    before = utcnow()
    issued = issue()
    assert timedelta(seconds=55) < issued.resend_at - before <= timedelta(seconds=65)


# Send limits


def test_fourth_send_to_a_phone_within_fifteen_minutes_is_refused() -> None:
    for _ in range(3):
        issue()
        past_cooldown()
    with pytest.raises(RateLimited) as caught:
        issue()
    assert caught.value.reason == "phone_short"
    # The first of the three was sent 3 x 61 s ago; its slot frees up 15 minutes after it.
    assert caught.value.retry_after_seconds == pytest.approx(15 * 60 - 3 * 61, abs=5)
    assert counts() == (3, 3)


def test_phone_can_ask_again_once_fifteen_minutes_have_passed() -> None:
    for _ in range(3):
        issue()
        past_cooldown()
    backdate(timedelta(minutes=15))
    issue()
    assert counts() == (4, 4)


def test_eleventh_send_to_a_phone_within_a_day_is_refused() -> None:
    for _ in range(10):
        issue()
        backdate(timedelta(minutes=16))
    with pytest.raises(RateLimited) as caught:
        issue()
    assert caught.value.reason == "phone_day"
    # The oldest of the ten was sent 160 minutes ago; its slot frees up a day after it.
    assert caught.value.retry_after_seconds == pytest.approx((24 * 60 - 160) * 60, abs=5)
    assert counts() == (10, 10)


def test_send_limits_from_one_address_across_phones() -> None:
    policy = OtpPolicy(sends_per_ip_hour=3)
    for n in range(3):
        issue(f"+6680000001{n}", session=f"browser-{n}", policy=policy)
    with pytest.raises(RateLimited) as caught:
        issue("+66800000013", session="browser-3", policy=policy)
    assert caught.value.reason == "ip_hour"
    assert 0 < caught.value.retry_after_seconds <= 3600
    issue("+66800000013", session="browser-3", ip="192.0.2.99", policy=policy)
    assert counts() == (4, 4)


def test_address_can_send_again_after_an_hour() -> None:
    policy = OtpPolicy(sends_per_ip_hour=2)
    issue(PHONE, policy=policy)
    past_cooldown()
    issue(PHONE, policy=policy)
    with pytest.raises(RateLimited):
        issue(OTHER_PHONE, session="browser-b", policy=policy)
    backdate(timedelta(hours=1))
    issue(OTHER_PHONE, session="browser-b", policy=policy)
    assert counts() == (3, 3)


def test_daily_budget_stops_all_sending() -> None:
    policy = OtpPolicy(daily_budget=3)
    fresh(
        enqueue(
            SMS,
            office=MAIN,
            to_phone="+66800000020",
            text="receipt",
            purpose=SmsPurpose.receipt,
            now=utcnow(),
        )
    )
    issue("+66800000021", session="browser-1", ip="192.0.2.1", policy=policy)
    issue("+66800000022", session="browser-2", ip="192.0.2.2", policy=policy)
    with pytest.raises(RateLimited) as caught:
        issue("+66800000023", session="browser-3", ip="192.0.2.3", policy=policy)
    assert caught.value.reason == "budget"
    assert caught.value.retry_after_seconds >= 1
    assert counts() == (2, 3)


# The wrong-try locks: per (phone, browser), and the NIST ceiling per phone


def _ten_wrong_tries_across_codes() -> IssuedCode:
    """Five wrong on a first code, four on a second, one on a third, all from one browser: the
    third stays live."""
    first = issue()
    assert fail_times(first, 5)[-1].outcome is CheckOutcome.exhausted
    past_cooldown()
    second = issue()
    assert [r.outcome for r in fail_times(second, 4)] == [CheckOutcome.wrong] * 4
    past_cooldown()
    third = issue()
    result = fail_times(third, 1)[0]
    assert (result.outcome, result.tries_left) == (CheckOutcome.wrong, 4)
    return third


def test_ten_wrong_tries_lock_this_browser_for_checking() -> None:
    live = _ten_wrong_tries_across_codes()
    code = sent_code()
    with pytest.raises(RateLimited) as caught:
        check(live, code)
    assert caught.value.reason == "browser_locked"
    assert 23 * 3600 < caught.value.retry_after_seconds <= 24 * 3600


def test_ten_wrong_tries_lock_this_browser_for_sending_in_both_purposes() -> None:
    _ten_wrong_tries_across_codes()
    past_cooldown()
    sent_before = counts()
    for purpose in ("submit", "track"):
        with pytest.raises(RateLimited) as caught:
            issue(purpose=purpose)
        assert caught.value.reason == "browser_locked"
    assert counts() == sent_before


def test_another_browser_of_the_phone_is_not_locked_by_those_wrong_tries() -> None:
    """The stranger's ten wrong tries do not stop the owner's browser (once the phone's
    15-minute send limit, spent by the stranger, has passed)."""
    _ten_wrong_tries_across_codes()
    backdate(DEFAULT.short_window)
    owner = issue(session="browser-owner")
    assert check(owner, sent_code(), session="browser-owner").outcome is CheckOutcome.passed


def test_asking_for_a_new_code_does_not_lift_the_lock() -> None:
    live = _ten_wrong_tries_across_codes()
    code = sent_code()
    past_cooldown()
    with pytest.raises(RateLimited):
        issue()
    with pytest.raises(RateLimited) as caught:
        check(live, code)
    assert caught.value.reason == "browser_locked"


def test_wrong_tries_of_every_browser_together_stop_at_the_phone_ceiling() -> None:
    policy = OtpPolicy(wrong_tries_per_phone=10, sends_per_phone_short=10)
    for session in ("browser-a", "browser-b"):
        issued = issue(session=session, policy=policy)
        wrong = wrong_code(sent_code())
        for _ in range(5):
            check(issued, wrong, session=session, policy=policy)
    with pytest.raises(RateLimited) as caught:
        issue(session="browser-c", policy=policy)
    assert caught.value.reason == "phone_locked"
    assert 23 * 3600 < caught.value.retry_after_seconds <= 24 * 3600


def test_lock_on_one_phone_leaves_other_phones_alone() -> None:
    _ten_wrong_tries_across_codes()
    other = issue(OTHER_PHONE, session="browser-b")
    assert check(other, sent_code(OTHER_PHONE), phone=OTHER_PHONE, session="browser-b").outcome is (
        CheckOutcome.passed
    )


def test_wrong_tries_older_than_a_day_no_longer_lock() -> None:
    _ten_wrong_tries_across_codes()
    backdate(timedelta(hours=24))
    issued = issue()
    assert check(issued, sent_code()).outcome is CheckOutcome.passed
