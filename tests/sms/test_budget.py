"""The daily budget's rules, row by row (``portal/sms/budget.py``); the attack through the
routes, the gateway and two worker processes is in ``tests/security/test_sms_budget.py``."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.kernel.clock import utcnow
from portal.sms import budget
from portal.sms.outbox import RETRY_WINDOW
from portal.tables.sms_message import SmsMessage, SmsPurpose, SmsState
from tests.conftest import fresh
from tests.sms.messages import (
    OFFICE,
    OUTBOX,
    PHONES,
    backdate,
    budget_of,
    queue,
    row,
    suppressed,
)

pytestmark = pytest.mark.usefixtures("database")
LEASE = timedelta(seconds=30)


async def set_state(message_id: int, state: SmsState, **values: object) -> None:
    columns = {getattr(SmsMessage, name): value for name, value in values.items()}
    await SmsMessage.update({SmsMessage.state: state, **columns}).where(SmsMessage.id == message_id)


def test_what_counts_sent_sending_and_admitted_codes_never_the_unsent() -> None:
    async def go() -> None:
        now = utcnow()
        counted = [
            await queue(config=OUTBOX),  # sent now
            await queue(purpose=SmsPurpose.otp),  # a code admitted, waiting
        ]
        sending = await queue()
        await set_state(sending, SmsState.sending, lease_until=now + LEASE)
        reported_failed = await queue(config=OUTBOX)  # the gateway took it, then failed it
        await set_state(reported_failed, SmsState.failed, failed_at=now)
        counted += [sending, reported_failed]

        await queue()  # a receipt waiting: not sent yet
        # A suppressed row, as the tracking lookup wrote before every phone got a real code:
        # such rows stay in databases until retention, and never count.
        await suppressed(PHONES[5], now=now)
        refused = await queue()  # refused before any gateway took it
        await set_state(refused, SmsState.failed, failed_at=now, next_attempt_at=None)
        dead_code = await queue(purpose=SmsPurpose.otp)
        await backdate(dead_code, expires_at=timedelta(minutes=10))
        old = await queue(config=OUTBOX)
        await backdate(old, created_at=timedelta(hours=25), sent_at=timedelta(hours=25))
        # Sent a day after it was written (it waited for room): still counted.
        waited = await queue(config=OUTBOX)
        await backdate(waited, created_at=timedelta(hours=30))
        counted.append(waited)

        assert await budget.used(utcnow(), office_id=OFFICE.id) == len(counted) == 5

    fresh(go())


def test_a_full_budget_claims_codes_and_holds_receipts_back_until_room_frees() -> None:
    async def go() -> None:
        first = await queue(config=OUTBOX)
        await backdate(first, created_at=timedelta(hours=20), sent_at=timedelta(hours=20))
        second = await queue(config=OUTBOX)
        receipts = [await queue(phone=PHONES[n]) for n in range(1, 4)]
        code = await queue(purpose=SmsPurpose.otp, phone=PHONES[9])  # admitted: counted
        now = utcnow()

        claimed = await budget.claim(now, now + LEASE, 20, office=budget_of(4))
        # The code and one receipt (the room left), the two others wait, in order.
        assert [c.id for c in claimed] == [code, receipts[0]]
        frees = (await row(first))["sent_at"] + budget.WINDOW
        for message_id in receipts[1:]:
            waiting = await row(message_id)
            assert waiting["state"] == SmsState.queued
            assert waiting["next_attempt_at"] == frees
            assert waiting["expires_at"] == frees + RETRY_WINDOW
            assert waiting["last_error"] == budget.WAITING_NOTE
        assert await budget.claim(now, now + LEASE, 20, office=budget_of(4)) == []

        # Counted: two sent, two being sent. A lowered limit waits for more to leave.
        assert await budget.wait_for_code(now, office=budget_of(4)) == frees - now
        second_frees = (await row(second))["sent_at"] + budget.WINDOW
        assert await budget.wait_for_code(now, office=budget_of(3)) == second_frees - now
        assert await budget.wait_for_code(now, office=budget_of(5)) is None
        status = await budget.status(office=budget_of(4), now=now)
        assert (status.exhausted, status.waiting, status.room_at) == (True, 2, frees)

        later = frees + timedelta(seconds=1)  # the oldest left the window: room for one
        for claimed_one in claimed:
            await set_state(claimed_one.id, SmsState.sent, sent_at=now, next_attempt_at=None)
        (next_one,) = await budget.claim(later, later + LEASE, 20, office=budget_of(4))
        assert next_one.id == receipts[1]

    fresh(go())


def test_a_receipt_waits_at_most_longest_wait_after_it_was_written() -> None:
    async def go() -> None:
        sent = await queue(config=OUTBOX)
        receipt = await queue(phone=PHONES[1])
        await backdate(receipt, created_at=timedelta(hours=40), next_attempt_at=timedelta(hours=1))
        now = utcnow()
        assert await budget.claim(now, now + LEASE, 20, office=budget_of(1)) == []
        stored = await row(receipt)
        end_of_life = stored["created_at"] + budget.LONGEST_WAIT
        # It cannot go before its life ends (room frees in 24 h): it waits for its expiry.
        assert stored["expires_at"] == end_of_life == stored["next_attempt_at"]
        assert (await row(sent))["state"] == SmsState.sent

    fresh(go())


def test_the_success_page_is_told_when_the_receipt_waits() -> None:
    async def go() -> None:
        from tests.sms.test_history import filed_request_id

        await queue(config=OUTBOX)
        first = await filed_request_id(PHONES[1])
        second = await filed_request_id(PHONES[2])
        # The one place left is its.
        assert not await budget.receipt_waits(first, office=budget_of(2))
        assert await budget.receipt_waits(second, office=budget_of(2))
        assert not await budget.receipt_waits(second, office=budget_of(3))

    fresh(go())


def test_a_raised_limit_releases_held_back_messages_at_once() -> None:
    async def go() -> None:
        await queue(config=OUTBOX)
        receipts = [await queue(phone=PHONES[n]) for n in range(1, 4)]
        now = utcnow()
        assert await budget.claim(now, now + LEASE, 20, office=budget_of(1)) == []
        assert await budget.release(now, office=budget_of(1)) == 0  # still full: they keep waiting
        # Staff raise PORTAL_SMS_DAILY_LIMIT to 3: room for two, oldest first.
        assert await budget.release(now, office=budget_of(3)) == 2
        claimed = await budget.claim(now, now + LEASE, 20, office=budget_of(3))
        assert [c.id for c in claimed] == receipts[:2]
        assert (await row(receipts[2]))["next_attempt_at"] > now

    fresh(go())
