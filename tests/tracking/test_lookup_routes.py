"""Step 6 of the manual: both ways on one page, and way 2, tracking on the website after proving
the phone (issue: tracking; issue 17)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.kernel.clock import utcnow
from portal.otp.policy import OtpPolicy
from portal.settings import Settings
from portal.sms import budget
from portal.sms.outbox import list_messages
from portal.sms.texts import render_sms
from portal.tables.citizen_request import CitizenRequest
from portal.tables.otp_challenge import OtpChallenge
from portal.tracking.lookup_routes import EXAMPLE_LINK_ID, EXAMPLE_NUMBER
from tests.citizen.helpers import (
    GENERAL_REQUEST_ANSWERS,
    enter_code,
    latest_code,
    send_code,
    submit_form,
    verify_phone,
)
from tests.conftest import csrf_token, html, make_settings, without_reference
from tests.tracking.helpers import HERE

MANUAL_COPY = Path(__file__).with_name("e-service-manual.th.txt")
"""The customer's manual as delivered, kept here so a clean clone tests against it too."""
SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "e-service-manual.th.txt"
"""The manual itself, beside the repository in the project's workspace."""
LOOKUP_TITLE = "ติดตามสถานะออนไลน์ (เลือกได้ 2 วิธี)"

FILER = ("0800000060", "+66800000060")
OTHER_FILER = ("0800000061", "+66800000061")
NEVER_FILED = ("0800000062", "+66800000062")

Browser = Callable[[], TestClient[Litestar]]


def _file(browser: TestClient[Litestar], run_db: Any, phone: tuple[str, str]) -> str:
    verify_phone(browser, run_db, *phone)
    response = submit_form(browser, GENERAL_REQUEST_ANSWERS)
    assert response.status_code == 303
    return response.headers["location"].rsplit("/", 1)[1]


def _lookup(browser: TestClient[Litestar], phone: str, number: str = "") -> Any:
    token = csrf_token(browser, "/track")
    return browser.post(
        "/track",
        data={"phone": phone, "number": number, "_csrf_token": token},
        follow_redirects=False,
    )


def _track_code(run_db: Any, e164: str) -> str:
    return latest_code(run_db, e164)


def _enter_track_code(browser: TestClient[Litestar], code: str) -> Any:
    token = csrf_token(browser, "/track/verify")
    return browser.post(
        "/track/verify", data={"code": code, "_csrf_token": token}, follow_redirects=False
    )


def _verify_for_tracking(
    browser: TestClient[Litestar], run_db: Any, phone: tuple[str, str], number: str = ""
) -> Any:
    assert _lookup(browser, phone[0], number).status_code == 303
    return _enter_track_code(browser, _track_code(run_db, phone[1]))


def test_home_and_menu_link_to_tracking(client: TestClient[Litestar]) -> None:
    for path in ("/", "/e-service"):
        page = html(client.get(path))
        link = page.find("a", string="ติดตามสถานะคำร้อง")
        assert link is not None, path
        assert link["href"] == "/track"


def _manual_lines() -> list[str]:
    manual = SEED if SEED.exists() else MANUAL_COPY
    return [line.strip() for line in manual.read_text(encoding="utf-8").splitlines()]


def _text(tag: Any) -> str:
    assert tag is not None
    return " ".join(tag.get_text().split())


def test_the_manual_copy_is_the_manual() -> None:
    copy = MANUAL_COPY.read_text(encoding="utf-8")
    assert "ขั้นตอนที่ 6: " + LOOKUP_TITLE in copy.splitlines()
    if SEED.exists():  # in the workspace; a clean clone has only the copy
        assert copy == SEED.read_text(encoding="utf-8")


