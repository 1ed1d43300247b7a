"""A real HTTP gateway on 127.0.0.1 that accepts, fails with 500 for a while, then times out,
then accepts again: every message arrives exactly once, none is lost, and an OTP that expired
meanwhile is never sent late. Then two dispatchers at once over one outbox."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import pytest

from portal.kernel.clock import utcnow
from portal.sms.dispatcher import Dispatcher, SmsTiming
from portal.sms.providers.webhook import WebhookProvider
from portal.tables.sms_message import SmsPurpose, SmsState
from tests.conftest import fresh
from tests.sms.gateway import FakeGateway, eventually, running_gateway
from tests.sms.messages import PHONES, UNLIMITED, queue, row, rows

pytestmark = pytest.mark.usefixtures("database")

TIMING = SmsTiming(
    connect_timeout=0.5,
    read_timeout=0.3,
    poll_interval=0.02,
    backoff_base=0.05,
    backoff_cap=0.2,
    lease=timedelta(seconds=2),
    batch_size=5,
)


def webhook(gateway: FakeGateway, client: httpx.AsyncClient) -> WebhookProvider:
    return WebhookProvider(url=gateway.url, client=client)


async def all_settled() -> bool:
    return all(r["state"] not in (SmsState.queued, SmsState.sending) for r in await rows())


@dataclass
class Written:
    before: list[int] = field(default_factory=list)
    during: list[int] = field(default_factory=list)
    short_otp: int = 0
    long_otp: int = 0


async def outage(gateway: FakeGateway) -> Written:
    written = Written()
    stop = asyncio.Event()
    async with httpx.AsyncClient(timeout=httpx.Timeout(0.3, connect=0.5)) as client:
        task = asyncio.create_task(
            Dispatcher(webhook(gateway, client), TIMING, offices=UNLIMITED).run(stop)
        )
        try:
            # 1. The gateway accepts.
            written.before = [await queue(phone=PHONES[n], text=f"before {n}") for n in range(4)]
            await eventually(lambda: len(gateway.accepted_ids()) == 4)

            # 2. It fails with 500 for a while; meanwhile a short-lived OTP runs out.
            gateway.mode = "fail"
            written.short_otp = await queue(
                phone=PHONES[10],
                purpose=SmsPurpose.otp,
                text="รหัสยืนยัน 100001",
                expires_at=utcnow() + timedelta(seconds=1.5),  # tried in time on a busy machine
            )
            written.long_otp = await queue(
                phone=PHONES[11],
                purpose=SmsPurpose.otp,
                text="รหัสยืนยัน 100002",
                expires_at=utcnow() + timedelta(seconds=60),
            )
            written.during = [
                await queue(phone=PHONES[20 + n], text=f"during {n}") for n in range(6)
            ]
            await eventually(lambda: gateway.refused >= 20)

            async def short_otp_failed() -> bool:
                return (await row(written.short_otp))["state"] == SmsState.failed

            await eventually(short_otp_failed)

            # 3. It stops answering at all: each try times out.
            gateway.mode = "hang"
            refused_before = gateway.refused
            await eventually(lambda: gateway.refused >= refused_before + 3)

            # 4. It accepts again: the backlog drains.
            gateway.mode = "accept"
            await eventually(all_settled)
        finally:
            stop.set()
            await asyncio.wait_for(task, 5)
    return written


def test_an_outage_loses_nothing_and_sends_nothing_twice_or_late() -> None:
    with running_gateway() as gateway:
        written = fresh(outage(gateway))
        accepted = gateway.accepted_ids()
        short_otp_tries = gateway.attempts[str(written.short_otp)]

    expected = {str(i) for i in [*written.before, *written.during, written.long_otp]}
    assert set(accepted) == expected  # none lost, and the expired OTP is not among them
    assert all(count == 1 for count in accepted.values())  # none twice
    assert short_otp_tries >= 1  # it was tried while it was still valid, never after

    stored = {r["id"]: r for r in fresh(rows())}
    expired = stored[written.short_otp]
    assert (expired["state"], expired["text"]) == (SmsState.failed, "")
    delivered_otp = stored[written.long_otp]
    assert (delivered_otp["state"], delivered_otp["text"]) == (SmsState.sent, "")
    assert delivered_otp["attempts"] > 1
    for message_id in written.during:
        assert stored[message_id]["state"] == SmsState.sent
        assert stored[message_id]["attempts"] > 1
        assert stored[message_id]["text"].startswith("during")


def _dispatch_in_own_thread(
    gateway: FakeGateway, stop: threading.Event, start: threading.Barrier, claimed: list[int]
) -> threading.Thread:
    """A dispatcher with its own event loop and HTTP client, as in another worker process."""

    async def run() -> None:
        async with httpx.AsyncClient(timeout=httpx.Timeout(2.0)) as client:
            dispatcher = Dispatcher(webhook(gateway, client), TIMING, offices=UNLIMITED)
            start.wait(timeout=10)
            while not stop.is_set():
                taken = await dispatcher.run_once()
                claimed.append(taken)
                if not taken:
                    await asyncio.sleep(0.01)

    thread = threading.Thread(target=lambda: fresh(run()), daemon=True)
    thread.start()
    return thread


def test_two_dispatchers_at_once_send_each_message_once() -> None:
    count = 60
    ids = {str(fresh(queue(phone=PHONES[n % 100], text=f"message {n}"))) for n in range(count)}
    with running_gateway() as gateway:
        gateway.delay = 0.01  # each send takes a moment, so the two overlap
        stop, start = threading.Event(), threading.Barrier(2)
        claimed: list[list[int]] = [[], []]
        threads = [_dispatch_in_own_thread(gateway, stop, start, claimed[n]) for n in range(2)]
        try:
            fresh(eventually(all_settled, timeout=30))
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=10)
        accepted = gateway.accepted_ids()
        attempts = gateway.attempt_count()
    assert set(accepted) == ids
    assert all(n == 1 for n in accepted.values())
    assert attempts == count  # no message was even tried twice
    assert sum(claimed[0]) + sum(claimed[1]) == count
    assert sum(claimed[0]) > 0 and sum(claimed[1]) > 0  # both really worked
    assert {r["state"] for r in fresh(rows())} == {SmsState.sent}
