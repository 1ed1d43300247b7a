"""Malformed input from any visitor gets a 4xx answer, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.tables.otp_challenge import OtpChallenge
from tests.citizen.helpers import GENERAL_REQUEST_ANSWERS, submit_form, verify_phone
from tests.conftest import csrf_token, html

BOUNDARY = "portal-test-boundary"


def _multipart(body: bytes, charset: str = "") -> dict[str, str]:
    suffix = f"; charset={charset}" if charset else ""
    return {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}{suffix}"}


def _part(name: str, value: bytes, part_charset: str = "") -> bytes:
    content_type = f"Content-Type: text/plain; charset={part_charset}\r\n" if part_charset else ""
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n{content_type}\r\n'
        ).encode()
        + value
        + b"\r\n"
    )


@pytest.mark.parametrize("with_token", [False, True])
def test_form_body_that_is_not_utf8_is_a_400(
    client: TestClient[Litestar], run_db: Any, with_token: bool
) -> None:
    token = csrf_token(client, "/e-service/general-request/phone")
    body = _part("phone", b"\xff\xfe\xfa")
    if with_token:
        body += _part("_csrf_token", token.encode())
    body += f"--{BOUNDARY}--\r\n".encode()
    response = client.post(
        "/e-service/general-request/phone", content=body, headers=_multipart(body)
    )
    assert response.status_code == 400
    assert html(response).select_one("h1").get_text(strip=True) == "คำขอไม่ถูกต้อง"
    assert run_db(lambda: OtpChallenge.count()) == 0


def test_form_part_with_a_bogus_charset_is_a_400(client: TestClient[Litestar]) -> None:
    token = csrf_token(client, "/e-service/general-request/phone")
    body = _part("phone", b"0800000001", part_charset="no-such-charset")
    body += _part("_csrf_token", token.encode()) + f"--{BOUNDARY}--\r\n".encode()
    response = client.post(
        "/e-service/general-request/phone", content=body, headers=_multipart(body)
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "cookie",
    [
        "MDAwMDAwMDAwMDAwYWRkaXRpb25hbF9hdXRoZW50aWNhdGVkX2RhdGE9ew==",
        "not base64 at all",
        "",
    ],
)
def test_mangled_session_cookie_is_ignored_not_a_500(
    client: TestClient[Litestar], cookie: str
) -> None:
    client.cookies.set("portal_session", cookie)
    for path in ("/", "/e-service/general-request/verify", "/static/app.css"):
        response = client.get(path)
        assert response.status_code < 500, path


@pytest.mark.parametrize(
    "path",
    ["/e-service/%00", "/e-service/a%00b/phone", "/e-service/a%00b/form", "/track/requests/%00"],
)
def test_nul_bytes_in_urls_are_a_404_on_every_database(
    client: TestClient[Litestar], path: str
) -> None:
    assert client.get(path).status_code in (200, 404)


def test_nul_byte_in_the_form_key_is_handled(client: TestClient[Litestar], run_db: Any) -> None:
    verify_phone(client, run_db, "0800000070", "+66800000070")
    response = submit_form(client, GENERAL_REQUEST_ANSWERS, submission_key="a\x00b")
    assert response.status_code == 303


def test_dev_sms_answers_only_on_the_machine_itself(client: TestClient[Litestar]) -> None:
    # The test client's address is not loopback, like a visitor from the network.
    assert client.get("/dev/sms").status_code == 404


def test_forbidden_answer_drops_a_stale_csrf_cookie(client: TestClient[Litestar]) -> None:
    client.get("/e-service/general-request/phone")
    client.cookies.set("portal_csrf", "signed-with-an-old-secret")
    response = client.post("/e-service/general-request/phone", data={"phone": "0800000071"})
    assert response.status_code == 403
    dropped = [
        header
        for header in response.headers.get_list("set-cookie")
        if header.startswith("portal_csrf=") and "Max-Age=0" in header
    ]
    assert dropped, response.headers.get_list("set-cookie")
