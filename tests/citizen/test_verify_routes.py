from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.tables.otp_challenge import OtpChallenge
from tests.citizen.helpers import enter_code, latest_code, send_code
from tests.conftest import csrf_token, html

PHONE = "0800000001"
E164 = "+66800000001"


def test_phone_step_page_has_manual_labels(client: TestClient[Litestar]) -> None:
    page = html(client.get("/e-service/general-request/phone"))
    form = page.select_one("form[method=post]")
    assert form is not None and form["action"] == "/e-service/general-request/phone"
    assert page.select_one("label[for=phone]") is not None
    assert page.select_one("button[type=submit]").get_text(strip=True) == "ส่งรหัสยืนยัน"
    assert "ป้องกันสแปม" in page.select_one(".note").get_text()
    assert page.select_one("details.privacy") is not None


def test_htmx_phone_step_is_a_partial(client: TestClient[Litestar]) -> None:
    response = client.get("/e-service/general-request/phone", headers={"HX-Request": "true"})
    page = html(response)
    assert page.select_one("html") is None
    assert page.select_one("[data-step=phone]") is not None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("021234567", "ไม่ใช่เบอร์มือถือ"),
        ("+14155550123", "ประเทศไทย"),
        ("08123", "ไม่ถูกต้อง"),
        ("abcdefghij", "ไม่ถูกต้อง"),
        ("", "กรุณากรอก"),
    ],
)
def test_bad_phone_numbers_get_thai_message_and_422(
    client: TestClient[Litestar], run_db: Any, raw: str, message: str
) -> None:
    response = send_code(client, raw)
    assert response.status_code == 422
    page = html(response)
    assert message in page.select_one("#phone-error").get_text()
    assert page.select_one(".error-summary a")["href"] == "#phone"
    assert page.select_one("title").get_text().startswith("ผิดพลาด: ")
    assert page.select_one("#phone")["value"] == raw
    assert run_db(lambda: OtpChallenge.count()) == 0


def test_good_phone_sends_code_and_redirects_to_code_step(
    client: TestClient[Litestar], run_db: Any
) -> None:
    response = send_code(client, "+66 80 000 0001")
    assert response.status_code == 303
    assert response.headers["location"] == "/e-service/general-request/verify"
    code = latest_code(run_db, E164)
    challenge = run_db(lambda: OtpChallenge.objects().first())
    assert challenge.phone == E164
    assert code not in challenge.code_hash
    page = html(client.get("/e-service/general-request/verify"))
    # The number just typed, in full (masking would hide a typo), and in one unbroken piece.
    assert page.select_one("[data-phone]").get_text() == "080-000-0001"
    assert "nowrap" in page.select_one("[data-phone]")["class"]
    assert page.select_one("#code")["autocomplete"] == "one-time-code"
    assert page.select_one("#code")["inputmode"] == "numeric"
    assert page.find("button", string="ตรวจสอบรหัสยืนยัน") is not None


