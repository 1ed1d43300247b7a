"""A third OTP purpose from one router and one service call, touching no citizen or tracking code.

"Reopen a request" is made up here, in the test alone: its ``OtpStep`` (paths, names, a plain
phone page, the request number from the path) becomes a router mounted on the real app, and
its ``on_verified`` makes one service call (consuming the verification, so the action happens
once per code). A real phone -> code -> verified round trip runs against the real database;
the SMS outbox gives the code.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Response, Template
from litestar.testing import TestClient

from portal.app import create_app
from portal.kernel.clock import utcnow
from portal.otp.policy import OtpPolicy
from portal.otp.purposes import Purpose
from portal.otp.session_state import PendingCode
from portal.otp.step_router import OtpStep, PhoneStepView, StepRoutes, otp_step_router
from portal.otp.verifications import consume_verification
from portal.otp.verified import verified_phone
from portal.settings import Settings
from portal.tables.otp_challenge import OtpChallenge
from portal.web.offices import office_of
from tests.citizen.helpers import latest_code
from tests.conftest import app_loop, csrf_token
from tests.offices import create_office

PHONE = "080-000-0777"
E164 = "+66800000777"
NUMBER = "69-000123"


def _reopen_window(policy: OtpPolicy) -> Any:
    return policy.verified_for


REOPEN = Purpose("reopen", _reopen_window)


def _number(number: FromPath[str]) -> str:
    return number


def _phone_page(request: Request[Any, Any, Any], number: str, view: PhoneStepView) -> Template:
    return Template(
        template_str=('<p data-number="{{ number }}" data-error="{{ error }}">{{ phone }}</p>'),
        context={"number": number, "error": view.error or "", "phone": view.phone},
        status_code=view.status_code,
    )


async def _reopened(
    request: Request[Any, Any, Any], number: str, pending: PendingCode
) -> Response[Any]:
    """The one service call: this verification reopens the request once."""
    first = await consume_verification(
        pending.challenge_id, pending.phone, utcnow(), REOPEN.key, office=office_of(request)
    )
    return Response(f"reopened {number} {first}", media_type="text/plain", status_code=200)


REOPEN_STEP = OtpStep(
    purpose=REOPEN,
    routes=StepRoutes(
        phone_path="/reopen/{number:str}/phone",
        verify_path="/reopen/{number:str}/verify",
        resend_path="/reopen/{number:str}/resend",
        phone_form="reopen_phone_form",
        phone_submit="reopen_phone_submit",
        code_form="reopen_code_form",
        code_submit="reopen_code_submit",
        code_resend="reopen_code_resend",
        close="home",
    ),
    context=_number,
    phone_page=_phone_page,
    on_verified=_reopened,
    next_step=lambda request, number, fields: number,
    url_params=lambda number: {"number": number},
)


@get("/reopen-check", name="reopen_check", dependencies={"verified_phone": verified_phone(REOPEN)})
async def reopen_check(verified_phone: NamedDependency[str | None]) -> str:
    return verified_phone or "none"


@get(
    "/reopen-only",
    name="reopen_only",
    dependencies={"verified_phone": verified_phone(REOPEN, required=True)},
)
async def reopen_only(verified_phone: NamedDependency[str]) -> str:
    """Behind the guard: no phone proved for this purpose, the same 404 as no page at all."""
    return verified_phone


@pytest.fixture
def app(settings: Settings, otp_policy: OtpPolicy) -> Litestar:
    portal = create_app(settings, otp_policy=otp_policy)
    portal.register(otp_step_router(REOPEN_STEP))
    portal.register(reopen_check)
    portal.register(reopen_only)
    return portal


def _post(client: TestClient[Litestar], path: str, **data: str) -> Any:
    token = csrf_token(client, "/")
    return client.post(path, data={**data, "_csrf_token": token}, follow_redirects=False)


def test_a_third_purpose_verifies_a_phone_through_the_shared_step(
    client: TestClient[Litestar],
) -> None:
    run_db = app_loop(client)
    page = client.get(f"/reopen/{NUMBER}/phone")
    assert page.status_code == 200 and f'data-number="{NUMBER}"' in page.text

    bad = _post(client, f"/reopen/{NUMBER}/phone", phone="021234567")
    assert bad.status_code == 422 and 'data-error="phone_not_mobile"' in bad.text

    sent = _post(client, f"/reopen/{NUMBER}/phone", phone=PHONE)
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/reopen/{NUMBER}/verify"
    code_page = client.get(f"/reopen/{NUMBER}/verify")
    assert code_page.status_code == 200
    assert f'action="/reopen/{NUMBER}/verify"' in code_page.text
    assert f"/reopen/{NUMBER}/resend" in code_page.text

    code = latest_code(run_db, E164)
    wrong = _post(
        client, f"/reopen/{NUMBER}/verify", code="000000" if code != "000000" else "111111"
    )
    assert wrong.status_code == 422
    assert client.get("/reopen-check").text == "none"
    assert client.get("/reopen-only").status_code == 404

    passed = _post(client, f"/reopen/{NUMBER}/verify", code=code)
    assert passed.status_code == 200
    assert passed.text == f"reopened {NUMBER} True"
    assert client.get("/reopen-check").text == E164
    assert client.get("/reopen-only").text == E164
    rows = run_db(
        lambda: OtpChallenge.select(OtpChallenge.purpose).where(OtpChallenge.phone == E164)
    )
    assert {row["purpose"] for row in rows} == {"reopen"}


def test_a_phone_proved_for_the_third_purpose_is_not_proved_for_filing(
    client: TestClient[Litestar],
) -> None:
    run_db = app_loop(client)
    _post(client, f"/reopen/{NUMBER}/phone", phone=PHONE)
    _post(client, f"/reopen/{NUMBER}/verify", code=latest_code(run_db, E164))
    assert client.get("/reopen-check").text == E164
    start = client.get("/e-service/general-request", follow_redirects=False)
    assert start.headers["location"] == "/e-service/general-request/phone"
    # The resend of the third purpose is the shared one, under the same limits.
    again = _post(client, f"/reopen/{NUMBER}/resend")
    assert again.status_code == 303
    assert again.headers["location"] == f"/reopen/{NUMBER}/phone"


def test_a_phone_verified_at_one_office_is_not_verified_at_another(
    client: TestClient[Litestar],
) -> None:
    """One browser, one cookie, two offices on one host (``/o/<slug>/``): the check, and the
    code on its way, stay at the office where they were asked for."""
    run_db = app_loop(client)
    other = run_db(lambda: create_office("nongbua", services=False))
    _post(client, f"/reopen/{NUMBER}/phone", phone=PHONE)
    _post(client, f"/reopen/{NUMBER}/verify", code=latest_code(run_db, E164))
    assert client.get("/reopen-check").text == E164
    assert client.get("/o/nongbua/reopen-check").text == "none"
    assert client.get("/o/nongbua/reopen-only").status_code == 404

    sent = _post(client, f"/o/nongbua/reopen/{NUMBER}/phone", phone=PHONE)
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/o/nongbua/reopen/{NUMBER}/verify"
    code = latest_code(run_db, E164)
    at_the_first_office = _post(client, f"/reopen/{NUMBER}/verify", code=code)
    assert at_the_first_office.status_code == 422
    assert 'data-error="code_session_lost"' in at_the_first_office.text

    passed = _post(client, f"/o/nongbua/reopen/{NUMBER}/verify", code=code)
    assert passed.status_code == 200 and passed.text == f"reopened {NUMBER} True"
    assert client.get("/o/nongbua/reopen-check").text == E164
    offices = run_db(
        lambda: (
            OtpChallenge.select(OtpChallenge.office)
            .where(OtpChallenge.phone == E164)
            .order_by(OtpChallenge.id)
        )
    )
    assert [row["office"] for row in offices] == [1, other]


def test_this_purpose_needed_no_citizen_or_tracking_code() -> None:
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    imported = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name.startswith(("portal.citizen", "portal.tracking")) for name in imported)
