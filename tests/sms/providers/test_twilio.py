"""Twilio Messaging as its API reference describes it (see the provider's docstring), pinned
with respx: nothing leaves the test process."""

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
)
from portal.sms.providers.twilio import TwilioProvider, twilio_signature
from tests.conftest import fresh

SID, TOKEN = "AC00000000000000000000000000000000", "test-auth-token"
URL = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
CALLBACK = "https://eservice.example.go.th/sms/reports/twilio"
MESSAGE = OutgoingSms(id=9, to="+66800000203", sender="OSSLOCAL", text="คำร้องเลขที่ 69-2")


def provider(client: httpx.AsyncClient | None = None, **overrides: Any) -> TwilioProvider:
    return TwilioProvider(
        **{"account_sid": SID, "auth_token": TOKEN, "client": client, **overrides}
    )


def send(
    response: httpx.Response | Exception, **overrides: Any
) -> tuple[Any, httpx.Request | None]:
    async def go() -> tuple[Any, httpx.Request | None]:
        with respx.mock as mock:
            route = mock.post(URL)
            if isinstance(response, Exception):
                route.side_effect = response
            else:
                route.return_value = response
            async with httpx.AsyncClient() as client:
                result = await provider(client, **overrides).send(MESSAGE)
            return result, route.calls.last.request if route.called else None

    return fresh(go())


CREATED = {"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued"}


def test_posts_the_message_form_with_basic_auth() -> None:
    result, request = send(httpx.Response(201, json=CREATED), status_callback=CALLBACK)
    assert request is not None
    assert request.method == "POST"
    assert str(request.url) == URL
    expected_auth = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected_auth}"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode(), strict_parsing=True) == {
        "To": ["+66800000203"],
        "Body": ["คำร้องเลขที่ 69-2"],
        "From": ["OSSLOCAL"],
        "StatusCallback": [CALLBACK],
    }
    assert (result.outcome, result.provider_message_id) == (Outcome.accepted, CREATED["sid"])


def test_a_configured_from_number_replaces_the_sender_name() -> None:
    _, request = send(httpx.Response(201, json=CREATED), sender="+15005550006")
    assert request is not None
    assert parse_qs(request.content.decode())["From"] == ["+15005550006"]


def test_a_messaging_service_sends_instead_of_from() -> None:
    _, request = send(
        httpx.Response(201, json=CREATED), messaging_service_sid="MG0000000000000000000000000000"
    )
    assert request is not None
    form = parse_qs(request.content.decode())
    assert form["MessagingServiceSid"] == ["MG0000000000000000000000000000"]
    assert "From" not in form


@pytest.mark.parametrize(
    ("status", "code", "outcome"),
    [
        (400, 21211, Outcome.rejected),  # invalid 'To' number
        (400, 21610, Outcome.rejected),  # recipient unsubscribed
        (429, 20429, Outcome.retry),  # too many requests
        (401, 20003, Outcome.retry),  # credentials: an operator can fix them in time
        (500, 20500, Outcome.retry),
        (503, 20503, Outcome.retry),
    ],
)
def test_error_answers_are_classified(status: int, code: int, outcome: Outcome) -> None:
    body = {"code": code, "message": "explained", "more_info": "", "status": status}
    result, _ = send(httpx.Response(status, json=body))
    assert result.outcome is outcome
    assert result.error == f"HTTP {status}: {code} explained"


@pytest.mark.parametrize("error", [httpx.ConnectTimeout("slow"), httpx.ReadTimeout("slow")])
def test_no_answer_is_retried(error: Exception) -> None:
    assert send(error)[0].outcome is Outcome.retry


