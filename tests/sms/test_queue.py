"""Claims and outcomes on the outbox rows, on whichever database the run uses."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from portal.kernel.clock import utcnow
from portal.sms import queue as sms_queue
from portal.tables.sms_message import SmsPurpose, SmsState
from tests.conftest import fresh
from tests.sms.messages import OUTBOX, PHONES, backdate, queue, row, rows

pytestmark = pytest.mark.usefixtures("database")
LEASE = timedelta(seconds=30)


def test_a_claim_takes_due_messages_with_a_lease() -> None:
    async def go() -> None:
        first, second = await queue(phone=PHONES[0]), await queue(phone=PHONES[1])
        now = utcnow()
        claimed = await sms_queue.claim_due(now, now + LEASE, 10)
        assert [(c.id, c.attempts) for c in claimed] == [(first, 1), (second, 1)]
        stored = await row(first)
        assert stored["state"] == SmsState.sending
        assert stored["lease_until"] == now + LEASE
        assert await sms_queue.claim_due(now, now + LEASE, 10) == []

    fresh(go())


def test_not_yet_due_and_expired_messages_are_not_claimed() -> None:
    async def go() -> None:
        later = await queue(now=utcnow() + timedelta(minutes=1))
        expired = await queue(purpose=SmsPurpose.otp)
        await backdate(expired, expires_at=timedelta(minutes=10))
        now = utcnow()
        assert await sms_queue.claim_due(now, now + LEASE, 10) == []
        assert (await row(later))["state"] == SmsState.queued

    fresh(go())


def test_a_crashed_dispatchers_message_is_claimed_again_after_its_lease() -> None:
    async def go() -> None:
        message_id = await queue()
        now = utcnow()
        (first,) = await sms_queue.claim_due(now, now + LEASE, 10)
        assert await sms_queue.claim_due(now + LEASE / 2, now + LEASE, 10) == []
        later = now + LEASE + timedelta(seconds=1)
        (again,) = await sms_queue.claim_due(later, later + LEASE, 10)
        assert (again.id, again.attempts) == (message_id, 2)
        # The first claimer's result comes too late: its fencing token is stale.
        assert not await sms_queue.record_sent(
            first, backend="webhook", provider_message_id="x", now=later
        )
        assert (await row(message_id))["state"] == SmsState.sending
        assert await sms_queue.record_sent(
            again, backend="webhook", provider_message_id="y", now=later
        )
        assert (await row(message_id))["provider_message_id"] == "y"

    fresh(go())


def test_claims_respect_the_limit_oldest_due_first() -> None:
    async def go() -> None:
        start = utcnow() - timedelta(minutes=5)
        ids = [await queue(phone=PHONES[n], now=start + timedelta(seconds=n)) for n in range(5)]
        now = utcnow()
        claimed = await sms_queue.claim_due(now, now + LEASE, 3)
        assert [c.id for c in claimed] == ids[:3]

    fresh(go())


def test_simultaneous_claims_never_share_a_message() -> None:
    async def go() -> None:
        ids = {await queue(phone=PHONES[n % 100], text=f"m{n}") for n in range(40)}
        now = utcnow()
        batches = await asyncio.gather(
            *(sms_queue.claim_due(now, now + LEASE, 7) for _ in range(8))
        )
        claimed = [c.id for batch in batches for c in batch]
        assert len(claimed) == len(set(claimed)) == 40
        assert set(claimed) == ids
        assert {r["attempts"] for r in await rows()} == {1}

    fresh(go())


def test_outcomes_settle_the_row_and_blank_an_otps_code() -> None:
    async def go() -> None:
        otp = await queue(purpose=SmsPurpose.otp, text="รหัสยืนยัน 111111", phone=PHONES[4])
        receipt = await queue(phone=PHONES[5])
        refused = await queue(purpose=SmsPurpose.otp, text="รหัสยืนยัน 222222", phone=PHONES[6])
        retried = await queue(phone=PHONES[7])
        now = utcnow()
        claims = {c.id: c for c in await sms_queue.claim_due(now, now + LEASE, 10)}
        await sms_queue.record_sent(
            claims[otp], backend="webhook", provider_message_id="1", now=now
        )
        await sms_queue.record_sent(
            claims[receipt], backend="webhook", provider_message_id="2", now=now
        )
        await sms_queue.record_failed(claims[refused], error="HTTP 400", now=now)
        await sms_queue.record_retry(
            claims[retried], error="HTTP 503", next_attempt_at=now + timedelta(seconds=4)
        )
        sent_otp, sent_receipt = await row(otp), await row(receipt)
        assert (sent_otp["state"], sent_otp["text"], sent_otp["sent_at"]) == (
            SmsState.sent,
            "",
            now,
        )
        assert sent_receipt["text"].startswith("ได้รับคำร้อง")
        assert sent_receipt["lease_until"] is None and sent_receipt["next_attempt_at"] is None
        failed = await row(refused)
        assert (failed["state"], failed["text"], failed["last_error"]) == (
            SmsState.failed,
            "",
            "HTTP 400",
        )
        waiting = await row(retried)
        assert (waiting["state"], waiting["last_error"]) == (SmsState.queued, "HTTP 503")
        assert waiting["next_attempt_at"] == now + timedelta(seconds=4)

    fresh(go())


def test_expired_messages_fail_and_an_expired_otp_loses_its_code() -> None:
    async def go() -> None:
        start = utcnow() - timedelta(minutes=1)
        in_flight = await queue(phone=PHONES[8], now=start)
        now = utcnow()
        (claim,) = await sms_queue.claim_due(now, now + LEASE, 1)
        assert claim.id == in_flight
        otp = await queue(purpose=SmsPurpose.otp, text="รหัสยืนยัน 333333", phone=PHONES[9])
        receipt = await queue(phone=PHONES[10])
        for message_id in (in_flight, otp, receipt):
            await backdate(message_id, expires_at=timedelta(hours=5))

        # A live dispatcher is sending one of them: that one is left to it.
        assert await sms_queue.fail_expired(utcnow()) == 2
        stored_otp = await row(otp)
        assert (stored_otp["state"], stored_otp["text"]) == (SmsState.failed, "")
        assert stored_otp["last_error"] == "expired before it could be sent"
        stored_receipt = await row(receipt)
        assert stored_receipt["state"] == SmsState.failed
        assert stored_receipt["text"].startswith("ได้รับคำร้อง")
        assert (await row(in_flight))["state"] == SmsState.sending

        # Its dispatcher died: once the lease is over, it fails too, never sent late.
        assert await sms_queue.fail_expired(now + LEASE + timedelta(seconds=1)) == 1
        assert (await row(in_flight))["state"] == SmsState.failed

    fresh(go())


def test_an_idle_outbox_has_no_work_and_a_due_or_expired_message_does() -> None:
    async def go() -> None:
        now = utcnow()
        assert not await sms_queue.has_work(now)
        later = await queue(now=now + timedelta(minutes=1))
        assert not await sms_queue.has_work(now)
        assert await sms_queue.has_work(now + timedelta(minutes=2))
        settled = await queue(config=OUTBOX)
        assert (await row(settled))["next_attempt_at"] is None
        assert not await sms_queue.has_work(now)
        await backdate(later, next_attempt_at=timedelta(minutes=2), expires_at=timedelta(hours=5))
        assert await sms_queue.has_work(utcnow())
        assert await sms_queue.fail_expired(utcnow()) == 1
        assert not await sms_queue.has_work(utcnow())

    fresh(go())
