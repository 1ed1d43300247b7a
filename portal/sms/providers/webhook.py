"""The ``webhook`` provider: a custom gateway (or a test double) behind one URL.

Contract (DESIGN.md section 3): the portal POSTs JSON ``{"id", "to", "sender", "text"}`` to
``PORTAL_SMS_WEBHOOK_URL``; ``id`` is our message id (a string, the same on every retry of the
message, so a gateway can drop a repeat after a lost answer), ``to`` is E.164; any 2xx means
accepted.

Delivery reports, optional: the gateway POSTs JSON ``{"id": "<our id>", "status": "delivered"}``
(or ``"failed"``, with an optional ``"error"``), or a list of such objects, to
``PORTAL_BASE_URL/sms/reports/webhook/<PORTAL_SMS_REPORT_TOKEN>``.

Signed requests, when ``PORTAL_SMS_WEBHOOK_SECRET`` is set, so the gateway can refuse anything
that did not come from the portal (a forged request would send SMS on the office's account):

- ``X-Portal-Timestamp: <unix seconds>``, when the request was made;
- ``X-Portal-Signature: sha256=<hex>``, the lower-case hex HMAC-SHA256, keyed with the secret
  (its UTF-8 bytes), of ``<timestamp> + "." + <body>``: the timestamp header's value, a dot,
  and the exact bytes of the request body as sent (UTF-8 JSON; verify the raw body, not a
  re-serialised parse of it).

The gateway recomputes the HMAC over what it received, compares it in constant time, and
refuses a timestamp more than five minutes from its own clock (a replayed request); the message
``id`` lets it drop a repeat inside that window.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from portal.sms.providers.base import (
    CredentialsNotChecked,
    DeliveryReport,
    IncomingReport,
    Outcome,
    OutgoingSms,
    ReportState,
    SendResult,
    SharedTokenReports,
    error_result,
    require_client,
    transport_failure,
)

TIMESTAMP_HEADER = "X-Portal-Timestamp"
SIGNATURE_HEADER = "X-Portal-Signature"
DELIVERED = frozenset({"delivered"})


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of ``timestamp.body`` keyed with ``secret``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


FAILED = frozenset({"failed", "undelivered", "rejected", "expired"})


@dataclass
class WebhookProvider(CredentialsNotChecked, SharedTokenReports):
    """The credentials are not checked (``CredentialsNotChecked``): the contract has only the
    send call, and any request to the URL could be taken as a message."""

    url: str
    report_token: str | None = None
    client: httpx.AsyncClient | None = None
    secret: str | None = None
    """PORTAL_SMS_WEBHOOK_SECRET: sign every request (see the module's docstring)."""
    name: str = "webhook"

    async def send(self, message: OutgoingSms) -> SendResult:
        payload = {
            "id": str(message.id),
            "to": message.to,
            "sender": message.sender,
            "text": message.text,
        }
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"}
        if self.secret:
            timestamp = str(int(time.time()))
            headers[TIMESTAMP_HEADER] = timestamp
            headers[SIGNATURE_HEADER] = webhook_signature(self.secret, timestamp, body)
        try:
            response = await require_client(self.client).post(
                self.url, content=body, headers=headers
            )
        except httpx.HTTPError as error:
            return transport_failure(error)
        if response.is_success:
            return SendResult(Outcome.accepted, provider_message_id=str(message.id))
        return error_result(response, response.reason_phrase)

    def parse_report(self, report: IncomingReport) -> list[DeliveryReport]:
        items: list[Any] = report.json if isinstance(report.json, list) else [report.json]
        return [parsed for item in items if (parsed := _one_report(item)) is not None]


def _one_report(item: Any) -> DeliveryReport | None:
    if not isinstance(item, dict):
        return None
    message_id, status = item.get("id"), str(item.get("status", "")).strip().lower()
    if not isinstance(message_id, str | int) or isinstance(message_id, bool):
        return None
    state = (
        ReportState.delivered
        if status in DELIVERED
        else ReportState.failed
        if status in FAILED
        else None
    )
    return DeliveryReport(str(message_id), state, str(item.get("error", ""))[:500])
