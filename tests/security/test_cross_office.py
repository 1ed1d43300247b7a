"""Office A's people cannot see, change or even detect office B's things, by any route.

Office A (the default office, on ``a.example.test``) and office B (``b.example.test``) each have
services, staff, and requests filed by the same phone; B's request has a photo, an internal note,
a status change, SMS and audit rows. Then the app's OWN route list is walked (a route added later
is walked too): every route with an identifier in its path gets B's identifier, as A's officer,
A's admin, a citizen verified at A (to file and to track) and an anonymous visitor on A's host,
with GET and, for state-changing routes, a POST with a valid CSRF token and a plausible body.
Every answer is exactly the answer a made-up identifier of the same kind gets (404 or 403, or
the way to A's own sign-in), no page shows anything of B, and afterwards B's rows are exactly
as they were and nothing of A points at them.
A route whose parameter this file does not know fails the walk until it is added to ``b_value``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from secrets import token_urlsafe
from typing import Any
from urllib.parse import quote

import pyotp
import pytest
from litestar import Litestar

from portal.kernel.offices import OfficeRef, touch
from portal.settings import Settings
from portal.tables.citizen_request import CitizenRequest
from portal.tables.office import Office
from portal.web.offices import NOT_FOUND_BODY
from tests.attachments.helpers import jpeg_with_gps
from tests.citizen.helpers import GENERAL_REQUEST_ANSWERS
from tests.conftest import RunDb, csrf_token, html, without_reference
from tests.offices import create_office
from tests.security.cross_office import (
    A_HOST,
    B_FIRST_NAME,
    B_HOST,
    B_NAME,
    B_NOTE,
    B_OFFICE_PHONE,
    B_SERVICE_NAME,
    B_STATUS_NOTE,
    CITIZEN,
    Browser,
    OfficeWorld,
    browser_at,
    build_office_a,
    build_office_b,
    file_general,
    latest_code_at,
    make_office_staff,
    make_offices,
    office_refs,
    track_verify_at,
)
from tests.security.helpers import (
    Endpoint,
    endpoints,
    page_without_tokens,
    phone,
    snapshot,
)
from tests.staff.helpers import PASSWORD, Clock, Staff, error_text, post_sign_in

OFFICE_PARAMS = {
    "slug",
    "number",
    "token",
    "attachment_id",
    "staff_id",
    "service_id",
    "template_id",
    "office_id",
}
"""Path parameters that name something of an office: given B's, the answer must be exactly the
answer to an identifier that names nothing (``missing_value``)."""
NEUTRAL = {
    "variant": "full",
    "backend": "outbox",
    "digest": "000000000000",
    "name": "app.js",
    "file_path": "app.css",
    "code": "en",
}
"""Path parameters that name nothing of any office (files of portal/static, a language, a
gateway): walked for leaks, any handled answer."""
READING_POSTS = {
    "staff_export": {"status": ""},
    "staff_privacy_export_submit": {"phone": CITIZEN[0]},
}
"""POST routes without an identifier that answer with data (exports): walked for leaks too;
the privacy export asks for the very phone that filed at both offices."""


def params_of(endpoint: Endpoint) -> set[str]:
    """The names of the route's path parameters (``{number:str}`` -> ``number``)."""
    return set(re.findall(r"\{(\w+)", endpoint.path))


def b_value(name: str, endpoint: Endpoint, b: OfficeWorld) -> str:
    """B's identifier for a path parameter; an unknown parameter fails the walk."""
    values = {
        "slug": b.slug,
        "number": b.number,
        "attachment_id": str(b.attachment_id),
        "staff_id": str(b.officer.id),
        "service_id": str(b.service_id),
        "template_id": str(b.template_id),
        "office_id": str(b.id),
        "token": b.enrol_token if endpoint.path.startswith("/staff/enrol/") else b.tracking_token,
        **NEUTRAL,
    }
    assert name in values, f"{endpoint.name}: no office B value for path parameter {name!r}"
    return values[name]


