"""``enqueue``: rows in the caller's transaction, in the state their backend needs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.db import write_transaction
from portal.kernel.clock import utcnow
from portal.sms.outbox import RETRY_WINDOW, enqueue, list_messages
from portal.tables.sms_message import SmsMessage, SmsPurpose, SmsState
from tests.conftest import fresh
from tests.sms.messages import OFFICE, OUTBOX, PHONES, WEBHOOK, queue, row, suppressed

pytestmark = pytest.mark.usefixtures("database")


def test_outbox_backend_rows_are_the_delivery() -> None:
    async def go() -> None:
        message = await row(await queue(config=OUTBOX, purpose=SmsPurpose.otp, text="otp 1"))
        assert message["state"] == SmsState.sent
        assert message["sent_at"] is not None
        assert message["next_attempt_at"] is None
        assert message["text"] == "otp 1"  # developers read it: never blanked

    fresh(go())


def test_real_backend_rows_start_queued_and_due_now() -> None:
    async def go() -> None:
        now = utcnow()
        message = await row(await queue(now=now))
        assert message["state"] == SmsState.queued
        assert message["backend"] == "webhook"
        assert message["next_attempt_at"] == message["created_at"]
        assert message["expires_at"] - message["created_at"] == RETRY_WINDOW
        assert message["attempts"] == 0

    fresh(go())


def test_an_otp_expires_with_its_code() -> None:
    async def go() -> None:
        now = utcnow()
        code_expiry = now + timedelta(minutes=5)
        message_id = await queue(purpose=SmsPurpose.otp, now=now, expires_at=code_expiry)
        assert (await row(message_id))["expires_at"] == code_expiry
        with pytest.raises(ValueError, match="expiry"):
            await enqueue(
                WEBHOOK,
                office=OFFICE,
                to_phone=PHONES[1],
                text="x",
                purpose=SmsPurpose.otp,
                now=now,
            )

    fresh(go())


def test_suppressed_rows_have_no_text_and_never_leave() -> None:
    """Rows the tracking lookup once wrote as stand-ins (nothing writes them any more; they
    stay until retention): never shown in the outbox, never due."""

    async def go() -> None:
        stored = await row(await suppressed(PHONES[2]))
        assert (stored["state"], stored["text"], stored["next_attempt_at"]) == (
            SmsState.suppressed,
            "",
            None,
        )
        assert await list_messages(office=None) == []

    fresh(go())


def test_a_rolled_back_transaction_takes_its_message_with_it() -> None:
    async def go() -> None:
        with pytest.raises(RuntimeError):
            async with write_transaction():
                await queue(phone=PHONES[3])
                raise RuntimeError("the request failed after its SMS was written")
        assert await SmsMessage.count() == 0

    fresh(go())
