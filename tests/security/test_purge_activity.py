"""Issue 13, point 9: purge never deletes recent work.

The attack (or the accident): a request closed 40 days ago gets an internal note, an after
photo, a phone change or an assignment today, through the real back office. Before, only
status and phone changes moved ``updated_at``, so the next nightly ``portal purge`` (30-day
retention) blanked the note that was just written and deleted the photo just taken. Now every
staff change restarts the retention clock, and purge checks again inside its transaction (the
clock, and any audited staff action that is not a read), so it keeps the request; a request
with no work since, even one an officer merely looked at today, is still purged.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.casework import notes
from portal.casework.notes import NoteError
from portal.kernel.clock import utcnow
from portal.privacy import retention
from portal.privacy.retention import purge
from portal.settings import Settings
from portal.staff.request_work import Actor, staff_add_note
from portal.tables.attachment import Attachment
from portal.tables.citizen_request import CitizenRequest
from portal.tables.staff_note import StaffNote
from tests.attachments.helpers import jpeg_with_gps
from tests.conftest import TEST_SECRET, csrf_token
from tests.privacy.helpers import close_and_age, raw_request
from tests.security.figures import FIGURES
from tests.security.helpers import phone
from tests.staff.helpers import (
    Clock,
    RunDb,
    Staff,
    default_office,
    file_direct,
    make_staff,
    sign_in,
)

Browser = TestClient[Litestar]
RETENTION_DAYS = 30
CLOSED_DAYS_AGO = 40
NOTE = "ผู้ร้องโทรมาแจ้งว่าท่อรั่วซ้ำ ต้องส่งช่างอีกครั้ง"


@pytest.fixture
def officer(run_db: RunDb, settings: Settings) -> Staff:
    return make_staff(run_db, settings, "somchai")


@pytest.fixture
def staff_browser(client: Browser, officer: Staff, clock: Clock) -> Browser:
    return sign_in(client, officer, clock)


def closed_long_ago(run_db: RunDb, n: int) -> str:
    """A request filed and closed ``CLOSED_DAYS_AGO`` days ago, untouched since."""
    number = file_direct(run_db, phone(700 + n)[1]).number
    close_and_age(run_db, number, "completed", utcnow() - timedelta(days=CLOSED_DAYS_AGO))
    return number


def post(browser: Browser, number: str, action: str, data: dict[str, str], **extra: Any) -> Any:
    token = csrf_token(browser, f"/staff/requests/{number}")
    return browser.post(
        f"/staff/requests/{number}/{action}",
        data={**data, "_csrf_token": token},
        follow_redirects=False,
        **extra,
    )


def portal_purge(database: str, data_dir: Path) -> str:
    """The real ``portal purge`` command, as cron runs it, with a 30-day retention."""
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": database,
        "PORTAL_DATA_DIR": str(data_dir),
        "PORTAL_SECRET_KEY": TEST_SECRET,
        "PORTAL_RETENTION_DAYS": str(RETENTION_DAYS),
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
    return done.stdout


def test_work_done_today_on_a_request_closed_40_days_ago_survives_portal_purge(
    staff_browser: Browser, run_db: RunDb, officer: Staff, database: str, settings: Settings
) -> None:
    numbers = {
        name: closed_long_ago(run_db, n)
        for n, name in enumerate(("note", "photo", "phone", "assign", "looked_at", "untouched"))
    }
    answers = {
        "note": post(staff_browser, numbers["note"], "notes", {"text": NOTE}),
        "photo": post(
            staff_browser,
            numbers["photo"],
            "photos",
            {},
            files={"photo": ("after.jpg", jpeg_with_gps((320, 240)), "image/jpeg")},
        ),
        "phone": post(
            staff_browser,
            numbers["phone"],
            "phone",
            {"new_phone": phone(799)[0], "reason": "ผู้ร้องมาที่เคาน์เตอร์ ตรวจบัตรแล้ว"},
        ),
        "assign": post(staff_browser, numbers["assign"], "assign", {"staff_id": str(officer.id)}),
    }
    for name, answer in answers.items():
        assert answer.status_code == 303, (name, answer.text[:300])
    # Reading is not work: the page (audited) and the citizen-ID reveal (audited) today.
    assert staff_browser.get(f"/staff/requests/{numbers['looked_at']}").status_code == 200
    token = csrf_token(staff_browser, f"/staff/requests/{numbers['looked_at']}")
    revealed = staff_browser.post(
        f"/staff/requests/{numbers['looked_at']}/citizen-id", data={"_csrf_token": token}
    )
    assert revealed.status_code == 200

    out = portal_purge(database, settings.data_dir)
    FIGURES.add("purge_runs", 1)

    assert out.startswith("anonymised 2 closed requests"), out
    for name, number in numbers.items():
        row = raw_request(run_db, number)
        purged = name in ("looked_at", "untouched")
        assert (row["anonymised_at"] is not None) is purged, name
        assert (row["phone"] == "") is purged, name
    note_id = raw_request(run_db, numbers["note"])["id"]
    assert run_db(lambda: StaffNote.select(StaffNote.text).where(StaffNote.request == note_id)) == [
        {"text": NOTE}
    ]
    photo_id = raw_request(run_db, numbers["photo"])["id"]
    assert run_db(lambda: Attachment.count().where(Attachment.request == photo_id)) == 1
    assert raw_request(run_db, numbers["phone"])["phone"] == phone(799)[1]


def test_a_note_that_lands_between_the_listing_and_the_transaction_keeps_the_request(
    run_db: RunDb, officer: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race: purge has listed the request as due; an officer's note commits before purge's
    transaction for it starts. Purge re-checks inside its transaction and leaves it."""
    number = closed_long_ago(run_db, 10)
    actor = Actor(staff_id=officer.id, username=officer.username, client_ip="127.0.0.1")
    anonymise = retention._anonymise

    async def note_lands_first(*args: Any) -> Any:
        await staff_add_note(number, NOTE, actor, office=default_office())
        return await anonymise(*args)

    monkeypatch.setattr(retention, "_anonymise", note_lands_first)
    report = run_db(
        lambda: purge(office=default_office(), retention_days=RETENTION_DAYS, store=None)
    )
    assert report.numbers == []
    assert raw_request(run_db, number)["anonymised_at"] is None
    request_id = raw_request(run_db, number)["id"]
    texts = run_db(lambda: StaffNote.select(StaffNote.text).where(StaffNote.request == request_id))
    assert texts == [{"text": NOTE}]


