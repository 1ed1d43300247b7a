"""The portal survives a change of ``PORTAL_SECRET_KEY`` (issue 14): with the old secret in
``PORTAL_OLD_SECRET_KEYS`` everything made under it still works; ``portal keys rotate``
re-seals what is stored; then the old secret can go. Without it, nothing answers 500.

Each phase is a separately built app on the same database, as after a restart with a new
configuration; browsers keep their cookies across the restart."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.app import create_app
from portal.cli import main
from portal.keyring import key_id
from portal.settings import Settings
from portal.tables.citizen_request import CitizenRequest
from portal.tables.staff_user import StaffUser
from tests.citizen.helpers import (
    GENERAL_REQUEST_ANSWERS,
    enter_code,
    latest_code,
    send_code,
    verify_phone,
)
from tests.conftest import TEST_SECRET, csrf_token, html, make_settings

# The back office's fixtures, used here as in tests/staff: staff tables emptied per test and
# one fixed clock for sign-in and the audit log.
from tests.staff.conftest import clock, staff_tables
from tests.staff.helpers import (
    Clock,
    RunDb,
    Staff,
    audit_rows,
    file_via_routes,
    make_staff,
    post_sign_in,
    sign_in,
)

__all__ = ["clock", "staff_tables"]

OLD = TEST_SECRET
NEW = "a-brand-new-secret-for-the-rotation-test-0123456789"
CITIZEN_ID = GENERAL_REQUEST_ANSWERS["citizen_id"]
BASE = "http://testserver.local"


@dataclass
class Running:
    settings: Settings
    client: TestClient[Litestar]

    def run_db(self, function: Any) -> Any:
        portal = self.client.blocking_portal
        assert portal is not None
        return portal.call(function)

    def browser(self, cookies: dict[str, str] | None = None) -> TestClient[Litestar]:
        """A browser on this app, holding ``cookies`` (from the same browser before)."""
        browser = TestClient(app=self.client.app, base_url=BASE)
        browser.blocking_portal = self.client.blocking_portal
        for name, value in (cookies or {}).items():
            browser.cookies.set(name, value, domain="testserver.local")
        return browser


@contextmanager
def running(tmp_path: Path, database: str, **env: str) -> Iterator[Running]:
    settings = make_settings(tmp_path, database, **env)
    with TestClient(app=create_app(settings), base_url=BASE) as client:
        yield Running(settings, client)


@contextmanager
def warnings_of(name: str) -> Iterator[list[str]]:
    """Warnings logged by ``name`` (the app's logging set-up replaces pytest's capture)."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Collect(logging.WARNING)
    logging.getLogger(name).addHandler(handler)
    try:
        yield lines
    finally:
        logging.getLogger(name).removeHandler(handler)


def jar(browser: TestClient[Litestar]) -> dict[str, str]:
    return dict(browser.cookies.items())


