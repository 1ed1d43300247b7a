"""What admins see of SMS that went wrong: the latest failed or retrying messages.

For the admins' SMS page (``portal.staff.sms_routes``); never the text itself: a receipt or
status message carries the tracking link, which is a credential.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.sms import budget
from portal.tables.sms_message import SmsMessage, SmsPurpose, SmsState


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


COLUMNS = (
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


FAILURES_SHOWN = 50
FAILURES_SPAN = timedelta(days=7)


async def recent_failures(
    *, office: OfficeRef, now: datetime | None = None, limit: int = FAILURES_SHOWN
) -> list[MessageStatus]:
    """The admins' SMS page: ``office``'s latest messages that failed, or wait for a retry
    after a gateway's error, newest first, from the last week (the ``created_at`` index bounds
    it). Never the text; the page masks the phone. Another office's never show."""
    now = now or utcnow()
    went_wrong = (SmsMessage.state == SmsState.failed) | (
        (SmsMessage.state == SmsState.queued)
        & (SmsMessage.last_error != "")
        & (SmsMessage.last_error != budget.WAITING_NOTE)
    )
    rows = (
        await SmsMessage.select(*COLUMNS)
        .where(
            SmsMessage.office == office.id,
            SmsMessage.created_at > now - FAILURES_SPAN,
            went_wrong,
        )
        .order_by(SmsMessage.id, ascending=False)
        .limit(limit)
    )
    return [as_status(row) for row in rows]


def as_status(row: dict[str, Any]) -> MessageStatus:
    """One row selected with ``COLUMNS``."""
    return MessageStatus(
        **{**row, "purpose": SmsPurpose(row["purpose"]), "state": SmsState(row["state"])}
    )
