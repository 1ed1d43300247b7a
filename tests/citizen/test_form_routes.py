from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.kernel.clock import utcnow
from portal.tables.citizen_request import CitizenRequest
from portal.tables.request_event import RequestEvent
from portal.tables.sms_message import SmsMessage
from tests.citizen.helpers import GENERAL_REQUEST_ANSWERS, latest_code, submit_form, verify_phone
from tests.conftest import csrf_token, html

PHONE = "0800000010"
E164 = "+66800000010"


def _form_key(client: TestClient[Litestar]) -> str:
    page = html(client.get("/e-service/general-request/form"))
    return str(page.select_one("input[name=submission_key]")["value"])


def test_form_needs_a_verified_phone(client: TestClient[Litestar]) -> None:
    response = client.get("/e-service/general-request/form", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/e-service/general-request/phone"


def test_form_shows_the_service_fields(client: TestClient[Litestar], run_db: Any) -> None:
    verify_phone(client, run_db, PHONE, E164)
    page = html(client.get("/e-service/general-request/form"))
    names = [field["name"] for field in page.select("form [name]") if field.name != "button"]
    for expected in ("title", "first_name", "last_name", "citizen_id", "address", "subject"):
        assert expected in names
    assert page.select_one("label[for=f-citizen_id] .optional") is not None
    assert "08x-xxx-0010" in page.get_text()


def test_form_errors_answer_422_with_summary_and_kept_values(
    client: TestClient[Litestar], run_db: Any
) -> None:
    verify_phone(client, run_db, PHONE, E164)
    answers = {**GENERAL_REQUEST_ANSWERS, "first_name": "", "citizen_id": "1234567890122"}
    response = submit_form(client, answers)
    assert response.status_code == 422
    page = html(response)
    assert page.select_one("title").get_text().startswith("ผิดพลาด: ")
    links = {a["href"]: a.get_text(strip=True) for a in page.select(".error-summary a")}
    assert links["#f-first_name"] == "กรุณากรอกชื่อ"
    assert "ไม่ถูกต้อง" in links["#f-citizen_id"]
    assert "กรุณากรอกชื่อ" in page.select_one("#f-first_name-error").get_text()
    assert page.select_one("#f-first_name")["aria-invalid"] == "true"
    assert page.select_one("#f-subject")["value"] == GENERAL_REQUEST_ANSWERS["subject"]
    assert page.select_one("#f-details").get_text() == GENERAL_REQUEST_ANSWERS["details"]
    assert run_db(lambda: CitizenRequest.count()) == 0


def test_submission_files_request_event_and_sms_together(
    client: TestClient[Litestar], run_db: Any
) -> None:
    verify_phone(client, run_db, PHONE, E164)
    response = submit_form(client, GENERAL_REQUEST_ANSWERS, submission_key=_form_key(client))
    assert response.status_code == 303
    number = response.headers["location"].rsplit("/", 1)[1]

    request = run_db(
        lambda: CitizenRequest.objects().where(CitizenRequest.number == number).first()
    )
    assert request.phone == E164
    assert request.status == "received"
    answers = request.answers if isinstance(request.answers, dict) else json.loads(request.answers)
    assert answers["subject"] == GENERAL_REQUEST_ANSWERS["subject"]
    events = run_db(lambda: RequestEvent.select().where(RequestEvent.request == request.id))
    assert [event["status"] for event in events] == ["received"]
    receipt = run_db(
        lambda: (
            SmsMessage.objects()
            .where(SmsMessage.request == request.id, SmsMessage.purpose == "receipt")
            .first()
        )
    )
    assert receipt.sender == "OSS-LOCAL"
    assert receipt.to_phone == E164
    assert number in receipt.text
    assert f"https://eservice.example.go.th/t/{request.tracking_token}" in receipt.text
    assert "สมศรี" not in receipt.text
    assert GENERAL_REQUEST_ANSWERS["subject"] not in receipt.text

    page = html(client.get(response.headers["location"]))
    assert page.select_one("h1").get_text(strip=True) == "ส่งข้อมูลเรียบร้อย ✓"
    assert page.select_one("[data-request-number]").get_text(strip=True) == number


def test_tracking_token_has_at_least_128_bits(client: TestClient[Litestar], run_db: Any) -> None:
    verify_phone(client, run_db, PHONE, E164)
    submit_form(client, GENERAL_REQUEST_ANSWERS, submission_key=_form_key(client))
    request = run_db(lambda: CitizenRequest.objects().first())
    # token_urlsafe: 6 bits per character.
    assert len(request.tracking_token) * 6 >= 128


def test_double_submit_files_one_request(client: TestClient[Litestar], run_db: Any) -> None:
    verify_phone(client, run_db, PHONE, E164)
    key = _form_key(client)
    first = submit_form(client, GENERAL_REQUEST_ANSWERS, submission_key=key)
    second = submit_form(client, GENERAL_REQUEST_ANSWERS, submission_key=key)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert run_db(lambda: CitizenRequest.count()) == 1
    assert run_db(lambda: SmsMessage.count().where(SmsMessage.purpose == "receipt")) == 1


def test_simultaneous_double_click_files_one_request(
    client: TestClient[Litestar], run_db: Any
) -> None:
    verify_phone(client, run_db, PHONE, E164)
    key = _form_key(client)
    token = csrf_token(client, "/e-service/general-request/form")

    def click(_: int) -> int:
        data = {**GENERAL_REQUEST_ANSWERS, "_csrf_token": token, "submission_key": key}
        response = client.post("/e-service/general-request/form", data=data, follow_redirects=False)
        return response.status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(click, range(4)))
    assert statuses == [303] * 4
    assert run_db(lambda: CitizenRequest.count()) == 1
    assert run_db(lambda: RequestEvent.count()) == 1


