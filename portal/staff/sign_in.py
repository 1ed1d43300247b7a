"""Staff sign-in: password and authenticator code together, throttled so that no stranger can
lock a chosen colleague out, never saying which part was wrong, and never accepting the same
code twice.

Four rules, each counting failed attempts (``StaffSignInAttempt``) or refused codes:

- **per (username, address group)**: 3 free failures, then 5 s, 10 s, 20 s ... up to 15 min
  (30-minute window, a success from there starts the count again). This is what slows a
  stranger guessing one colleague's password, and it never touches the colleague at their own
  address.
- **per address group** (IPv4 address, IPv6 /64): 10 free failures over every username, then the
  same doubling. One machine spraying a password over many usernames is stopped.
- **per username, refused codes after a right password** (every address): 5 free, then the
  doubling, for every attempt on that username. Only someone who knows the password can move
  this count, so a stranger cannot lock anyone out with it; it is the wall left when a password
  has leaked, and it is checked before the password so its answer tells nothing about it.
- **per username, a ceiling over every address**: past 100 failures in 24 h (distributed
  guessing), an address group that has not signed in as that colleague in the last 30 days gets
  one try per 15 minutes. Familiar addresses keep the normal rules, and a brand-new one still
  gets its first try at once, so the real person with the right password and code gets in.

The wrong password from a stranger therefore never delays the colleague: nothing username-wide
counts it except the ceiling, which only slows strangers' addresses.

Accounts belong to an office, and a username is looked up within the request's office only:
an account of office A tried at office B is an unknown username there, refused like a wrong
password (same answer, and the password hash still runs, on a dummy). Attempt rows carry the
office, and every username rule counts per office (``somchai`` of A and of B are two people);
the per-address rule counts over every office, since one machine is one machine.

The per-address checks run in a transaction serialised per address group
(``write_transaction(serialize=...)``) that also records the attempt as a failure before the
password is checked, so a burst of parallel tries passes exactly as many checks as the rules
allow one at a time. A success turns that row into a success afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from piccolo.query.functions.aggregate import Count

from portal.db import write_transaction
from portal.kernel import audit
from portal.kernel.client_net import DEFAULT_IPV6_PREFIX, address_group
from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.kernel.sealing import decrypt
from portal.staff.passwords import verify_password
from portal.staff.totp import matching_step
from portal.tables.audit_event import AuditEvent
from portal.tables.staff_sign_in_attempt import StaffSignInAttempt
from portal.tables.staff_user import StaffUser

FREE_FAILURES = 3
"""Failures per (username, address group) in the window before each further try must wait."""
ADDRESS_FREE_FAILURES = 10
"""Failures per address group over all usernames: an office behind one address mistypes."""
CODE_FREE_FAILURES = 5
"""Refused codes after a right password, per username over all addresses."""
USERNAME_CEILING = 100
"""Failures per username over all addresses in ``CEILING_WINDOW`` (NIST SP 800-63B's 100)."""
CEILING_WINDOW = timedelta(hours=24)
FAMILIAR_FOR = timedelta(days=30)
"""An address group with a success this recent is the colleague's own, ceiling or not."""
THROTTLE_WINDOW = timedelta(minutes=30)
BASE_DELAY = timedelta(seconds=5)
MAX_DELAY = timedelta(minutes=15)
CODE_REFUSED = "sign_in_code_refused"
"""Audit action: the password was right and the code was not (a leaked password, or a typo)."""


class Outcome(StrEnum):
    signed_in = "signed_in"
    refused = "refused"
    throttled = "throttled"


@dataclass(frozen=True)
class SignInResult:
    outcome: Outcome
    staff_id: int | None = None
    role: str | None = None
    retry_after: int = 0
    session_version: int = 0


def delay_after(failures: int, free: int = FREE_FAILURES) -> timedelta:
    """No wait for the first ``free`` failures, then 5 s, 10 s, 20 s ... up to 15 minutes."""
    if failures < free:
        return timedelta(0)
    doublings = min(failures - free, 16)  # 5 s x 2**16 is far past the cap anyway
    delay: timedelta = BASE_DELAY * int(2**doublings)
    return min(delay, MAX_DELAY)


def retry_after(wait: timedelta) -> int:
    """Whole seconds, rounded up: the client that waits this long is let in."""
    return int(wait.total_seconds()) + 1


async def _wait_for(where: list[Any], free: int, now: datetime) -> timedelta:
    """The wait the doubling rule asks of the attempts ``where`` selects."""
    attempts = StaffSignInAttempt
    last_success = (
        await attempts.select(attempts.created_at)
        .where(*where, attempts.succeeded.eq(True), attempts.created_at > now - THROTTLE_WINDOW)
        .order_by(attempts.created_at, ascending=False)
        .first()
    )
    start = last_success["created_at"] if last_success else now - THROTTLE_WINDOW
    failed = [*where, attempts.succeeded.eq(False), attempts.created_at > start]
    counted = await attempts.select(Count(attempts.id, alias="n")).where(*failed).first()
    count = int(counted["n"]) if counted else 0
    if count < free:
        return timedelta(0)
    latest = (
        await attempts.select(attempts.created_at)
        .where(*failed)
        .order_by(attempts.created_at, ascending=False)
        .first()
    )
    last_failure: datetime = latest["created_at"] if latest else now
    return last_failure + delay_after(count, free) - now


async def _address_wait(username: str, net: str, now: datetime, office_id: int) -> timedelta:
    """The per-address rules: (office, username, address group) and the address group alone
    (over every office)."""
    attempts = StaffSignInAttempt
    pair = await _wait_for(
        [attempts.office == office_id, attempts.username == username, attempts.client_net == net],
        FREE_FAILURES,
        now,
    )
    address = await _wait_for([attempts.client_net == net], ADDRESS_FREE_FAILURES, now)
    return max(pair, address)


async def _code_wait(username: str, now: datetime, office_id: int) -> timedelta:
    """Refused codes after a right password, counted since the username's last sign-in."""
    events = AuditEvent
    since = now - THROTTLE_WINDOW
    mine = [events.office == office_id, events.actor == username]
    success = (
        await events.select(events.created_at)
        .where(*mine, events.action == "sign_in", events.created_at > since)
        .order_by(events.created_at, ascending=False)
        .first()
    )
    start = success["created_at"] if success else since
    refused = (
        await events.select(events.created_at)
        .where(*mine, events.action == CODE_REFUSED, events.created_at > start)
        .order_by(events.created_at, ascending=False)
    )
    if len(refused) < CODE_FREE_FAILURES:
        return timedelta(0)
    last: datetime = refused[0]["created_at"]
    return last + delay_after(len(refused), CODE_FREE_FAILURES) - now


async def _ceiling_wait(username: str, net: str, now: datetime, office_id: int) -> timedelta:
    """Past the username-wide ceiling, an unfamiliar address group gets a try per 15 min."""
    attempts = StaffSignInAttempt
    total = await attempts.count().where(
        attempts.office == office_id,
        attempts.username == username,
        attempts.succeeded.eq(False),
        attempts.created_at > now - CEILING_WINDOW,
    )
    if total < USERNAME_CEILING:
        return timedelta(0)
    familiar = await attempts.exists().where(
        attempts.office == office_id,
        attempts.username == username,
        attempts.client_net == net,
        attempts.succeeded.eq(True),
        attempts.created_at > now - FAMILIAR_FOR,
    )
    if familiar:
        return timedelta(0)
    latest = (
        await attempts.select(attempts.created_at)
        .where(
            attempts.office == office_id,
            attempts.username == username,
            attempts.client_net == net,
            attempts.succeeded.eq(False),
            attempts.created_at > now - CEILING_WINDOW,
        )
        .order_by(attempts.created_at, ascending=False)
        .first()
    )
    return latest["created_at"] + MAX_DELAY - now if latest else timedelta(0)


async def wait_needed(username: str, net: str, now: datetime, *, office: OfficeRef) -> timedelta:
    """Every rule, whichever asks for the longest wait (none answers before the password)."""
    return max(
        await _address_wait(username, net, now, office.id),
        await _code_wait(username, now, office.id),
        await _ceiling_wait(username, net, now, office.id),
    )


async def reserve_check(
    username: str, client_ip: str, net: str, now: datetime, *, office: OfficeRef
) -> tuple[int | None, timedelta]:
    """Record the attempt as failed before the password is checked, if the per-address rules
    allow one more: ``(attempt id, no wait)`` or ``(None, the wait)``.

    Serialised per address group, so parallel tries see each other's rows: a burst gets
    exactly the checks the rules allow, not one per request in flight.
    """
    async with write_transaction(serialize=f"staff-sign-in:{net}"):
        wait = await _address_wait(username, net, now, office.id)
        if wait > timedelta(0):
            return None, wait
        rows = await StaffSignInAttempt.insert(
            StaffSignInAttempt(
                office=office.id,
                username=username,
                client_ip=client_ip[:64],
                client_net=net,
                succeeded=False,
                created_at=now,
            )
        ).returning(StaffSignInAttempt.id)
        return int(rows[0]["id"]), timedelta(0)


async def forget_check(attempt_id: int) -> None:
    """A right password checked for another purpose (changing it) is no failure."""
    await StaffSignInAttempt.delete().where(StaffSignInAttempt.id == attempt_id)


def client_net(client_ip: str, ipv6_prefix: int) -> str:
    return address_group(client_ip, ipv6_prefix)


async def _claim_step(staff_id: int, step: int) -> bool:
    """Accept a code's time step once: a replayed code (or the same code twice) fails."""
    rows = (
        await StaffUser.update({StaffUser.totp_last_step: step})
        .where(StaffUser.id == staff_id, StaffUser.totp_last_step < step)
        .returning(StaffUser.id)
    )
    return bool(rows)


async def _second_factor(
    user: dict[str, Any],
    username: str,
    code: str,
    client_ip: str,
    totp_key: bytes,
    now: datetime,
    office_id: int,
) -> SignInResult:
    """The code, after a right password: serialised per (office, username) so that the
    refused-code rule holds under a burst too."""
    staff_id = int(user["id"])
    async with write_transaction(serialize=f"staff-code:{office_id}:{username}"):
        wait = await _code_wait(username, now, office_id)
        if wait > timedelta(0):
            return SignInResult(Outcome.throttled, retry_after=retry_after(wait))
        secret = decrypt(totp_key, user["totp_secret_encrypted"])
        step = matching_step(secret, code, now)
        if step is None or not await _claim_step(staff_id, step):
            await audit.record(
                office_id=office_id, actor=username, action=CODE_REFUSED, client_ip=client_ip
            )
            return SignInResult(Outcome.refused)
        await StaffUser.update({StaffUser.last_sign_in_at: now}).where(StaffUser.id == staff_id)
        await audit.record(
            office_id=office_id, actor=username, action="sign_in", client_ip=client_ip
        )
    return SignInResult(
        Outcome.signed_in,
        staff_id=staff_id,
        role=user["role"],
        session_version=int(user["session_version"]),
    )


async def sign_in(
    *,
    office: OfficeRef,
    username: str,
    password: str,
    code: str,
    client_ip: str,
    totp_key: bytes,
    ipv6_prefix: int = DEFAULT_IPV6_PREFIX,
) -> SignInResult:
    now = utcnow()
    username = username.strip().lower()[:64]
    net = client_net(client_ip, ipv6_prefix)
    # A first look without the lock turns a flood away cheaply; the reservation decides.
    wait = await wait_needed(username, net, now, office=office)
    attempt_id = None
    if wait <= timedelta(0):
        attempt_id, wait = await reserve_check(username, client_ip, net, now, office=office)
    if attempt_id is None:
        return SignInResult(Outcome.throttled, retry_after=retry_after(wait))
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
        # The request's office only: another office's account of that name is no account here.
        .where(StaffUser.office == office.id, StaffUser.username == username)
        .first()
    )
    # argon2 runs on the event loop on purpose: one check at a time per worker keeps its
    # 64 MiB per check from multiplying under a flood.
    password_ok = verify_password(user["password_hash"] if user else None, password)
    # An account whose enrolment link is not used yet has no password and cannot sign in.
    if user is None or not password_ok or not user["active"] or not user["totp_enrolled"]:
        return SignInResult(Outcome.refused)
    result = await _second_factor(user, username, code, client_ip, totp_key, now, office.id)
    if result.outcome is Outcome.signed_in:
        await StaffSignInAttempt.update({StaffSignInAttempt.succeeded: True}).where(
            StaffSignInAttempt.id == attempt_id
        )
    return result


async def end_all_sessions(staff_id: int, *, office: OfficeRef) -> None:
    """Sign-out: every cookie issued before (copies too) stops working. Only an account of
    ``office``: a cookie carried to another office's pages signs nobody out there."""
    await StaffUser.update({StaffUser.session_version: StaffUser.session_version + 1}).where(
        StaffUser.office == office.id, StaffUser.id == staff_id
    )
