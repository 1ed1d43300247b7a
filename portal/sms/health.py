"""Is SMS working? One cheap look for the back office's banner, the admins' SMS page and /readyz.

When the gateway runs out of credit no citizen can file (no code arrives), and nobody sees it
unless the portal says so. Four signs, each from indexed reads:

- ``stuck``: a queued message has been due for over ``STUCK_AFTER`` without a dispatcher taking
  it (no dispatcher running: ``PORTAL_SMS_DISPATCH=worker`` and no ``portal sms worker``);
- ``failing``: the last ``RECENT`` messages a gateway was tried for all failed or are retrying
  with an error (credit gone, credentials revoked, the gateway down);
- ``budget_nearly_full``: the office's rolling day's budget is 80 % used
  (``portal/sms/budget.py``);
- ``active_backend``: ``"fallback"`` when the second gateway has taken over
  (``portal/sms/failover.py``).

The gateway is the platform's, so ``stuck``, ``failing`` and ``active_backend`` look at every
office's messages (they name none); the budget is the office's own. Without an office (/readyz,
the platform's metrics) the budget is every office's messages against the platform's ceiling.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from portal.db_engines import office_scope
from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.sms import budget, failover
from portal.tables.sms_message import SmsMessage, SmsState

STUCK_AFTER = timedelta(minutes=10)
RECENT = 20
"""How many of the latest tried messages ``failing`` looks at."""
RECENT_SPAN = timedelta(days=7)
"""Only messages written this recently count as "recent": bounds the read on a large table."""
NEARLY_FULL = 0.8


@dataclass(frozen=True)
class SmsHealth:
    oldest_due_age: timedelta | None
    """How long the longest-due queued message has waited past its ``next_attempt_at``."""
    recent_failures: int
    recent_checked: int
    """Of the last ``RECENT`` messages with at least one attempt: how many failed or are
    retrying with an error (``recent_failures``), and how many there were."""
    budget_used: int
    budget_limit: int
    """0: no limit (the platform without a ceiling)."""
    active_backend: str
    """``"primary"`` (PORTAL_SMS_BACKEND) or ``"fallback"`` (PORTAL_SMS_FALLBACK_BACKEND)."""

    @property
    def stuck(self) -> bool:
        return self.oldest_due_age is not None and self.oldest_due_age > STUCK_AFTER

    @property
    def failing(self) -> bool:
        return self.recent_checked >= RECENT and self.recent_failures == self.recent_checked

    @property
    def budget_nearly_full(self) -> bool:
        return self.budget_limit > 0 and self.budget_used >= NEARLY_FULL * self.budget_limit

    @property
    def on_fallback(self) -> bool:
        return self.active_backend == failover.FALLBACK


# One round trip for the three reads (each an indexed range), so the back office's banner
# costs admins a single query beside the budget count the staff guard already takes. The latest
# tried messages are read twice (to count them, and the failures among them). Failures: failed,
# or queued again after a try that went wrong (a note about waiting for the budget is not the
# gateway's fault). Placeholders: now, 'queued'; since, RECENT; since, RECENT, 'failed',
# 'queued', the budget's waiting note; the state row's key.
HEALTH_SQL = """
SELECT
  (SELECT next_attempt_at FROM sms_message
   WHERE next_attempt_at <= {} AND state = {}
   ORDER BY next_attempt_at LIMIT 1) AS oldest_due,
  (SELECT count(*) FROM (
     SELECT id FROM sms_message WHERE created_at > {} AND attempts > 0
     ORDER BY id DESC LIMIT {}) AS recent) AS checked,
  (SELECT count(*) FROM (
     SELECT state, last_error FROM sms_message WHERE created_at > {} AND attempts > 0
     ORDER BY id DESC LIMIT {}) AS recent
   WHERE state = {} OR (state = {} AND last_error <> '' AND last_error <> {})) AS failures,
  (SELECT active FROM sms_gateway_state WHERE name = {}) AS active
"""


def _timestamp(value: datetime | str) -> datetime:
    """PostgreSQL gives a datetime; SQLite, for a sub-select with no declared type, the ISO
    text Piccolo stored (UTC)."""
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


async def _spent(
    office: OfficeRef | None, platform_limit: int, now: datetime
) -> budget.BudgetStatus:
    if office is not None:
        return await budget.status(office=office, now=now)
    return budget.BudgetStatus(await budget.used(now, office_id=budget.PLATFORM), platform_limit)


async def sms_health(
    *,
    office: OfficeRef | None,
    budget_status: budget.BudgetStatus | None = None,
    platform_limit: int = 0,
) -> SmsHealth:
    """``office``'s view (its budget), or with None the platform's (every office's messages
    against ``platform_limit``, PORTAL_SMS_PLATFORM_DAILY_LIMIT). ``budget_status``: the
    caller's own count from this request (the staff guard takes one for every back-office
    page), so it is not counted twice."""
    now = utcnow()
    since = now - RECENT_SPAN
    queued, failed = SmsState.queued.value, SmsState.failed.value
    # The gateway's signs and the platform's count span offices (PostgreSQL's row security
    # would show the request's office only); the office's budget names its office itself.
    with office_scope(None):
        spent = budget_status or await _spent(office, platform_limit, now)
        [row] = await SmsMessage.raw(
            HEALTH_SQL,
            now,
            queued,
            since,
            RECENT,
            since,
            RECENT,
            failed,
            queued,
            budget.WAITING_NOTE,
            failover.KEY,
        )
    oldest = row["oldest_due"]
    return SmsHealth(
        oldest_due_age=None if oldest is None else max(timedelta(0), now - _timestamp(oldest)),
        recent_failures=int(row["failures"]),
        recent_checked=int(row["checked"]),
        budget_used=spent.used,
        budget_limit=spent.limit,
        active_backend=row["active"] or failover.PRIMARY,
    )