def b_bodies(a: OfficeWorld, b: OfficeWorld, clock: Clock) -> dict[str, dict[str, str]]:
    """For each POST route with an identifier, a body that would change B's thing if taken."""
    return {
        "phone_submit": {"phone": CITIZEN[0]},
        "code_submit": {"code": "123456"},
        "code_resend": {},
        "service_submit": {**GENERAL_REQUEST_ANSWERS},
        "service_form_draft": {"submission_key": "x", "subject": "ร่าง"},
        "attachment_upload": {"submission_key": "x"},
        "staff_enrol_submit": {
            "password": PASSWORD,
            "password_again": PASSWORD,
            "code": pyotp.TOTP(b.enrol_secret).generate_otp(clock.step),
        },
        "staff_request_status": {"status": "completed", "note": "ปิดเรื่อง"},
        "staff_request_note": {"text": "บันทึกจากสำนักงานเอ"},
        "staff_request_assign": {"staff_id": str(a.officer.id)},
        "staff_request_phone": {"new_phone": phone(42)[0], "reason": "ตรวจบัตรแล้ว"},
        "staff_request_photo": {},
        "staff_reveal_citizen_id": {"reason": "ตรวจสอบ"},
        "staff_accounts_active": {"active": "0"},
        "staff_accounts_enrolment": {},
        "staff_service_update": {"slug": b.slug, "name": "ปลอม", "active": ""},
        "staff_template_retire": {},
        "sms_report": {"id": "x", "status": "delivered"},
        "platform_office_hosts": {"hosts": "taken.example.test"},
        "platform_office_details": {"name": "ปลอม", "phone": "0800005042"},
        "platform_office_active": {"active": "0"},
        "platform_office_invite": {"username": "intruder", "display_name": "x"},
        "platform_office_adopt": {"slug": "complaint"},
        "platform_office_emblem": {},
    }


FILES = {"attachment_upload": "file", "staff_request_photo": "photo"}


@dataclass
class TwoOffices:
    a: OfficeWorld
    b: OfficeWorld
    viewers: dict[str, Browser]
    """A's officer, A's admin, the citizen verified at A, an anonymous visitor: all on A_HOST."""


@pytest.fixture
def two_offices(
    app: Litestar, client: Browser, run_db: RunDb, settings: Settings, clock: Clock
) -> Iterator[TwoOffices]:
    office_a, office_b = make_offices(app, run_db)
    a, officer, admin, citizen = build_office_a(app, client, run_db, settings, clock, office_a)
    b = build_office_b(app, client, run_db, settings, clock, office_b)
    assert b.number != a.number
    viewers = {
        "A officer": officer,
        "A admin": admin,
        "citizen verified at A": citizen,
        "anonymous": browser_at(app, client, A_HOST),
    }
    yield TwoOffices(a, b, viewers)


def b_secrets(b: OfficeWorld) -> list[str]:
    """What no page at A may show: B's name, contact, people, request and what was written."""
    return [
        B_NAME,
        B_OFFICE_PHONE[0],
        B_OFFICE_PHONE[0][1:],
        B_HOST,
        B_FIRST_NAME,
        B_NOTE,
        B_STATUS_NOTE,
        B_SERVICE_NAME,
        b.officer.username,
        b.admin.username,
        "bnewbie",
        b.number,
        b.tracking_token,
        b.enrol_token,
    ]


def leaks(text: str, url: str, secrets: list[str]) -> list[str]:
    """B's secrets found in a page, once the address asked for is taken out (pages echo it,
    e.g. in the language switch's ``next``)."""
    for echo in (quote(url, safe=""), quote(url), url):
        text = text.replace(echo, "")
    return [secret for secret in secrets if secret and secret in text]


def missing_value(name: str, endpoint: Endpoint, b: OfficeWorld) -> str:
    """An identifier of the same kind as B's that names nothing at all."""
    real = b_value(name, endpoint, b)
    if name not in OFFICE_PARAMS:
        return real
    if name == "slug":
        return "no-such-service"
    if real.isdigit():
        return "999999"
    if name == "number":
        return re.sub(r"\d", "9", real)
    return token_urlsafe(len(real))[: len(real)]


def _seen(response: Any, url: str) -> tuple[int, str, str]:
    """What a visitor can tell from an answer, less what differs on every answer (CSRF token,
    error reference) and the address asked for where the page echoes it."""
    body = response.text
    if "text/html" in response.headers.get("content-type", ""):
        body = without_reference(page_without_tokens(response))
    for echo in (quote(url, safe=""), quote(url), url):
        body = body.replace(echo, "URL")
    location = response.headers.get("location", "").replace(url, "URL")
    return response.status_code, location, body


def like_missing(
    endpoint: Endpoint, response: Any, url: str, missing: Any, missing_url: str
) -> bool:
    """B's thing answers exactly like a thing that does not exist, and never with back-office
    content (a 2xx on a staff or platform page)."""
    if _seen(response, url) != _seen(missing, missing_url):
        return False
    return response.status_code >= 300 or not endpoint.path.startswith(("/staff", "/platform"))