def test_work_through_a_path_that_forgets_the_clock_still_keeps_the_request(
    run_db: RunDb, officer: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defence in depth: an audited staff change that does not move ``updated_at`` (a future
    action whose author forgot ``record_work``) still counts, through the audit log."""
    number = closed_long_ago(run_db, 11)
    actor = Actor(staff_id=officer.id, username=officer.username, client_ip="127.0.0.1")

    async def forgetful(request_id: int, now: Any = None) -> bool:
        return True

    monkeypatch.setattr(notes, "record_work", forgetful)
    run_db(lambda: staff_add_note(number, NOTE, actor, office=default_office()))
    assert raw_request(run_db, number)["updated_at"] < utcnow() - timedelta(days=39)
    dry = run_db(
        lambda: purge(
            office=default_office(), retention_days=RETENTION_DAYS, store=None, dry_run=True
        )
    )
    assert dry.numbers == []
    report = run_db(
        lambda: purge(office=default_office(), retention_days=RETENTION_DAYS, store=None)
    )
    assert report.numbers == []
    assert raw_request(run_db, number)["phone"] != ""


def test_work_arriving_after_purge_claimed_the_request_is_refused_not_left_behind(
    run_db: RunDb, officer: Staff
) -> None:
    """The other order: purge went first. The note is refused (purge never looks at a request
    again, so a note written now would stay forever)."""
    number = closed_long_ago(run_db, 12)
    report = run_db(
        lambda: purge(office=default_office(), retention_days=RETENTION_DAYS, store=None)
    )
    assert report.numbers == [number]
    actor = Actor(staff_id=officer.id, username=officer.username, client_ip="127.0.0.1")
    with pytest.raises(NoteError) as refused:
        run_db(lambda: staff_add_note(number, NOTE, actor, office=default_office()))
    assert refused.value.code == "anonymised"
    request_id = raw_request(run_db, number)["id"]
    assert run_db(lambda: StaffNote.count().where(StaffNote.request == request_id)) == 0
    assert run_db(lambda: CitizenRequest.count().where(CitizenRequest.anonymised_at.is_null())) == 0