def test_lookup_page_is_step_6_as_the_manual_writes_it(client: TestClient[Litestar]) -> None:
    lines = _manual_lines()
    step = lines.index("ขั้นตอนที่ 6: " + LOOKUP_TITLE)
    manual = lines[step:]
    way_2_line = next(line for line in manual if line.startswith("แบบที่ 2: ดูผ่านเว็บ "))
    advice = next(line for line in manual if line.startswith("คำแนะนำเพิ่มเติม: "))

    page = html(client.get("/track"))
    assert "ขั้นตอนที่ 6: " + _text(page.select_one("h1")) == lines[step]
    assert _text(page.select_one("[data-intro]")) in manual
    way_1, way_2 = page.select_one("[data-way='1']"), page.select_one("[data-way='2']")
    assert _text(way_1.select_one("h2")) in manual
    assert _text(way_1.select_one("h2")) == "แบบที่ 1: รับ SMS แล้วกดลิงก์"
    assert _text(way_1.select_one("figcaption")) in manual
    assert _text(way_2.select_one("h2")) in manual
    assert _text(way_2.select_one("h2")) == "แบบที่ 2: ดูผ่านหน้าเว็บ"
    rule = _text(way_2.select_one("[data-way-2-rule]"))
    assert rule.startswith("ผู้ที่จะติดตามสถานะ") and way_2_line.endswith(" " + rule)
    assert way_2.select_one("[data-way-2-rule] strong").get_text() in way_2_line
    assert _text(way_2.select_one("[data-advice]")) == advice
    # Way 2's phone step sits under its heading: phone, optional number, send.
    assert way_2.select_one("label[for=phone]") is not None
    assert way_2.select_one("label[for=number] .optional") is not None
    assert _text(way_2.select_one("form button")) == "ส่งรหัสยืนยัน"
    assert [a["href"] for a in page.select(".ways a")] == ["#way-1", "#way-2"]
    assert way_2.select_one("[data-contact-link]")["href"] == "/contact"


def test_way_1_shows_the_real_receipt_sms_and_what_its_link_opens(
    client: TestClient[Litestar], settings: Settings
) -> None:
    page = html(client.get("/track"))
    example = _text(page.select_one("[data-example-sms]"))
    link = f"{settings.base_url}/t/{EXAMPLE_LINK_ID}"
    # Rendered from the receipt's own template, so it never drifts from what citizens get.
    assert example == render_sms("receipt.txt", number=EXAMPLE_NUMBER, tracking_url=link)
    assert EXAMPLE_NUMBER in example and link in example
    preview = page.select_one("[data-example-status]")
    assert EXAMPLE_NUMBER in _text(preview)
    assert _text(preview.select_one(".badge")) == "ได้รับเรื่องแล้ว"
    # An example, never a real request: nothing a test or a script would take for one.
    assert page.select("[data-request-number], [data-status]") == []

    client.get("/lang/en?next=/track")
    english = html(client.get("/track"))
    assert _text(english.select_one("h1")) == "Track the status online (2 ways)"
    assert _text(english.select_one("[data-example-sms]")) == example  # SMS go out in Thai


def test_home_header_and_success_page_lead_to_step_6(
    client: TestClient[Litestar], run_db: Any
) -> None:
    home = html(client.get("/"))
    assert home.select_one("main a[href='/track']") is not None
    assert home.select_one(".site-header nav a[href='/track']") is not None
    number = _file(client, run_db, FILER)
    success = html(client.get(f"/e-service/requests/{number}"))
    link = success.select_one("[data-track-link]")
    assert link["href"] == "/track"
    assert _text(link) == LOOKUP_TITLE


