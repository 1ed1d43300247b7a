"""Steps of the citizen journey as test helpers, driven through the real routes."""

from __future__ import annotations

import re
import secrets
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from portal.sms.outbox import list_messages
from tests.conftest import RunDb, csrf_token

SERVICE = "general-request"
GENERAL_REQUEST_ANSWERS = {
    "title": "นาง",
    "first_name": "สมศรี",
    "last_name": "ทดสอบ",
    "citizen_id": "1234567890121",
    "address": "99 หมู่ 1 ตำบลตัวอย่าง",
    "subject": "ขอให้ซ่อมท่อระบายน้ำ",
    "details": "ท่อระบายน้ำหน้าบ้านอุดตัน",
}


def latest_code(run_db: RunDb, e164: str) -> str:
    messages = run_db(lambda: list_messages(office=None, to_phone=e164))  # newest, any office
    for message in messages:
        if message["purpose"] == "otp":
            match = re.search(r"\b(\d{6})\b", message["text"])
            assert match is not None
            return match.group(1)
    raise AssertionError(f"no OTP for {e164}")


def send_code(
    client: TestClient[Litestar], phone: str, service: str = SERVICE, prefix: str = ""
) -> Any:
    """``prefix``: an office's development prefix (``/o/<slug>``); none for the default office."""
    token = csrf_token(client, f"{prefix}/e-service/{service}/phone")
    return client.post(
        f"{prefix}/e-service/{service}/phone",
        data={"phone": phone, "_csrf_token": token},
        follow_redirects=False,
    )


def enter_code(
    client: TestClient[Litestar], code: str, service: str = SERVICE, prefix: str = ""
) -> Any:
    token = csrf_token(client, f"{prefix}/e-service/{service}/verify")
    return client.post(
        f"{prefix}/e-service/{service}/verify",
        data={"code": code, "_csrf_token": token},
        follow_redirects=False,
    )


def verify_phone(
    client: TestClient[Litestar],
    run_db: RunDb,
    phone: str,
    e164: str,
    service: str = SERVICE,
    prefix: str = "",
) -> None:
    assert send_code(client, phone, service, prefix).status_code == 303
    assert enter_code(client, latest_code(run_db, e164), service, prefix).status_code == 303


def submit_form(
    client: TestClient[Litestar],
    answers: dict[str, str],
    service: str = SERVICE,
    prefix: str = "",
    **extra: str,
) -> Any:
    token = csrf_token(client, f"{prefix}/e-service/{service}/form")
    return client.post(
        f"{prefix}/e-service/{service}/form",
        data={**answers, "_csrf_token": token, **extra},
        follow_redirects=False,
    )


def new_submission_key() -> str:
    """A form key for filing without the form (``file_request`` in service tests): any unique
    string of at most 64 characters names one submission."""
    return secrets.token_urlsafe(24)
