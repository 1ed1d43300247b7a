"""CSRF on every state-changing route, taken from the app's own route list.

Each POST route is tried with a body that would change something if it were accepted (a right
code, a valid sign-in, a status change ...), from the browsers that could be fooled into
sending it: a citizen mid-journey and a signed-in admin. Without the token, with a wrong one,
or with another browser's genuine token, the answer is 403 and nothing is saved or changes
in the session. ``tests/staff/test_guards.py`` proves the same for a hand-written list of staff
routes and ``tests/citizen/test_verify_routes.py`` that the htmx header carries the token;
this file makes sure no route is forgotten, including routes added later.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar

from portal.settings import Settings
from portal.staff.reply_templates import seed_default_reply_templates
from portal.tables.reply_template import ReplyTemplate
from portal.tables.service import Service
from tests.citizen.helpers import GENERAL_REQUEST_ANSWERS, latest_code, send_code, verify_phone
from tests.conftest import csrf_token
from tests.security.helpers import Browser, RunDb, endpoints, phone, snapshot
from tests.staff.helpers import (
    PASSWORD,
    Clock,
    file_via_routes,
    make_staff,
    post_sign_in,
    sign_in,
    track_lookup,
)

CITIZEN = phone(20)
FILER = phone(21)
CSRF_EXEMPT = {"sms_report_twilio", "sms_report"}
"""Gateways post delivery reports without a session; each is authenticated its own way
(signature or secret URL token; ``tests/sms/test_report_routes.py``)."""


def bodies(
    number: str, code: str, officer_id: int, officer_code: str, newbie_code: str
) -> dict[str, dict[str, str]]:
    """For each POST route, a body that would change something if the route took it."""
    return {
        "phone_submit": {"phone": CITIZEN[0]},
        "code_submit": {"code": code},
        "code_resend": {},
        "service_submit": {**GENERAL_REQUEST_ANSWERS},
        "track_lookup_submit": {"phone": FILER[0]},
        "track_code_submit": {"code": code},
        "track_code_resend": {},
        "track_sign_out": {},
        "staff_sign_in_submit": {"username": "somchai", "password": PASSWORD, "code": officer_code},
        "staff_enrol_submit": {
            "password": PASSWORD,
            "password_again": PASSWORD,
            "code": newbie_code,
        },
        "staff_password_submit": {
            "current_password": PASSWORD,
            "new_password": "Another-Pass-2569",
            "new_password_again": "Another-Pass-2569",
        },
        "staff_sign_out": {},
        "staff_request_status": {"status": "in_progress", "note": "รับเรื่องแล้ว"},
        "staff_request_note": {"text": "บันทึกภายใน"},
        "staff_request_photo": {},
        "attachment_upload": {"submission_key": "x"},
        "service_form_draft": {"submission_key": "x", "subject": "ร่าง"},
        "staff_request_assign": {"staff_id": str(officer_id)},
        "staff_request_phone": {"new_phone": phone(22)[0], "reason": "ตรวจบัตรแล้ว"},
        "staff_reveal_citizen_id": {},
        "staff_privacy_export_submit": {"phone": FILER[0]},
        "staff_export": {"status": "received"},
        "staff_accounts_create": {"username": "intruder", "role": "admin", "display_name": "x"},
        "staff_accounts_active": {"active": "0"},
        "staff_accounts_enrolment": {},
        "staff_service_create": {"slug": "forged", "name": "ปลอม", "fields": "[]"},
        "staff_service_update": {"slug": "general-request", "name": "ปลอม", "active": ""},
        "staff_template_create": {"status": "completed", "title": "ปลอม", "text": "ปลอม"},
        "staff_template_retire": {},
        "platform_offices_create": {"slug": "forged", "name": "เทศบาลปลอม", "hosts": ""},
        "platform_office_hosts": {"hosts": "forged.example"},
        "platform_office_details": {"name": "เทศบาลปลอม", "sms_sender": "FORGED"},
        "platform_office_active": {"active": "0"},
        "platform_office_invite": {"username": "intruder"},
        "platform_office_adopt": {"slug": "building-permit"},
        "platform_office_emblem": {},
    }


def test_only_the_gateway_reports_are_exempt(app: Litestar) -> None:
    exempt = {e.name for e in endpoints(app) if e.csrf_exempt}
    assert exempt == CSRF_EXEMPT


def test_every_post_route_refuses_a_missing_wrong_or_foreign_token(
    app: Litestar,
    client: Browser,
    new_browser: Any,
    run_db: RunDb,
    settings: Settings,
    clock: Clock,
) -> None:
    number = file_via_routes(new_browser(), run_db, FILER[0])
    officer = make_staff(run_db, settings, "somchai")
    admin_staff = make_staff(run_db, settings, "boss", role="admin")
    newbie = make_staff(run_db, settings, "newbie", enrolled=False)
    run_db(seed_default_reply_templates)
    template = run_db(lambda: ReplyTemplate.select(ReplyTemplate.id).first())
    service = run_db(lambda: Service.select(Service.id).where(Service.slug == "complaint").first())

    # The citizen is verified to file, verified to track, and has a code on its way.
    citizen = new_browser()
    verify_phone(citizen, run_db, *CITIZEN)
    assert track_lookup(citizen, FILER[0]).status_code == 303
    assert send_code(citizen, CITIZEN[0], "complaint").status_code == 303
    code = latest_code(run_db, CITIZEN[1])
    admin = sign_in(new_browser(), admin_staff, clock)
    platform = sign_in(
        new_browser(), make_staff(run_db, settings, "platform", role="platform_admin"), clock
    )
    # Somebody else's genuine token (an attacker's own session): valid, but not the victim's.
    attacker = new_browser()
    foreign = csrf_token(attacker, "/")
    assert post_sign_in(new_browser(), "nobody", "x", "000000").status_code == 422
    run_db(_forget_sign_in_attempts)

    params = {
        "slug": "general-request",
        "number": number,
        "staff_id": str(officer.id),
        "service_id": str(service["id"]),
        "template_id": str(template["id"]),
        "token": newbie.link_token,
        "office_id": "1",
    }
    payloads = bodies(number, code, officer.id, officer.next_code(clock), newbie.next_code(clock))
    posts = [e for e in endpoints(app) if e.method == "POST" and not e.csrf_exempt]
    assert {e.name for e in posts} == set(payloads), "a new POST route needs a body here"

    before = snapshot(run_db)
    victims = (("citizen", citizen), ("admin", admin), ("platform admin", platform))
    for victim_name, victim in victims:
        for endpoint in posts:
            for how, extra, headers in _forgeries(foreign):
                response = victim.post(
                    endpoint.url(params),
                    data={**payloads[endpoint.name], **extra},
                    headers=headers,
                    follow_redirects=False,
                )
                where = (victim_name, endpoint.name, how)
                assert response.status_code == 403, (where, response.status_code)
    assert snapshot(run_db) == before
    # Neither session changed: the citizen may still file, the admin is still signed in.
    assert citizen.get("/e-service/general-request/form", follow_redirects=False).status_code == 200
    assert citizen.get("/track/requests", follow_redirects=False).status_code == 200
    assert admin.get("/staff", follow_redirects=False).status_code == 200
    assert platform.get("/platform/offices", follow_redirects=False).status_code == 200


def _forgeries(foreign: str) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    return [
        ("no token", {}, {}),
        ("wrong token", {"_csrf_token": "0" * 64}, {}),
        ("foreign token in the form", {"_csrf_token": foreign}, {}),
        ("foreign token in the header", {}, {"x-csrftoken": foreign}),
        ("empty header", {}, {"x-csrftoken": ""}),
    ]


async def _forget_sign_in_attempts() -> None:
    from portal.tables.staff_sign_in_attempt import StaffSignInAttempt

    await StaffSignInAttempt.delete(force=True)


def test_a_cross_site_form_post_is_refused_even_with_the_victims_cookies(
    client: Browser, run_db: RunDb
) -> None:
    """What a hostile page can make a browser send: the victim's cookies, any form fields, an
    Origin of its own, but never the token, which it cannot read."""
    verify_phone(client, run_db, *CITIZEN)
    response = client.post(
        "/e-service/general-request/form",
        data=GENERAL_REQUEST_ANSWERS,
        headers={"Origin": "https://evil.example", "Referer": "https://evil.example/"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert run_db(lambda: _requests_for(CITIZEN[1])) == 0


async def _requests_for(e164: str) -> int:
    from portal.tables.citizen_request import CitizenRequest

    return int(await CitizenRequest.count().where(CitizenRequest.phone == e164))
