"""PDPA duties (issue 8 part 5), asserted end to end: the notice is one tap from every form,
the citizen ID is never stored or shown in full outside the one audited place, staff find a
request by it anyway, ``portal purge`` keeps the retention promise, and a person's data can
be handed to them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.catalogue.service import list_active_services
from portal.cli import main
from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.privacy import citizen_ids
from portal.settings import Settings
from portal.sms.outbox import list_messages
from portal.tables.audit_event import AuditEvent
from portal.tables.citizen_request import CitizenRequest
from tests.citizen.helpers import GENERAL_REQUEST_ANSWERS, latest_code, send_code
from tests.conftest import RunDb, csrf_token, fresh, html
from tests.privacy.helpers import CITIZEN_ID, phone
from tests.security.helpers import changed_rows, snapshot
from tests.staff.helpers import (
    Clock,
    file_direct,
    file_via_routes,
    make_staff,
    sign_in,
    track_lookup,
    track_verify,
    tracking_token,
)

Browser = TestClient[Litestar]
ID_FORMS = (CITIZEN_ID, "1-2345-67890-12-1")
DEFAULT_OFFICE = OfficeRef(id=1, slug="default", name="")
"""The office the tests file at (the catalogue reads only its id)."""


def assert_privacy_link(response: Any, where: str) -> None:
    assert response.status_code == 200, where
    page = html(response)
    main_area = page.select_one("main") or page
    link = main_area.select_one("a[data-privacy-link]")
    assert link is not None, f"no privacy notice link on {where}"
    assert link["href"] == "/privacy"


def test_privacy_notice_is_linked_from_every_form(
    client: Browser, new_browser: Callable[[], Browser], run_db: RunDb
) -> None:
    services = run_db(lambda: list_active_services(office=DEFAULT_OFFICE))
    assert services
    for service in services:
        browser = new_browser()
        assert_privacy_link(browser.get(f"/e-service/{service.slug}/phone"), service.slug)
        assert_privacy_link(  # the same step as an htmx partial
            browser.get(f"/e-service/{service.slug}/phone", headers={"HX-Request": "true"}),
            f"{service.slug} (htmx)",
        )
    national, e164 = phone(100)
    assert send_code(client, national).status_code == 303
    assert_privacy_link(client.get("/e-service/general-request/verify"), "OTP step")
    token = csrf_token(client, "/e-service/general-request/verify")
    code = latest_code(run_db, e164)
    client.post("/e-service/general-request/verify", data={"code": code, "_csrf_token": token})
    assert_privacy_link(client.get("/e-service/general-request/form"), "request form")
    tracker = new_browser()
    assert_privacy_link(tracker.get("/track"), "tracking lookup")
    assert track_lookup(tracker, national).status_code == 303
    assert_privacy_link(tracker.get("/track/verify"), "tracking OTP step")
    assert new_browser().get("/privacy").status_code == 200


def every_row_as_text(run_db: RunDb) -> str:
    return json.dumps(snapshot(run_db), ensure_ascii=False, default=str)


def test_citizen_id_is_never_stored_in_plain_text(
    client: Browser, run_db: RunDb, settings: Settings
) -> None:
    number = file_via_routes(client, run_db, phone(101)[0])
    everything = every_row_as_text(run_db)
    for form in ID_FORMS:
        assert form not in everything
    row = run_db(lambda: CitizenRequest.select().where(CitizenRequest.number == number).first())
    vault = citizen_ids.CitizenIdVault.from_settings(settings)
    assert vault.open(row["citizen_id_encrypted"]) == {"citizen_id": CITIZEN_ID}
    assert row["citizen_id_hash"] == vault.digest(CITIZEN_ID)


def test_citizen_id_never_appears_on_citizen_pages_sms_or_csv(
    client: Browser,
    new_browser: Callable[[], Browser],
    run_db: RunDb,
    settings: Settings,
    clock: Clock,
) -> None:
    national, _ = phone(102)
    browser = new_browser()
    number = file_via_routes(browser, run_db, national)
    pages = [browser.get(f"/e-service/requests/{number}")]
    pages.append(new_browser().get(f"/t/{tracking_token(run_db, number)}"))
    tracker = new_browser()
    assert track_verify(tracker, run_db, national).status_code == 303
    pages += [tracker.get("/track/requests"), tracker.get(f"/track/requests/{number}")]
    for response in pages:
        assert response.status_code == 200, response.url
        for form in ID_FORMS:
            assert form not in response.text, response.url
    detail = html(pages[-1]).select_one(".answers").get_text()
    assert "x-xxxx-xxxxx-12-1" in detail  # the owner still recognises it
    texts = run_db(lambda: list_messages(office=None))
    assert texts and all(CITIZEN_ID not in message["text"] for message in texts)
    officer = sign_in(new_browser(), make_staff(run_db, settings), clock)
    csv = officer.post("/staff/export.csv", data={"_csrf_token": csrf_token(officer, "/staff")})
    assert csv.status_code == 200 and number in csv.text
    for form in ID_FORMS:
        assert form not in csv.text


def test_staff_find_a_request_by_the_whole_citizen_id(
    client: Browser,
    new_browser: Callable[[], Browser],
    run_db: RunDb,
    settings: Settings,
    clock: Clock,
) -> None:
    with_id = file_direct(run_db, phone(103)[1]).number
    other_id = file_direct(
        run_db, phone(104)[1], {**GENERAL_REQUEST_ANSWERS, "citizen_id": "3100100000006"}
    ).number
    officer = sign_in(new_browser(), make_staff(run_db, settings), clock)

    def found(query: str) -> set[str]:
        page = html(officer.get("/staff", params={"q": query}))
        return {a.get_text(strip=True) for a in page.select("a[href^='/staff/requests/']")}

    for form in ID_FORMS:
        assert found(form) == {with_id}, form
    assert found("3-1001-00000-00-6") == {other_id}
    # Part of an ID, or a wrong check digit, finds nothing by hash.
    assert with_id not in found("1234567890122")
    assert with_id not in found("2345678901")


def test_phone_is_masked_on_every_citizen_page(
    new_browser: Callable[[], Browser], run_db: RunDb
) -> None:
    national, e164 = phone(105)
    browser = new_browser()
    number = file_via_routes(browser, run_db, national)
    tracker = new_browser()
    assert track_verify(tracker, run_db, national).status_code == 303
    for response in (
        browser.get(f"/e-service/requests/{number}"),
        new_browser().get(f"/t/{tracking_token(run_db, number)}"),
        tracker.get("/track/requests"),
        tracker.get(f"/track/requests/{number}"),
    ):
        text = html(response).get_text()
        assert national not in text and e164 not in text and national[-4:] in text


@pytest.fixture
def purge_env(portal_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The ``portal`` command on the test database, with a 30-day retention."""
    monkeypatch.setenv("PORTAL_RETENTION_DAYS", "30")
    return portal_env


