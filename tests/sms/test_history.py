"""What the back office reads of SMS: a request's messages (never their text) and the daily
budget, counted as the budget counts it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.catalogue.service import get_active_service
from portal.citizen.service import file_request
from portal.kernel.clock import utcnow
from portal.sms import budget
from portal.sms.health import sms_health
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.tables.sms_message import SmsMessage, SmsPurpose, SmsState
from tests.citizen.helpers import new_submission_key
from tests.conftest import fresh
from tests.offices import office_ref
from tests.sms.messages import (
    OUTBOX,
    PHONES,
    WEBHOOK,
    backdate,
    budget_of,
    messages_for_request,
    queue,
    suppressed,
)

pytestmark = pytest.mark.usefixtures("database")


async def filed_request_id(phone: str) -> int:
    office = await office_ref()
    service = await get_active_service("general-request", office=office)
    assert service is not None
    filed = await file_request(
        service=service,
        phone=phone,
        answers={"first_name": "สมศรี", "subject": "ขอให้ซ่อมท่อระบายน้ำ"},
        submission_key=new_submission_key(),
        sms=WEBHOOK,
        office=office,
    )
    return filed.id


def test_a_requests_messages_with_their_states_oldest_first() -> None:
    async def go() -> None:
        request_id = await filed_request_id(PHONES[50])
        other = await filed_request_id(PHONES[51])
        await queue(phone=PHONES[50], purpose=SmsPurpose.otp, text="รหัส")  # not the request's
        await SmsMessage(
            office=DEFAULT_OFFICE_ID,
            to_phone=PHONES[50],
            sender="OSS-LOCAL",
            text="สถานะ",
            purpose=SmsPurpose.status,
            state=SmsState.failed,
            request=request_id,
            backend="webhook",
            created_at=utcnow(),
            last_error="gave up after 30 tries: HTTP 503",
        ).save()
        found = await messages_for_request(request_id)
        assert [(m.purpose, m.state, m.pending) for m in found] == [
            (SmsPurpose.receipt, SmsState.queued, True),
            (SmsPurpose.status, SmsState.failed, False),
        ]
        assert found[1].last_error == "gave up after 30 tries: HTTP 503"
        assert found[0].to_phone == PHONES[50]
        assert not hasattr(found[0], "text")  # the tracking link is a credential
        assert [m.purpose for m in await messages_for_request(other)] == [SmsPurpose.receipt]

    fresh(go())


def test_daily_usage_counts_what_the_budget_counts() -> None:
    """Sent in the last 24 hours, yes; sent earlier, queued receipts, suppressed, no."""

    async def go() -> None:
        old = await queue(phone=PHONES[60], config=OUTBOX)
        await backdate(old, created_at=timedelta(hours=25), sent_at=timedelta(hours=25))
        for n in range(4):
            await queue(phone=PHONES[61 + n], config=OUTBOX)
        await queue(phone=PHONES[66])  # a receipt waiting in the queue: not sent yet
        await suppressed(PHONES[67])
        usage = await budget.status(office=budget_of(5))
        assert (usage.used, usage.exhausted) == (4, False)
        assert (
            await sms_health(office=budget_of(5), budget_status=usage)
        ).budget_nearly_full  # the admins' warning
        assert (await budget.status(office=budget_of(4))).exhausted
        assert not (await sms_health(office=budget_of(100))).budget_nearly_full

    fresh(go())
