"""A second gateway takes over (``portal/sms/failover.py``): ThaiBulkSMS first, Twilio behind
it, both pinned with respx so every request each vendor would receive is checked."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from portal.kernel.clock import utcnow
from portal.settings import Settings
from portal.sms import failover
from portal.sms.dispatcher import Dispatcher, SmsTiming
from portal.sms.health import sms_health
from portal.sms.providers import build_fallback, build_provider
from portal.sms.providers.thaibulksms import API_URL as TBS_URL
from portal.tables.audit_event import AuditEvent
from portal.tables.sms_gateway_state import SmsGatewayState
from portal.tables.sms_message import SmsMessage, SmsState
from tests.conftest import fresh, make_settings
from tests.sms.messages import OFFICE, PHONES, UNLIMITED, queue, row

SID, AUTH = "AC00000000000000000000000000000000", "twilio-test-auth-token"
TWILIO_URL = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
TBS_KEY, TBS_SECRET = "test-api-key", "test-api-secret"
SLOW_RETRY = SmsTiming(backoff_base=600, backoff_cap=600)
"""A failed message waits minutes, so each turn below sends only the message just queued."""
TBS_OK = {"phone_number_list": [{"number": "66800000200", "message_id": "tbs-1"}]}
TWILIO_OK = {"sid": "SM0000000000000000000000000000000a", "status": "queued"}


@pytest.fixture(autouse=True)
def primary_gateway(database: str) -> Iterator[None]:
    """Each test starts on the primary, and leaves no switch behind for other modules."""
    SmsGatewayState.delete(force=True).run_sync()
    yield
    SmsGatewayState.delete(force=True).run_sync()


@pytest.fixture
def gateways(tmp_path: Path, database: str) -> Settings:
    return make_settings(
        tmp_path,
        database,
        PORTAL_SMS_BACKEND="thaibulksms",
        PORTAL_SMS_THAIBULKSMS_API_KEY=TBS_KEY,
        PORTAL_SMS_THAIBULKSMS_API_SECRET=TBS_SECRET,
        PORTAL_SMS_FALLBACK_BACKEND="twilio",
        PORTAL_SMS_TWILIO_ACCOUNT_SID=SID,
        PORTAL_SMS_TWILIO_AUTH_TOKEN=AUTH,
        PORTAL_SMS_TWILIO_FROM="OSSLOCAL",
    )


@dataclass
class Vendors:
    tbs: respx.Route
    twilio: respx.Route
    dispatcher: Dispatcher


@asynccontextmanager
async def vendors(settings: Settings) -> AsyncIterator[Vendors]:
    with respx.mock(assert_all_called=False) as mock:
        tbs = mock.post(TBS_URL)
        twilio = mock.post(TWILIO_URL)
        twilio.return_value = httpx.Response(201, json=TWILIO_OK)
        async with httpx.AsyncClient() as client:
            dispatcher = Dispatcher(
                build_provider(settings, client),
                SLOW_RETRY,
                offices=UNLIMITED,
                fallback=build_fallback(settings, client),
            )
            yield Vendors(tbs, twilio, dispatcher)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def form(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(request.content.decode(), strict_parsing=True)


def assert_thaibulksms(request: httpx.Request, phone: str, text: str) -> None:
    assert request.headers["authorization"] == basic(TBS_KEY, TBS_SECRET)
    assert form(request) == {
        "msisdn": [phone],
        "message": [text],
        "sender": ["OSS-LOCAL"],
        "force": ["corporate"],
    }


def assert_twilio(request: httpx.Request, phone: str, text: str) -> None:
    assert request.headers["authorization"] == basic(SID, AUTH)
    assert form(request) == {
        "To": [phone],
        "Body": [text],
        "From": ["OSSLOCAL"],
        "StatusCallback": ["https://eservice.example.go.th/sms/reports/twilio"],
    }


def texts(n: int) -> Iterator[tuple[str, str]]:
    return ((PHONES[i], f"ได้รับคำร้องเลขที่ 69-00000{i}") for i in range(n))


async def switches() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = await AuditEvent.select(
        AuditEvent.actor, AuditEvent.action, AuditEvent.details
    ).where(AuditEvent.action == failover.AUDIT_ACTION)
    return rows


def test_five_failures_of_the_primary_hand_sending_to_the_fallback(gateways: Settings) -> None:
    async def go() -> None:
        async with vendors(gateways) as v:
            v.tbs.return_value = httpx.Response(503, json={"error": {"name": "down"}})
            messages = list(texts(6))
            ids = []
            for phone, text in messages[:4]:
                ids.append(await queue(text, phone=phone))
                assert await v.dispatcher.run_once() == 1
            assert v.tbs.call_count == 4 and v.twilio.call_count == 0
            assert (await failover.state()).primary_failures == 4
            assert await failover.active() == failover.PRIMARY
            for i, call in enumerate(v.tbs.calls):
                assert_thaibulksms(call.request, *messages[i])
            waiting = await row(ids[0])
            assert (waiting["state"], waiting["backend"]) == (SmsState.queued, "thaibulksms")
            assert waiting["last_error"].startswith("HTTP 503")

            # The fifth failure switches; that message goes through Twilio in the same turn.
            fifth = await queue(messages[4][1], phone=messages[4][0])
            assert await v.dispatcher.run_once() == 1
            assert v.tbs.call_count == 5 and v.twilio.call_count == 1
            assert_thaibulksms(v.tbs.calls.last.request, *messages[4])
            assert_twilio(v.twilio.calls.last.request, *messages[4])
            sent = await row(fifth)
            assert (sent["state"], sent["backend"]) == (SmsState.sent, "twilio")
            assert sent["provider_message_id"] == TWILIO_OK["sid"]
            assert await failover.active() == failover.FALLBACK

            # The next message never touches ThaiBulkSMS.
            sixth = await queue(messages[5][1], phone=messages[5][0])
            assert await v.dispatcher.run_once() == 1
            assert v.tbs.call_count == 5 and v.twilio.call_count == 2
            assert_twilio(v.twilio.calls.last.request, *messages[5])
            assert (await row(sixth))["backend"] == "twilio"

        [event] = await switches()
        assert event["actor"] == failover.AUDIT_ACTOR
        assert '"from": "thaibulksms"' in str(event["details"])
        assert '"to": "twilio"' in str(event["details"])
        assert (await sms_health(office=OFFICE)).active_backend == failover.FALLBACK

    fresh(go())


def test_no_credit_switches_at_once(gateways: Settings) -> None:
    async def go() -> None:
        async with vendors(gateways) as v:
            v.tbs.return_value = httpx.Response(
                400, json={"error": {"code": 109, "name": "INSUFFICIENT_CREDIT"}}
            )
            message_id = await queue("ได้รับคำร้อง", phone=PHONES[3])
            assert await v.dispatcher.run_once() == 1
            assert v.tbs.call_count == 1 and v.twilio.call_count == 1
            assert_twilio(v.twilio.calls.last.request, PHONES[3], "ได้รับคำร้อง")
            assert (await row(message_id))["backend"] == "twilio"
            current = await failover.state()
            assert current.active == failover.FALLBACK
            assert current.reason.startswith("no credit: HTTP 400")

    fresh(go())


def test_a_message_refused_for_good_says_nothing_about_the_gateway(gateways: Settings) -> None:
    async def go() -> None:
        async with vendors(gateways) as v:
            v.tbs.return_value = httpx.Response(400, json={"error": {"name": "BAD_SENDER"}})
            for phone, text in texts(6):
                await queue(text, phone=phone)
            await v.dispatcher.run_until_idle()
            assert v.tbs.call_count == 6 and v.twilio.call_count == 0
            assert await failover.active() == failover.PRIMARY

    fresh(go())


def test_a_success_between_failures_starts_the_count_again(gateways: Settings) -> None:
    async def go() -> None:
        async with vendors(gateways) as v:
            answers = [httpx.Response(500)] * 4 + [httpx.Response(201, json=TBS_OK)]
            answers += [httpx.Response(500)] * 4
            v.tbs.side_effect = answers
            for phone, text in texts(9):
                await queue(text, phone=phone)
                await v.dispatcher.run_once()
            assert v.tbs.call_count == 9 and v.twilio.call_count == 0
            current = await failover.state()
            assert (current.active, current.primary_failures) == (failover.PRIMARY, 4)

    fresh(go())


async def on_fallback(probe_in: timedelta) -> None:
    now = utcnow()
    await failover.primary_failed(now, error="HTTP 402", no_credit=True, backends=("a", "b"))
    await SmsGatewayState.update({SmsGatewayState.probe_at: now + probe_in}).where(
        SmsGatewayState.name == failover.KEY
    )
    await AuditEvent.delete(force=True)


def test_until_the_cool_down_ends_only_the_fallback_sends(gateways: Settings) -> None:
    async def go() -> None:
        await on_fallback(probe_in=timedelta(minutes=5))
        async with vendors(gateways) as v:
            for phone, text in texts(3):
                await queue(text, phone=phone)
            assert await v.dispatcher.run_until_idle() == 3
            assert v.tbs.call_count == 0 and v.twilio.call_count == 3

    fresh(go())


def test_the_primary_recovered_takes_over_again(gateways: Settings) -> None:
    async def go() -> None:
        await on_fallback(probe_in=-timedelta(seconds=1))
        async with vendors(gateways) as v:
            v.tbs.return_value = httpx.Response(201, json=TBS_OK)
            probe = await queue("ข้อความแรก", phone=PHONES[1])
            assert await v.dispatcher.run_once() == 1
            assert v.tbs.call_count == 1 and v.twilio.call_count == 0
            assert_thaibulksms(v.tbs.calls.last.request, PHONES[1], "ข้อความแรก")
            assert (await row(probe))["backend"] == "thaibulksms"
            current = await failover.state()
            assert (current.active, current.primary_failures) == (failover.PRIMARY, 0)

            after = await queue("ข้อความถัดไป", phone=PHONES[2])
            assert await v.dispatcher.run_once() == 1
            assert v.tbs.call_count == 2 and v.twilio.call_count == 0
            assert_thaibulksms(v.tbs.calls.last.request, PHONES[2], "ข้อความถัดไป")
            assert (await row(after))["state"] == SmsState.sent

        [event] = await switches()
        assert '"from": "twilio"' in str(event["details"])
        assert (await sms_health(office=OFFICE)).active_backend == failover.PRIMARY

    fresh(go())


def test_a_failed_probe_goes_through_the_fallback_and_waits_another_cool_down(
    gateways: Settings,
) -> None:
    async def go() -> None:
        await on_fallback(probe_in=-timedelta(seconds=1))
        async with vendors(gateways) as v:
            v.tbs.return_value = httpx.Response(503)
            for phone, text in texts(3):
                await queue(text, phone=phone)
            before = utcnow()
            assert await v.dispatcher.run_until_idle() == 3
            # One message of the turn probed the primary; all three went through Twilio.
            assert v.tbs.call_count == 1 and v.twilio.call_count == 3
            sent = await SmsMessage.select(SmsMessage.state, SmsMessage.backend)
            assert {(r["state"], r["backend"]) for r in sent} == {(SmsState.sent, "twilio")}
            current = await failover.state()
            assert current.active == failover.FALLBACK
            assert current.probe_at is not None
            assert current.probe_at >= before + failover.PROBE_EVERY
        assert await switches() == []

    fresh(go())


def test_without_a_fallback_a_left_over_switch_is_undone(tmp_path: Path, database: str) -> None:
    async def go() -> None:
        await on_fallback(probe_in=timedelta(minutes=5))
        settings = make_settings(
            tmp_path,
            database,
            PORTAL_SMS_BACKEND="thaibulksms",
            PORTAL_SMS_THAIBULKSMS_API_KEY=TBS_KEY,
            PORTAL_SMS_THAIBULKSMS_API_SECRET=TBS_SECRET,
        )
        with respx.mock as mock:
            tbs = mock.post(TBS_URL).respond(201, json=TBS_OK)
            async with httpx.AsyncClient() as client:
                dispatcher = Dispatcher(
                    build_provider(settings, client), SLOW_RETRY, offices=UNLIMITED
                )
                assert build_fallback(settings, client) is None
                await queue()
                assert await dispatcher.run_once() == 1
            assert tbs.call_count == 1
        assert await failover.active() == failover.PRIMARY

    fresh(go())
