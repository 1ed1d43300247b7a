"""The send and try limits of DESIGN.md section 5, counted from the ``otp_challenge`` rows.

Every counter lives in the rows themselves, so a limit holds the same whichever worker a
request reaches; ``issue_code`` and ``check_code`` (``portal.otp.service``) call these inside
their serialised transactions.

Per-phone limits count per office (``OtpChallenge.office``), with a platform ceiling across
offices (``OtpPolicy.across_offices``); per-address limits count across the whole platform.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from piccolo.custom_types import Combinable
from piccolo.query.functions.aggregate import Count, Sum

from portal.kernel.offices import OfficeRef
from portal.otp.policy import OtpPolicy
from portal.sms import budget as sms_budget
from portal.tables.otp_challenge import OtpChallenge


class RateLimited(Exception):
    """A limit is reached: nothing was sent. ``reason`` picks the Thai message."""

    def __init__(self, reason: str, retry_after: timedelta) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_seconds = max(1, int(retry_after.total_seconds() + 0.999))


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


async def ensure_not_locked(
    phone: str, bound_session: str, policy: OtpPolicy, now: datetime, *, office_id: int
) -> None:
    """Wrong tries lock this browser for this phone; only the NIST ceiling locks the phone.

    A stranger can only guess codes sent to their own browser, so their wrong tries are
    counted against (phone, their browser): the owner asking a fresh code from their own
    browser is not held back by them (see ``OtpPolicy`` for why guessing stays infeasible).
    Both count at this office; the platform's ceiling counts the phone's tries everywhere.
    """
    since = now - policy.wrong_tries_window
    here = (OtpChallenge.phone == phone, OtpChallenge.office == office_id)
    locks = (
        (
            "browser_locked",
            (*here, OtpChallenge.session_hash == bound_session),
            policy.wrong_tries_per_browser,
        ),
        ("phone_locked", here, policy.wrong_tries_per_phone),
        (
            "phone_locked",
            (OtpChallenge.phone == phone,),
            policy.across_offices(policy.wrong_tries_per_phone),
        ),
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


async def _ensure_resend_waited(
    phone: str, purpose: str, bound_session: str, office_id: int, policy: OtpPolicy, now: datetime
) -> None:
    latest = (
        await OtpChallenge.select(OtpChallenge.created_at)
        .where(
            OtpChallenge.phone == phone,
            OtpChallenge.purpose == purpose,
            OtpChallenge.session_hash == bound_session,
            OtpChallenge.office == office_id,
        )
        .order_by(OtpChallenge.created_at, ascending=False)
        .first()
    )
    if latest and latest["created_at"] + policy.resend_after > now:
        raise RateLimited("resend_too_soon", latest["created_at"] + policy.resend_after - now)


def _send_windows(
    phone: str, client_net: str, office_id: int, policy: OtpPolicy
) -> tuple[tuple[str, tuple[Combinable, ...], timedelta, int], ...]:
    """(reason, subject, window, limit): the phone at this office, the phone across offices
    (the platform's ceiling, same Thai message), the address across offices."""
    phone_here = (OtpChallenge.phone == phone, OtpChallenge.office == office_id)
    phone_anywhere = (OtpChallenge.phone == phone,)
    short, day = policy.short_window, timedelta(hours=24)
    return (
        ("phone_short", phone_here, short, policy.sends_per_phone_short),
        ("phone_day", phone_here, day, policy.sends_per_phone_day),
        ("phone_short", phone_anywhere, short, policy.across_offices(policy.sends_per_phone_short)),
        ("phone_day", phone_anywhere, day, policy.across_offices(policy.sends_per_phone_day)),
        (
            "ip_hour",
            (OtpChallenge.client_net == client_net,),
            timedelta(hours=1),
            policy.sends_per_ip_hour,
        ),
    )


async def ensure_send_allowed(
    phone: str,
    purpose: str,
    bound_session: str,
    client_net: str,
    policy: OtpPolicy,
    now: datetime,
    *,
    office: OfficeRef,
) -> None:
    await ensure_not_locked(phone, bound_session, policy, now, office_id=office.id)
    await _ensure_resend_waited(phone, purpose, bound_session, office.id, policy, now)
    for reason, subject, window, limit in _send_windows(phone, client_net, office.id, policy):
        since = now - window
        if await _count_since(*subject, OtpChallenge.created_at > since) >= limit:
            oldest = await _oldest_since(*subject, OtpChallenge.created_at > since)
            raise RateLimited(reason, oldest + window - now)
    await _ensure_new_phone_allowed(phone, client_net, policy, now)

    # Sent, being sent and admitted codes, never suppressed rows (portal/sms/budget.py): the
    # office's own budget, then the platform's ceiling if there is one.
    budget_wait = await sms_budget.wait_for_code(
        now, office=office, platform_limit=policy.daily_budget
    )
    if budget_wait is not None:
        raise RateLimited("budget", budget_wait)
