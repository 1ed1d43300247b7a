"""What staff see of SMS: each request's messages and their states, and the daily budget.

For the back office (the request page, a budget warning); never the text itself: a receipt
or status message carries the tracking link, which is a credential.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from portal.kernel.clock import utcnow
from portal.sms import budget
from portal.tables.sms_message import SmsMessage, SmsPurpose, SmsState

BUDGET_WARNING_SHARE = 0.8


@dataclass(frozen=True)
class MessageStatus:
    id: int
    purpose: SmsPurpose
    state: SmsState
    to_phone: str
    backend: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None
    last_error: str

    @property
    def pending(self) -> bool:
        return self.state in (SmsState.queued, SmsState.sending)


FAILURES_SHOWN = 50
FAILURES_SPAN = timedelta(days=7)


async def recent_failures(
    now: datetime | None = None, limit: int = FAILURES_SHOWN
) -> list[MessageStatus]:
    """The admins' SMS page: the latest messages that failed, or wait for a retry after a
    gateway's error, newest first, from the last week (the ``created_at`` index bounds it).
    Never the text; the page masks the phone."""
    now = now or utcnow()
    went_wrong = (SmsMessage.state == SmsState.failed) | (
        (SmsMessage.state == SmsState.queued)
        & (SmsMessage.last_error != "")
        & (SmsMessage.last_error != budget.WAITING_NOTE)
    )
    rows = (
        await SmsMessage.select(*_COLUMNS)
        .where(SmsMessage.created_at > now - FAILURES_SPAN, went_wrong)
        .order_by(SmsMessage.id, ascending=False)
        .limit(limit)
    )
    return [_status(row) for row in rows]


async def messages_for_request(request_id: int) -> list[MessageStatus]:
    """A request's messages, oldest first (receipt, then each status change)."""
    rows = (
        await SmsMessage.select(*_COLUMNS)
        .where(SmsMessage.request == request_id)
        .order_by(SmsMessage.id)
    )
    return [_status(row) for row in rows]


_COLUMNS = (
    SmsMessage.id,
    SmsMessage.purpose,
    SmsMessage.state,
    SmsMessage.to_phone,
    SmsMessage.backend,
    SmsMessage.attempts,
    SmsMessage.created_at,
    SmsMessage.next_attempt_at,
    SmsMessage.sent_at,
    SmsMessage.delivered_at,
    SmsMessage.failed_at,
    SmsMessage.last_error,
)


def _status(row: dict[str, Any]) -> MessageStatus:
    return MessageStatus(
        **{**row, "purpose": SmsPurpose(row["purpose"]), "state": SmsState(row["state"])}
    )


@dataclass(frozen=True)
class DailyUsage:
    """Messages counted in the last 24 hours against PORTAL_SMS_DAILY_LIMIT.

    Counted as ``portal/sms/budget.py`` counts them for codes and the dispatcher (sent, being
    sent, codes admitted; never the suppressed or unsent), so the warning and the refusal agree.
    """

    used: int
    limit: int

    @property
    def exhausted(self) -> bool:
        """New codes are refused (429) and other messages wait until room frees."""
        return self.used >= self.limit

    @property
    def warning(self) -> bool:
        return self.used >= self.limit * BUDGET_WARNING_SHARE


async def daily_usage(limit: int, now: datetime | None = None) -> DailyUsage:
    return DailyUsage(used=await budget.used(now or utcnow()), limit=limit)
