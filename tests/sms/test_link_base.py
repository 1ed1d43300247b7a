"""``PORTAL_SMS_LINK_BASE_URL``: the links in SMS on a short host, the pages on the portal's.

The OTP SMS ends with the WebOTP line for the pages' own host (``PORTAL_BASE_URL``), never the
link host: a code is only offered to the site that asked for it.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.casework.status import change_status
from portal.ops.checks import OK, SKIP, WARN, check_sms_links
from portal.settings import Settings, SettingsError, load_settings
from portal.sms.outbox import SmsConfig, list_messages
from portal.sms.parts import sms_parts
from portal.tables.citizen_request import CitizenRequest, RequestStatus
from tests.citizen.helpers import GENERAL_REQUEST_ANSWERS, send_code, submit_form, verify_phone
from tests.conftest import TEST_SECRET, html, make_settings
from tests.offices import office_ref

LINK_BASE = "https://oss.go.th"
PAGES = "https://eservice.example.go.th"  # tests/conftest.py's PORTAL_BASE_URL
PHONE, E164 = "0800000170", "+66800000170"
BASE64URL = set(string.ascii_letters + string.digits + "-_")


@pytest.fixture
def settings(tmp_path: Path, database: str) -> Settings:
    return make_settings(tmp_path, database, PORTAL_SMS_LINK_BASE_URL=LINK_BASE + "/")


def texts(run_db: Any, purpose: str) -> list[str]:
    messages = run_db(lambda: list_messages(office=None, to_phone=E164))
    return [m["text"] for m in messages if m["purpose"] == purpose]


def test_the_code_sms_ends_with_the_pages_host_for_webotp(
    client: TestClient[Litestar], run_db: Any
) -> None:
    assert send_code(client, PHONE).status_code == 303
    (text,) = texts(run_db, "otp")
    body, last = text.split("\n")
    code = body.split()[1]
    assert len(code) == 6 and code.isdigit()
    assert last == f"@eservice.example.go.th #{code}"
    assert "oss.go.th" not in text
    assert sms_parts(text) == 1


def test_receipt_and_status_sms_link_to_the_short_host_in_one_part(
    client: TestClient[Litestar], run_db: Any, new_browser: Any, settings: Settings
) -> None:
    verify_phone(client, run_db, PHONE, E164)
    assert submit_form(client, GENERAL_REQUEST_ANSWERS).status_code == 303
    request = run_db(lambda: CitizenRequest.objects().first())
    token = request.tracking_token
    assert len(token) == 22 and set(token) <= BASE64URL
    (receipt,) = texts(run_db, "receipt")
    assert receipt == f"รับคำร้อง {request.number} แล้ว {LINK_BASE}/t/{token}"
    assert sms_parts(receipt) == 1

    office = run_db(office_ref)
    run_db(
        lambda: change_status(
            number=request.number,
            status=RequestStatus.in_progress,
            actor="staff",
            public_note="",
            office=office,
            sms=SmsConfig.from_settings(settings),
        )
    )
    (status,) = texts(run_db, "status")
    assert status.split()[-1] == f"{LINK_BASE}/t/{token}"
    assert sms_parts(status) == 1

    # The short host serves the same path; the pages themselves keep the portal's address.
    page = html(new_browser().get(f"/t/{token}/receipt"))
    assert f"{PAGES}/t/{token}" in page.get_text()


# The setting


def load(tmp_path: Path, **values: str) -> Settings:
    return load_settings(
        {"PORTAL_DATA_DIR": str(tmp_path), "PORTAL_SECRET_KEY": TEST_SECRET, **values}
    )


def test_without_the_setting_sms_links_use_the_base_url(tmp_path: Path) -> None:
    settings = load(tmp_path, PORTAL_BASE_URL="https://eservice.example.go.th/")
    assert settings.sms_link_base == "https://eservice.example.go.th"
    config = SmsConfig.from_settings(settings)
    assert (config.link_base, config.web_host) == (
        "https://eservice.example.go.th",
        "eservice.example.go.th",
    )


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("https://oss.go.th", "https://oss.go.th"),
        ("https://oss.go.th/", "https://oss.go.th"),  # no trailing slash
        ("  https://oss.go.th/p  ", "https://oss.go.th/p"),  # a short path
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("https://a-much-longer-link-host.example.go.th", None),  # advice, not refused
    ],
)
def test_good_link_bases_are_kept(tmp_path: Path, value: str, kept: str | None) -> None:
    assert load(tmp_path, PORTAL_SMS_LINK_BASE_URL=value).sms_link_base == (kept or value)


@pytest.mark.parametrize(
    "value",
    [
        "oss.go.th",
        "ftp://oss.go.th",
        "https://",
        "https://oss.go.th?x=1",
        "https://oss.go.th/#top",
        "https://user@oss.go.th",
        "https://oss.go.th:port",
        "https://oss go.th",
        "https://oss.go.th/a-path-too-long-for-sms",
    ],
)
def test_bad_link_bases_are_refused_naming_the_variable(tmp_path: Path, value: str) -> None:
    with pytest.raises(SettingsError, match="PORTAL_SMS_LINK_BASE_URL"):
        load(tmp_path, PORTAL_SMS_LINK_BASE_URL=value)


def test_production_needs_https_links(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="https://"):
        load(
            tmp_path,
            PORTAL_ENV="production",
            PORTAL_SMS_BACKEND="webhook",
            PORTAL_SMS_WEBHOOK_URL="https://gw.example/sms",
            PORTAL_SMS_LINK_BASE_URL="http://oss.go.th",
        )


# portal check


def production(tmp_path: Path, **values: str) -> Settings:
    return load(
        tmp_path,
        PORTAL_ENV="production",
        PORTAL_SMS_BACKEND="webhook",
        PORTAL_SMS_WEBHOOK_URL="https://gw.example/sms",
        PORTAL_BASE_URL="https://eservice.tambon-example.go.th",
        **values,
    )


def test_check_warns_when_links_make_two_part_sms(tmp_path: Path) -> None:
    result = check_sms_links(production(tmp_path))
    assert result.status == WARN
    assert "PORTAL_BASE_URL=https://eservice.tambon-example.go.th is 37 characters" in result.detail
    assert "take 2 parts" in result.detail
    assert "no WebOTP line" in result.detail  # a 29-character host


def test_check_is_ok_with_a_short_link_host(tmp_path: Path) -> None:
    result = check_sms_links(production(tmp_path, PORTAL_SMS_LINK_BASE_URL="https://oss.go.th"))
    assert result.status == OK
    assert result.detail.startswith("https://oss.go.th: every SMS one part")


def test_check_only_advises_in_development(tmp_path: Path) -> None:
    result = check_sms_links(load(tmp_path))  # http://127.0.0.1:8000: 21 characters
    assert result.status == OK
    assert "take 2 parts" in result.detail
    assert "@127.0.0.1 #code" in result.detail
    assert check_sms_links(None).status == SKIP