def test_verified_phone_sees_its_requests_and_their_details(
    client: TestClient[Litestar], new_browser: Browser, run_db: Any
) -> None:
    number = _file(client, run_db, FILER)
    phone_browser = new_browser()
    response = _verify_for_tracking(phone_browser, run_db, FILER)
    assert response.status_code == 303
    assert response.headers["location"] == "/track/requests"
    page = html(phone_browser.get("/track/requests"))
    numbers = [n.get_text(strip=True) for n in page.select("[data-request-number]")]
    assert numbers == [number]
    detail = html(phone_browser.get(f"/track/requests/{number}"))
    answers = {
        div.select_one("dt").get_text(strip=True): div.select_one("dd").get_text(strip=True)
        for div in detail.select(".answers div")
    }
    assert answers["ชื่อ"] == GENERAL_REQUEST_ANSWERS["first_name"]
    assert answers["เรื่อง"] == GENERAL_REQUEST_ANSWERS["subject"]
    assert detail.select_one("[data-status]").get_text(strip=True) == "ได้รับเรื่องแล้ว"

    # In English the office's English labels stand in for the Thai ones; the words stay.
    phone_browser.get(f"/lang/en?next=/track/requests/{number}")
    english = html(phone_browser.get(f"/track/requests/{number}"))
    labels = [dt.get_text(strip=True) for dt in english.select(".answers dt")]
    assert "First name" in labels and "ชื่อ" not in labels


def test_request_number_in_the_lookup_opens_that_request(
    client: TestClient[Litestar], new_browser: Browser, run_db: Any
) -> None:
    number = _file(client, run_db, FILER)
    response = _verify_for_tracking(new_browser(), run_db, FILER, number.replace("-", ""))
    assert response.headers["location"] == f"/track/requests/{number}"


def test_someone_elses_number_in_the_lookup_lands_on_own_list(
    client: TestClient[Litestar], new_browser: Browser, run_db: Any
) -> None:
    other_number = _file(client, run_db, OTHER_FILER)
    _file(new_browser(), run_db, FILER)
    response = _verify_for_tracking(new_browser(), run_db, FILER, other_number)
    assert response.headers["location"] == "/track/requests"


def test_send_code_answers_the_same_whether_or_not_the_phone_filed(
    client: TestClient[Litestar], new_browser: Browser, run_db: Any
) -> None:
    _file(client, run_db, FILER)
    known, unknown = new_browser(), new_browser()
    known_response = _lookup(known, FILER[0])
    unknown_response = _lookup(unknown, NEVER_FILED[0])
    assert known_response.status_code == unknown_response.status_code == 303
    assert known_response.headers["location"] == unknown_response.headers["location"]
    assert set(known_response.cookies) == set(unknown_response.cookies)
    known_page = known.get("/track/verify").text.replace("0060", "NNNN")
    unknown_page = unknown.get("/track/verify").text.replace("0062", "NNNN")

    def without_tokens(text: str) -> str:
        return "\n".join(line for line in text.splitlines() if "csrf" not in line)

    assert without_tokens(known_page) == without_tokens(unknown_page)
    # Both get a real code, sent alike and counted alike against the daily SMS budget: nothing
    # tells the two apart until the code is entered (then only the phone's holder learns).
    assert run_db(lambda: OtpChallenge.count().where(OtpChallenge.purpose == "track")) == 2
    for e164, codes in ((FILER[1], 2), (NEVER_FILED[1], 1)):  # the filer also filed by code
        sent = run_db(lambda e164=e164: list_messages(office=HERE, to_phone=e164))
        assert [m["purpose"] for m in sent].count("otp") == codes
        assert all(m["state"] != "suppressed" and m["text"] for m in sent)
    assert run_db(lambda: budget.used(utcnow(), office_id=HERE.id)) == 4  # 3 codes, 1 receipt


@pytest.fixture
def otp_policy() -> OtpPolicy:
    """Limits out of the way so one browser can time many lookups."""
    return OtpPolicy(
        resend_after=timedelta(0),
        sends_per_phone_short=1000,
        sends_per_phone_day=1000,
        sends_per_ip_hour=1000,
    )


