"""Security headers on every page and cookie attributes, in development and in production.

The crawl is built from the app's own route list: a GET route added without an entry here
fails ``test_the_crawl_covers_every_get_route``, so every new page gets its headers checked.
Each page is fetched as the visitor who really sees it (the browser that filed, a phone
verified for tracking, a signed-in admin), so the headers checked are those of the real page,
not of a redirect to sign in.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.settings import Settings
from portal.sms.outbox import list_messages
from portal.staff.accounts import create_account
from portal.web.security_headers import CONTENT_SECURITY_POLICY, HSTS
from tests.attachments.helpers import attach_after_photo, pending_upload
from tests.citizen.helpers import send_code, verify_phone
from tests.conftest import TEST_SECRET, csrf_token, free_port, fresh, html, make_settings
from tests.security.figures import FIGURES
from tests.security.helpers import (
    Browser,
    RunDb,
    browser_from,
    endpoints,
    phone,
    portal_serve,
)
from tests.staff.helpers import (
    Clock,
    file_via_routes,
    make_staff,
    post_sign_in,
    sign_in,
    track_verify,
    tracking_token,
)

FILER = phone(10)
TRACKER = phone(11)
VERIFIED = phone(12)
PENDING = phone(13)
SERVICE = "general-request"

PERSONAL = {
    "submitted",
    "track_link",
    "receipt_page",
    "receipt_pdf",
    "track_code_form",
    "track_list",
    "track_detail",
    "code_form",
    "service_form",
    "staff_inbox",
    "staff_request",
    "staff_enrol",
    "staff_password",
    "staff_audit",
    "staff_accounts",
    "dev_sms",
}
"""Routes whose answer holds personal data: they must never be stored by any cache."""


@pytest.fixture(params=["development", "production"])
def settings(request: pytest.FixtureRequest, tmp_path: Path, database: str) -> Settings:
    if request.param == "development":
        return make_settings(tmp_path, database)
    # Production refuses the outbox: a webhook gateway that is never called (no dispatcher).
    return make_settings(
        tmp_path,
        database,
        PORTAL_ENV="production",
        PORTAL_SMS_BACKEND="webhook",
        PORTAL_SMS_WEBHOOK_URL="http://127.0.0.1:9/sms",
        PORTAL_SMS_DISPATCH="worker",
    )


@pytest.fixture
def client(app: Litestar, settings: Settings) -> Iterator[Browser]:
    """Production cookies are ``Secure``: the browser must speak https to get them back."""
    scheme = "http" if settings.is_development else "https"
    with TestClient(app=app, base_url=f"{scheme}://testserver.local") as test_client:
        yield test_client


@dataclass(frozen=True)
class Visit:
    name: str
    url: str
    browser: Browser
    status: int = 200
    htmx_status: int | None = None
    """When htmx gets another status (a 303 becomes HX-Location on a 200)."""


def _asset_url(client: Browser) -> str:
    """Whatever hashed asset URL the pages really use."""
    link = html(client.get("/")).select_one("link[rel=stylesheet]")
    assert link is not None
    return str(link["href"])


def crawl_plan(
    app: Litestar,
    client: Browser,
    new_browser: Any,
    run_db: RunDb,
    settings: Settings,
    clock: Clock,
) -> list[Visit]:
    """One visit per GET route, as the visitor who sees the page."""
    anonymous = new_browser()
    filer = new_browser()
    number = file_via_routes(filer, run_db, FILER[0])
    token = tracking_token(run_db, number)
    tracker = new_browser()
    token_field = csrf_token(tracker, "/track")
    assert (
        tracker.post(
            "/track", data={"phone": FILER[0], "_csrf_token": token_field}, follow_redirects=False
        ).status_code
        == 303
    )
    pending = new_browser()
    assert send_code(pending, PENDING[0]).status_code == 303
    verified = new_browser()
    verify_phone(verified, run_db, *VERIFIED)
    tracking = new_browser()
    assert track_verify(tracking, run_db, FILER[0]).status_code == 303
    admin_staff = make_staff(run_db, settings, "boss", role="admin")
    admin = sign_in(new_browser(), admin_staff, clock)
    newcomer_staff = make_staff(run_db, settings, "newbie", enrolled=False)
    platform = sign_in(
        new_browser(), make_staff(run_db, settings, "platform", role="platform_admin"), clock
    )
    service_id = run_db(_a_service_id)
    upload_key, pending_file = pending_upload(verified)
    after_photo = run_db(lambda: attach_after_photo(settings, number, admin_staff.id))

    visits = [
        Visit("home", "/", anonymous),
        Visit("menu", "/e-service", anonymous),
        Visit("service_start", f"/e-service/{SERVICE}", anonymous, 303, htmx_status=200),
        Visit("phone_form", f"/e-service/{SERVICE}/phone", anonymous),
        Visit("code_form", f"/e-service/{SERVICE}/verify", pending),
        Visit("service_form", f"/e-service/{SERVICE}/form", verified),
        Visit("submitted", f"/e-service/requests/{number}", filer),
        Visit("track_link", f"/t/{token}", anonymous),
        Visit("receipt_page", f"/t/{token}/receipt", anonymous),
        Visit("receipt_pdf", f"/t/{token}/receipt.pdf", anonymous),
        Visit("track_lookup", "/track", anonymous),
        Visit("track_code_form", "/track/verify", tracker),
        Visit("track_list", "/track/requests", tracking),
        Visit("track_detail", f"/track/requests/{number}", tracking),
        Visit("staff_sign_in", "/staff/sign-in", anonymous),
        Visit("staff_enrol", f"/staff/enrol/{newcomer_staff.link_token}", anonymous),
        Visit("staff_password", "/staff/password", admin),
        Visit("staff_inbox", "/staff", admin),
        Visit("staff_request", f"/staff/requests/{number}", admin),
        Visit("upload_file", f"/e-service/uploads/{pending_file}/full?key={upload_key}", verified),
        Visit("track_attachment", f"/track/attachments/{after_photo}/preview", tracking),
        Visit("staff_attachment", f"/staff/attachments/{after_photo}/full", admin),
        Visit("staff_audit", "/staff/audit", admin),
        Visit("staff_privacy_export", "/staff/privacy/export", admin),
        Visit("privacy_notice", "/privacy", anonymous),
        Visit("contact", "/contact", anonymous),
        Visit("office_emblem", "/office/emblem", anonymous, 404),  # the default office has none
        Visit("staff_accounts", "/staff/accounts", admin),
        Visit("staff_sms", "/staff/sms", admin),
        Visit("staff_website_button", "/staff/admin/website-button", admin),
        Visit("staff_catalogue", "/staff/catalogue", admin),
        Visit("platform_offices", "/platform/offices", platform),
        Visit("platform_office", "/platform/offices/1", platform),
        # The default office has no emblem: the 404 page, with its headers.
        Visit("platform_office_emblem_image", "/platform/offices/1/emblem", platform, 404),
        Visit("staff_service_new", "/staff/catalogue/new", admin),
        Visit("staff_service_edit", f"/staff/catalogue/{service_id}", admin),
        Visit("set_language", "/lang/en?next=/e-service", anonymous, 303, htmx_status=303),
        Visit("pwa_manifest", "/manifest.webmanifest", anonymous),
        Visit("pwa_service_worker", "/sw.js", anonymous),
        Visit("pwa_offline", "/offline", anonymous),
        Visit("asset", _asset_url(anonymous), anonymous),
        Visit("static", "/static/app.css", anonymous),
        # Development's outbox takes no reports (404); production's webhook refuses the token.
        Visit(
            "sms_report",
            "/sms/reports/webhook/not-the-token-0123",
            anonymous,
            404 if settings.is_development else 403,
        ),
    ]
    if settings.is_development:
        visits.append(Visit("dev_sms", "/dev/sms", browser_from(app, client, "127.0.0.1")))
    return visits


async def _a_service_id() -> int:
    from portal.tables.service import Service

    row = await Service.select(Service.id).first()
    assert row is not None
    return int(row["id"])


def error_visits(
    client: Browser, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, int, Any]]:
    """Every kind of error page, for a plain browser and for htmx: (label, status, answer)."""
    for htmx in (False, True):
        headers = {"HX-Request": "true"} if htmx else {}
        label = "htmx " if htmx else ""
        yield f"{label}no route", 404, client.get("/no/such/page", headers=headers)
        yield f"{label}no service", 404, client.get("/e-service/nothing-here", headers=headers)
        yield f"{label}wrong method", 405, client.put("/", headers=headers)
        yield (
            f"{label}no csrf token",
            403,
            client.post("/track", data={"phone": "x"}, headers=headers),
        )
        token = csrf_token(client, "/track")
        form = {**headers, "x-csrftoken": token}
        yield (
            f"{label}huge body",
            413,
            client.post(
                "/track",
                content=b"phone=" + b"9" * 2_000_000,
                headers={**form, "content-type": "application/x-www-form-urlencoded"},
            ),
        )
        body = b'--b\r\nContent-Disposition: form-data; name="phone"\r\n\r\n\xff\xfe\r\n--b--\r\n'
        yield (
            f"{label}not utf-8",
            400,
            client.post(
                "/track",
                content=body,
                headers={**form, "content-type": "multipart/form-data; boundary=b"},
            ),
        )
    with monkeypatch.context() as patched:
        patched.setattr(
            "portal.citizen.menu_routes.list_active_services", _raises(RuntimeError("boom"))
        )
        FIGURES.add("deliberate_500")  # the error page of a bug planted here, not a finding
        yield "server error", 500, client.get("/e-service")
        patched.setattr(
            "portal.citizen.menu_routes.list_active_services",
            _raises(sqlite3.OperationalError("database is locked")),
        )
        yield "database busy", 503, client.get("/e-service")


def _raises(error: Exception) -> Any:
    async def fail(*_: Any, **__: Any) -> Any:
        raise error

    return fail


def assert_security_headers(response: Any, settings: Settings, where: str) -> None:
    headers = response.headers
    assert headers.get("content-security-policy") == CONTENT_SECURITY_POLICY, where
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp, where
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, where
    assert headers.get("referrer-policy") == "no-referrer", where
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("x-frame-options") == "DENY", where
    if settings.is_development:
        assert "strict-transport-security" not in headers, where
    else:
        assert headers.get("strict-transport-security") == HSTS, where
    if "text/html" in headers.get("content-type", ""):
        assert headers.get("cache-control") == "no-store", where


def assert_cookie_attributes(set_cookie: str, settings: Settings, where: str) -> None:
    cookie = SimpleCookie()
    cookie.load(set_cookie)
    ((name, morsel),) = cookie.items()
    lowered = set_cookie.lower()
    assert morsel["httponly"], (where, set_cookie)
    assert morsel["samesite"].lower() == "lax", (where, set_cookie)
    assert morsel["path"] == "/", (where, set_cookie)
    assert not morsel["domain"], (where, set_cookie)
    if settings.is_development:
        # Plain http in development: a Secure cookie would never come back, so no prefix.
        assert not name.startswith("__Host-"), (where, set_cookie)
        assert "; secure" not in lowered, (where, set_cookie)
    else:
        assert name.startswith("__Host-"), (where, set_cookie)
        assert morsel["secure"], (where, set_cookie)


def test_the_crawl_covers_every_get_route(
    app: Litestar,
    client: Browser,
    new_browser: Any,
    run_db: RunDb,
    settings: Settings,
    clock: Clock,
) -> None:
    planned = {
        visit.name for visit in crawl_plan(app, client, new_browser, run_db, settings, clock)
    }
    routes = {endpoint.name for endpoint in endpoints(app) if endpoint.method == "GET"}
    assert routes == planned


def test_every_page_carries_the_security_headers(
    app: Litestar,
    client: Browser,
    new_browser: Any,
    run_db: RunDb,
    settings: Settings,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen_cookies: list[tuple[str, str]] = []
    for visit in crawl_plan(app, client, new_browser, run_db, settings, clock):
        for htmx in (False, True):
            headers = {"HX-Request": "true"} if htmx else {}
            response = visit.browser.get(visit.url, headers=headers, follow_redirects=False)
            where = f"{'htmx ' if htmx else ''}{visit.name} {visit.url}"
            expected = visit.htmx_status or visit.status if htmx else visit.status
            assert response.status_code == expected, (where, response.text[:300])
            assert_security_headers(response, settings, where)
            if visit.name in PERSONAL:
                assert response.headers.get("cache-control") == "no-store", where
            seen_cookies += [(where, c) for c in response.headers.get_list("set-cookie")]
    for where, _, response in error_visits(new_browser(), monkeypatch):
        assert_security_headers(response, settings, where)
        assert response.headers.get("cache-control") == "no-store", where
        seen_cookies += [(where, c) for c in response.headers.get_list("set-cookie")]
    for where, set_cookie in seen_cookies:
        assert_cookie_attributes(set_cookie, settings, where)


def test_error_pages_answer_with_their_status_and_a_thai_page(
    client: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    for where, status, response in error_visits(client, monkeypatch):
        assert response.status_code == status, where
        assert html(response).select_one("#error-title") is not None, where


def test_database_busy_is_a_503_with_retry_after(
    client: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "portal.citizen.menu_routes.list_active_services",
        _raises(sqlite3.OperationalError("database is locked")),
    )
    response = client.get("/e-service")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert html(response).select_one("h1").get_text(strip=True) == "ระบบขัดข้องชั่วคราว"


def test_every_cookie_the_journeys_set_has_the_right_attributes(
    client: Browser, new_browser: Any, run_db: RunDb, settings: Settings, clock: Clock
) -> None:
    """Session and CSRF cookies, including the session after OTP and after staff sign-in."""
    browser = new_browser()
    responses = [browser.get("/"), send_code(browser, PENDING[0])]
    verify_phone(browser, run_db, *VERIFIED)
    staff = make_staff(run_db, settings, "somchai")
    responses.append(post_sign_in(browser, "somchai", staff.password, staff.next_code(clock)))
    names = set()
    for response in responses:
        for set_cookie in response.headers.get_list("set-cookie"):
            assert_cookie_attributes(set_cookie, settings, response.url.path)
            names.add(set_cookie.split("=", 1)[0])
    prefix = "" if settings.is_development else "__Host-"
    assert {f"{prefix}portal_csrf", f"{prefix}portal_session"} <= names
    # And the browser really sends them back: the staff session works.
    assert browser.get("/staff", follow_redirects=False).status_code == 200


def test_a_stale_host_csrf_cookie_is_dropped_with_its_attributes(
    client: Browser, settings: Settings
) -> None:
    """A browser only accepts the removal of a ``__Host-`` cookie if it is ``Secure``."""
    name = ("" if settings.is_development else "__Host-") + "portal_csrf"
    client.get("/track")
    client.cookies.set(name, "signed-with-an-old-secret", domain="testserver.local")
    response = client.post("/track", data={"phone": "0800005000"})
    assert response.status_code == 403
    (dropped,) = [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{name}=")]
    assert "Max-Age=0" in dropped
    assert_cookie_attributes(dropped, settings, "drop")


CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__csp.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def test_a_browser_runs_the_pages_under_the_policy_without_a_violation(
    tmp_path: Path, database: str, settings: Settings
) -> None:
    """The policy is only right if the pages work under it: htmx (configured by its meta tag,
    no eval, no injected styles), app.js, the dialog steps, the service worker and the inline
    SVG QR code, in a real Chromium with JavaScript on. Any violation fails the test."""
    if not settings.is_development:
        return  # one browser run is enough; production differs only in HSTS and cookie names
    from playwright.sync_api import sync_playwright

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PORTAL_DATA_DIR": str(tmp_path),
        "PORTAL_DATABASE_URL": database,
        "PORTAL_SECRET_KEY": TEST_SECRET,
        "PORTAL_BASE_URL": base,
    }
    national, e164 = phone(14)
    staff = fresh(_unenrolled_staff(settings))
    with portal_serve(env, port, tmp_path / "serve.log"), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="th-TH")
        context.add_init_script(RECORD_VIOLATIONS)
        console: list[str] = []
        page = context.new_page()
        page.on("console", lambda message: console.append(message.text))
        visited: list[str] = []

        def check(where: str) -> None:
            page.wait_for_load_state("networkidle")
            visited.append(where)
            violations = page.evaluate("window.__csp")
            refused = [m for m in console if "Content Security Policy" in m]
            assert violations == [] and refused == [], (where, violations, refused)

        page.goto(base + "/")
        check("home")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.get_by_role("link", name="เข้าสู่ระบบ e-Service").click()
        page.get_by_role("link", name=re.compile("แจ้งคำร้องทั่วไป")).click()
        page.get_by_label("หมายเลขโทรศัพท์มือถือ").fill(national)
        check("phone step in the dialog")
        page.get_by_role("button", name="ส่งรหัสยืนยัน").click()
        code_field = page.get_by_label("รหัสยืนยัน", exact=True)
        code_field.wait_for()
        code_field.fill(_latest_code(e164))
        check("code step in the dialog")
        assert page.locator("dialog[open]").count() == 1  # htmx and app.js really ran
        page.get_by_role("button", name="ตรวจสอบรหัสยืนยัน").click()
        page.get_by_role("button", name="ส่งคำร้อง").click()  # empty: the error summary
        check("form errors")
        page.goto(base + "/track")
        check("tracking lookup")
        page.goto(base + "/staff/enrol/" + staff.token)
        assert page.locator("figure.qr svg").bounding_box() is not None
        check("staff enrolment QR")
        browser.close()
    assert len(visited) == 6


async def _unenrolled_staff(settings: Settings) -> Any:
    """A new account's enrolment link (its page shows the QR code)."""
    from tests.offices import office_ref

    created = await create_account(
        office=await office_ref(),
        username="newbie",
        role="officer",
        display_name="Newbie",
        actor="test",
        enrolment_key=settings.derive_key("staff-enrolment"),
        totp_key=settings.derive_key("staff-totp"),
    )
    return created.link


def _latest_code(e164: str) -> str:
    # Playwright's sync API runs its own event loop in this thread: read from another one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        messages = pool.submit(fresh, list_messages(office=None, to_phone=e164)).result()
    match = re.search(r"\b(\d{6})\b", messages[0]["text"])
    assert match is not None
    return match.group(1)
