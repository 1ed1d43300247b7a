"""SMS health as staff and /readyz see it (``portal/sms/health.py``), row by row."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from portal.kernel.clock import utcnow
from portal.sms import budget, failover
from portal.sms.health import RECENT, sms_health
from portal.tables.sms_gateway_state import SmsGatewayState
from portal.tables.sms_message import SmsMessage, SmsState
from tests.conftest import fresh
from tests.sms.messages import OUTBOX, backdate, budget_of, queue

pytestmark = pytest.mark.usefixtures("database")


@pytest.fixture(autouse=True)
def primary_gateway(database: str) -> Iterator[None]:
    SmsGatewayState.delete(force=True).run_sync()
    yield
    SmsGatewayState.delete(force=True).run_sync()


async def tried(state: SmsState, error: str = "", attempts: int = 1) -> int:
    message_id = await queue()
    values: dict[Any, Any] = {
        SmsMessage.state: state,
        SmsMessage.attempts: attempts,
        SmsMessage.last_error: error,
        SmsMessage.next_attempt_at: None if state != SmsState.queued else utcnow(),
    }
    await SmsMessage.update(values).where(SmsMessage.id == message_id)
    return message_id


def test_a_quiet_outbox_is_healthy() -> None:
    async def go() -> None:
        health = await sms_health(office=budget_of(100))
        assert health.oldest_due_age is None
        assert (health.recent_failures, health.recent_checked) == (0, 0)
        assert (health.budget_used, health.budget_limit) == (0, 100)
        assert health.active_backend == failover.PRIMARY
        assert not (health.stuck or health.failing or health.budget_nearly_full)
        assert not health.on_fallback

    fresh(go())


def test_a_message_due_for_eleven_minutes_is_stuck_one_due_later_is_not() -> None:
    async def go() -> None:
        fresh = await queue()
        assert not (await sms_health(office=budget_of(100))).stuck
        await backdate(fresh, next_attempt_at=timedelta(minutes=9))
        health = await sms_health(office=budget_of(100))
        assert health.oldest_due_age is not None
        assert timedelta(minutes=9) <= health.oldest_due_age < timedelta(minutes=10)
        assert not health.stuck

        old = await queue()
        await backdate(old, next_attempt_at=timedelta(minutes=11))
        assert (await sms_health(office=budget_of(100))).stuck

        # Claimed by a dispatcher (sending): no longer waiting for one.
        await SmsMessage.update({SmsMessage.state: SmsState.sending}).where(SmsMessage.id == old)
        assert not (await sms_health(office=budget_of(100))).stuck

        # Waiting for a later retry: not due, not stuck.
        later = await queue()
        await SmsMessage.update({SmsMessage.next_attempt_at: utcnow() + timedelta(hours=1)}).where(
            SmsMessage.id == later
        )
        age = (await sms_health(office=budget_of(100))).oldest_due_age
        assert age is not None and age < timedelta(minutes=10)  # only the fresh one

    fresh(go())


def test_failing_means_the_last_twenty_tries_all_went_wrong() -> None:
    async def go() -> None:
        await tried(SmsState.sent)
        for _ in range(RECENT - 1):
            await tried(SmsState.failed, "HTTP 402: no credit")
        health = await sms_health(office=budget_of(100))
        assert (health.recent_failures, health.recent_checked) == (RECENT - 1, RECENT)
        assert not health.failing

        await tried(SmsState.queued, "timeout: ReadTimeout", attempts=2)  # retrying
        health = await sms_health(office=budget_of(100))
        assert (health.recent_failures, health.recent_checked) == (RECENT, RECENT)
        assert health.failing

        # Never tried (outbox rows, messages not yet claimed) and waiting for the budget do
        # not count as failures.
        await queue(config=OUTBOX)
        await queue()
        await tried(SmsState.queued, budget.WAITING_NOTE)
        health = await sms_health(office=budget_of(100))
        assert (health.recent_failures, health.recent_checked) == (RECENT - 1, RECENT)
        assert not health.failing

    fresh(go())


def test_budget_nearly_full_from_eighty_percent() -> None:
    async def go() -> None:
        for _ in range(7):
            await queue(config=OUTBOX)  # sent: counted
        health = await sms_health(office=budget_of(10))
        assert (health.budget_used, health.budget_limit) == (7, 10)
        assert not health.budget_nearly_full
        await queue(config=OUTBOX)
        assert (await sms_health(office=budget_of(10))).budget_nearly_full

    fresh(go())


def test_the_fallback_in_use_is_reported() -> None:
    async def go() -> None:
        backends = ("thaibulksms", "twilio")
        now = utcnow()
        switched = await failover.primary_failed(
            now, error="HTTP 402", no_credit=True, backends=backends
        )
        assert switched
        health = await sms_health(office=budget_of(100))
        assert health.active_backend == failover.FALLBACK
        assert health.on_fallback

    fresh(go())
