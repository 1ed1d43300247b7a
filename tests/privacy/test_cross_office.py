"""Each office is the controller of what it collects (issue 16): its own privacy notice (name,
retention, privacy contact), its own retention applied by ``portal purge``, and a subject
access export or citizen-ID reveal that never reaches another office's rows.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.privacy.access import personal_data_for_phone, reveal_citizen_ids
from portal.privacy.citizen_ids import CitizenIdVault
from portal.privacy.retention import ACTOR, purge_every_office
from portal.settings import Settings
from portal.tables.audit_event import AuditEvent
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.tables.sms_message import SmsMessage
from tests.citizen.helpers import GENERAL_REQUEST_ANSWERS
from tests.conftest import TEST_SECRET, RunDb, fresh, html
from tests.offices import add_host, create_office
from tests.privacy.helpers import CITIZEN_ID, close_and_age, phone, raw_request
from tests.security.cross_office import browser_at
from tests.staff.helpers import default_office, file_direct, office_ref

A_HOST = "privacy-a.example.test"
B_HOST = "privacy-b.example.test"
B_NAME = "องค์การบริหารส่วนตำบลบีทดสอบ"
B_RETENTION = 30
B_PHONE = "080-000-4990"
B_PRIVACY_EMAIL = "dpo@b.example.test"
CITIZEN = phone(60)[1]
ANSWERS = {**GENERAL_REQUEST_ANSWERS, "citizen_id": CITIZEN_ID}


def _office_b(settings: Settings) -> OfficeRef:
    office_id = fresh(
        create_office(
            "privb",
            name=B_NAME,
            retention_days=B_RETENTION,
            phone=B_PHONE,
            privacy_contact_email=B_PRIVACY_EMAIL,
        )
    )
    return fresh(office_ref(settings, office_id))


@pytest.mark.usefixtures("database")
def test_purge_applies_each_offices_own_retention(settings: Settings) -> None:
    assert settings.retention_days > 60 > B_RETENTION  # A keeps what B lets go
    b = _office_b(settings)
    a_number = file_direct(None, CITIZEN).number
    b_number = file_direct(None, CITIZEN, office=b).number
    for number in (a_number, b_number):
        close_and_age(fresh, number, "completed", utcnow() - timedelta(days=60))

    reports = fresh(purge_every_office(settings, store=None))

    by_office = {report.office: report for report in reports}
    assert by_office["privb"].retention_days == B_RETENTION
    assert by_office["privb"].numbers == [b_number]
    default_slug = next(slug for slug in by_office if slug != "privb")
    assert by_office[default_slug].retention_days == settings.retention_days
    assert by_office[default_slug].numbers == []
    assert raw_request(fresh, b_number)["phone"] == ""
    assert raw_request(fresh, a_number)["phone"] == CITIZEN
    # Each office's purge is in its own audit log.
    rows = fresh(
        AuditEvent.select(AuditEvent.office, AuditEvent.action).where(AuditEvent.actor == ACTOR)
    )
    assert {(row["office"], row["action"]) for row in rows} == {
        (DEFAULT_OFFICE_ID, "purge"),
        (b.id, "purge"),
        (b.id, "anonymise_request"),
    }


@pytest.mark.usefixtures("database")
def test_the_export_and_the_reveal_hold_only_the_asking_offices_rows(settings: Settings) -> None:
    b = _office_b(settings)
    here = default_office()
    vault = CitizenIdVault.from_settings(settings)
    a_number = file_direct(None, CITIZEN, ANSWERS).number
    b_number = file_direct(None, CITIZEN, ANSWERS, office=b).number

    export_a = fresh(personal_data_for_phone(CITIZEN, vault, office=here))
    export_b = fresh(personal_data_for_phone(CITIZEN, vault, office=b))
    assert [r["number"] for r in export_a["requests"]] == [a_number]
    assert [r["number"] for r in export_b["requests"]] == [b_number]
    assert export_b["controller"] == B_NAME
    # The SMS in each record are that office's own (the receipt each office sent).
    for export, office_id in ((export_a, DEFAULT_OFFICE_ID), (export_b, b.id)):
        sent = {m["id"] for r in export["requests"] for m in r["sms"]}
        rows = fresh(
            SmsMessage.select(SmsMessage.id).where(
                (SmsMessage.office == office_id) & (SmsMessage.to_phone == CITIZEN)
            )
        )
        assert sent and sent == {row["id"] for row in rows}

    numbers_differ = a_number != b_number
    if numbers_differ:  # numbers are unique per office only: B's may equal A's by chance
        revealed = fresh(reveal_citizen_ids(b_number, vault, office=here, actor="t", client_ip=""))
        assert revealed is None
    revealed_b = fresh(reveal_citizen_ids(b_number, vault, office=b, actor="t", client_ip=""))
    assert revealed_b is not None
    assert [value for _, value in revealed_b.ids] == [CITIZEN_ID]
    audited = fresh(
        AuditEvent.select(AuditEvent.office).where(AuditEvent.action == "reveal_citizen_id")
    )
    assert [row["office"] for row in audited] == [b.id]


def test_the_notice_names_the_office_its_retention_and_its_contact(
    client: TestClient[Litestar], run_db: RunDb
) -> None:
    run_db(lambda: add_host(DEFAULT_OFFICE_ID, A_HOST))
    run_db(
        lambda: create_office(
            "privb",
            name=B_NAME,
            hosts=(B_HOST,),
            retention_days=B_RETENTION,
            phone=B_PHONE,
            privacy_contact_email=B_PRIVACY_EMAIL,
        )
    )
    page_b = html(browser_at(client.app, client, B_HOST).get("/privacy"))
    controller = page_b.select_one("[data-controller]")
    assert controller is not None and B_NAME in controller.get_text()
    retention = page_b.select_one("[data-retention-days]")
    assert retention is not None and retention["data-retention-days"] == str(B_RETENTION)
    contact = page_b.select_one("[data-privacy-contact]")
    assert contact is not None
    # No privacy phone of its own: the office's phone; its privacy e-mail as given.
    assert B_PHONE in contact.get_text() and B_PRIVACY_EMAIL in contact.get_text()

    page_a = html(browser_at(client.app, client, A_HOST).get("/privacy"))
    assert B_NAME not in page_a.get_text()
    retention_a = page_a.select_one("[data-retention-days]")
    assert retention_a is not None and retention_a["data-retention-days"] != str(B_RETENTION)


def test_portal_purge_reports_each_office_with_its_retention(
    database: str, settings: Settings
) -> None:
    """The command cron runs: with two offices, one report each, named by the office."""
    b = _office_b(settings)
    number = file_direct(None, CITIZEN, office=b).number
    close_and_age(fresh, number, "completed", utcnow() - timedelta(days=B_RETENTION + 5))
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": database,
        "PORTAL_DATA_DIR": str(settings.data_dir),
        "PORTAL_SECRET_KEY": TEST_SECRET,
    }
    env.pop("PORTAL_ENV", None)
    done = subprocess.run(
        [sys.executable, "-m", "portal.cli", "purge"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(
        line.startswith("[privb] anonymised 1 closed requests")
        and f"(retention {B_RETENTION} days)" in line
        for line in lines
    ), done.stdout
    assert f"    {number}" in lines
    assert sum(" anonymised 0 closed requests" in line for line in lines) == 1, done.stdout
