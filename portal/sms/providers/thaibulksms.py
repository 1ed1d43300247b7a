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

Credential check (``portal check``): ``GET https://api-v2.thaibulksms.com/credit`` with the same
Basic auth and ``Accept: application/json`` sends nothing and costs nothing; it is the call
behind ThaiBulkSMS's own ``tbs credit`` (``checkSmsCredit`` in the tbs ``src/client.ts``). Its
answer is not documented in the public material we could consult: the tbs tests read
``remaining_credit`` as a number, other published integrations read it as an object keyed by
credit type (``{"standard": .., "corporate": ..}``), so both are accepted and a body without
either still counts as "credentials accepted" (the status code is what decides).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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
    SharedTokenReports,
    credential_answer,
    credential_transport_failure,
    error_result,
    json_object,
    require_client,
    transport_failure,
)

API_URL = "https://api-v2.thaibulksms.com/sms"
CREDIT_URL = "https://api-v2.thaibulksms.com/credit"
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
    credit_url: str = CREDIT_URL
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

    async def check_credentials(self, client: httpx.AsyncClient) -> CredentialCheck:
        """Ask for the credit left (see the module's docstring): a 2xx means the key and secret
        work; an account with no credit of our ``force`` type cannot send, so it is reported."""
        try:
            response = await client.get(
                self.credit_url,
                auth=(self.api_key, self.api_secret),
                headers={"Accept": "application/json"},
                timeout=CREDENTIAL_CHECK_TIMEOUT_S,
            )
        except httpx.HTTPError as error:
            return credential_transport_failure(error)
        if not response.is_success:
            return credential_answer(response)
        credit = _remaining_credit(json_object(response), self.force)
        if credit is None:
            return credential_answer(response)
        amount = _amount(credit)
        if amount is not None and amount <= 0:
            detail = f"no {self.force} credit left (credit {credit})"
            return CredentialCheck(CredentialVerdict.unusable, detail, response.status_code)
        return credential_answer(response, f"credit {credit}")

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


def _remaining_credit(body: Mapping[str, Any], force: str) -> str | None:
    """The credit left as the answer shows it (a number, or the ``force`` type's entry of an
    object keyed by credit type), or None when the answer does not say."""
    value = body.get("remaining_credit")
    if isinstance(value, Mapping):
        value = value.get(force)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text[:40] or None


def _amount(credit: str) -> float | None:
    try:
        return float(credit.replace(",", ""))
    except ValueError:
        return None


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
