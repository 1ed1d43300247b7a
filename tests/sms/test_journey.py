"""Done-when of the SMS issue: with PORTAL_SMS_BACKEND=webhook pointed at a local server, a
citizen's OTP and receipt arrive through real HTTP, and the server being down mid-journey loses
nothing. Driven through the real routes with Litestar's TestClient, the dispatcher running in
the app's lifespan as in ``portal serve``."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.app import create_app
from portal.otp.policy import OtpPolicy
from portal.sms.dispatcher import SmsTiming
from portal.tables.citizen_request import CitizenRequest
from portal.tables.sms_message import SmsMessage, SmsPurpose, SmsState
from tests.citizen.helpers import GENERAL_REQUEST_ANSWERS, enter_code, send_code, submit_form
from tests.conftest import make_settings
from tests.sms.gateway import FakeGateway, running_gateway, wait_until
from tests.sms.messages import messages_for_request

T = TypeVar("T")
FAST = SmsTiming(
    connect_timeout=0.5,
    read_timeout=0.5,
    poll_interval=0.02,
    backoff_base=0.05,
    backoff_cap=0.2,
    lease=timedelta(seconds=3),
)
TOKEN = "report-token-0123456789"
PHONE, E164 = "0800000250", "+66800000250"


@contextmanager
def webhook_portal(
    tmp_path: Path, database: str, gateway: FakeGateway, policy: OtpPolicy | None = None
) -> Iterator[TestClient[Litestar]]:
    settings = make_settings(
        tmp_path,
        database,
        PORTAL_SMS_BACKEND="webhook",
        PORTAL_SMS_WEBHOOK_URL=gateway.url,
        PORTAL_SMS_REPORT_TOKEN=TOKEN,
    )
    app = create_app(settings, otp_policy=policy, sms_timing=FAST)
    with TestClient(app=app, base_url="http://testserver.local") as client:
        yield client


def in_app(client: TestClient[Litestar], function: Callable[[], Awaitable[T]]) -> T:
    portal = client.blocking_portal
    assert portal is not None
    return portal.call(function)


def sms_rows(client: TestClient[Litestar], purpose: SmsPurpose) -> list[dict[str, Any]]:
    return in_app(
        client,
        lambda: SmsMessage.select().where(SmsMessage.purpose == purpose).order_by(SmsMessage.id),
    )


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    with running_gateway() as running:
        yield running


def test_otp_and_receipt_arrive_by_http_and_an_outage_loses_nothing(
    tmp_path: Path, database: str, gateway: FakeGateway
) -> None:
    with webhook_portal(tmp_path, database, gateway) as client:
        # The OTP goes out through the gateway; the citizen reads it from "their phone".
        assert send_code(client, PHONE).status_code == 303
        wait_until(lambda: len(gateway.texts_to(E164)) == 1)
        (otp_text,) = gateway.texts_to(E164)
        code = re.search(r"\b(\d{6})\b", otp_text)
        assert code is not None
        assert enter_code(client, code.group(1)).status_code == 303
        (otp_row,) = sms_rows(client, SmsPurpose.otp)
        assert (otp_row["state"], otp_row["text"]) == (SmsState.sent, "")  # code not kept

        # The gateway goes down; the citizen still files and sees success at once.
        gateway.stop()
        response = submit_form(client, GENERAL_REQUEST_ANSWERS)
        assert response.status_code == 303
        number = response.headers["location"].rsplit("/", 1)[1]
        wait_until(lambda: sms_rows(client, SmsPurpose.receipt)[0]["attempts"] >= 3)
        (waiting,) = sms_rows(client, SmsPurpose.receipt)
        assert waiting["state"] in (SmsState.queued, SmsState.sending)
        assert gateway.texts_to(E164) == [otp_text]

        # It comes back: the receipt arrives, once.
        gateway.start()
        wait_until(lambda: len(gateway.texts_to(E164)) == 2)
        wait_until(lambda: sms_rows(client, SmsPurpose.receipt)[0]["state"] == SmsState.sent)
        receipt_text = gateway.texts_to(E164)[1]
        assert number in receipt_text
        assert "https://eservice.example.go.th/t/" in receipt_text
        (receipt,) = sms_rows(client, SmsPurpose.receipt)
        assert receipt["attempts"] >= 4
        assert gateway.accepted_ids()[str(receipt["id"])] == 1

        # The gateway reports delivery; staff see it on the request.
        reported = client.post(
            f"/sms/reports/webhook/{TOKEN}", json={"id": str(receipt["id"]), "status": "delivered"}
        )
        assert reported.status_code == 204
        request = in_app(
            client, lambda: CitizenRequest.select().where(CitizenRequest.number == number).first()
        )
        statuses = in_app(client, lambda: messages_for_request(int(request["id"])))
        assert [(s.purpose, s.state) for s in statuses] == [
            (SmsPurpose.receipt, SmsState.delivered)
        ]
    assert len(gateway.accepted) == 2


def test_past_the_daily_budget_the_code_is_refused_with_429_and_nothing_is_sent(
    tmp_path: Path, database: str, gateway: FakeGateway
) -> None:
    with webhook_portal(tmp_path, database, gateway, OtpPolicy(daily_budget=1)) as client:
        assert send_code(client, "0800000251").status_code == 303
        wait_until(lambda: len(gateway.accepted) == 1)
        refused = send_code(client, "0800000252")
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert in_app(client, lambda: SmsMessage.count()) == 1
        assert gateway.texts_to("+66800000252") == []
    assert gateway.attempt_count() == 1
