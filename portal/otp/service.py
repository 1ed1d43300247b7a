"""Issue and check SMS codes under the limits of DESIGN.md section 5 (``portal.otp.limits``).

Every counter lives in the ``otp_challenge`` and ``sms_message`` rows, so the limits hold the
same whichever worker a request reaches. Checks that race (a double tap, ten tabs) are settled
by single conditional UPDATEs, never by read-then-write.

Every challenge belongs to the office it was issued at: a code, a passed check and its limits
count at that office only (a phone verified at office A is not verified at office B).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from portal.db import write_transaction
from portal.db_engines import office_scope
from portal.kernel.client_net import address_group
from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.otp.codes import (
    code_hash,
    code_matches,
    is_well_formed,
    new_code,
    normalise_code,
    session_hash,
)
from portal.otp.limits import RateLimited, ensure_not_locked, ensure_send_allowed
from portal.otp.policy import OtpPolicy
from portal.sms.outbox import SmsConfig, enqueue
from portal.sms.texts import render_sms, with_webotp_line
from portal.tables.otp_challenge import OtpChallenge
from portal.tables.sms_message import SmsPurpose


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


async def issue_code(
    *,
    phone: str,
    purpose: str,
    session_id: str,
    client_ip: str,
    key: bytes,
    sms: SmsConfig,
    policy: OtpPolicy,
    office: OfficeRef,
) -> IssuedCode:
    """Send a fresh code by SMS (through the outbox) and kill any earlier one of this browser.

    Every valid phone gets a real code, the tracking lookup's too (issue 17): only the phone's
    holder, after the code, learns whether it filed a request.

    ``otp-send`` stays one platform-wide lock: the per-address limits and the phone's ceiling
    count across offices, so sends at two offices must still be weighed one at a time. For the
    same reason the transaction runs across offices (``office_scope(None)``: PostgreSQL's row
    security would hide the other offices' rows); every query here names its office itself.
    """
    with office_scope(None):
        return await _issue(phone, purpose, client_ip, key, sms, policy, office, session_id)


async def _issue(
    phone: str,
    purpose: str,
    client_ip: str,
    key: bytes,
    sms: SmsConfig,
    policy: OtpPolicy,
    office: OfficeRef,
    session_id: str,
) -> IssuedCode:
    bound_session = session_hash(session_id)
    client_net = address_group(client_ip, policy.ipv6_prefix)
    code = new_code()
    async with write_transaction(serialize="otp-send"):
        now = utcnow()  # after the lock: a wait for it must not stretch the windows
        await ensure_send_allowed(
            phone, purpose, bound_session, client_net, policy, now, office=office
        )
        await OtpChallenge.update({OtpChallenge.killed_at: now}).where(
            OtpChallenge.office == office.id,
            OtpChallenge.phone == phone,
            OtpChallenge.purpose == purpose,
            OtpChallenge.session_hash == bound_session,
            OtpChallenge.used_at.is_null(),
            OtpChallenge.killed_at.is_null(),
        )
        challenge = OtpChallenge(
            office=office.id,
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
        await _send_code_sms(sms, office, phone, code, challenge, policy, now)
    return IssuedCode(
        challenge_id=int(challenge.id),
        expires_at=now + policy.validity,
        resend_at=now + policy.resend_after,
    )


async def _send_code_sms(
    sms: SmsConfig,
    office: OfficeRef,
    phone: str,
    code: str,
    challenge: OtpChallenge,
    policy: OtpPolicy,
    now: datetime,
) -> None:
    """The code's SMS, under the office's sender, its WebOTP line for the office's own host."""
    text = with_webotp_line(
        render_sms("otp.txt", code=code, minutes=int(policy.validity.total_seconds() // 60)),
        host=sms.for_office(office).web_host,
        code=code,
    )
    await enqueue(
        sms,
        office=office,
        to_phone=phone,
        text=text,
        purpose=SmsPurpose.otp,
        now=now,
        expires_at=challenge.expires_at,  # never sent once the code is dead
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
    office: OfficeRef,
) -> CheckResult:
    """Check one try. Exactly one of any number of simultaneous correct tries passes.

    Tries for one phone are weighed one at a time: the phone's count of wrong tries is read and
    raised in one step, so simultaneous guesses on several live codes (one per browser) cannot
    all be weighed before the phone locks. The lock is the phone's across offices, and the
    transaction runs across offices (``office_scope(None)``), because the phone's ceiling of
    wrong tries counts every office; the challenge itself is looked up at ``office`` only.
    """
    with office_scope(None):
        return await _check_in_order(
            challenge_id, phone, purpose, session_hash(session_id), code, key, policy, office
        )


async def _check_in_order(
    challenge_id: int,
    phone: str,
    purpose: str,
    bound_session: str,
    code: str,
    key: bytes,
    policy: OtpPolicy,
    office: OfficeRef,
) -> CheckResult:
    async with write_transaction(serialize=f"otp-check:{phone}"):
        return await _check_code(
            challenge_id=challenge_id,
            phone=phone,
            purpose=purpose,
            bound_session=bound_session,
            code=normalise_code(code),
            key=key,
            policy=policy,
            office_id=office.id,
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
    office_id: int,
) -> CheckResult:
    now = utcnow()  # after the lock: a wait for it must not stretch the code's validity
    challenge = (
        await OtpChallenge.objects()
        .where(
            OtpChallenge.id == challenge_id,
            OtpChallenge.office == office_id,  # another office's code: as if never sent
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
    await ensure_not_locked(phone, bound_session, policy, now, office_id=office_id)
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
        return await _count_wrong_try(challenge_id, policy)
    return await _claim(challenge_id, policy, now)


async def _count_wrong_try(challenge_id: int, policy: OtpPolicy) -> CheckResult:
    """One conditional UPDATE: simultaneous wrong tries are each counted, never past the limit."""
    rows = (
        await OtpChallenge.update({OtpChallenge.failed_attempts: OtpChallenge.failed_attempts + 1})
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


async def _claim(challenge_id: int, policy: OtpPolicy, now: datetime) -> CheckResult:
    """One conditional UPDATE: of simultaneous correct tries exactly one passes."""
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


async def spent_code_error(
    challenge_id: int, phone: str, policy: OtpPolicy, *, office: OfficeRef
) -> str | None:
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
        .where(
            OtpChallenge.id == challenge_id,
            OtpChallenge.office == office.id,
            OtpChallenge.phone == phone,
        )
        .first()
    )
    if row is None or row["used_at"] is not None or row["killed_at"] is not None:
        return f"code_{CheckOutcome.unknown.value}"
    if row["failed_attempts"] >= policy.wrong_tries_per_code:
        return f"code_{CheckOutcome.exhausted.value}"
    if row["expires_at"] <= utcnow():
        return f"code_{CheckOutcome.expired.value}"
    return None


__all__ = [
    "CheckOutcome",
    "CheckResult",
    "IssuedCode",
    "RateLimited",
    "check_code",
    "issue_code",
    "spent_code_error",
]
