"""Issue 17 parts 5 and 6: the OTP step a citizen cannot get stuck in, and a second request."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from portal.kernel.clock import BANGKOK, utcnow
from tests.citizen.helpers import (
    GENERAL_REQUEST_ANSWERS,
    enter_code,
    latest_code,
    send_code,
    submit_form,
    verify_phone,
)
from tests.conftest import html

PHONE = "0800000011"
E164 = "+66800000011"
VERIFY = "/e-service/general-request/verify"
PHONE_STEP = "/e-service/general-request/phone"


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_code_step_shows_the_typed_number_in_full_and_the_sender_unbroken(
    client: TestClient[Litestar],
) -> None:
    send_code(client, PHONE)
    page = html(client.get(VERIFY, headers={"HX-Request": "true"}))
    phone = page.select_one("[data-phone]")
    sender = page.select_one("[data-sender]")
    assert phone.get_text() == "080-000-0011"
    assert sender.get_text() == "OSS-LOCAL"
    assert "nowrap" in phone["class"] and "nowrap" in sender["class"]
    change = page.select_one("a[data-change-phone]")
    assert change.get_text(strip=True) == "เปลี่ยนหมายเลข"
    assert change["href"] == PHONE_STEP


def test_change_number_opens_the_phone_step_with_the_typed_number_to_correct(
    client: TestClient[Litestar], new_browser: Any
) -> None:
    send_code(client, PHONE)
    assert html(client.get(PHONE_STEP)).select_one("#phone")["value"] == PHONE
    # Another browser knows nothing of it, and the URL cannot put a number there.
    other = new_browser()
    assert html(other.get(PHONE_STEP, params={"phone": PHONE})).select_one("#phone")["value"] == ""


def test_each_code_error_is_said_once(client: TestClient[Litestar], run_db: Any) -> None:
    send_code(client, PHONE)
    response = enter_code(client, _wrong(latest_code(run_db, E164)))
    page = html(response)
    text = page.select_one("[data-step=otp]").get_text()
    assert text.count("เหลือโอกาสอีก 4 ครั้ง") == 1
    assert len(page.select(".error-summary")) == 1
    assert page.select(".error-message") == []
    assert page.select_one("#code")["aria-describedby"] == "code-error"
    assert page.select_one("#code-error")["href"] == "#code"


def test_each_phone_error_is_said_once(client: TestClient[Litestar]) -> None:
    page = html(send_code(client, "021234567"))
    text = page.select_one("[data-step=phone]").get_text()
    assert text.count("ไม่ใช่เบอร์มือถือ") == 1
    assert page.select(".error-message") == []


def test_after_five_wrong_codes_the_input_is_disabled_and_a_new_code_is_the_way_on(
    client: TestClient[Litestar], run_db: Any
) -> None:
    send_code(client, PHONE)
    wrong = _wrong(latest_code(run_db, E164))
    for _ in range(4):
        assert not html(enter_code(client, wrong)).select_one("#code").has_attr("disabled")
    response = enter_code(client, wrong)
    assert response.status_code == 422
    page = html(response)
    assert page.select_one("#code").has_attr("disabled")
    assert page.find("button", string="ตรวจสอบรหัสยืนยัน") is None
    resend = page.select_one("form.resend")
    assert resend["action"] == "/e-service/general-request/resend"
    assert resend.select_one("button[type=submit]").get_text(strip=True) == "ขอรหัสใหม่"
    assert "ครบ 5 ครั้ง" in page.select_one("#code-error").get_text()
    assert "เหลือโอกาสอีก 0" not in page.get_text()
    # A reload (or the back button) draws the step again: the dead code stays dead on screen.
    reloaded = html(client.get(VERIFY))
    assert reloaded.select_one("#code").has_attr("disabled")
    assert "ครบ 5 ครั้ง" in reloaded.select_one("#code-error").get_text()
    assert reloaded.select_one("form.resend button[type=submit]").get_text(strip=True) == "ขอรหัสใหม่"


def test_a_live_code_reloaded_keeps_its_input(client: TestClient[Litestar], run_db: Any) -> None:
    send_code(client, PHONE)
    enter_code(client, _wrong(latest_code(run_db, E164)))
    page = html(client.get(VERIFY))
    assert not page.select_one("#code").has_attr("disabled")
    assert page.select(".error-summary") == []


def test_without_javascript_the_resend_wait_is_a_time_of_day(
    client: TestClient[Litestar], run_db: Any
) -> None:
    send_code(client, PHONE)
    page = html(client.get(VERIFY))
    wait = int(page.select_one("button[data-countdown]")["data-countdown"])
    assert wait > 0
    sentence = page.select_one("[data-countdown-clock]")
    assert sentence is not None and not sentence.has_attr("hidden")
    match = re.fullmatch(r"ขอรหัสใหม่ได้ตั้งแต่เวลา (\d\d:\d\d:\d\d) น\.", sentence.get_text(strip=True))
    assert match is not None, sentence
    # Bangkok time, about "wait" seconds from now.
    shown = {
        (utcnow() + timedelta(seconds=wait + delta)).astimezone(BANGKOK).strftime("%H:%M:%S")
        for delta in range(-2, 3)
    }
    assert match.group(1) in shown
    # The counting number is for app.js only: hidden until it runs.
    assert page.select_one("[data-countdown-live]").has_attr("hidden")


def test_success_page_offers_another_request_with_the_phone_already_filled(
    client: TestClient[Litestar], run_db: Any, new_browser: Any
) -> None:
    verify_phone(client, run_db, PHONE, E164)
    filed = submit_form(client, GENERAL_REQUEST_ANSWERS)
    assert filed.status_code == 303
    success = html(client.get(filed.headers["location"]))
    another = success.select_one("a[data-another-request]")
    assert another.get_text(strip=True) == "แจ้งเรื่องอื่น"
    assert another["href"] == "/e-service"
    assert not re.search(r"\d{6}", another["href"])
    menu = html(client.get(another["href"]))
    card = menu.select_one("a.card[href='/e-service/general-request']")
    # One verification files one request: the card goes to the phone step, number filled.
    step = client.get(card["href"], follow_redirects=False)
    assert step.status_code == 303 and step.headers["location"] == PHONE_STEP
    assert html(client.get(PHONE_STEP)).select_one("#phone")["value"] == PHONE
    assert html(new_browser().get(PHONE_STEP)).select_one("#phone")["value"] == ""