def _send(browser: Browser, endpoint: Endpoint, url: str, body: dict[str, str], token: str) -> Any:
    if endpoint.method == "GET":
        return browser.get(url, follow_redirects=False)
    files = None
    if endpoint.name in FILES:
        files = {FILES[endpoint.name]: ("photo.jpg", jpeg_with_gps(), "image/jpeg")}
    return browser.post(
        url,
        data={**body, "_csrf_token": token},
        files=files,
        headers={"x-csrftoken": token},
        follow_redirects=False,
    )


def walk(app: Litestar, offices: TwoOffices, clock: Clock) -> tuple[list[str], int]:
    """Every route as every viewer at A: the problems found (none when all is well) and how
    many answers were looked at."""
    a, b = offices.a, offices.b
    bodies = {**b_bodies(a, b, clock), **READING_POSTS}
    secrets = b_secrets(b)
    routes = list(endpoints(app))
    problems: list[str] = []
    tried = 0
    for who, browser in offices.viewers.items():
        token = csrf_token(browser, "/")
        for endpoint in routes:
            names = params_of(endpoint)
            if endpoint.method == "POST" and not names and endpoint.name not in READING_POSTS:
                continue
            assert endpoint.method == "GET" or endpoint.name in bodies, (
                f"{endpoint.name}: a new POST route needs a body in b_bodies"
            )
            url = endpoint.url({name: b_value(name, endpoint, b) for name in names})
            body = bodies.get(endpoint.name, {})
            response = _send(browser, endpoint, url, body, token)
            tried += 1
            where = f"{who}: {endpoint.method} {url} ({endpoint.name})"
            if response.status_code >= 500:
                problems.append(f"{where} -> {response.status_code}")
            elif names & OFFICE_PARAMS:
                missing_url = endpoint.url({n: missing_value(n, endpoint, b) for n in names})
                missing = _send(browser, endpoint, missing_url, body, token)
                if not like_missing(endpoint, response, url, missing, missing_url):
                    problems.append(
                        f"{where} -> {response.status_code} {response.headers.get('location', '')}"
                        f" where a missing one gets {missing.status_code}"
                    )
            found = leaks(response.text, url, secrets)
            if found:
                problems.append(f"{where} -> {response.status_code} shows {found}")
    return problems, tried


def rows_of(snap: dict[str, dict[Any, dict[str, Any]]], office_id: int) -> dict[Any, Any]:
    """Every row that belongs to ``office_id`` (and its own office row)."""
    return {
        (table, key): row
        for table, rows in snap.items()
        for key, row in rows.items()
        if row.get("office") == office_id or (table == "office" and key == office_id)
    }


REFERENCES = {
    "request": "citizen_request",
    "service": "service",
    "author": "staff_user",
    "staff_user": "staff_user",
    "assigned_to": "staff_user",
    "uploaded_by": "staff_user",
}
"""Columns that point at an office's things (and the table of those things)."""


def references_into(snap: dict[str, dict[Any, dict[str, Any]]], office_id: int) -> list[Any]:
    """Rows of other offices that point at ``office_id``'s requests, services or staff."""
    owned = {
        table: {key for key, row in snap[table].items() if row.get("office") == office_id}
        for table in set(REFERENCES.values())
    }
    return [
        (table, key, column)
        for table, rows in snap.items()
        for key, row in rows.items()
        if row.get("office") not in (None, office_id)
        for column, target in REFERENCES.items()
        if row.get(column) in owned[target]
    ]


def test_no_route_gives_office_a_anything_of_office_b(
    app: Litestar, two_offices: TwoOffices, run_db: RunDb, clock: Clock
) -> None:
    b = two_offices.b
    before = snapshot(run_db)
    b_before = rows_of(before, b.id)
    assert any(table == "attachment" for table, _ in b_before), "B has no attachment row"
    assert any(table == "staff_note" for table, _ in b_before), "B has no internal note"
    assert any(table == "sms_message" for table, _ in b_before), "B has no SMS rows"
    assert any(table == "audit_event" for table, _ in b_before), "B has no audit rows"
    problems, tried = walk(app, two_offices, clock)
    assert problems == [], "\n".join(problems)
    assert tried >= 4 * 60, tried  # four viewers, every route
    after = snapshot(run_db)
    assert rows_of(after, b.id) == b_before
    assert references_into(after, b.id) == []


def test_every_path_parameter_has_an_office_b_value(app: Litestar) -> None:
    """Structure: a new route with a new kind of identifier fails here, not silently."""
    nobody = Staff(0, "x", "officer", "", "")
    b = OfficeWorld(OfficeRef(id=2, slug="b", name="B"), B_HOST, nobody, nobody)
    for endpoint in endpoints(app):
        for name in params_of(endpoint):
            b_value(name, endpoint, b)


