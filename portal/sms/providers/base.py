"""What every SMS gateway looks like to the dispatcher: send one message, read its reports.

A provider answers each send with a ``SendResult`` that says whether the gateway took the
message, whether trying again later makes sense, and the gateway's id for it (which its
delivery reports refer to). The rules for "try again" are shared here so that every provider
classifies a timeout or a 503 the same way.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import httpx

NO_CREDIT_STATUS = 402
"""Payment Required: the account has no credit left; retried (through the fallback if any)."""
RETRY_STATUS = frozenset({401, 403, 408, 425, 429})
"""4xx answers worth retrying. 401/403 are the portal's credentials, not the message: an operator
who fixes them within the retry window gets every queued message out instead of losing them."""


class Outcome(StrEnum):
    accepted = "accepted"
    retry = "retry"
    """Not taken this time (timeout, gateway down, 5xx, rate limit): try again later."""
    rejected = "rejected"
    """Refused for good (a bad number, a text the gateway will never take): do not retry."""


@dataclass(frozen=True)
class OutgoingSms:
    id: int
    to: str
    """E.164, e.g. +66812345678."""
    sender: str
    text: str


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    provider_message_id: str | None = None
    error: str = ""
    no_credit: bool = False
    """The gateway says the account has no credit (or is suspended for it): nothing will go
    through it until someone pays, so the dispatcher switches to the fallback at once
    (``portal/sms/failover.py``). Always a ``retry``: the message itself is fine."""

    @property
    def retryable(self) -> bool:
        return self.outcome is Outcome.retry


class ReportState(StrEnum):
    delivered = "delivered"
    failed = "failed"


@dataclass(frozen=True)
class DeliveryReport:
    provider_message_id: str
    state: ReportState | None
    """None for a status on the way (queued, sent to the carrier): nothing to record."""
    error: str = ""


@dataclass(frozen=True)
class IncomingReport:
    """A gateway's HTTP call to the report endpoint, without the web framework."""

    url: str
    """The public URL the gateway called (PORTAL_BASE_URL + path + query)."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Lower-case names."""
    query: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)
    json: Any = None


class SmsProvider(Protocol):
    name: str

    async def send(self, message: OutgoingSms) -> SendResult:
        """Hand one message to the gateway; never raises for gateway or network trouble."""
        ...

    def authenticate(self, report: IncomingReport, token: str) -> bool:
        """True if the report really comes from the gateway (``token``: from the URL path)."""
        ...

    def parse_report(self, report: IncomingReport) -> list[DeliveryReport]:
        """The delivery reports in an authenticated call; malformed parts are skipped."""
        ...

    async def check_credentials(self, client: httpx.AsyncClient) -> CredentialCheck:
        """Ask the gateway whether our credentials work, without sending anything
        (``portal check``); never raises for gateway or network trouble."""
        ...


class CredentialVerdict(StrEnum):
    accepted = "accepted"
    refused = "refused"
    """401/403: the key, secret or token is wrong (or revoked)."""
    unusable = "unusable"
    """The credentials work but the account cannot send (suspended, no credit)."""
    unreachable = "unreachable"
    """No answer, or a 5xx: nothing learnt about the credentials."""
    unexpected = "unexpected"
    """Any other answer (a 404 from a moved endpoint, a 400): not a verdict on the secret."""
    unchecked = "unchecked"
    """The gateway has no way to ask without sending an SMS."""


@dataclass(frozen=True)
class CredentialCheck:
    """What the gateway said about our credentials, in words fit for one line of
    ``portal check`` (never the secret itself)."""

    verdict: CredentialVerdict
    detail: str = ""
    status_code: int | None = None


CREDENTIAL_CHECK_TIMEOUT_S = 5.0
"""``portal check`` waits this long for a gateway: an operator is watching the terminal."""


class CredentialsNotChecked:
    """The default for gateways with no read-only call: anything we could send them (even a
    HEAD) might be taken as a message, so nothing is sent."""

    async def check_credentials(self, client: httpx.AsyncClient) -> CredentialCheck:
        return CredentialCheck(CredentialVerdict.unchecked, "not checked without sending")


def credential_answer(response: httpx.Response, detail: str = "") -> CredentialCheck:
    """A gateway's answer to a read-only call made with our credentials, by status code;
    ``detail`` is what the caller read in a 2xx body (e.g. the credit left)."""
    status = response.status_code
    if response.is_success:
        return CredentialCheck(CredentialVerdict.accepted, detail, status)
    if status in (401, 403):
        return CredentialCheck(CredentialVerdict.refused, f"HTTP {status}", status)
    if status >= 500:
        return CredentialCheck(CredentialVerdict.unreachable, f"HTTP {status}", status)
    return CredentialCheck(CredentialVerdict.unexpected, f"HTTP {status}", status)


def credential_transport_failure(error: httpx.HTTPError) -> CredentialCheck:
    """No answer at all: a short reason (a DNS name that does not resolve, a refused port)."""
    if isinstance(error, httpx.TimeoutException):
        reason = f"no answer in {CREDENTIAL_CHECK_TIMEOUT_S:g} s"
    else:
        reason = " ".join(str(error).split()) or type(error).__name__
    return CredentialCheck(CredentialVerdict.unreachable, reason[:160])


def http_timeout(connect: float, read: float) -> httpx.Timeout:
    """Bounded waits: a gateway that hangs costs one attempt, never a stuck dispatcher."""
    return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)


def classify_status(status_code: int) -> Outcome:
    if 200 <= status_code < 300:
        return Outcome.accepted
    if status_code in RETRY_STATUS or status_code >= 500:
        return Outcome.retry
    return Outcome.rejected


def transport_failure(error: httpx.HTTPError) -> SendResult:
    """No answer at all (refused, reset, timed out): the gateway may come back, so retry."""
    kind = "timeout" if isinstance(error, httpx.TimeoutException) else "network error"
    return SendResult(Outcome.retry, error=f"{kind}: {type(error).__name__}")


def error_result(response: httpx.Response, detail: str, *, no_credit: bool = False) -> SendResult:
    """A non-2xx answer, classified by its status code; ``no_credit`` when the provider read
    "no credit" in the body (a 402 says so by itself), which is always worth a retry."""
    no_credit = no_credit or response.status_code == NO_CREDIT_STATUS
    outcome = Outcome.retry if no_credit else classify_status(response.status_code)
    if outcome is Outcome.accepted:  # a caller's own check failed on a 2xx body
        outcome = Outcome.rejected
    text = f"HTTP {response.status_code}" + (f": {detail}" if detail else "")
    return SendResult(outcome, error=text[:500], no_credit=no_credit)


def require_client(client: httpx.AsyncClient | None) -> httpx.AsyncClient:
    if client is None:
        raise RuntimeError("this provider was built for reading reports only, not for sending")
    return client


class SharedTokenReports:
    """Reports authenticated by a secret token in the URL (``PORTAL_SMS_REPORT_TOKEN``)."""

    report_token: str | None

    def authenticate(self, report: IncomingReport, token: str) -> bool:
        if not self.report_token:
            return False
        return hmac.compare_digest(token.encode(), self.report_token.encode())


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The response body as a JSON object, or {} when it is not one."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