def test_send_code_takes_as_long_whether_or_not_the_phone_filed(
    client: TestClient[Litestar], new_browser: Browser, run_db: Any
) -> None:
    _file(client, run_db, FILER)
    browser = new_browser()
    token = csrf_token(browser, "/track")

    def timed(phone: str) -> float:
        started = time.perf_counter()
        response = browser.post(
            "/track", data={"phone": phone, "_csrf_token": token}, follow_redirects=False
        )
        assert response.status_code == 303
        return time.perf_counter() - started

    known, unknown = [], []
    for _ in range(15):
        known.append(timed(FILER[0]))
        unknown.append(timed(NEVER_FILED[0]))
    gap = abs(statistics.median(known) - statistics.median(unknown))
    assert gap < max(0.005, 0.25 * statistics.median(known)), (known, unknown)


def test_a_submit_code_does_not_open_tracking_and_the_other_way_round(
    client: TestClient[Litestar], run_db: Any
) -> None:
    _file(client, run_db, FILER)
    assert send_code(client, FILER[0]).status_code == 303
    submit_code = latest_code(run_db, FILER[1])
    assert _lookup(client, FILER[0]).status_code == 303
    track_code = latest_code(run_db, FILER[1])
    if submit_code != track_code:
        assert _enter_track_code(client, submit_code).status_code == 422
        assert enter_code(client, track_code).status_code == 422
    # Being verified for filing is not being verified for reading.
    page = html(client.get("/track/requests"))
    assert _text(page.select_one("h1")) == LOOKUP_TITLE


def test_phone_a_cannot_read_phone_b_by_any_route(
    client: TestClient[Litestar], new_browser: Browser, run_db: Any
) -> None:
    other_number = _file(client, run_db, OTHER_FILER)
    other = run_db(
        lambda: CitizenRequest.objects().where(CitizenRequest.number == other_number).first()
    )
    own_number = _file(new_browser(), run_db, FILER)
    reader = new_browser()
    _verify_for_tracking(reader, run_db, FILER)
    assert reader.get(f"/track/requests/{other_number}").status_code == 404
    assert reader.get(f"/track/requests/{other.id}").status_code == 404
    assert reader.get(f"/e-service/requests/{other_number}").status_code == 404
    listed = html(reader.get("/track/requests")).select("[data-request-number]")
    assert [n.get_text(strip=True) for n in listed] == [own_number]
    # The token link is the only way in without the phone, and it shows no personal data.
    link_page = html(reader.get(f"/t/{other.tracking_token}"))
    assert GENERAL_REQUEST_ANSWERS["subject"] not in link_page.get_text()


def test_unknown_and_foreign_numbers_look_the_same(
    client: TestClient[Litestar], new_browser: Browser, run_db: Any
) -> None:
    other_number = _file(client, run_db, OTHER_FILER)
    _file(new_browser(), run_db, FILER)
    reader = new_browser()
    _verify_for_tracking(reader, run_db, FILER)
    foreign = reader.get(f"/track/requests/{other_number}")
    unknown = reader.get("/track/requests/69-000000")
    assert foreign.status_code == unknown.status_code == 404

    def without_switch(response: Any) -> str:
        # The language switch links back to the URL typed, which differs by design.
        page = html(response)
        page.select_one(".language-switch").decompose()
        return without_reference(str(page))

    assert without_switch(foreign) == without_switch(unknown)


def test_tracking_without_verification_asks_for_the_phone(client: TestClient[Litestar]) -> None:
    for path in ("/track/requests", "/track/requests/69-000000"):
        response = client.get(path)
        assert response.status_code == 200
        page = html(response)
        assert _text(page.select_one("h1")) == LOOKUP_TITLE
        assert page.select_one(".notice") is None


def test_sign_out_ends_tracking(
    client: TestClient[Litestar], new_browser: Browser, run_db: Any
) -> None:
    _file(client, run_db, FILER)
    reader = new_browser()
    _verify_for_tracking(reader, run_db, FILER)
    token = csrf_token(reader, "/track/requests")
    assert reader.post("/track/sign-out", data={"_csrf_token": token}).status_code == 200
    page = html(reader.get("/track/requests"))
    assert _text(page.select_one("h1")) == LOOKUP_TITLE