@pytest.fixture
def hosts(app: Litestar, run_db: RunDb) -> tuple[OfficeRef, OfficeRef]:
    """Only the two offices on their hosts (no requests, no staff)."""
    return make_offices(app, run_db)


def test_each_office_answers_only_on_its_own_host(
    app: Litestar, hosts: Any, client: Browser
) -> None:
    a_home = browser_at(app, client, A_HOST).get("/")
    b_home = browser_at(app, client, B_HOST).get("/")
    assert a_home.status_code == b_home.status_code == 200
    assert B_NAME in b_home.text and B_NAME not in a_home.text


def _assert_plain_404(response: Any) -> None:
    """The resolver's own page: nothing of any office, not even that one exists."""
    assert response.status_code == 404
    assert response.content == NOT_FOUND_BODY


@pytest.mark.parametrize("path", ["/", "/e-service", "/staff/sign-in", "/track"])
def test_an_unknown_host_gets_the_plain_404_naming_no_office(
    app: Litestar, hosts: Any, client: Browser, path: str
) -> None:
    response = browser_at(app, client, "unknown.example.test").get(path, follow_redirects=False)
    _assert_plain_404(response)


def test_a_disabled_offices_host_gets_the_same_404(
    app: Litestar, hosts: tuple[OfficeRef, OfficeRef], client: Browser, run_db: RunDb
) -> None:
    b = hosts[1]
    assert browser_at(app, client, B_HOST).get("/").status_code == 200
    run_db(lambda: Office.update({Office.active: False}).where(Office.id == b.id))
    run_db(lambda: touch(b.id))
    office_refs(app, run_db, b.id)
    for path in ("/", "/e-service/general-request", "/t/" + "A" * 43, "/staff/sign-in"):
        _assert_plain_404(browser_at(app, client, B_HOST).get(path, follow_redirects=False))


def _main_without_token(response: Any) -> str:
    page = html(response)
    for field in page.select("input[name=_csrf_token]"):
        field.decompose()
    return str(page.select_one("main"))


def test_a_staff_account_of_a_is_refused_at_b_like_a_wrong_password(
    app: Litestar,
    hosts: tuple[OfficeRef, OfficeRef],
    client: Browser,
    run_db: RunDb,
    settings: Settings,
    clock: Clock,
) -> None:
    """B has its own ``somchai``; A's ``somchai`` with A's password and code at B's host gets
    exactly the page B's ``somchai`` gets for a wrong password."""
    a, b = hosts
    mine = make_office_staff(run_db, settings, a, "somchai")
    theirs = make_office_staff(run_db, settings, b, "somchai", password="Other-Office-2569!")
    at_b = browser_at(app, client, B_HOST)
    foreign = post_sign_in(at_b, mine.username, mine.password, mine.next_code(clock))
    wrong = post_sign_in(at_b, theirs.username, mine.password, theirs.next_code(clock))
    assert foreign.status_code == wrong.status_code == 422
    assert error_text(foreign) == error_text(wrong)
    assert _main_without_token(foreign) == _main_without_token(wrong)
    assert at_b.get("/staff", follow_redirects=False).headers.get("location") == "/staff/sign-in"
    # The account still signs in at its own office's host.
    at_a = browser_at(app, client, A_HOST)
    home = post_sign_in(at_a, mine.username, mine.password, mine.next_code(clock))
    assert home.status_code == 303 and home.headers["location"] == "/staff"


def test_a_host_name_belongs_to_one_office(run_db: RunDb) -> None:
    """Hosts are unique across offices: B cannot take over A's host name."""
    run_db(lambda: create_office("first", hosts=("same.example.test",), services=False))
    with pytest.raises(Exception):  # noqa: B017 (either database's unique violation)
        run_db(lambda: create_office("second", hosts=("same.example.test",), services=False))


PREFIX = "/o/bangb"
SHARED_FILES = ("/assets/", "/static/")


def _unprefixed(response: Any) -> list[str]:
    """Links and form targets of a page reached at ``PREFIX`` that would leave its office."""
    page = html(response)
    targets = [
        str(element.get(attribute))
        for attribute in ("href", "action", "hx-post", "hx-get", "src")
        for element in page.select(f"[{attribute}]")
    ]
    return [
        target
        for target in targets
        if target.startswith("/")
        and not target.startswith((PREFIX + "/", *SHARED_FILES))
        and target != PREFIX
    ]


