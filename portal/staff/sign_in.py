"""Staff sign-in: password and authenticator code together, throttled, never saying which
part was wrong, and never accepting the same code twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from piccolo.columns import Varchar
from piccolo.query.functions.aggregate import Count

from portal.db import write_transaction
from portal.staff import audit
from portal.staff.crypto import decrypt
from portal.staff.passwords import verify_password
from portal.staff.totp import matching_step
from portal.tables.staff_sign_in_attempt import StaffSignInAttempt
from portal.tables.staff_user import StaffUser
from portal.timeutil import utcnow

FREE_FAILURES = 3
"""Failures in the window before each further try must wait."""
THROTTLE_WINDOW = timedelta(minutes=30)
BASE_DELAY = timedelta(seconds=5)
MAX_DELAY = timedelta(minutes=15)


class Outcome(StrEnum):
    signed_in = "signed_in"
    needs_enrolment = "needs_enrolment"
    """Password right, authenticator not set up yet: show the QR code, then ask for a code."""
    refused = "refused"
    throttled = "throttled"


@dataclass(frozen=True)
class SignInResult:
    outcome: Outcome
    staff_id: int | None = None
    role: str | None = None
    retry_after: int = 0
    session_version: int = 0


def delay_after(failures: int) -> timedelta:
    """No wait for the first few failures, then 5 s, 10 s, 20 s ... up to 15 minutes."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    doublings = min(failures - FREE_FAILURES, 16)  # 5 s x 2**16 is far past the cap anyway
    delay: timedelta = BASE_DELAY * int(2**doublings)
    return min(delay, MAX_DELAY)


async def _wait_for(column: Varchar, value: str, now: datetime) -> timedelta:
    since = now - THROTTLE_WINDOW
    same = column == value
    last_success = (
        await StaffSignInAttempt.select(StaffSignInAttempt.created_at)
        .where(same, StaffSignInAttempt.succeeded.eq(True))
        .order_by(StaffSignInAttempt.created_at, ascending=False)
        .first()
    )
    start = max(since, last_success["created_at"]) if last_success else since
    failures = (
        await StaffSignInAttempt.select(Count(StaffSignInAttempt.id, alias="n"))
        .where(same, StaffSignInAttempt.succeeded.eq(False), StaffSignInAttempt.created_at > start)
        .first()
    )
    count = int(failures["n"]) if failures else 0
    if count < FREE_FAILURES:
        return timedelta(0)
    latest = (
        await StaffSignInAttempt.select(StaffSignInAttempt.created_at)
        .where(same, StaffSignInAttempt.succeeded.eq(False))
        .order_by(StaffSignInAttempt.created_at, ascending=False)
        .first()
    )
    last_failure: datetime = latest["created_at"] if latest else now
    return last_failure + delay_after(count) - now


async def _wait_needed(username: str, client_ip: str, now: datetime) -> timedelta:
    """Throttle per username (known or not) and per address, whichever is stricter."""
    by_name = await _wait_for(StaffSignInAttempt.username, username, now)
    by_address = await _wait_for(StaffSignInAttempt.client_ip, client_ip, now)
    return max(by_name, by_address)


async def _log(username: str, client_ip: str, succeeded: bool, now: datetime) -> None:
    await StaffSignInAttempt(
        username=username[:64], client_ip=client_ip, succeeded=succeeded, created_at=now
    ).save()


async def _claim_step(staff_id: int, step: int) -> bool:
    """Accept a code's time step once: a replayed code (or the same code twice) fails."""
    rows = (
        await StaffUser.update({StaffUser.totp_last_step: step})
        .where(StaffUser.id == staff_id, StaffUser.totp_last_step < step)
        .returning(StaffUser.id)
    )
    return bool(rows)


async def sign_in(
    *, username: str, password: str, code: str, client_ip: str, totp_key: bytes
) -> SignInResult:
    now = utcnow()
    username = username.strip().lower()[:64]
    wait = await _wait_needed(username, client_ip, now)
    if wait > timedelta(0):
        return SignInResult(Outcome.throttled, retry_after=int(wait.total_seconds()) + 1)
    user = (
        await StaffUser.select(
            StaffUser.id,
            StaffUser.role,
            StaffUser.password_hash,
            StaffUser.totp_secret_encrypted,
            StaffUser.totp_enrolled,
            StaffUser.active,
            StaffUser.session_version,
        )
        .where(StaffUser.username == username)
        .first()
    )
    password_ok = verify_password(user["password_hash"] if user else None, password)
    if user is None or not password_ok or not user["active"]:
        await _log(username, client_ip, False, now)
        return SignInResult(Outcome.refused)
    if not user["totp_enrolled"]:
        # Password alone opens only the enrolment step, which still demands a code.
        return SignInResult(Outcome.needs_enrolment, staff_id=int(user["id"]), role=user["role"])
    secret = decrypt(totp_key, user["totp_secret_encrypted"])
    step = matching_step(secret, code, now)
    if step is None or not await _claim_step(int(user["id"]), step):
        await _log(username, client_ip, False, now)
        return SignInResult(Outcome.refused)
    async with write_transaction():
        await _log(username, client_ip, True, now)
        await StaffUser.update({StaffUser.last_sign_in_at: now}).where(StaffUser.id == user["id"])
        await audit.record(actor=username, action="sign_in", client_ip=client_ip)
    return SignInResult(
        Outcome.signed_in,
        staff_id=int(user["id"]),
        role=user["role"],
        session_version=int(user["session_version"]),
    )


async def end_all_sessions(staff_id: int) -> None:
    """Sign-out and deactivation: every cookie issued before (copies too) stops working."""
    await StaffUser.update({StaffUser.session_version: StaffUser.session_version + 1}).where(
        StaffUser.id == staff_id
    )


async def confirm_enrolment(
    *, staff_id: int, code: str, client_ip: str, totp_key: bytes
) -> SignInResult:
    """First sign-in: the code from the freshly scanned app proves the enrolment worked."""
    now = utcnow()
    user = (
        await StaffUser.select(
            StaffUser.username,
            StaffUser.role,
            StaffUser.totp_secret_encrypted,
            StaffUser.active,
            StaffUser.session_version,
        )
        .where(StaffUser.id == staff_id, StaffUser.totp_enrolled.eq(False))
        .first()
    )
    if user is None or not user["active"]:
        return SignInResult(Outcome.refused)
    wait = await _wait_needed(user["username"], client_ip, now)
    if wait > timedelta(0):
        return SignInResult(Outcome.throttled, retry_after=int(wait.total_seconds()) + 1)
    step = matching_step(decrypt(totp_key, user["totp_secret_encrypted"]), code, now)
    if step is None or not await _claim_step(staff_id, step):
        await _log(user["username"], client_ip, False, now)
        return SignInResult(Outcome.refused)
    async with write_transaction():
        await StaffUser.update(
            {StaffUser.totp_enrolled: True, StaffUser.last_sign_in_at: now}
        ).where(StaffUser.id == staff_id)
        await _log(user["username"], client_ip, True, now)
        await audit.record(actor=user["username"], action="sign_in_enrolled", client_ip=client_ip)
    return SignInResult(
        Outcome.signed_in,
        staff_id=staff_id,
        role=user["role"],
        session_version=int(user["session_version"]),
    )
