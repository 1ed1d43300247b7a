"""ThaiBulkSMS API v2 as its own client calls it (see the provider's docstring), pinned with
respx: nothing leaves the test process."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs

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
    classify_status,
)
from portal.sms.providers.thaibulksms import API_URL, CREDIT_URL, ThaiBulkSmsProvider
from tests.conftest import fresh

MESSAGE = OutgoingSms(id=5, to="+66800000202", sender="OSS-LOCAL", text="ได้รับคำร้องเลขที่ 69-1")
KEY, SECRET = "test-api-key", "test-api-secret"
CALLBACK = "https://eservice.example.go.th/sms/reports/thaibulksms/report-token-0123456789"


def provider(client: httpx.AsyncClient | None = None, **overrides: Any) -> ThaiBulkSmsProvider:
    return ThaiBulkSmsProvider(api_key=KEY, api_secret=SECRET, client=client, **overrides)


def send(
    response: httpx.Response | Exception, **overrides: Any
) -> tuple[Any, httpx.Request | None]:
    async def go() -> tuple[Any, httpx.Request | None]:
        with respx.mock as mock:
            route = mock.post(API_URL)
            if isinstance(response, Exception):
                route.side_effect = response
            else:
                route.return_value = response
            async with httpx.AsyncClient() as client:
                result = await provider(client, **overrides).send(MESSAGE)
            return result, route.calls.last.request if route.called else None

    return fresh(go())


OK_BODY = {
    "remaining_credit": 99,
    "total_use_credit": 1,
    "credit_type": "corporate",
    "phone_number_list": [{"number": "66800000202", "message_id": "tbs-msg-1", "used_credit": 1}],
    "bad_phone_number_list": [],
}


def test_posts_the_form_with_basic_auth_to_the_v2_sms_endpoint() -> None:
    result, request = send(httpx.Response(201, json=OK_BODY), callback_url=CALLBACK)
    assert request is not None
    assert request.method == "POST"
    assert str(request.url) == "https://api-v2.thaibulksms.com/sms"
    expected_auth = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected_auth}"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["accept"] == "application/json"
    assert parse_qs(request.content.decode(), strict_parsing=True) == {
        "msisdn": ["+66800000202"],
        "message": ["ได้รับคำร้องเลขที่ 69-1"],
        "sender": ["OSS-LOCAL"],
        "force": ["corporate"],
        "callback_url": [CALLBACK],
    }
    assert result.outcome is Outcome.accepted
    assert result.provider_message_id == "tbs-msg-1"


def test_standard_credit_and_no_callback_when_reports_are_off() -> None:
    _, request = send(httpx.Response(201, json=OK_BODY), force="standard")
    assert request is not None
    form = parse_qs(request.content.decode())
    assert form["force"] == ["standard"]
    assert "callback_url" not in form


def test_a_2xx_that_lists_the_number_as_bad_is_a_refusal() -> None:
    body = {
        **OK_BODY,
        "phone_number_list": [],
        "bad_phone_number_list": [{"number": "66800000202", "message": "Invalid number"}],
    }
    result, _ = send(httpx.Response(201, json=body))
    assert result.outcome is Outcome.rejected
    assert "Invalid number" in result.error


def test_accepted_even_without_a_message_id() -> None:
    result, _ = send(httpx.Response(201, json={"remaining_credit": 1}))
    assert (result.outcome, result.provider_message_id) == (Outcome.accepted, None)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (500, Outcome.retry),
        (502, Outcome.retry),
        (429, Outcome.retry),
        (401, Outcome.retry),
        (400, Outcome.rejected),
        (422, Outcome.rejected),
    ],
)
def test_error_answers_are_classified(status: int, outcome: Outcome) -> None:
    body = {"error": {"code": 1001, "name": "ERROR_NAME", "description": "what went wrong"}}
    result, _ = send(httpx.Response(status, json=body))
    assert result.outcome is outcome
    assert result.error == f"HTTP {status}: 1001 ERROR_NAME what went wrong"


@pytest.mark.parametrize("error", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")])
def test_no_answer_is_retried(error: Exception) -> None:
    assert send(error)[0].outcome is Outcome.retry


def test_an_html_error_page_is_classified_by_status() -> None:
    result, _ = send(httpx.Response(503, text="<html>maintenance</html>"))
    assert (result.outcome, result.error) == (Outcome.retry, "HTTP 503")


def test_reports_are_read_from_query_form_or_json() -> None:
    reader = provider()
    from_query = reader.parse_report(
        IncomingReport(url="", query={"message_id": "a", "status": "DELIVERED"})
    )
    from_form = reader.parse_report(
        IncomingReport(url="", form={"messageId": "b", "status": "undelivered"})
    )
    from_json = reader.parse_report(
        IncomingReport(url="", json=[{"id": "c", "status": "pending"}, {"status": "x"}])
    )
    assert [(r.provider_message_id, r.state) for r in from_query + from_form + from_json] == [
        ("a", ReportState.delivered),
        ("b", ReportState.failed),
        ("c", None),
    ]


def test_reports_need_the_configured_token() -> None:
    report = IncomingReport(url="")
    assert provider(report_token="report-token-0123456789").authenticate(
        report, "report-token-0123456789"
    )
    assert not provider(report_token="report-token-0123456789").authenticate(report, "x")
    assert not provider().authenticate(report, "")


def test_a_report_only_provider_cannot_send() -> None:
    with pytest.raises(RuntimeError):
        fresh(provider().send(MESSAGE))


@pytest.mark.parametrize(
    ("status", "error", "no_credit"),
    [
        (400, {"code": 109, "name": "INSUFFICIENT_CREDIT", "description": ""}, True),
        (403, {"name": "Forbidden", "description": "Not enough credit to send"}, True),
        (402, {"name": "PAYMENT_REQUIRED"}, True),
        (400, {"name": "INVALID_SENDER", "description": "sender not approved"}, False),
    ],
)
def test_an_account_without_credit_is_retried_and_told_apart(
    status: int, error: dict[str, object], no_credit: bool
) -> None:
    result, _ = send(httpx.Response(status, json={"error": error}))
    assert result.no_credit is no_credit
    assert result.outcome is (Outcome.retry if no_credit else classify_status(status))


def check_credentials(
    response: httpx.Response | Exception, **overrides: Any
) -> tuple[CredentialCheck, httpx.Request | None]:
    async def go() -> tuple[CredentialCheck, httpx.Request | None]:
        with respx.mock as mock:  # any other request (e.g. to /sms) fails the test
            route = mock.get(CREDIT_URL)
            if isinstance(response, Exception):
                route.side_effect = response
            else:
                route.return_value = response
            async with httpx.AsyncClient() as client:
                result = await provider(**overrides).check_credentials(client)
            return result, route.calls.last.request if route.called else None

    return fresh(go())


def test_credential_check_gets_the_credit_with_basic_auth_and_sends_nothing() -> None:
    result, request = check_credentials(httpx.Response(200, json={"remaining_credit": 1234}))
    assert request is not None
    assert request.method == "GET"
    assert str(request.url) == "https://api-v2.thaibulksms.com/credit"
    expected_auth = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected_auth}"
    assert request.headers["accept"] == "application/json"
    assert request.content == b""
    assert result == CredentialCheck(CredentialVerdict.accepted, "credit 1234", 200)


@pytest.mark.parametrize(
    ("body", "force", "detail"),
    [
        ({"remaining_credit": {"standard": 10, "corporate": 250.0}}, "corporate", "credit 250"),
        ({"remaining_credit": {"standard": 10, "corporate": 250}}, "standard", "credit 10"),
        ({"remaining_credit": "1,500"}, "corporate", "credit 1,500"),
        ({}, "corporate", ""),
        ({"remaining_credit": {"premium": 5}}, "corporate", ""),
    ],
)
def test_the_credit_is_read_as_a_number_or_per_credit_type(
    body: dict[str, Any], force: str, detail: str
) -> None:
    result, _ = check_credentials(httpx.Response(200, json=body), force=force)
    assert (result.verdict, result.detail) == (CredentialVerdict.accepted, detail)


def test_no_credit_of_our_type_makes_the_account_unusable() -> None:
    body = {"remaining_credit": {"standard": 900, "corporate": 0}}
    result, _ = check_credentials(httpx.Response(200, json=body))
    assert result.verdict is CredentialVerdict.unusable
    assert result.detail == "no corporate credit left (credit 0)"


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (401, CredentialVerdict.refused),
        (403, CredentialVerdict.refused),
        (503, CredentialVerdict.unreachable),
        (404, CredentialVerdict.unexpected),
    ],
)
def test_credential_check_answers_by_status(status: int, verdict: CredentialVerdict) -> None:
    body = {"error": {"code": 401, "name": "UNAUTHORIZED", "description": SECRET}}
    result, _ = check_credentials(httpx.Response(status, json=body))
    assert result == CredentialCheck(verdict, f"HTTP {status}", status)


@pytest.mark.parametrize(
    ("error", "detail"),
    [
        (
            httpx.ConnectError("[Errno -3] Temporary failure\nin name resolution"),
            "[Errno -3] Temporary failure in name resolution",
        ),
        (httpx.ReadTimeout("timed out"), "no answer in 5 s"),
    ],
)
def test_no_answer_is_unreachable_with_a_short_reason(error: Exception, detail: str) -> None:
    result, _ = check_credentials(error)
    assert result == CredentialCheck(CredentialVerdict.unreachable, detail)
