"""The send and try limits of DESIGN.md section 5, counted from the ``otp_challenge`` rows.

Every counter lives in the rows themselves, so a limit holds the same whichever worker a
request reaches; ``issue_code`` and ``check_code`` (``portal.otp.service``) call these inside
their serialised transactions.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from piccolo.custom_types import Combinable
from piccolo.query.functions.aggregate import Count, Sum

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


async def ensure_send_allowed(
    phone: str, purpose: str, bound_session: str, client_net: str, policy: OtpPolicy, now: datetime
) -> None:
    await ensure_not_locked(phone, bound_session, policy, now)

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