class TestIdleExpiry:
    @pytest.fixture
    def otp_policy(self) -> OtpPolicy:
        return OtpPolicy(tracking_idle=timedelta(0))

    def test_idle_tracking_session_asks_to_verify_again(
        self, client: TestClient[Litestar], new_browser: Browser, run_db: Any
    ) -> None:
        _file(client, run_db, FILER)
        reader = new_browser()
        assert _verify_for_tracking(reader, run_db, FILER).status_code == 303
        page = html(reader.get("/track/requests"))
        assert _text(page.select_one("h1")) == LOOKUP_TITLE
        assert "หมดเวลา" in page.select_one(".notice").get_text()
        assert page.select("[data-request-number]") == []


def test_bad_lookup_input_gets_thai_messages(client: TestClient[Litestar], run_db: Any) -> None:
    response = _lookup(client, "021234567")
    assert response.status_code == 422
    assert "ไม่ใช่เบอร์มือถือ" in html(response).select_one("#phone-error").get_text()
    response = _lookup(client, FILER[0], "<script>alert(1)</script>")
    assert response.status_code == 422
    page = html(response)
    assert "เลขที่คำร้องไม่ถูกต้อง" in page.select_one("#number-error").get_text()
    assert page.select_one("#number")["value"] == "<script>alert(1)</script>"
    assert page.find("script", string="alert(1)") is None
    assert run_db(lambda: OtpChallenge.count()) == 0


class TestPhoneWithNoRequests:
    @pytest.fixture
    def settings(self, tmp_path: Path, database: str) -> Settings:
        return make_settings(tmp_path, database, PORTAL_OFFICE_PHONE="0-2123-4567")

    def test_way_2_with_an_unknown_phone_gets_a_real_code_and_the_honest_page(
        self, client: TestClient[Litestar], new_browser: Browser, run_db: Any
    ) -> None:
        _file(client, run_db, FILER)
        stranger = new_browser()
        # A made-up request number changes nothing: the phone's own (empty) list.
        response = _verify_for_tracking(stranger, run_db, NEVER_FILED, "69-000001")
        assert response.status_code == 303
        assert response.headers["location"] == "/track/requests"
        code_sms = run_db(lambda: list_messages(office=HERE, to_phone=NEVER_FILED[1]))
        assert [(m["purpose"], m["state"]) for m in code_sms] == [("otp", "sent")]

        page = html(stranger.get("/track/requests"))
        assert page.select("[data-request-number]") == []
        honest = page.select_one("[data-no-requests]")
        assert _text(honest.select_one("strong")) == "ยังไม่พบคำร้องที่ยื่นด้วยหมายเลขนี้"
        assert honest.select_one("[data-contact-link]")["href"] == "/contact"
        assert honest.select_one("[data-office-phone]")["href"] == "tel:021234567"
        assert page.select_one("a[href='/e-service']") is not None  # file one now
        # The filer's request is nowhere on it, and its number is not reachable.
        filed = run_db(lambda: CitizenRequest.select(CitizenRequest.number).first())
        assert filed["number"] not in page.get_text()
        assert stranger.get(f"/track/requests/{filed['number']}").status_code == 404

        stranger.get("/lang/en?next=/track/requests")
        english = html(stranger.get("/track/requests"))
        assert "No request has been filed" in _text(english.select_one("[data-no-requests]"))

    @pytest.fixture
    def otp_policy(self) -> OtpPolicy:
        return OtpPolicy()  # the real limits, not this module's relaxed ones

    def test_a_phone_without_requests_still_meets_the_limits(
        self, new_browser: Browser, run_db: Any
    ) -> None:
        answers = [_lookup(new_browser(), NEVER_FILED[0]).status_code for _ in range(4)]
        assert answers == [303, 303, 303, 429]  # 3 codes per phone per 15 minutes
        assert len(run_db(lambda: list_messages(office=HERE, to_phone=NEVER_FILED[1]))) == 3
