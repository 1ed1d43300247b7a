"""The admins' SMS page and the back office's SMS banner: what an admin sees when SMS is in
trouble, that officers see neither, and that no message text is ever shown."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag
from litestar import Litestar
from litestar.testing import TestClient

from portal.kernel.clock import utcnow
from portal.settings import Settings
from portal.sms import failover
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.tables.sms_gateway_state import SmsGatewayState
from portal.tables.sms_message import SmsMessage, SmsPurpose, SmsState
from tests.conftest import html, make_settings
from tests.staff.helpers import Clock, RunDb, Staff, make_staff, sign_in

Browser = TestClient[Litestar]
LIMIT = 100
SECRET_TEXT = "ติดตามคำร้องที่ https://eservice.example.go.th/t/SECRET-LINK"


@pytest.fixture(autouse=True)
def primary_gateway(database: str) -> Iterator[None]:
    """Each test starts on the primary, and leaves no switch behind for other modules."""
    SmsGatewayState.delete(force=True).run_sync()
    yield
    SmsGatewayState.delete(force=True).run_sync()


@pytest.fixture
def settings(tmp_path: Path, database: str) -> Settings:
    """A real gateway with a fallback; no dispatcher in the app (PORTAL_SMS_DISPATCH=worker),
    so the rows each test writes stay as written."""
    return make_settings(
        tmp_path,
        database,
        PORTAL_SMS_BACKEND="thaibulksms",
        PORTAL_SMS_THAIBULKSMS_API_KEY="test-api-key",
        PORTAL_SMS_THAIBULKSMS_API_SECRET="test-api-secret",
        PORTAL_SMS_FALLBACK_BACKEND="twilio",
        PORTAL_SMS_TWILIO_ACCOUNT_SID="AC0",
        PORTAL_SMS_TWILIO_AUTH_TOKEN="test-auth-token",
        PORTAL_SMS_DISPATCH="worker",
        PORTAL_SMS_DAILY_LIMIT=str(LIMIT),
    )


@pytest.fixture
def admin(client: Browser, run_db: RunDb, settings: Settings, clock: Clock) -> Browser:
    return sign_in(client, make_staff(run_db, settings, "boss", role="admin"), clock)


@pytest.fixture
def officer(run_db: RunDb, settings: Settings) -> Staff:
    return make_staff(run_db, settings, "somchai")


def write(
    run_db: RunDb,
    count: int = 1,
    *,
    state: SmsState = SmsState.failed,
    error: str = "HTTP 503: gateway down",
    attempts: int = 3,
    backend: str = "thaibulksms",
    phone: str = "+66800000321",
    due_ago: timedelta | None = None,
    sent: bool = False,
) -> None:
    async def go() -> None:
        now = utcnow()
        for _ in range(count):
            await SmsMessage(
                office=DEFAULT_OFFICE_ID,
                to_phone=phone,
                sender="OSS-LOCAL",
                text=SECRET_TEXT,
                purpose=SmsPurpose.status,
                state=state,
                backend=backend,
                attempts=attempts,
                created_at=now - timedelta(minutes=30),
                next_attempt_at=now - due_ago if due_ago is not None else None,
                expires_at=now + timedelta(hours=1),
                sent_at=now if sent else None,
                failed_at=now if state == SmsState.failed else None,
                last_error=error,
            ).save()

    run_db(go)


def one(page: BeautifulSoup, selector: str) -> Tag:
    found = page.select_one(selector)
    assert found is not None, selector
    return found


def banner(page: BeautifulSoup) -> set[str]:
    found = page.select_one("[data-sms-trouble]")
    if found is None:
        return set()
    return {
        str(name).removeprefix("data-sms-")
        for p in found.select("p")
        for name in p.attrs
        if str(name).startswith("data-sms-")
    }


def test_all_well_no_banner_and_a_calm_sms_page(admin: Browser, run_db: RunDb) -> None:
    write(run_db, 3, state=SmsState.sent, error="", sent=True)
    assert banner(html(admin.get("/staff"))) == set()
    page = html(admin.get("/staff/sms"))
    assert one(page, "h1").get_text(strip=True) == "SMS"
    active = one(page, "[data-sms-active]")
    assert active["data-sms-active"] == "primary"
    assert "thaibulksms" in active.get_text() and "twilio" in active.get_text()
    assert "ไม่มีข้อความค้างส่ง" in one(page, "[data-sms-queue]").get_text()
    assert "ไม่สำเร็จ 0 จาก 3" in one(page, "[data-sms-recent]").get_text()
    assert f"ใช้ไป 3 จาก {LIMIT}" in one(page, "[data-sms-budget]").get_text()
    assert page.select("tr[data-sms-failure]") == []
    # The nav links to it.
    assert page.select_one("nav a[href='/staff/sms']") is not None


def test_failures_are_listed_with_the_gateways_error_and_never_the_text(
    admin: Browser, run_db: RunDb
) -> None:
    write(run_db, error="HTTP 400: 109 INSUFFICIENT_CREDIT", attempts=2, phone="+66812345678")
    write(
        run_db,
        state=SmsState.queued,
        error="timeout: ReadTimeout",
        backend="twilio",
        due_ago=-timedelta(minutes=5),
    )
    write(run_db, state=SmsState.queued, error="", due_ago=-timedelta(minutes=5))  # not tried
    response = admin.get("/staff/sms")
    assert response.status_code == 200
    assert "SECRET-LINK" not in response.text
    assert "+66812345678" not in response.text and "0812345678" not in response.text
    rows = [
        [td.get_text(strip=True) for td in row.select("td")]
        for row in html(response).select("tr[data-sms-failure]")
    ]
    assert [row[1:] for row in rows] == [
        ["twilio", "แจ้งสถานะ", "รอส่งใหม่", "3", "timeout: ReadTimeout", "08x-xxx-0321"],
        [
            "thaibulksms",
            "แจ้งสถานะ",
            "ส่งไม่สำเร็จ",
            "2",
            "HTTP 400: 109 INSUFFICIENT_CREDIT",
            "08x-xxx-5678",
        ],
    ]


def test_a_failing_gateway_is_in_the_admins_banner(admin: Browser, run_db: RunDb) -> None:
    write(run_db, 19)
    assert banner(html(admin.get("/staff"))) == set()
    write(run_db, 1)
    page = html(admin.get("/staff"))
    assert banner(page) == {"failing"}
    assert page.select_one("[data-sms-trouble] a[href='/staff/sms']") is not None
    assert "20" in one(page, "[data-sms-failing]").get_text()


def test_a_stuck_queue_is_in_the_banner(admin: Browser, run_db: RunDb) -> None:
    write(run_db, state=SmsState.queued, error="", attempts=0, due_ago=timedelta(minutes=9))
    assert banner(html(admin.get("/staff"))) == set()
    write(run_db, state=SmsState.queued, error="", attempts=0, due_ago=timedelta(minutes=12))
    page = html(admin.get("/staff"))
    assert banner(page) == {"stuck"}
    assert "12 นาที" in one(page, "[data-sms-stuck]").get_text()
    sms = html(admin.get("/staff/sms"))
    assert "12 นาที" in one(sms, "[data-sms-queue]").get_text()


def test_the_budget_at_eighty_percent_is_in_the_banner(admin: Browser, run_db: RunDb) -> None:
    write(run_db, 79, state=SmsState.sent, error="", sent=True)
    assert banner(html(admin.get("/staff"))) == set()
    write(run_db, 1, state=SmsState.sent, error="", sent=True)
    page = html(admin.get("/staff"))
    assert banner(page) == {"budget-nearly-full"}
    assert f"80 จาก {LIMIT}" in one(page, "[data-sms-budget-nearly-full]").get_text()
    # Full: the red banner everyone sees says it, not this one as well.
    write(run_db, 20, state=SmsState.sent, error="", sent=True)
    page = html(admin.get("/staff"))
    assert page.select_one("[data-sms-budget-full]") is not None
    assert banner(page) == set()


def test_the_fallback_in_use_is_shown_with_when_and_why(admin: Browser, run_db: RunDb) -> None:
    async def switch() -> None:
        await failover.primary_failed(
            utcnow(), error="HTTP 402", no_credit=True, backends=("thaibulksms", "twilio")
        )

    run_db(switch)
    assert banner(html(admin.get("/staff"))) == {"fallback"}
    page = html(admin.get("/staff/sms"))
    active = one(page, "[data-sms-active]")
    assert active["data-sms-active"] == "fallback"
    assert active.get_text(strip=True).startswith("twilio")
    assert "no credit: HTTP 402" in one(page, "[data-sms-switched]").get_text()


def test_officers_get_403_and_no_banner_or_link(
    client: Browser, run_db: RunDb, officer: Staff, clock: Clock
) -> None:
    write(run_db, 20)
    sign_in(client, officer, clock)
    assert client.get("/staff/sms", follow_redirects=False).status_code == 403
    page = html(client.get("/staff"))
    assert banner(page) == set()
    assert page.select_one("a[href='/staff/sms']") is None


def test_signed_out_the_page_sends_to_sign_in(client: Browser) -> None:
    response = client.get("/staff/sms", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/staff/sign-in")