def test_signature_matches_twilios_published_example() -> None:
    # The example of twilio.com/docs/usage/security, as quoted by independent implementations.
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio_signature("12345", url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def _callback(form: dict[str, str], signature: str | None) -> IncomingReport:
    headers = {"x-twilio-signature": signature} if signature is not None else {}
    return IncomingReport(url=CALLBACK, headers=headers, form=form)


def test_a_signed_status_callback_is_authentic_and_a_tampered_one_is_not() -> None:
    form = {"MessageSid": "SM1", "MessageStatus": "delivered", "AccountSid": SID}
    good = twilio_signature(TOKEN, CALLBACK, form)
    assert provider().authenticate(_callback(form, good), "")
    assert not provider().authenticate(_callback({**form, "MessageStatus": "failed"}, good), "")
    assert not provider().authenticate(_callback(form, None), "")
    assert not provider(auth_token="another-token").authenticate(_callback(form, good), "")
    other_url = IncomingReport(
        url=CALLBACK + "?x=1", headers={"x-twilio-signature": good}, form=form
    )
    assert not provider().authenticate(other_url, "")


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("delivered", ReportState.delivered),
        ("read", ReportState.delivered),
        ("undelivered", ReportState.failed),
        ("failed", ReportState.failed),
        ("sent", None),
        ("queued", None),
    ],
)
def test_status_callbacks_map_to_our_states(status: str, state: ReportState | None) -> None:
    form = {"MessageSid": "SM1", "MessageStatus": status, "ErrorCode": "30003"}
    (report,) = provider().parse_report(_callback(form, None))
    assert (report.provider_message_id, report.state) == ("SM1", state)
    if state is ReportState.failed:
        assert report.error == f"twilio {status} (error 30003)"


def test_a_callback_without_a_message_sid_reports_nothing() -> None:
    assert provider().parse_report(_callback({"MessageStatus": "delivered"}, None)) == []


@pytest.mark.parametrize(
    ("status", "code", "no_credit"),
    [
        (401, 10001, True),  # account not active: balance at or below zero
        (403, 20403, True),  # suspended or closed
        (400, 30002, True),  # account suspended
        (400, 21211, False),
        (401, 20003, False),  # wrong credentials: not a question of money
    ],
)
def test_an_account_without_credit_is_told_apart(status: int, code: int, no_credit: bool) -> None:
    body = {"code": code, "message": "explained", "more_info": "", "status": status}
    result, _ = send(httpx.Response(status, json=body))
    assert result.no_credit is no_credit
    if no_credit:
        assert result.outcome is Outcome.retry


ACCOUNT_URL = f"https://api.twilio.com/2010-04-01/Accounts/{SID}.json"


def check_credentials(
    response: httpx.Response | Exception,
) -> tuple[CredentialCheck, httpx.Request | None]:
    async def go() -> tuple[CredentialCheck, httpx.Request | None]:
        with respx.mock as mock:  # any other request (e.g. to Messages.json) fails the test
            route = mock.get(ACCOUNT_URL)
            if isinstance(response, Exception):
                route.side_effect = response
            else:
                route.return_value = response
            async with httpx.AsyncClient() as client:
                result = await provider().check_credentials(client)
            return result, route.calls.last.request if route.called else None

    return fresh(go())


def test_credential_check_reads_the_account_with_basic_auth_and_sends_nothing() -> None:
    body = {"sid": SID, "status": "active", "friendly_name": "test account"}
    result, request = check_credentials(httpx.Response(200, json=body))
    assert request is not None
    assert request.method == "GET"
    assert str(request.url) == ACCOUNT_URL
    expected_auth = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected_auth}"
    assert request.content == b""
    assert result == CredentialCheck(CredentialVerdict.accepted, "account active", 200)


@pytest.mark.parametrize("status", ["suspended", "closed"])
def test_a_suspended_or_closed_account_is_unusable(status: str) -> None:
    result, _ = check_credentials(httpx.Response(200, json={"sid": SID, "status": status}))
    assert result.verdict is CredentialVerdict.unusable
    assert result.detail == f"the account is {status}: Twilio sends nothing for it"


def test_a_wrong_token_is_refused() -> None:
    body = {"code": 20003, "message": "Authenticate", "status": 401}
    result, _ = check_credentials(httpx.Response(401, json=body))
    assert result == CredentialCheck(CredentialVerdict.refused, "HTTP 401", 401)


def test_an_unreachable_twilio_is_reported_not_raised() -> None:
    result, _ = check_credentials(httpx.ConnectError("All connection attempts failed"))
    assert result == CredentialCheck(
        CredentialVerdict.unreachable, "All connection attempts failed"
    )