def reveal(browser: TestClient[Litestar], number: str) -> Any:
    token = csrf_token(browser, f"/staff/requests/{number}")
    response = browser.post(
        f"/staff/requests/{number}/citizen-id", data={"_csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 200, response.text
    return html(response)


def inbox_numbers(browser: TestClient[Litestar], query: str) -> list[str]:
    response = browser.get(f"/staff?q={query}", follow_redirects=False)
    assert response.status_code == 200, response.text
    return [str(row["data-request-row"]) for row in html(response).select("tr[data-request-row]")]


@dataclass
class MadeUnderOld:
    """Everything made while the portal ran with the old secret, and the browsers' cookies."""

    officer: Staff
    colleague_link: str
    number: str
    tracking_token: str
    officer_cookies: dict[str, str]
    form_cookies: dict[str, str]
    open_form: dict[str, str]
    code_cookies: dict[str, str]
    code: str


def made_under_old(tmp_path: Path, database: str, clock: Clock) -> MadeUnderOld:
    with running(tmp_path, database) as old:
        run_db: RunDb = old.run_db
        officer = make_staff(run_db, old.settings)
        colleague = make_staff(run_db, old.settings, "malee", enrolled=False)
        officer_browser = sign_in(old.browser(), officer, clock)
        number = file_via_routes(old.browser(), run_db, "0812345678")
        request = run_db(
            lambda: (
                CitizenRequest.select(CitizenRequest.tracking_token)
                .where(CitizenRequest.number == number)
                .first()
            )
        )
        # A citizen with the form open (its form key and CSRF token) when the secret changes.
        writer = old.browser()
        verify_phone(writer, run_db, "0812345679", "+66812345679")
        form = html(writer.get("/e-service/general-request/form"))
        hidden = {str(f["name"]): str(f["value"]) for f in form.select("input[type=hidden]")}
        assert {"submission_key", "_csrf_token"} <= set(hidden)
        # And one with an SMS code on its way.
        waiting = old.browser()
        assert send_code(waiting, "0812345670").status_code == 303
        code = latest_code(run_db, "+66812345670")
        return MadeUnderOld(
            officer=officer,
            colleague_link=colleague.link_token,
            number=number,
            tracking_token=str(request["tracking_token"]),
            officer_cookies=jar(officer_browser),
            form_cookies=jar(writer),
            open_form={**GENERAL_REQUEST_ANSWERS, **hidden},
            code_cookies=jar(waiting),
            code=code,
        )


def test_key_rotation_round_trip_old_sessions_and_ids_stay_readable(
    tmp_path: Path,
    database: str,
    clock: Clock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = made_under_old(tmp_path, database, clock)

    with running(tmp_path, database, PORTAL_SECRET_KEY=NEW, PORTAL_OLD_SECRET_KEYS=OLD) as both:
        officer = both.browser(made.officer_cookies)
        # The session (and CSRF cookie) from before still work, and move to the new key.
        assert inbox_numbers(officer, "")[:1] == [made.number]
        assert inbox_numbers(officer, CITIZEN_ID) == [made.number]  # found by its old hash
        ids = reveal(officer, made.number).select("[data-citizen-id]")
        assert [dd.get_text(strip=True) for dd in ids] == [CITIZEN_ID]
        moved_cookies = jar(officer)
        assert moved_cookies != made.officer_cookies
        # The SMS tracking link, the enrolment link, the form left open, the code sent.
        tracking = both.browser().get(f"/t/{made.tracking_token}")
        assert tracking.status_code == 200
        assert html(tracking).select_one("[data-request-number]").get_text(strip=True) == (
            made.number
        )
        assert both.browser().get(f"/staff/enrol/{made.colleague_link}").status_code == 200
        writer = both.browser(made.form_cookies)
        filed = writer.post(
            "/e-service/general-request/form", data=made.open_form, follow_redirects=False
        )
        assert filed.status_code == 303, filed.text
        filed_after = filed.headers["location"].rsplit("/", 1)[1]
        waiting = both.browser(made.code_cookies)
        assert enter_code(waiting, made.code).status_code == 303
        # The authenticator enrolled under the old secret still signs in.
        assert sign_in(both.browser(), made.officer, clock)

    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PORTAL_DATABASE_URL", database)
    monkeypatch.setenv("PORTAL_SECRET_KEY", NEW)
    monkeypatch.setenv("PORTAL_OLD_SECRET_KEYS", OLD)
    assert main(["keys", "rotate"]) == 0
    first = capsys.readouterr().out
    # The first request (sealed under the old key) and both authenticators (the colleague's,
    # made when the link was issued, too); the request filed after the change is current.
    assert "re-sealed 1 citizen IDs, 2 TOTP secrets; 0 values no key opens" in first
    assert main(["keys", "rotate"]) == 0
    assert "re-sealed 0 citizen IDs, 0 TOTP secrets; 0 values no key opens" in (
        capsys.readouterr().out
    )

    with running(tmp_path, database, PORTAL_SECRET_KEY=NEW) as new:
        stored = new.run_db(lambda: CitizenRequest.select(CitizenRequest.citizen_id_encrypted))
        current = key_id(new.settings.derive_key("citizen-id-encryption"))
        assert all(row["citizen_id_encrypted"].startswith(f"k{current}$") for row in stored)
        # The old secret is gone: the re-sealed session, the IDs, the search, the authenticator.
        officer = new.browser(moved_cookies)
        assert sorted(inbox_numbers(officer, CITIZEN_ID)) == sorted([made.number, filed_after])
        ids = reveal(officer, made.number).select("[data-citizen-id]")
        assert [dd.get_text(strip=True) for dd in ids] == [CITIZEN_ID]
        assert sign_in(new.browser(), made.officer, clock)
        assert new.browser().get(f"/t/{made.tracking_token}").status_code == 200
        rotations = audit_rows(new.run_db, "keys_rotated")
        assert [row["actor"] for row in rotations] == ["system/cli", "system/cli"]
        assert rotations[0]["details"] == {
            "citizen_ids": 1,
            "totp_secrets": 2,
            "unreadable_citizen_ids": 0,
            "unreadable_totp_secrets": 0,
        }


def test_a_new_secret_without_the_old_one_never_answers_500(
    tmp_path: Path,
    database: str,
    clock: Clock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = made_under_old(tmp_path, database, clock)
    with running(tmp_path, database, PORTAL_SECRET_KEY=NEW) as new:
        # The officer's session cannot be read: back to the sign-in page, not an error.
        old_session = new.browser(made.officer_cookies)
        assert old_session.get("/staff", follow_redirects=False).status_code in (303, 401)
        # Signing in with the right password and code is refused cleanly: the authenticator
        # secret opens with no key (logged, without the value); a reset link is the way back.
        with warnings_of("portal.keys") as logged:
            refused = post_sign_in(
                new.browser(), made.officer.username, made.officer.password, "123456"
            )
        assert refused.status_code == 422
        assert any("opens with no configured key" in line for line in logged)
        assert not any(made.officer.secret in line for line in logged)
        # The enrolment link no longer opens (the same 404 as any dead link).
        assert new.browser().get(f"/staff/enrol/{made.colleague_link}").status_code == 404
        # A colleague enrolled under the new key sees the ID as unavailable, not a 500.
        admin = make_staff(new.run_db, new.settings, "somsri", role="admin")
        browser = sign_in(new.browser(), admin, clock)
        page = reveal(browser, made.number)
        assert page.select_one("[data-citizen-id-unreadable]") is not None
        assert page.select("[data-citizen-id]") == []
        assert inbox_numbers(browser, CITIZEN_ID) == []
        # The tracking link is no MAC: it keeps working.
        assert new.browser().get(f"/t/{made.tracking_token}").status_code == 200

    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PORTAL_DATABASE_URL", database)
    monkeypatch.setenv("PORTAL_SECRET_KEY", NEW)
    monkeypatch.delenv("PORTAL_OLD_SECRET_KEYS", raising=False)
    assert main(["keys", "rotate"]) == 1
    out, err = capsys.readouterr()
    # Somsri's authenticator was sealed under the new key: nothing to do for it.
    assert "re-sealed 0 citizen IDs, 0 TOTP secrets; 3 values no key opens" in out
    assert "1 requests' citizen IDs and 2 staff authenticators open with no key" in err
    # The values are left as they are, so bringing the old secret back still opens them.
    with running(tmp_path, database, PORTAL_SECRET_KEY=NEW, PORTAL_OLD_SECRET_KEYS=OLD) as both:
        stored = both.run_db(
            lambda: StaffUser.select(StaffUser.totp_secret_encrypted).where(
                StaffUser.username == made.officer.username
            )
        )
        assert not stored[0]["totp_secret_encrypted"].startswith(
            f"k{key_id(both.settings.derive_key('staff-totp'))}$"
        )
        assert sign_in(both.browser(), made.officer, clock)
