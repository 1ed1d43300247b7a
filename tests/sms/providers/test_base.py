from __future__ import annotations

import httpx
import pytest

from portal.sms.providers.base import (
    Outcome,
    SendResult,
    classify_status,
    error_result,
    http_timeout,
    transport_failure,
)


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_any_2xx_is_accepted(status: int) -> None:
    assert classify_status(status) is Outcome.accepted


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 408, 425, 401, 403])
def test_server_errors_rate_limits_and_credentials_are_retried(status: int) -> None:
    assert classify_status(status) is Outcome.retry


@pytest.mark.parametrize("status", [400, 404, 405, 410, 413, 422])
def test_other_client_errors_are_refusals_not_retried(status: int) -> None:
    assert classify_status(status) is Outcome.rejected


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (httpx.ConnectError("refused"), "network error"),
        (httpx.ReadTimeout("slow"), "timeout"),
        (httpx.ConnectTimeout("slow"), "timeout"),
        (httpx.RemoteProtocolError("reset"), "network error"),
    ],
)
def test_no_answer_at_all_is_retried(error: httpx.HTTPError, kind: str) -> None:
    result = transport_failure(error)
    assert result.retryable
    assert result.error.startswith(kind)


def test_only_a_retry_outcome_is_retryable() -> None:
    assert SendResult(Outcome.retry).retryable
    assert not SendResult(Outcome.accepted).retryable
    assert not SendResult(Outcome.rejected).retryable


def test_http_timeout_bounds_connect_and_read() -> None:
    timeout = http_timeout(connect=2, read=7)
    assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (2, 7, 7, 2)


def test_payment_required_is_no_credit_and_retried() -> None:
    result = error_result(httpx.Response(402), "")
    assert (result.outcome, result.no_credit) == (Outcome.retry, True)
    assert result.error == "HTTP 402"
    # A provider that read "no credit" in a body makes even a 400 a retry.
    told = error_result(httpx.Response(400), "no credit", no_credit=True)
    assert (told.outcome, told.no_credit) == (Outcome.retry, True)
    assert error_result(httpx.Response(400), "bad number").no_credit is False
