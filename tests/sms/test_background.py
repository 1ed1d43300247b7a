"""The dispatcher in the app's lifespan (``portal serve``): only for a real backend, only
with PORTAL_SMS_DISPATCH=serve, stopped within a bounded time."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from portal.sms.background import BackgroundDispatcher, dispatcher_hooks
from portal.sms.dispatcher import SmsTiming
from portal.tables.sms_message import SmsState
from tests.conftest import fresh, make_settings
from tests.sms.gateway import eventually, running_gateway
from tests.sms.messages import queue, row

FAST = SmsTiming(
    connect_timeout=0.2,
    read_timeout=0.2,
    poll_interval=0.02,
    backoff_base=0.05,
    backoff_cap=0.1,
    lease=timedelta(seconds=2),
)


def test_no_dispatcher_for_the_outbox_or_when_workers_send(tmp_path: Path, database: str) -> None:
    assert dispatcher_hooks(make_settings(tmp_path, database)) == ([], [])
    separate = make_settings(
        tmp_path,
        database,
        PORTAL_SMS_BACKEND="webhook",
        PORTAL_SMS_WEBHOOK_URL="http://127.0.0.1:9/sms",
        PORTAL_SMS_DISPATCH="worker",
    )
    assert dispatcher_hooks(separate) == ([], [])


def test_started_with_the_app_it_sends_and_stops_in_bounded_time(
    tmp_path: Path, database: str
) -> None:
    with running_gateway() as gateway:
        settings = make_settings(
            tmp_path, database, PORTAL_SMS_BACKEND="webhook", PORTAL_SMS_WEBHOOK_URL=gateway.url
        )
        startup, shutdown = dispatcher_hooks(settings, FAST)
        assert len(startup) == len(shutdown) == 1

        async def go() -> int:
            await startup[0]()
            try:
                message_id = await queue()
                await eventually(lambda: len(gateway.accepted) == 1)
                gateway.mode = "hang"  # a send in flight when the app stops
                await queue(text="second")
                await eventually(lambda: gateway.attempt_count() >= 2)
            finally:
                started = time.monotonic()
                await shutdown[0]()
                assert time.monotonic() - started < FAST.send_deadline + 2.5
            return message_id

        message_id = fresh(go())
        assert fresh(row(message_id))["state"] == SmsState.sent


def test_stopping_a_dispatcher_that_never_started_is_harmless(
    tmp_path: Path, database: str
) -> None:
    fresh(BackgroundDispatcher(make_settings(tmp_path, database)).stop())


@pytest.mark.parametrize("backend", ["thaibulksms", "twilio"])
def test_real_gateways_also_get_a_dispatcher(tmp_path: Path, database: str, backend: str) -> None:
    gateway = {
        "thaibulksms": {
            "PORTAL_SMS_THAIBULKSMS_API_KEY": "key",
            "PORTAL_SMS_THAIBULKSMS_API_SECRET": "secret",
        },
        "twilio": {"PORTAL_SMS_TWILIO_ACCOUNT_SID": "AC0", "PORTAL_SMS_TWILIO_AUTH_TOKEN": "t"},
    }[backend]
    settings = make_settings(tmp_path, database, PORTAL_SMS_BACKEND=backend, **gateway)
    startup, shutdown = dispatcher_hooks(settings)
    assert (len(startup), len(shutdown)) == (1, 1)
