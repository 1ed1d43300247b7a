"""Citizens driving a real ``portal serve`` over HTTP, and checks on what it saved.

The fault and load tests run the portal as its own process (so that it can be killed, or its
database restarted under it) and read the database from the test process with
``tests.conftest.fresh``: a new event loop per read, outside the server's pool.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
from bs4 import BeautifulSoup

from portal.tables.citizen_request import CitizenRequest
from portal.tables.request_event import RequestEvent
from portal.tables.sms_message import SmsMessage, SmsPurpose
from tests.citizen.helpers import GENERAL_REQUEST_ANSWERS
from tests.conftest import TEST_SECRET, fresh
from tests.security.helpers import phone

FORM = "/e-service/general-request"
ON_POSTGRES = os.environ.get("PORTAL_TEST_DATABASE_URL", "").startswith("postgres")


def serve_env(tmp_path: Path, database: str, port: int, **extra: str) -> dict[str, str]:
    """The environment of a ``portal serve`` on 127.0.0.1:``port`` for one test."""
    return {
        **os.environ,
        "PORTAL_DATA_DIR": str(tmp_path),
        "PORTAL_DATABASE_URL": database,
        "PORTAL_SECRET_KEY": TEST_SECRET,
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        # Every test citizen comes from 127.0.0.1: the per-address limit is not under test here.
        "PORTAL_OTP_IP_HOURLY_LIMIT": "100000",
        "PORTAL_OTP_IP_PHONES_HOURLY_LIMIT": "100000",
        "PORTAL_SMS_DAILY_LIMIT": "100000",
        **extra,
    }


def token_of(page: httpx.Response) -> str:
    soup = BeautifulSoup(page.text, "html.parser")
    field = soup.select_one("input[name=_csrf_token]")
    assert field is not None, page.text[:500]
    return str(field["value"])


def otp_code(e164: str) -> str:
    """The newest code sent to ``e164``, as its SMS says it."""
    row = fresh(
        lambda: (
            SmsMessage.select(SmsMessage.text)
            .where(SmsMessage.to_phone == e164, SmsMessage.purpose == SmsPurpose.otp)
            .order_by(SmsMessage.id, ascending=False)
            .first()
        )
    )
    assert row is not None, e164
    code = re.search(r"\b(\d{6})\b", row["text"])
    assert code is not None
    return code.group(1)


def ready_citizen(base: str, n: int, subject: str = "") -> tuple[httpx.Client, dict[str, str]]:
    """A browser verified by OTP with its form filled in: the browser and the form's data."""
    national, e164 = phone(n)
    browser = httpx.Client(base_url=base, timeout=30, follow_redirects=True)
    sent = browser.post(
        f"{FORM}/phone",
        data={"phone": national, "_csrf_token": token_of(browser.get(f"{FORM}/phone"))},
    )
    assert sent.status_code == 200, sent.status_code  # followed to the code step
    verified = browser.post(
        f"{FORM}/verify", data={"code": otp_code(e164), "_csrf_token": token_of(sent)}
    )
    assert verified.status_code == 200 and "submission_key" in verified.text
    key = BeautifulSoup(verified.text, "html.parser").select_one("input[name=submission_key]")
    assert key is not None
    data = {
        **GENERAL_REQUEST_ANSWERS,
        "subject": subject or f"คำร้องทดสอบ {n}",
        "_csrf_token": token_of(verified),
        "submission_key": str(key["value"]),
    }
    return browser, data


def submit(browser: httpx.Client, data: dict[str, str]) -> httpx.Response | None:
    """Post the filled-in form once; None when no answer came (connection refused, reset)."""
    try:
        return browser.post(f"{FORM}/form", data=data, follow_redirects=False)
    except httpx.HTTPError:
        return None


def number_shown(response: httpx.Response | None) -> str | None:
    """The request number a success answer leads the citizen to, else None."""
    if response is None or response.status_code != 303:
        return None
    location = response.headers["location"]
    return location.rsplit("/", 1)[1] if location.startswith("/e-service/requests/") else None


def request_counts(number: str) -> tuple[int, int, int]:
    """(requests, timeline events, receipt SMS) saved for ``number``."""

    async def read() -> tuple[int, int, int]:
        rows = await CitizenRequest.select(CitizenRequest.id).where(CitizenRequest.number == number)
        if len(rows) != 1:
            return len(rows), 0, 0
        request_id = rows[0]["id"]
        events = await RequestEvent.count().where(RequestEvent.request == request_id)
        receipts = await SmsMessage.count().where(
            SmsMessage.request == request_id, SmsMessage.purpose == SmsPurpose.receipt
        )
        return 1, int(events), int(receipts)

    return fresh(read)


def half_written_requests() -> list[int]:
    """Requests saved without their first timeline event or their receipt SMS."""

    async def read() -> list[int]:
        requests = await CitizenRequest.select(CitizenRequest.id)
        events = {r["request"] for r in await RequestEvent.select(RequestEvent.request)}
        receipts = {
            r["request"]
            for r in await SmsMessage.select(SmsMessage.request).where(
                SmsMessage.purpose == SmsPurpose.receipt
            )
        }
        return [r["id"] for r in requests if r["id"] not in events or r["id"] not in receipts]

    return fresh(read)


def is_thai_unavailable_page(response: httpx.Response) -> bool:
    """503 with Retry-After and the Thai "try again" page, not a stack trace or a bare 500."""
    page = BeautifulSoup(response.text, "html.parser")
    title = page.select_one("#error-title")
    return (
        response.status_code == 503
        and response.headers.get("retry-after", "").isdigit()
        and page.select_one("html[lang=th]") is not None
        and title is not None
        and title.get_text(strip=True) == "ระบบขัดข้องชั่วคราว"
    )