def test_htmx_submission_answers_hx_location_to_success(
    client: TestClient[Litestar], run_db: Any
) -> None:
    verify_phone(client, run_db, PHONE, E164)
    token = csrf_token(client, "/e-service/general-request/form")
    response = client.post(
        "/e-service/general-request/form",
        data={**GENERAL_REQUEST_ANSWERS, "_csrf_token": token, "submission_key": "k" * 30},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    location = json.loads(response.headers["hx-location"])
    assert location["path"].startswith("/e-service/requests/")
    assert location["target"] == "#main"
    partial = client.get(location["path"], headers={"HX-Request": "true"})
    assert html(partial).select_one("html") is None
    assert html(partial).select_one("h1").get_text(strip=True) == "ส่งข้อมูลเรียบร้อย ✓"


def test_success_page_is_only_for_the_browser_that_filed(
    client: TestClient[Litestar], run_db: Any, new_browser: Any
) -> None:
    verify_phone(client, run_db, PHONE, E164)
    response = submit_form(client, GENERAL_REQUEST_ANSWERS, submission_key=_form_key(client))
    location = response.headers["location"]
    assert new_browser().get(location).status_code == 404


def test_submission_without_csrf_token_is_refused(
    client: TestClient[Litestar], run_db: Any
) -> None:
    verify_phone(client, run_db, PHONE, E164)
    response = client.post("/e-service/general-request/form", data=GENERAL_REQUEST_ANSWERS)
    assert response.status_code == 403
    assert run_db(lambda: CitizenRequest.count()) == 0


def test_overlong_and_control_characters_are_handled_not_500(
    client: TestClient[Litestar], run_db: Any
) -> None:
    verify_phone(client, run_db, PHONE, E164)
    answers = {**GENERAL_REQUEST_ANSWERS, "subject": "ก" * 5000, "first_name": "สม\x00ศรี\u200b"}
    response = submit_form(client, answers)
    assert response.status_code == 422
    assert "ยาวไม่เกิน 200" in html(response).select_one("#f-subject-error").get_text()
    assert run_db(lambda: CitizenRequest.count()) == 0


def test_huge_body_is_refused_with_413(client: TestClient[Litestar], run_db: Any) -> None:
    verify_phone(client, run_db, PHONE, E164)
    token = csrf_token(client, "/e-service/general-request/form")
    response = client.post(
        "/e-service/general-request/form",
        data={**GENERAL_REQUEST_ANSWERS, "details": "x" * 2_000_000, "_csrf_token": token},
    )
    assert response.status_code == 413
    assert run_db(lambda: CitizenRequest.count()) == 0


def test_form_kept_open_past_the_verification_window_still_files(
    client: TestClient[Litestar], run_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The citizen typed for longer than the window: the form's key still vouches for them."""
    verify_phone(client, run_db, PHONE, E164)
    slow_form_key = _form_key(client)
    later = utcnow() + timedelta(minutes=45)
    monkeypatch.setattr("portal.otp.verified.utcnow", lambda: later)
    # The window has lapsed: a new form asks for the phone again...
    assert client.get("/e-service/general-request/form", follow_redirects=False).status_code == 303
    # ...but the form that was open files.
    late = submit_form(client, GENERAL_REQUEST_ANSWERS, submission_key=slow_form_key)
    assert late.status_code == 303
    assert late.headers["location"].startswith("/e-service/requests/")
    assert run_db(lambda: CitizenRequest.count().where(CitizenRequest.phone == E164)) == 1


def test_a_second_form_under_one_verification_files_nothing_and_keeps_the_words(
    client: TestClient[Litestar], run_db: Any
) -> None:
    verify_phone(client, run_db, PHONE, E164)
    first_key, second_key = _form_key(client), _form_key(client)
    assert submit_form(client, GENERAL_REQUEST_ANSWERS, submission_key=first_key).status_code == 303
    second = submit_form(
        client, {**GENERAL_REQUEST_ANSWERS, "subject": "เรื่องที่สอง"}, submission_key=second_key
    )
    assert second.status_code == 409
    page = html(second)
    assert page.select_one("[data-notice=verification_used]") is not None
    assert page.select_one("#f-subject")["value"] == "เรื่องที่สอง"
    assert run_db(lambda: CitizenRequest.count().where(CitizenRequest.phone == E164)) == 1


def test_forged_form_key_after_the_window_asks_for_the_phone_again(
    client: TestClient[Litestar], run_db: Any
) -> None:
    verify_phone(client, run_db, PHONE, E164)
    genuine = _form_key(client)
    submit_form(client, GENERAL_REQUEST_ANSWERS, submission_key=genuine)
    forged = genuine[:-24] + "0" * 24
    response = submit_form(client, GENERAL_REQUEST_ANSWERS, submission_key=forged)
    assert response.status_code == 303
    assert response.headers["location"] == "/e-service/general-request/phone?again=1"
    page = html(client.get(response.headers["location"]))
    assert "หมดเวลา" in page.select_one(".notice").get_text()
    assert run_db(lambda: CitizenRequest.count()) == 1


def test_after_filing_a_new_request_asks_for_the_phone_again(
    client: TestClient[Litestar], run_db: Any
) -> None:
    verify_phone(client, run_db, PHONE, E164)
    submit_form(client, GENERAL_REQUEST_ANSWERS, submission_key=_form_key(client))
    response = client.get("/e-service/complaint", follow_redirects=False)
    assert response.headers["location"] == "/e-service/complaint/phone"


def test_form_shows_the_privacy_notice(client: TestClient[Litestar], run_db: Any) -> None:
    verify_phone(client, run_db, PHONE, E164)
    page = html(client.get("/e-service/general-request/form"))
    assert page.select_one("form details.privacy") is not None


def test_a_key_copied_into_another_verified_browser_files_nothing_under_it(
    client: TestClient[Litestar], run_db: Any, new_browser: Any
) -> None:
    verify_phone(client, run_db, PHONE, E164)
    victims_key = _form_key(client)
    other = new_browser()
    verify_phone(other, run_db, "0800000011", "+66800000011")
    response = submit_form(
        other,
        {**GENERAL_REQUEST_ANSWERS, "subject": "เรื่องของอีกเครื่อง"},
        submission_key=victims_key,
    )
    assert response.status_code == 409
    page = html(response)
    assert page.select_one("[data-notice=form_key_renewed]") is not None
    assert page.select_one("#f-subject")["value"] == "เรื่องของอีกเครื่อง"
    fresh_key = str(page.select_one("input[name=submission_key]")["value"])
    assert fresh_key != victims_key
    assert run_db(lambda: CitizenRequest.count()) == 0
    # The victim's form still files, under its own key.
    mine = submit_form(client, GENERAL_REQUEST_ANSWERS, submission_key=victims_key)
    assert mine.status_code == 303
    assert mine.headers["location"].startswith("/e-service/requests/")
    # The other browser sends again with the key it was given.
    again = submit_form(
        other,
        {**GENERAL_REQUEST_ANSWERS, "subject": "เรื่องของอีกเครื่อง"},
        submission_key=fresh_key,
    )
    assert again.status_code == 303
    rows = run_db(
        lambda: CitizenRequest.select(CitizenRequest.phone, CitizenRequest.submission_key)
    )
    assert {(r["phone"], r["submission_key"]) for r in rows} == {
        (E164, victims_key),
        ("+66800000011", fresh_key),
    }


def test_verifying_again_over_the_open_form_keeps_the_words_and_then_files(
    client: TestClient[Litestar], run_db: Any
) -> None:
    """A second form under a used verification: the citizen verifies again in the dialog,
    which closes onto the form with their words; sending renews its key, sending again files."""
    verify_phone(client, run_db, PHONE, E164)
    first_key, second_key = _form_key(client), _form_key(client)
    submit_form(client, GENERAL_REQUEST_ANSWERS, submission_key=first_key)
    words = {**GENERAL_REQUEST_ANSWERS, "subject": "เรื่องที่สอง"}
    refused = html(submit_form(client, words, submission_key=second_key))
    link = refused.select_one("[data-verify-again]")
    assert link is not None and link["href"].endswith("?resume=1")
    htmx = {"HX-Request": "true", "HX-Target": "dialog-body"}
    step = html(client.get(link["href"], headers=htmx))
    assert step.select_one("input[name=resume]") is not None
    token = csrf_token(client, "/e-service/general-request/phone")
    sent = client.post(
        "/e-service/general-request/phone",
        data={"phone": PHONE, "resume": "1", "_csrf_token": token},
        headers=htmx,
    )
    assert sent.status_code == 200
    code = latest_code(run_db, E164)
    verified = client.post(
        "/e-service/general-request/verify",
        data={"code": code, "_csrf_token": token},
        headers=htmx,
    )
    assert verified.status_code == 200
    assert "hx-location" not in verified.headers  # the form underneath stays as it is
    assert html(verified).select_one("[data-step=verified-again]") is not None
    renewed = submit_form(client, words, submission_key=second_key)
    assert renewed.status_code == 409
    fresh_key = str(html(renewed).select_one("input[name=submission_key]")["value"])
    filed = submit_form(client, words, submission_key=fresh_key)
    assert filed.status_code == 303
    assert run_db(lambda: CitizenRequest.count().where(CitizenRequest.phone == E164)) == 2
