"""The dispatcher's decisions, with a scripted provider (no HTTP; see test_gateway_outage for
a real server)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from portal.kernel.clock import utcnow
from portal.sms import queue as sms_queue
from portal.sms.dispatcher import Dispatcher, SmsTiming, retry_delay
from portal.sms.providers.base import (
    DeliveryReport,
    IncomingReport,
    Outcome,
    OutgoingSms,
    SendResult,
)
from portal.tables.sms_message import SmsPurpose, SmsState
from tests.conftest import fresh
from tests.sms.messages import PHONES, UNLIMITED, backdate, queue, row

pytestmark = pytest.mark.usefixtures("database")
FAST = SmsTiming(
    connect_timeout=0.2, read_timeout=0.2, poll_interval=0.01, backoff_base=1, backoff_cap=8
)


@dataclass
class ScriptedProvider:
    answer: Callable[[OutgoingSms], SendResult] = lambda m: SendResult(
        Outcome.accepted, provider_message_id=f"gw-{m.id}"
    )
    sent: list[OutgoingSms] = field(default_factory=list)
    name: str = "scripted"

    async def send(self, message: OutgoingSms) -> SendResult:
        self.sent.append(message)
        return self.answer(message)

    def authenticate(self, report: IncomingReport, token: str) -> bool:
        return False

    def parse_report(self, report: IncomingReport) -> list[DeliveryReport]:
        return []


def dispatch(provider: ScriptedProvider, timing: SmsTiming = FAST) -> int:
    return fresh(Dispatcher(provider, timing, offices=UNLIMITED).run_until_idle())


def test_an_accepted_otp_is_sent_and_its_code_is_gone_from_the_database() -> None:
    otp = fresh(queue(purpose=SmsPurpose.otp, text="รหัสยืนยัน 123456"))
    receipt = fresh(queue(phone=PHONES[1]))
    provider = ScriptedProvider()
    assert dispatch(provider) == 2
    assert [(m.id, m.to, m.sender) for m in provider.sent] == [
        (otp, PHONES[0], "OSS-LOCAL"),
        (receipt, PHONES[1], "OSS-LOCAL"),
    ]
    assert provider.sent[0].text == "รหัสยืนยัน 123456"
    sent_otp, sent_receipt = fresh(row(otp)), fresh(row(receipt))
    assert (sent_otp["state"], sent_otp["text"], sent_otp["attempts"]) == (SmsState.sent, "", 1)
    assert (sent_otp["backend"], sent_otp["provider_message_id"]) == ("scripted", f"gw-{otp}")
    assert sent_receipt["state"] == SmsState.sent
    assert sent_receipt["text"] != ""


def test_a_refused_message_fails_without_retry() -> None:
    message_id = fresh(queue())
    provider = ScriptedProvider(lambda m: SendResult(Outcome.rejected, error="HTTP 400: bad"))
    dispatch(provider)
    dispatch(provider)
    stored = fresh(row(message_id))
    assert (stored["state"], stored["last_error"], stored["attempts"]) == (
        SmsState.failed,
        "HTTP 400: bad",
        1,
    )
    assert len(provider.sent) == 1


def test_a_failed_try_waits_with_backoff_then_goes() -> None:
    message_id = fresh(queue())
    answers = iter([SendResult(Outcome.retry, error="HTTP 503"), SendResult(Outcome.accepted)])
    provider = ScriptedProvider(lambda m: next(answers))
    before = utcnow()
    dispatch(provider)
    waiting = fresh(row(message_id))
    assert (waiting["state"], waiting["last_error"], waiting["attempts"]) == (
        SmsState.queued,
        "HTTP 503",
        1,
    )
    delay = waiting["next_attempt_at"] - before
    assert timedelta(seconds=0.5) <= delay <= timedelta(seconds=1.5)
    assert dispatch(provider) == 0  # not due yet
    fresh(backdate(message_id, next_attempt_at=timedelta(seconds=2)))
    dispatch(provider)
    stored = fresh(row(message_id))
    assert (stored["state"], stored["attempts"], stored["last_error"]) == (SmsState.sent, 2, "")


def test_an_otp_whose_next_try_would_come_after_its_expiry_is_failed_not_sent_late() -> None:
    message_id = fresh(
        queue(purpose=SmsPurpose.otp, text="รหัส", expires_at=utcnow() + timedelta(seconds=0.5))
    )
    provider = ScriptedProvider(lambda m: SendResult(Outcome.retry, error="timeout: x"))
    dispatch(provider)
    stored = fresh(row(message_id))
    assert (stored["state"], stored["text"]) == (SmsState.failed, "")
    assert stored["last_error"] == "gave up after 1 tries: timeout: x"


def test_an_expired_otp_never_reaches_the_gateway() -> None:
    message_id = fresh(queue(purpose=SmsPurpose.otp, text="รหัสยืนยัน 999999"))
    fresh(backdate(message_id, expires_at=timedelta(minutes=6)))
    provider = ScriptedProvider()
    dispatch(provider)
    assert provider.sent == []
    stored = fresh(row(message_id))
    assert (stored["state"], stored["text"]) == (SmsState.failed, "")


def test_a_claim_that_expires_in_the_dispatchers_hands_is_not_sent() -> None:
    message_id = fresh(queue(purpose=SmsPurpose.otp, text="รหัสยืนยัน 999999"))

    async def go() -> None:
        now = utcnow()
        (claimed,) = await sms_queue.claim_due(now, now + timedelta(seconds=30), 5)
        late = type(claimed)(**{**claimed.__dict__, "expires_at": now})
        provider = ScriptedProvider()
        await Dispatcher(provider, FAST, offices=UNLIMITED)._deliver(late)
        assert provider.sent == []

    fresh(go())
    assert fresh(row(message_id))["state"] == SmsState.failed


def test_only_thai_mobiles_leave_whatever_wrote_the_row() -> None:
    message_id = fresh(queue(phone="+0000"))
    provider = ScriptedProvider()
    dispatch(provider)
    assert provider.sent == []
    stored = fresh(row(message_id))
    assert (stored["state"], stored["last_error"]) == (SmsState.failed, "not a Thai mobile number")


def test_a_provider_that_raises_costs_a_try_not_the_message() -> None:
    message_id = fresh(queue())

    def broken(message: OutgoingSms) -> SendResult:
        raise KeyError("bug")

    dispatch(ScriptedProvider(broken))
    stored = fresh(row(message_id))
    assert (stored["state"], stored["last_error"]) == (SmsState.queued, "provider error: KeyError")


def test_a_provider_that_hangs_is_cut_off_at_the_send_deadline() -> None:
    message_id = fresh(queue())

    class Hanging(ScriptedProvider):
        async def send(self, message: OutgoingSms) -> SendResult:
            await asyncio.sleep(30)
            raise AssertionError("not reached")

    timing = SmsTiming(connect_timeout=0.1, read_timeout=0.1, lease=timedelta(seconds=0.6))
    assert timing.send_deadline == 0.3
    dispatch(Hanging(), timing)
    stored = fresh(row(message_id))
    assert stored["state"] == SmsState.queued
    assert stored["last_error"].startswith("timeout")


@pytest.mark.parametrize(("attempts", "ceiling"), [(1, 1), (2, 2), (3, 4), (4, 8), (9, 8)])
def test_retry_delay_doubles_up_to_the_cap_with_jitter(attempts: int, ceiling: float) -> None:
    delays = [retry_delay(attempts, FAST) for _ in range(200)]
    assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
    assert len(set(delays)) > 1


def test_default_timing_keeps_each_send_well_inside_its_lease() -> None:
    timing = SmsTiming()
    assert timing.send_deadline * 2 <= timing.lease.total_seconds()
    assert timing.send_deadline >= timing.connect_timeout + timing.read_timeout


def test_the_loop_survives_a_failing_turn_and_stops_when_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message_id = fresh(queue())
    failures = iter([RuntimeError("database away")])
    real_claim = sms_queue.claim_due

    async def flaky_claim(*args: object, **kwargs: object) -> list[sms_queue.ClaimedSms]:
        error = next(failures, None)
        if error is not None:
            raise error
        return await real_claim(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sms_queue, "claim_due", flaky_claim)

    async def go() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(
            Dispatcher(ScriptedProvider(), FAST, offices=UNLIMITED).run(stop)
        )
        for _ in range(500):
            if (await row(message_id))["state"] == SmsState.sent:
                break
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, 2)

    fresh(go())
    assert fresh(row(message_id))["state"] == SmsState.sent