def _post_to_form(browser: Browser, page: Any, data: dict[str, str]) -> Any:
    """Send the page's (first) form where the page itself says, as a browser does."""
    form = html(page).select_one("form[method=post]")
    assert form is not None, page.text
    token = form.select_one("input[name=_csrf_token]")
    assert token is not None
    fields = {str(f["name"]): str(f.get("value", "")) for f in form.select("input[type=hidden]")}
    return browser.post(
        str(form["action"]),
        data={**fields, **data, "_csrf_token": str(token["value"])},
        follow_redirects=False,
    )


def test_pages_reached_by_the_development_prefix_keep_to_their_office(
    app: Litestar, hosts: tuple[OfficeRef, OfficeRef], client: Browser, run_db: RunDb
) -> None:
    """In development B is also at ``/o/bangb/`` on any host: every link and form of its
    citizen journey stays there (a link without it would lead to another office)."""
    b = hosts[1]
    browser = browser_at(app, client, A_HOST)

    def visit(path: str) -> Any:
        page = browser.get(path)
        assert page.status_code == 200, path
        assert _unprefixed(page) == [], (path, _unprefixed(page))
        return page

    for path in ("", "e-service", "track", "contact", "privacy", "staff/sign-in"):
        visit(f"{PREFIX}/{path}")
    phone_page = visit(f"{PREFIX}/e-service/general-request/phone")
    sent = _post_to_form(browser, phone_page, {"phone": CITIZEN[0]})
    assert sent.status_code == 303 and sent.headers["location"].startswith(PREFIX + "/")
    code_page = visit(sent.headers["location"])
    verified = _post_to_form(browser, code_page, {"code": latest_code_at(run_db, b.id, CITIZEN[1])})
    assert verified.status_code == 303, verified.text
    form = visit(verified.headers["location"])
    filed = _post_to_form(browser, form, GENERAL_REQUEST_ANSWERS)
    assert filed.status_code == 303 and filed.headers["location"].startswith(PREFIX + "/")
    visit(filed.headers["location"])


def test_a_phone_verified_at_a_is_not_verified_at_b_in_the_same_browser(
    app: Litestar, hosts: tuple[OfficeRef, OfficeRef], client: Browser, run_db: RunDb
) -> None:
    """On one host the development prefix shares the browser's cookies between offices: the
    session proves the phone to A only, so B asks for its own code and lists nothing."""
    a, b = hosts
    b_number = file_general(browser_at(app, client, B_HOST), run_db, b.id, B_FIRST_NAME)
    browser = browser_at(app, client, A_HOST)
    a_number = file_general(browser, run_db, a.id, "สมศรี")
    track_verify_at(browser, run_db, a.id)
    assert a_number in browser.get("/track/requests").text
    for path in (
        "/track/requests",
        f"/track/requests/{b_number}",
        "/e-service/general-request/form",
    ):
        response = browser.get(PREFIX + path, follow_redirects=False)
        assert response.status_code in (200, 303, 404), path
        assert leaks(response.text, PREFIX + path, [b_number, B_FIRST_NAME]) == [], path
        if response.status_code == 303:
            assert response.headers["location"].startswith(PREFIX + "/"), path
        if path.endswith("/form"):
            assert response.status_code == 303, "a form at B without B's code"


def test_a_cannot_hand_its_request_to_bs_officer(
    app: Litestar, two_offices: TwoOffices, run_db: RunDb
) -> None:
    """Identifiers in a form body are B's too: assigning A's request to B's officer fails."""
    a, b = two_offices.a, two_offices.b
    officer = two_offices.viewers["A officer"]
    token = csrf_token(officer, "/staff")
    officer.post(
        f"/staff/requests/{a.number}/assign",
        data={"staff_id": str(b.officer.id), "_csrf_token": token},
        follow_redirects=False,
    )
    row = run_db(
        lambda: (
            CitizenRequest.select(CitizenRequest.assigned_to)
            .where((CitizenRequest.number == a.number) & (CitizenRequest.office == a.id))
            .first()
        )
    )
    assert row is not None and row["assigned_to"] != b.officer.id


def test_htmx_answers_at_the_development_prefix_keep_it(
    app: Litestar, hosts: Any, client: Browser
) -> None:
    """With JavaScript the journey moves by ``HX-Location`` (JSON): its path keeps the office's
    prefix too, or the next page would be another office's."""
    browser = browser_at(app, client, A_HOST)
    token = csrf_token(browser, f"{PREFIX}/e-service/general-request/phone")
    answer = browser.post(
        f"{PREFIX}/e-service/general-request/phone",
        data={"phone": phone(43)[0], "_csrf_token": token},
        headers={"HX-Request": "true"},
        follow_redirects=False,
    )
    assert answer.status_code == 200, answer.text
    moved = json.loads(answer.headers["hx-location"])
    assert moved["path"].startswith(PREFIX + "/"), moved
