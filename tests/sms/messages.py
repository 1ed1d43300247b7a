"""Small factories for SMS rows; each test owns its rows (the ``database`` fixture empties)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.sms.failures import COLUMNS, MessageStatus, as_status
from portal.sms.outbox import RETRY_WINDOW, SmsConfig, enqueue
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.tables.sms_message import SmsMessage, SmsPurpose, SmsState

WEBHOOK = SmsConfig(sender="OSS-LOCAL", backend="webhook")
OUTBOX = SmsConfig(sender="OSS-LOCAL", backend="outbox")
PHONES = [f"+668000002{n:02d}" for n in range(100)]
"""The test numbers of this suite: +66800000200 .. +66800000299."""
NO_LIMIT = 1_000_000
"""A daily budget no test here reaches (the budget's own tests set small ones)."""
OFFICE = OfficeRef(id=DEFAULT_OFFICE_ID, slug="main", name="เทศบาลทดสอบ", sms_daily_budget=NO_LIMIT)
"""The default office as these tests see it: a budget no test reaches."""


def budget_of(limit: int, office: OfficeRef = OFFICE) -> OfficeRef:
    """``office`` with a daily SMS budget of ``limit``."""
    return replace(office, sms_daily_budget=limit)


class FixedOffices:
    """The dispatcher's office lookup for tests: every office with the same daily budget."""

    def __init__(self, limit: int = NO_LIMIT) -> None:
        self.limit = limit

    async def by_id(self, office_id: int) -> OfficeRef | None:
        return replace(OFFICE, id=office_id, sms_daily_budget=self.limit)


UNLIMITED = FixedOffices()


async def queue(
    text: str = "ได้รับคำร้องเลขที่ 69-000001 แล้ว",
    *,
    phone: str = PHONES[0],
    purpose: SmsPurpose = SmsPurpose.receipt,
    now: datetime | None = None,
    expires_at: datetime | None = None,
    config: SmsConfig = WEBHOOK,
    office: OfficeRef = OFFICE,
) -> int:
    now = now or utcnow()
    if purpose == SmsPurpose.otp and expires_at is None:
        expires_at = now + timedelta(minutes=5)
    message = await enqueue(
        config,
        office=office,
        to_phone=phone,
        text=text,
        purpose=purpose,
        now=now,
        expires_at=expires_at,
    )
    return int(message.id)


async def row(message_id: int) -> dict[str, Any]:
    found = await SmsMessage.select().where(SmsMessage.id == message_id).first()
    assert found is not None
    return found


async def rows() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await SmsMessage.select().order_by(SmsMessage.id)
    return found


async def backdate(message_id: int, **deltas: timedelta) -> None:
    """Move a row's times into the past (``next_attempt_at=timedelta(...)`` etc.)."""
    current = await row(message_id)
    values = {getattr(SmsMessage, name): current[name] - delta for name, delta in deltas.items()}
    await SmsMessage.update(values).where(SmsMessage.id == message_id)


async def messages_for_request(request_id: int) -> list[MessageStatus]:
    """A request's messages with their states, oldest first (receipt, then each status
    change), as the admins' SMS page reads them: never the text."""
    rows = (
        await SmsMessage.select(*COLUMNS)
        .where(SmsMessage.request == request_id)
        .order_by(SmsMessage.id)
    )
    return [as_status(row) for row in rows]


async def suppressed(phone: str, *, now: datetime | None = None) -> int:
    """A ``suppressed`` row as the tracking lookup once wrote them (a stand-in never sent,
    without its text): such rows stay in databases until retention."""
    now = now or utcnow()
    message = SmsMessage(
        office=DEFAULT_OFFICE_ID,
        to_phone=phone,
        sender=WEBHOOK.sender,
        text="",
        purpose=SmsPurpose.otp,
        state=SmsState.suppressed,
        backend=WEBHOOK.backend,
        created_at=now,
        expires_at=now + RETRY_WINDOW,
    )
    await message.save()
    return int(message.id)
