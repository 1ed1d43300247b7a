"""The ``twilio`` provider: Twilio Programmable Messaging.

Request (Twilio's Message resource, "Create a Message"; twilio.com/docs/messaging/api/message-
resource, and twilio-go's ``AccountsMessagesApi.md``: ``Post /2010-04-01/Accounts/{AccountSid}/
Messages.json`` relative to ``https://api.twilio.com``):

- ``POST https://api.twilio.com/2010-04-01/Accounts/<AccountSid>/Messages.json``
- HTTP Basic auth, user = Account SID, password = Auth Token
- form-urlencoded body: ``To`` (E.164), ``Body``, ``From`` (a Twilio number or an alphanumeric
  sender ID) or ``MessagingServiceSid``, and ``StatusCallback`` (where Twilio POSTs status
  changes: ``queued``, ``failed``, ``sent``, ``delivered``, ``undelivered``)
- answer 201 with the Message as JSON; its ``sid`` is what status callbacks name as
  ``MessageSid``. Errors are JSON ``{"code", "message", "more_info", "status"}``.

Status callbacks are form POSTs with ``MessageSid``, ``MessageStatus`` and ``ErrorCode``, signed
in ``X-Twilio-Signature``: base64 of HMAC-SHA1, keyed with the Auth Token, over the full URL
Twilio called followed by every POST parameter name and value, sorted by name, with no
separators (twilio.com/docs/usage/security#validating-requests, as implemented by Twilio's
helper libraries' ``RequestValidator``).

Credential check (``portal check``): ``GET https://api.twilio.com/2010-04-01/Accounts/<AccountSid>
.json`` with the same Basic auth fetches the Account resource and sends nothing: 200 means the
SID and token work, 401 that they do not. Its ``status`` (``active``, ``suspended``, ``closed``)
tells whether the account can send at all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from portal.sms.providers.base import (
    CREDENTIAL_CHECK_TIMEOUT_S,
    CredentialCheck,
    CredentialVerdict,
    DeliveryReport,
    IncomingReport,
    Outcome,
    OutgoingSms,
    ReportState,
    SendResult,
    credential_answer,
    credential_transport_failure,
    error_result,
    json_object,
    require_client,
    transport_failure,
)

API_BASE = "https://api.twilio.com/2010-04-01"
SIGNATURE_HEADER = "x-twilio-signature"
NO_CREDIT_CODES = frozenset({"10001", "20403", "30002"})
"""Twilio error codes for an account that cannot send until paid for: 10001 "Account is not
active" (balance at or below zero), 20403 "403 Forbidden" (suspended or closed), 30002
"Account suspended" (twilio.com/docs/api/errors/<code>)."""
DELIVERED = frozenset({"delivered", "read"})
FAILED = frozenset({"failed", "undelivered", "canceled"})


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    signed = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass
class TwilioProvider:
    account_sid: str
    auth_token: str
    sender: str | None = None
    """``From``; when None the message's own sender name (an alphanumeric sender ID) is used."""
    messaging_service_sid: str | None = None
    status_callback: str | None = None
    client: httpx.AsyncClient | None = None
    api_base: str = API_BASE
    name: str = "twilio"

    @property
    def messages_url(self) -> str:
        return f"{self.api_base}/Accounts/{self.account_sid}/Messages.json"

    async def send(self, message: OutgoingSms) -> SendResult:
        form = {"To": message.to, "Body": message.text}
        if self.messaging_service_sid:
            form["MessagingServiceSid"] = self.messaging_service_sid
        else:
            form["From"] = self.sender or message.sender
        if self.status_callback:
            form["StatusCallback"] = self.status_callback
        try:
            response = await require_client(self.client).post(
                self.messages_url, data=form, auth=(self.account_sid, self.auth_token)
            )
        except httpx.HTTPError as error:
            return transport_failure(error)
        body = json_object(response)
        if not response.is_success:
            detail = " ".join(str(body[key]) for key in ("code", "message") if body.get(key))
            return error_result(
                response, detail, no_credit=str(body.get("code")) in NO_CREDIT_CODES
            )
        sid = body.get("sid")
        return SendResult(Outcome.accepted, provider_message_id=str(sid) if sid else None)

    async def check_credentials(self, client: httpx.AsyncClient) -> CredentialCheck:
        """Read our own Account resource (see the module's docstring); a suspended or closed
        account takes the token but sends nothing, so it is reported as unusable."""
        url = f"{self.api_base}/Accounts/{self.account_sid}.json"
        try:
            response = await client.get(
                url, auth=(self.account_sid, self.auth_token), timeout=CREDENTIAL_CHECK_TIMEOUT_S
            )
        except httpx.HTTPError as error:
            return credential_transport_failure(error)
        if not response.is_success:
            return credential_answer(response)
        status = str(json_object(response).get("status") or "").strip().lower()[:40]
        if status and status != "active":
            detail = f"the account is {status}: Twilio sends nothing for it"
            return CredentialCheck(CredentialVerdict.unusable, detail, response.status_code)
        return credential_answer(response, f"account {status}" if status else "")

    def authenticate(self, report: IncomingReport, token: str) -> bool:
        signature = report.headers.get(SIGNATURE_HEADER, "")
        if not signature:
            return False
        expected = twilio_signature(self.auth_token, report.url, report.form)
        return hmac.compare_digest(expected.encode(), signature.encode())

    def parse_report(self, report: IncomingReport) -> list[DeliveryReport]:
        sid = report.form.get("MessageSid") or report.form.get("SmsSid")
        if not sid:
            return []
        status = report.form.get("MessageStatus", "").strip().lower()
        state = (
            ReportState.delivered
            if status in DELIVERED
            else ReportState.failed
            if status in FAILED
            else None
        )
        code = report.form.get("ErrorCode", "")
        error = f"twilio {status}" + (f" (error {code})" if code else "") if state else ""
        return [DeliveryReport(sid, state, error)]
