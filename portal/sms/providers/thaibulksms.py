"""The ``thaibulksms`` provider: ThaiBulkSMS API v2.

Request, as ThaiBulkSMS's own client sends it (github.com/thaibulksms/tbs, ``src/client.ts``
``sendSms``; its README: "SMS/Email use HTTP Basic Auth", keys from developer.thaibulksms.com >
Settings > API Key):

- ``POST https://api-v2.thaibulksms.com/sms``
- HTTP Basic auth, user = API key, password = API secret; ``Accept: application/json``
- form-urlencoded body: ``msisdn`` (the tbs client normalises Thai mobiles to ``+66...``, see
  its ``src/validators.ts``), ``message``, ``sender`` (a sender name registered with
  ThaiBulkSMS), ``force`` (``standard`` or ``corporate``: which credit to use) and, optional,
  ``callback_url`` for delivery reports.

Answer: the official client passes the JSON through untouched; integrations published on GitHub
read ``phone_number_list: [{number, message_id, used_credit}]`` and
``bad_phone_number_list: [{number, message}]`` on success and ``{"error": {code, name,
description}}`` on failure. A 2xx that lists our number as bad is a refusal, not a send. An
error that mentions credit, or a 402, is "no credit" (``SendResult.no_credit``): the fallback
gateway takes over at once.

Delivery reports: the API takes ``callback_url`` but the report's format is not in the public
material we could consult, so ``parse_report`` is deliberately tolerant (query, form or JSON;
``message_id``/``messageId``/``id`` and ``status``/``message_status``). Check it against a real
account before relying on ``delivered`` for ThaiBulkSMS; sending does not depend on it.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    json_object,
    require_client,
    transport_failure,
)

API_URL = "https://api-v2.thaibulksms.com/sms"
ID_KEYS = ("message_id", "messageId", "id")
STATUS_KEYS = ("status", "message_status", "dr_status")
DELIVERED = frozenset({"delivered", "delivrd", "success", "sent_success"})
FAILED = frozenset({"failed", "fail", "undelivered", "undeliv", "rejected", "expired"})


@dataclass
class ThaiBulkSmsProvider(SharedTokenReports):
    api_key: str
    api_secret: str
    force: str = "corporate"
    callback_url: str | None = None
    report_token: str | None = None
    client: httpx.AsyncClient | None = None
    api_url: str = API_URL
    name: str = "thaibulksms"

    async def send(self, message: OutgoingSms) -> SendResult:
        form = {
            "msisdn": message.to,
            "message": message.text,
            "sender": message.sender,
            "force": self.force,
        }
        if self.callback_url:
            form["callback_url"] = self.callback_url
        try:
            response = await require_client(self.client).post(
                self.api_url,
                data=form,
                auth=(self.api_key, self.api_secret),
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as error:
            return transport_failure(error)
        body = json_object(response)
        if not response.is_success:
            detail = _error_detail(body)
            return error_result(response, detail, no_credit=_says_no_credit(detail))
        bad = body.get("bad_phone_number_list") or []
        if bad:
            detail = bad[0].get("message", "") if isinstance(bad[0], dict) else ""
            return SendResult(Outcome.rejected, error=f"bad phone number: {detail}"[:500])
        return SendResult(Outcome.accepted, provider_message_id=_message_id(body))

    def parse_report(self, report: IncomingReport) -> list[DeliveryReport]:
        items: list[Any]
        if isinstance(report.json, list):
            items = report.json
        elif isinstance(report.json, dict):
            items = [report.json]
        else:
            items = [{**report.query, **report.form}]
        return [parsed for item in items if (parsed := _one_report(item)) is not None]


def _error_detail(body: Mapping[str, Any]) -> str:
    error = body.get("error")
    if isinstance(error, dict):
        parts = (error.get("code"), error.get("name"), error.get("description"))
        return " ".join(str(part) for part in parts if part)
    return str(error or "")


def _says_no_credit(detail: str) -> bool:
    """ThaiBulkSMS's error codes are not published; its errors name the problem in ``name`` and
    ``description`` (English), so "credit" there (e.g. insufficient or not enough credit) is
    read as an empty account. A 402 counts too (``error_result``)."""
    return "credit" in detail.lower()


def _message_id(body: Mapping[str, Any]) -> str | None:
    for key, id_key in (("phone_number_list", "message_id"), ("data", "id")):
        entries = body.get(key)
        if isinstance(entries, list) and entries and isinstance(entries[0], dict):
            value = entries[0].get(id_key)
            if value:
                return str(value)
    return None


def _one_report(item: Any) -> DeliveryReport | None:
    if not isinstance(item, Mapping):
        return None
    message_id = next((str(item[key]) for key in ID_KEYS if item.get(key)), None)
    if message_id is None:
        return None
    status = next((str(item[key]) for key in STATUS_KEYS if item.get(key)), "").strip().lower()
    state = (
        ReportState.delivered
        if status in DELIVERED
        else ReportState.failed
        if status in FAILED
        else None
    )
    return DeliveryReport(message_id, state, status if state is ReportState.failed else "")
