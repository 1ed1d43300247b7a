"""The ``webhook`` provider: a custom gateway (or a test double) behind one URL.

Contract (DESIGN.md section 3): the portal POSTs JSON ``{"id", "to", "sender", "text"}`` to
``PORTAL_SMS_WEBHOOK_URL``; ``id`` is our message id (a string, the same on every retry of the
message, so a gateway can drop a repeat after a lost answer), ``to`` is E.164; any 2xx means
accepted.

Delivery reports, optional: the gateway POSTs JSON ``{"id": "<our id>", "status": "delivered"}``
(or ``"failed"``, with an optional ``"error"``), or a list of such objects, to
``PORTAL_BASE_URL/sms/reports/webhook/<PORTAL_SMS_REPORT_TOKEN>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from portal.sms.providers.base import (
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

DELIVERED = frozenset({"delivered"})
FAILED = frozenset({"failed", "undelivered", "rejected", "expired"})


@dataclass
class WebhookProvider(SharedTokenReports):
    url: str
    report_token: str | None = None
    client: httpx.AsyncClient | None = None
    name: str = "webhook"

    async def send(self, message: OutgoingSms) -> SendResult:
        payload = {
            "id": str(message.id),
            "to": message.to,
            "sender": message.sender,
            "text": message.text,
        }
        try:
            response = await require_client(self.client).post(self.url, json=payload)
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
