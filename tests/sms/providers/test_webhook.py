"""The webhook contract of DESIGN.md section 3, pinned with respx."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx
import pytest
import respx

from portal.sms.providers.base import (
    CredentialCheck,
    CredentialVerdict,
    IncomingReport,
    Outcome,
    OutgoingSms,
    ReportState,
    SendResult,
)
from portal.sms.providers.outbox import OutboxProvider
from portal.sms.providers.webhook import WebhookProvider, webhook_signature
from tests.conftest import fresh

URL = "http://127.0.0.1:9/sms"
MESSAGE = OutgoingSms(id=42, to="+66800000201", sender="OSS-LOCAL", text="รหัสยืนยัน 123456")


def send(response: httpx.Response | Exception) -> tuple[SendResult, respx.Route]:
    async def go() -> tuple[SendResult, respx.Route]:
        with respx.mock(assert_all_called=False) as mock:
            route = mock.post(URL)
            if isinstance(response, Exception):
                route.side_effect = response
            else:
                route.return_value = response
            async with httpx.AsyncClient() as client:
                result = await WebhookProvider(url=URL, client=client).send(MESSAGE)
            return result, route

    return fresh(go())


def test_posts_id_to_sender_and_text_as_json() -> None:
    result, route = send(httpx.Response(200))
    assert route.call_count == 1
    request = route.calls.last.request
    assert request.method == "POST"
    assert str(request.url) == URL
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {
        "id": "42",
        "to": "+66800000201",
        "sender": "OSS-LOCAL",
        "text": "รหัสยืนยัน 123456",
    }
    assert result == SendResult(Outcome.accepted, provider_message_id="42")


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_any_2xx_is_accepted(status: int) -> None:
    assert send(httpx.Response(status))[0].outcome is Outcome.accepted


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(500, Outcome.retry), (503, Outcome.retry), (429, Outcome.retry), (400, Outcome.rejected)],
)
def test_errors_are_classified(status: int, outcome: Outcome) -> None:
    result = send(httpx.Response(status))[0]
    assert result.outcome is outcome
    assert result.error.startswith(f"HTTP {status}")


def test_a_timeout_is_retried() -> None:
    assert send(httpx.ReadTimeout("slow"))[0].outcome is Outcome.retry


def test_report_token_must_match() -> None:
    provider = WebhookProvider(url=URL, report_token="report-token-0123456789")
    report = IncomingReport(url="https://x/sms/reports/webhook/t")
    assert provider.authenticate(report, "report-token-0123456789")
    assert not provider.authenticate(report, "report-token-0123456780")
    assert not WebhookProvider(url=URL).authenticate(report, "")


def test_reports_one_or_many() -> None:
    provider = WebhookProvider(url=URL)
    one = provider.parse_report(IncomingReport(url="", json={"id": "7", "status": "delivered"}))
    assert [(r.provider_message_id, r.state) for r in one] == [("7", ReportState.delivered)]
    many = provider.parse_report(
        IncomingReport(
            url="",
            json=[
                {"id": 8, "status": "FAILED", "error": "handset off"},
                {"id": "9", "status": "accepted"},
                {"status": "delivered"},
                "garbage",
            ],
        )
    )
    assert [(r.provider_message_id, r.state, r.error) for r in many] == [
        ("8", ReportState.failed, "handset off"),
        ("9", None, ""),
    ]


SIGNING_SECRET = "webhook-signing-secret-0123456789"


def signed_send(secret: str | None) -> httpx.Request:
    async def go() -> httpx.Request:
        with respx.mock as mock:
            route = mock.post(URL).respond(200)
            async with httpx.AsyncClient() as client:
                provider = WebhookProvider(url=URL, client=client, secret=secret)
                assert (await provider.send(MESSAGE)).outcome is Outcome.accepted
            return route.calls.last.request

    return fresh(go())


def test_with_a_secret_the_exact_body_is_signed_with_a_timestamp() -> None:
    before = int(time.time())
    request = signed_send(SIGNING_SECRET)
    timestamp = request.headers["x-portal-timestamp"]
    assert before <= int(timestamp) <= int(time.time())
    # Recomputed here from the bytes that went over the wire, as a gateway would.
    expected = hmac.new(
        SIGNING_SECRET.encode(), timestamp.encode() + b"." + request.content, hashlib.sha256
    ).hexdigest()
    assert request.headers["x-portal-signature"] == f"sha256={expected}"
    assert json.loads(request.content)["text"] == "รหัสยืนยัน 123456"
    assert request.headers["content-type"] == "application/json"
    # Another secret, or the same body under another timestamp, does not match.
    assert (
        webhook_signature("another-secret-0123456789", timestamp, request.content)
        != (request.headers["x-portal-signature"])
    )
    later = str(int(timestamp) + 1)
    assert (
        webhook_signature(SIGNING_SECRET, later, request.content)
        != (request.headers["x-portal-signature"])
    )


def test_without_a_secret_nothing_is_signed() -> None:
    request = signed_send(None)
    assert "x-portal-signature" not in request.headers
    assert "x-portal-timestamp" not in request.headers


@pytest.mark.parametrize(
    "gateway", [WebhookProvider(url=URL, secret="webhook-secret-0123456789"), OutboxProvider()]
)
def test_no_credential_check_without_sending(gateway: WebhookProvider | OutboxProvider) -> None:
    async def go() -> tuple[CredentialCheck, respx.Route]:
        with respx.mock(assert_all_called=False) as mock:
            route = mock.route(url__startswith="http://127.0.0.1:9/")
            async with httpx.AsyncClient() as client:
                return await gateway.check_credentials(client), route

    result, route = fresh(go())
    assert result == CredentialCheck(CredentialVerdict.unchecked, "not checked without sending")
    assert not route.called
