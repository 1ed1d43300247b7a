"""Issue and check SMS codes under the limits of DESIGN.md section 5.

Every counter lives in the ``otp_challenge`` and ``sms_message`` rows, so the limits hold the
same whichever worker a request reaches. Checks that race (a double tap, ten tabs) are settled
by single conditional UPDATEs, never by read-then-write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from piccolo.custom_types import Combinable
from piccolo.query.functions.aggregate import Count, Sum

from portal.db import write_transaction
from portal.kernel.client_net import address_group
from portal.kernel.clock import utcnow
from portal.otp.codes import (
    code_hash,
    code_matches,
    is_well_formed,
    new_code,
    normalise_code,
    session_hash,
)
from portal.otp.policy import OtpPolicy
from portal.sms import budget as sms_budget
from portal.sms.outbox import SmsConfig, enqueue
from portal.sms.texts import render_sms, with_webotp_line
from portal.tables.otp_challenge import OtpChallenge, OtpPurpose
from portal.tables.sms_message import SmsPurpose


class RateLimited(Exception):
    """A limit is reached: nothing was sent. ``reason`` picks the Thai message."""

    def __init__(self, reason: str, retry_after: timedelta) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_seconds = max(1, int(retry_after.total_seconds() + 0.999))


@dataclass(frozen=True)
class IssuedCode:
    challenge_id: int
    expires_at: datetime
    resend_at: datetime


class CheckOutcome(StrEnum):
    passed = "passed"
    wrong = "wrong"
    malformed = "malformed"
    expired = "expired"
    exhausted = "exhausted"
    """Five wrong tries: this code is dead, ask for a new one."""
    unknown = "unknown"
    """No live code for this phone, purpose and browser (never sent, resent, or already used)."""


@dataclass(frozen=True)
class CheckResult:
    outcome: CheckOutcome
    tries_left: int = 0


async def _count_since(*where: Combinable) -> int:
    row = await OtpChallenge.select(Count(OtpChallenge.id, alias="n")).where(*where).first()
    return int(row["n"]) if row else 0


async def _oldest_since(*where: Combinable) -> datetime:
    row = (
        await OtpChallenge.select(OtpChallenge.created_at)
        .where(*where)
        .order_by(OtpChallenge.created_at)
        .first()
    )
    if row is None:
        raise LookupError("no row in a window that was just counted as non-empty")
    created: datetime = row["created_at"]
    return created


async def _wrong_tries(*where: Combinable) -> int:
    row = (
        await OtpChallenge.select(Sum(OtpChallenge.failed_attempts, alias="n"))
        .where(*where)
        .first()
    )
    return int(row["n"] or 0) if row else 0


async def _ensure_not_locked(
    phone: str, bound_session: str, policy: OtpPolicy, now: datetime
) -> None:
    """Wrong tries lock this browser for this phone; only the NIST ceiling locks the phone.

    A stranger can only guess codes sent to their own browser, so their wrong tries are
    counted against (phone, their browser): the owner asking a fresh code from their own
    browser is not held back by them (see ``OtpPolicy`` for why guessing stays infeasible).
    """
    since = now - policy.wrong_tries_window
    locks = (
        (
            "browser_locked",
            (OtpChallenge.phone == phone, OtpChallenge.session_hash == bound_session),
            policy.wrong_tries_per_browser,
        ),
        ("phone_locked", (OtpChallenge.phone == phone,), policy.wrong_tries_per_phone),
    )
    for reason, subject, limit in locks:
        if await _wrong_tries(*subject, OtpChallenge.created_at > since) >= limit:
            oldest = await _oldest_since(
                *subject, OtpChallenge.created_at > since, OtpChallenge.failed_attempts > 0
            )
            raise RateLimited(reason, oldest + policy.wrong_tries_window - now)


async def _ensure_new_phone_allowed(
    phone: str, client_net: str, policy: OtpPolicy, now: datetime
) -> None:
    """One address group asks codes for at most ``phones_per_ip_hour`` distinct phones an hour.

    A phone that already had a code from this address this hour is not new (its resend is
    only held by the ceiling). The wait is honest: the count falls below the limit when the
    phone whose last code is the oldest leaves the window.
    """
    window = timedelta(hours=1)
    here = (OtpChallenge.client_net == client_net, OtpChallenge.created_at > now - window)
    if await OtpChallenge.exists().where(*here, OtpChallenge.phone == phone):
        return
    # Bounded: the per-address ceiling (``sends_per_ip_hour``) was checked before this.
    rows = await OtpChallenge.select(OtpChallenge.phone, OtpChallenge.created_at).where(*here)
    last_code: dict[str, datetime] = {}
    for row in rows:
        created: datetime = row["created_at"]
        last_code[row["phone"]] = max(created, last_code.get(row["phone"], created))
    if len(last_code) >= policy.phones_per_ip_hour:
        lasts = sorted(last_code.values())
        frees_at = lasts[len(lasts) - policy.phones_per_ip_hour] + window
        raise RateLimited("ip_phones", frees_at - now)


async def _ensure_send_allowed(
    phone: str, purpose: str, bound_session: str, client_net: str, policy: OtpPolicy, now: datetime
) -> None:
    await _ensure_not_locked(phone, bound_session, policy, now)

    latest = (
        await OtpChallenge.select(OtpChallenge.created_at)
        .where(
            OtpChallenge.phone == phone,
            OtpChallenge.purpose == purpose,
            OtpChallenge.session_hash == bound_session,
        )
        .order_by(OtpChallenge.created_at, ascending=False)
        .first()
    )
    if latest and latest["created_at"] + policy.resend_after > now:
        raise RateLimited("resend_too_soon", latest["created_at"] + policy.resend_after - now)

    windows = (
        (
            "phone_short",
            OtpChallenge.phone == phone,
            policy.short_window,
            policy.sends_per_phone_short,
        ),
        ("phone_day", OtpChallenge.phone == phone, timedelta(hours=24), policy.sends_per_phone_day),
        (
            "ip_hour",
            OtpChallenge.client_net == client_net,
            timedelta(hours=1),
            policy.sends_per_ip_hour,
        ),
    )
    for reason, subject, window, limit in windows:
        since = now - window
        if await _count_since(subject, OtpChallenge.created_at > since) >= limit:
            oldest = await _oldest_since(subject, OtpChallenge.created_at > since)
            raise RateLimited(reason, oldest + window - now)
    await _ensure_new_phone_allowed(phone, client_net, policy, now)

    # Sent, being sent and admitted codes, never suppressed rows (portal/sms/budget.py).
    budget_wait = await sms_budget.wait_for_code(policy.daily_budget, now)
    if budget_wait is not None:
        raise RateLimited("budget", budget_wait)


async def issue_code(
    *,
    phone: str,
    purpose: str,
    session_id: str,
    client_ip: str,
    key: bytes,
    sms: SmsConfig,
    policy: OtpPolicy,
) -> IssuedCode:
    """Send a fresh code by SMS (through the outbox) and kill any earlier one of this browser.

    Every valid phone gets a real code, the tracking lookup's too (issue 17): only the phone's
    holder, after the code, learns whether it filed a request.
    """
    bound_session = session_hash(session_id)
    client_net = address_group(client_ip, policy.ipv6_prefix)
    code = new_code()
    async with write_transaction(serialize="otp-send"):
        now = utcnow()  # after the lock: a wait for it must not stretch the windows
        await _ensure_send_allowed(phone, purpose, bound_session, client_net, policy, now)
        await OtpChallenge.update({OtpChallenge.killed_at: now}).where(
            OtpChallenge.phone == phone,
            OtpChallenge.purpose == purpose,
            OtpChallenge.session_hash == bound_session,
            OtpChallenge.used_at.is_null(),
            OtpChallenge.killed_at.is_null(),
        )
        challenge = OtpChallenge(
            phone=phone,
            purpose=purpose,
            session_hash=bound_session,
            code_hash=code_hash(
                key, phone=phone, purpose=purpose, bound_session=bound_session, code=code
            ),
            client_ip=client_ip,
            client_net=client_net,
            created_at=now,
            expires_at=now + policy.validity,
        )
        await challenge.save()
        text = with_webotp_line(
            render_sms("otp.txt", code=code, minutes=int(policy.validity.total_seconds() // 60)),
            host=sms.web_host,
            code=code,
        )
        await enqueue(
            sms,
            to_phone=phone,
            text=text,
            purpose=SmsPurpose.otp,
            now=now,
            expires_at=challenge.expires_at,  # never sent once the code is dead
        )
    return IssuedCode(
        challenge_id=int(challenge.id),
        expires_at=now + policy.validity,
        resend_at=now + policy.resend_after,
    )


async def check_code(
    *,
    challenge_id: int,
    phone: str,
    purpose: str,
    session_id: str,
    code: str,
    key: bytes,
    policy: OtpPolicy,
) -> CheckResult:
    """Check one try. Exactly one of any number of simultaneous correct tries passes.

    Tries for one phone are weighed one at a time: the phone's count of wrong tries is read and
    raised in one step, so simultaneous guesses on several live codes (one per browser) cannot
    all be weighed before the phone locks.
    """
    async with write_transaction(serialize=f"otp-check:{phone}"):
        return await _check_code(
            challenge_id=challenge_id,
            phone=phone,
            purpose=purpose,
            bound_session=session_hash(session_id),
            code=normalise_code(code),
            key=key,
            policy=policy,
        )


async def _check_code(
    *,
    challenge_id: int,
    phone: str,
    purpose: str,
    bound_session: str,
    code: str,
    key: bytes,
    policy: OtpPolicy,
) -> CheckResult:
    now = utcnow()  # after the lock: a wait for it must not stretch the code's validity
    challenge = (
        await OtpChallenge.objects()
        .where(
            OtpChallenge.id == challenge_id,
            OtpChallenge.phone == phone,
            OtpChallenge.purpose == purpose,
            OtpChallenge.session_hash == bound_session,
        )
        .first()
    )
    if challenge is None or challenge.used_at is not None or challenge.killed_at is not None:
        return CheckResult(CheckOutcome.unknown)
    if challenge.failed_attempts >= policy.wrong_tries_per_code:
        return CheckResult(CheckOutcome.exhausted)
    if challenge.expires_at <= now:
        return CheckResult(CheckOutcome.expired)
    await _ensure_not_locked(phone, bound_session, policy, now)
    if not is_well_formed(code):
        return CheckResult(
            CheckOutcome.malformed, policy.wrong_tries_per_code - challenge.failed_attempts
        )

    if not code_matches(
        key,
        challenge.code_hash,
        phone=phone,
        purpose=purpose,
        bound_session=bound_session,
        code=code,
    ):
        rows = (
            await OtpChallenge.update(
                {OtpChallenge.failed_attempts: OtpChallenge.failed_attempts + 1}
            )
            .where(
                OtpChallenge.id == challenge_id,
                OtpChallenge.failed_attempts < policy.wrong_tries_per_code,
                OtpChallenge.used_at.is_null(),
            )
            .returning(OtpChallenge.failed_attempts)
        )
        if not rows:
            return CheckResult(CheckOutcome.exhausted)
        left = policy.wrong_tries_per_code - int(rows[0]["failed_attempts"])
        if left <= 0:
            return CheckResult(CheckOutcome.exhausted)
        return CheckResult(CheckOutcome.wrong, left)

    claimed = (
        await OtpChallenge.update({OtpChallenge.used_at: now})
        .where(
            OtpChallenge.id == challenge_id,
            OtpChallenge.used_at.is_null(),
            OtpChallenge.killed_at.is_null(),
            OtpChallenge.failed_attempts < policy.wrong_tries_per_code,
            OtpChallenge.expires_at > now,
        )
        .returning(OtpChallenge.id)
    )
    if not claimed:
        return CheckResult(CheckOutcome.unknown)
    return CheckResult(CheckOutcome.passed)


async def spent_code_error(challenge_id: int, phone: str, policy: OtpPolicy) -> str | None:
    """Why a pending code can no longer pass (the code step's error name), or None while it can.

    The code step drawn again (a reload, the back button) must not offer a dead code's input
    as if it were live: after five wrong tries, expiry or a newer code, only "ขอรหัสใหม่" helps.
    """
    row = (
        await OtpChallenge.select(
            OtpChallenge.failed_attempts,
            OtpChallenge.expires_at,
            OtpChallenge.used_at,
            OtpChallenge.killed_at,
        )
        .where(OtpChallenge.id == challenge_id, OtpChallenge.phone == phone)
        .first()
    )
    if row is None or row["used_at"] is not None or row["killed_at"] is not None:
        return f"code_{CheckOutcome.unknown.value}"
    if row["failed_attempts"] >= policy.wrong_tries_per_code:
        return f"code_{CheckOutcome.exhausted.value}"
    if row["expires_at"] <= utcnow():
        return f"code_{CheckOutcome.expired.value}"
    return None


def _open_verification(challenge_id: int, phone: str) -> tuple[Combinable, ...]:
    return (
        OtpChallenge.id == challenge_id,
        OtpChallenge.phone == phone,
        OtpChallenge.purpose == OtpPurpose.submit,
        OtpChallenge.used_at.is_not_null(),
        OtpChallenge.consumed_at.is_null(),
    )


async def verification_is_open(challenge_id: int, phone: str) -> bool:
    """True while the code that passed (the verification) has not filed a request yet.

    The browser's session is a client-side cookie, so "used up" lives here, on the row: a
    replayed old cookie names a verification that is already consumed.
    """
    return bool(await OtpChallenge.exists().where(*_open_verification(challenge_id, phone)))


async def consume_verification(challenge_id: int, phone: str, now: datetime) -> bool:
    """Inside the filing's transaction: one conditional UPDATE, so of any number of filings
    under one verification (form keys collected from many page loads, all at once) exactly
    one consumes it; the rest get False and must roll back."""
    rows = (
        await OtpChallenge.update({OtpChallenge.consumed_at: now})
        .where(*_open_verification(challenge_id, phone))
        .returning(OtpChallenge.id)
    )
    return bool(rows)