def _age(number: str, status: str, days: int) -> None:
    async def go() -> None:
        await CitizenRequest.update(
            {
                CitizenRequest.status: status,
                CitizenRequest.updated_at: utcnow() - timedelta(days=days),
            }
        ).where(CitizenRequest.number == number)

    fresh(go)


def _rows() -> dict[str, dict[Any, dict[str, Any]]]:
    return snapshot(fresh)


def test_portal_purge_anonymises_exactly_the_closed_old_ones_audited_and_idempotent(
    purge_env: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    statuses = ["completed", "rejected", "cancelled", "received", "in_progress", "completed"]
    ages = [31, 400, 31, 400, 400, 29]
    numbers = [file_direct(None, phone(110 + n)[1]).number for n in range(len(statuses))]
    for number, status, age in zip(numbers, statuses, ages, strict=True):
        _age(number, status, age)
    due = set(numbers[:3])

    before = _rows()
    assert main(["purge", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("would anonymise 3 closed requests")
    assert {line.strip() for line in out.splitlines()[1:4]} == due
    assert changed_rows(before, _rows()) == [] and len(_rows()["audit_event"]) == 0

    assert main(["purge"]) == 0
    assert capsys.readouterr().out.startswith("anonymised 3 closed requests")
    after = _rows()["citizen_request"]
    for row in after.values():
        gone = row["number"] in due
        assert (row["anonymised_at"] is not None) is gone
        assert (row["phone"] == "") is gone
        assert (row["citizen_id_encrypted"] == "") is gone
    audit = fresh(AuditEvent.select().order_by(AuditEvent.id).run())
    assert [(a["actor"], a["action"]) for a in audit] == [
        ("system/purge", "anonymise_request")
    ] * 3 + [("system/purge", "purge")]

    snapshot_before = _rows()
    assert main(["purge"]) == 0
    assert capsys.readouterr().out.startswith("anonymised 0 closed requests")
    assert changed_rows(snapshot_before, _rows()) == []
