"""``apply_reports``: only a sent message moves, to delivered or failed, once."""

from __future__ import annotations

import pytest

from portal.kernel.clock import utcnow
from portal.sms.delivery import apply_reports
from portal.sms.providers.base import DeliveryReport, ReportState
from portal.tables.sms_message import SmsMessage, SmsState
from tests.conftest import fresh
from tests.sms.messages import PHONES, queue, row

pytestmark = pytest.mark.usefixtures("database")


async def sent(provider_id: str, backend: str = "webhook", phone: str = PHONES[40]) -> int:
    message_id = await queue(phone=phone)
    await SmsMessage.update(
        {
            SmsMessage.state: SmsState.sent,
            SmsMessage.backend: backend,
            SmsMessage.provider_message_id: provider_id,
            SmsMessage.next_attempt_at: None,
        }
    ).where(SmsMessage.id == message_id)
    return message_id


def test_delivered_and_failed_reports_settle_sent_messages() -> None:
    async def go() -> None:
        ok, lost = await sent("a"), await sent("b", phone=PHONES[41])
        now = utcnow()
        changed = await apply_reports(
            "webhook",
            [
                DeliveryReport("a", ReportState.delivered),
                DeliveryReport("b", ReportState.failed, "handset unreachable"),
            ],
            now,
        )
        assert changed == 2
        delivered, failed = await row(ok), await row(lost)
        assert (delivered["state"], delivered["delivered_at"]) == (SmsState.delivered, now)
        assert (failed["state"], failed["failed_at"], failed["last_error"]) == (
            SmsState.failed,
            now,
            "handset unreachable",
        )

    fresh(go())


def test_intermediate_repeated_and_foreign_reports_change_nothing() -> None:
    async def go() -> None:
        message_id = await sent("c")
        now = utcnow()
        assert await apply_reports("webhook", [DeliveryReport("c", None)], now) == 0
        assert await apply_reports("twilio", [DeliveryReport("c", ReportState.failed)], now) == 0
        assert await apply_reports("webhook", [DeliveryReport("c", ReportState.delivered)], now)
        # A later "failed" does not undo a delivery.
        assert await apply_reports("webhook", [DeliveryReport("c", ReportState.failed)], now) == 0
        assert (await row(message_id))["state"] == SmsState.delivered

    fresh(go())


def test_a_failure_report_without_detail_still_says_why() -> None:
    async def go() -> None:
        message_id = await sent("d")
        await apply_reports("webhook", [DeliveryReport("d", ReportState.failed)], utcnow())
        assert (await row(message_id))["last_error"] == "reported undelivered"

    fresh(go())


def test_nul_bytes_in_a_report_change_nothing_and_raise_nothing() -> None:
    """PostgreSQL refuses NUL in text; schemathesis sent one in a report's id (a 500)."""

    async def go() -> None:
        message_id = await sent("d")
        now = utcnow()
        forged = [DeliveryReport("d\x00", ReportState.delivered)]
        assert await apply_reports("webhook", forged, now) == 0
        assert (await row(message_id))["state"] == SmsState.sent
        failed = [DeliveryReport("d", ReportState.failed, "no\x00 signal")]
        assert await apply_reports("webhook", failed, now) == 1
        assert (await row(message_id))["last_error"] == "no signal"

    fresh(go())