def test_htmx_phone_success_answers_hx_location(client: TestClient[Litestar]) -> None:
    token = csrf_token(client, "/e-service/general-request/phone")
    response = client.post(
        "/e-service/general-request/phone",
        data={"phone": PHONE, "_csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "/e-service/general-request/verify" in response.headers["hx-location"]


def test_wrong_code_is_refused_with_tries_left(client: TestClient[Litestar], run_db: Any) -> None:
    send_code(client, PHONE)
    code = latest_code(run_db, E164)
    wrong = "000000" if code != "000000" else "111111"
    response = enter_code(client, wrong)
    assert response.status_code == 422
    assert "เหลือโอกาสอีก 4 ครั้ง" in html(response).select_one("#code-error").get_text()


def test_sixth_try_is_refused_even_with_the_right_code(
    client: TestClient[Litestar], run_db: Any
) -> None:
    send_code(client, PHONE)
    code = latest_code(run_db, E164)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert enter_code(client, wrong).status_code == 422
    response = enter_code(client, code)
    assert response.status_code == 422
    assert "ครบ 5 ครั้ง" in html(response).select_one("#code-error").get_text()
    assert client.get("/e-service/general-request/form", follow_redirects=False).status_code == 303


def test_expired_code_is_refused(client: TestClient[Litestar], run_db: Any) -> None:
    send_code(client, PHONE)
    code = latest_code(run_db, E164)

    async def expire() -> None:
        from datetime import timedelta

        from portal.kernel.clock import utcnow

        await OtpChallenge.update({OtpChallenge.expires_at: utcnow() - timedelta(seconds=1)}).where(
            OtpChallenge.phone == E164
        )

    run_db(expire)
    response = enter_code(client, code)
    assert response.status_code == 422
    assert "หมดอายุ" in html(response).select_one("#code-error").get_text()


def test_code_sent_to_another_phone_does_not_verify_this_one(
    client: TestClient[Litestar], run_db: Any, new_browser: Any
) -> None:
    send_code(client, PHONE)
    send_code(new_browser(), "0800000002")
    other_code = latest_code(run_db, "+66800000002")
    own_code = latest_code(run_db, E164)
    if other_code != own_code:
        response = enter_code(client, other_code)
        assert response.status_code == 422
    assert client.get("/e-service/general-request/form", follow_redirects=False).status_code == 303


def test_code_is_bound_to_the_browser_that_asked(
    client: TestClient[Litestar], run_db: Any, new_browser: Any
) -> None:
    send_code(client, PHONE)
    code = latest_code(run_db, E164)
    other = new_browser()
    response = enter_code(other, code)
    assert response.status_code == 422
    assert other.get("/e-service/general-request/form", follow_redirects=False).status_code == 303


def test_ten_parallel_correct_codes_pass_once(client: TestClient[Litestar], run_db: Any) -> None:
    send_code(client, PHONE)
    code = latest_code(run_db, E164)
    token = csrf_token(client, "/e-service/general-request/verify")

    def attempt(_: int) -> int:
        response = client.post(
            "/e-service/general-request/verify",
            data={"code": code, "_csrf_token": token},
            follow_redirects=False,
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(attempt, range(10)))
    assert statuses.count(303) == 1, statuses
    assert statuses.count(422) == 9, statuses


def test_resend_too_soon_is_429_with_retry_after(client: TestClient[Litestar]) -> None:
    send_code(client, PHONE)
    token = csrf_token(client, "/e-service/general-request/verify")
    response = client.post(
        "/e-service/general-request/resend", data={"_csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 429
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert "วินาที" in html(response).select_one("#code-error").get_text()


def test_post_without_csrf_token_is_403(client: TestClient[Litestar], run_db: Any) -> None:
    client.get("/e-service/general-request/phone")
    response = client.post("/e-service/general-request/phone", data={"phone": PHONE})
    assert response.status_code == 403
    assert html(response).select_one("h1").get_text(strip=True) == "แบบฟอร์มหมดอายุ"
    assert run_db(lambda: OtpChallenge.count()) == 0


def test_csrf_header_is_accepted_instead_of_the_field(client: TestClient[Litestar]) -> None:
    token = csrf_token(client, "/e-service/general-request/phone")
    response = client.post(
        "/e-service/general-request/phone",
        data={"phone": PHONE},
        headers={"x-csrftoken": token},
        follow_redirects=False,
    )
    assert response.status_code == 303


def test_card_returns_to_a_code_still_on_its_way(client: TestClient[Litestar]) -> None:
    send_code(client, PHONE)
    response = client.get("/e-service/general-request", follow_redirects=False)
    assert response.headers["location"] == "/e-service/general-request/verify"
    # Another service's card starts afresh.
    response = client.get("/e-service/complaint", follow_redirects=False)
    assert response.headers["location"] == "/e-service/complaint/phone"


def test_same_phone_again_too_soon_goes_back_to_the_code_not_a_429(
    client: TestClient[Litestar], run_db: Any
) -> None:
    send_code(client, PHONE)
    response = send_code(client, "080-000-0001")
    assert response.status_code == 303
    assert response.headers["location"] == "/e-service/general-request/verify"
    assert run_db(lambda: OtpChallenge.count()) == 1


def test_page_steps_target_the_page_and_dialog_steps_the_dialog(
    client: TestClient[Litestar],
) -> None:
    page = html(client.get("/e-service/general-request/phone"))
    assert page.select_one("form[hx-post]")["hx-target"] == "#main"
    partial = html(
        client.get(
            "/e-service/general-request/phone",
            headers={"HX-Request": "true", "HX-Target": "dialog-body"},
        )
    )
    assert partial.select_one("form[hx-post]")["hx-target"] == "#dialog-body"


def test_code_step_names_the_sender_and_how_long_the_code_lasts(
    app: Litestar, client: TestClient[Litestar]
) -> None:
    send_code(client, PHONE)
    page = html(client.get("/e-service/general-request/verify"))
    assert "OSS-LOCAL" in page.select_one("[data-step=otp]").get_text()
    assert "5 นาที" in page.select_one("[data-step=otp]").get_text()
