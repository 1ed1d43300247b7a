"""``/sms/reports/...``: gateways report delivery without a CSRF token, each authenticated its
own way; only the configured backend's reports count. No dispatcher runs here
(PORTAL_SMS_DISPATCH=worker), so nothing tries to reach a real gateway."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.sms.providers.twilio import twilio_signature
from portal.tables.sms_message import SmsState
from tests.sms.reports import BASE, TOKEN, TWILIO_TOKEN, report_portal, sent_message, stored


@pytest.fixture
def portal(
    request: pytest.FixtureRequest, tmp_path: Path, database: str
) -> Iterator[TestClient[Litestar]]:
    with report_portal(tmp_path, database, request.param) as client:
        yield client


def signed_post(client: TestClient[Litestar], form: dict[str, str], key: str = TWILIO_TOKEN) -> Any:
    signature = twilio_signature(key, f"{BASE}/sms/reports/twilio", form)
    return client.post("/sms/reports/twilio", data=form, headers={"X-Twilio-Signature": signature})


@pytest.mark.parametrize("portal", ["twilio"], indirect=True)
def test_a_signed_twilio_callback_marks_delivery(portal: TestClient[Litestar]) -> None:
    message_id = sent_message(portal, "twilio", "SM1")
    response = signed_post(portal, {"MessageSid": "SM1", "MessageStatus": "delivered"})
    assert response.status_code == 204
    row = stored(portal, message_id)
    assert row["state"] == SmsState.delivered
    assert row["delivered_at"] is not None


@pytest.mark.parametrize("portal", ["twilio"], indirect=True)
def test_an_undelivered_callback_marks_failure_with_the_error(portal: TestClient[Litestar]) -> None:
    message_id = sent_message(portal, "twilio", "SM2")
    form = {"MessageSid": "SM2", "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert signed_post(portal, form).status_code == 204
    row = stored(portal, message_id)
    assert (row["state"], row["last_error"]) == (
        SmsState.failed,
        "twilio undelivered (error 30003)",
    )


@pytest.mark.parametrize("portal", ["twilio"], indirect=True)
def test_an_unsigned_or_forged_twilio_callback_is_refused(portal: TestClient[Litestar]) -> None:
    message_id = sent_message(portal, "twilio", "SM3")
    form = {"MessageSid": "SM3", "MessageStatus": "delivered"}
    assert portal.post("/sms/reports/twilio", data=form).status_code == 403
    assert signed_post(portal, form, key="not-the-auth-token").status_code == 403
    assert stored(portal, message_id)["state"] == SmsState.sent


@pytest.mark.parametrize("portal", ["webhook"], indirect=True)
def test_webhook_reports_need_the_token_in_the_url(portal: TestClient[Litestar]) -> None:
    message_id = sent_message(portal, "webhook", "77")
    report = {"id": "77", "status": "delivered"}
    assert portal.post("/sms/reports/webhook/wrong-token-000000", json=report).status_code == 403
    assert stored(portal, message_id)["state"] == SmsState.sent
    assert portal.post(f"/sms/reports/webhook/{TOKEN}", json=report).status_code == 204
    assert stored(portal, message_id)["state"] == SmsState.delivered


@pytest.mark.parametrize("portal", ["thaibulksms"], indirect=True)
def test_thaibulksms_reports_by_get_or_post(portal: TestClient[Litestar]) -> None:
    first = sent_message(portal, "thaibulksms", "tbs-1")
    second = sent_message(portal, "thaibulksms", "tbs-2")
    url = f"/sms/reports/thaibulksms/{TOKEN}"
    assert portal.get(url, params={"message_id": "tbs-1", "status": "delivered"}).status_code == 204
    assert portal.post(url, data={"message_id": "tbs-2", "status": "failed"}).status_code == 204
    assert stored(portal, first)["state"] == SmsState.delivered
    assert stored(portal, second)["state"] == SmsState.failed


@pytest.mark.parametrize("portal", ["webhook"], indirect=True)
def test_reports_for_another_backend_or_path_are_not_found(portal: TestClient[Litestar]) -> None:
    report = {"id": "1", "status": "delivered"}
    assert portal.post(f"/sms/reports/thaibulksms/{TOKEN}", json=report).status_code == 404
    assert portal.post(f"/sms/reports/outbox/{TOKEN}", json=report).status_code == 404
    assert portal.post("/sms/reports/twilio", data={"MessageSid": "1"}).status_code == 404


@pytest.mark.parametrize("portal", ["outbox"], indirect=True)
def test_the_outbox_backend_takes_no_reports(portal: TestClient[Litestar]) -> None:
    report = {"id": "1", "status": "delivered"}
    assert portal.post(f"/sms/reports/webhook/{TOKEN}", json=report).status_code == 404


@pytest.mark.parametrize("portal", ["webhook"], indirect=True)
def test_a_report_for_an_unknown_or_unsent_message_changes_nothing(
    portal: TestClient[Litestar],
) -> None:
    queued = sent_message(portal, "webhook", "88", state=SmsState.queued)
    url = f"/sms/reports/webhook/{TOKEN}"
    assert portal.post(url, json={"id": "88", "status": "delivered"}).status_code == 204
    assert portal.post(url, json={"id": "404", "status": "delivered"}).status_code == 204
    assert stored(portal, queued)["state"] == SmsState.queued


@pytest.mark.parametrize("portal", ["webhook"], indirect=True)
def test_malformed_json_is_a_client_error(portal: TestClient[Litestar]) -> None:
    response = portal.post(
        f"/sms/reports/webhook/{TOKEN}",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400


def test_the_fallback_gateways_reports_count_too(tmp_path: Path, database: str) -> None:
    with report_portal(tmp_path, database, "thaibulksms", fallback="twilio") as portal:
        by_fallback = sent_message(portal, "twilio", "SM9")
        assert (
            signed_post(portal, {"MessageSid": "SM9", "MessageStatus": "delivered"}).status_code
            == 204
        )
        assert stored(portal, by_fallback)["state"] == SmsState.delivered
        by_primary = sent_message(portal, "thaibulksms", "tbs-9")
        answer = portal.post(
            f"/sms/reports/thaibulksms/{TOKEN}", json={"message_id": "tbs-9", "status": "delivered"}
        )
        assert answer.status_code == 204
        assert stored(portal, by_primary)["state"] == SmsState.delivered
        assert portal.post(f"/sms/reports/webhook/{TOKEN}", json={"id": "1"}).status_code == 404
