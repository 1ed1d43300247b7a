"""``purge``: closed requests past retention lose their personal data; nothing else does."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from portal.attachments.storage import LocalDiskStore, MissingFile, new_key
from portal.kernel.clock import utcnow
from portal.privacy.retention import ACTOR, OTP_KEEP, SIGN_IN_KEEP, purge
from portal.sms.outbox import enqueue
from portal.tables.attachment import Attachment
from portal.tables.audit_event import AuditEvent
from portal.tables.citizen_request import CitizenRequest
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.tables.otp_challenge import OtpChallenge
from portal.tables.request_event import RequestEvent
from portal.tables.sms_message import SmsMessage, SmsPurpose, SmsState
from portal.tables.staff_note import StaffNote
from portal.tables.staff_sign_in_attempt import StaffSignInAttempt
from tests.privacy.helpers import RunDb, close_and_age, phone, raw_request
from tests.security.helpers import changed_rows, snapshot
from tests.staff.helpers import SMS, default_office, file_direct

RETENTION = 365


@pytest.fixture
def store(tmp_path: Path) -> LocalDiskStore:
    return LocalDiskStore(tmp_path / "uploads")


def attach(run_db: RunDb, store: LocalDiskStore, number: str) -> list[str]:
    """A photo and its preview, stored and linked to the request; returns their keys."""
    keys = [new_key("jpg"), new_key("jpg")]
    for key in keys:
        store.put(key, b"\xff\xd8 not really a jpeg")
    request_id = raw_request(run_db, number)["id"]
    run_db(
        lambda: Attachment(
            office=DEFAULT_OFFICE_ID,
            request=request_id,
            upload_group="g" * 32,
            phone="",
            content_type="image/jpeg",
            original_name="ท่อแตก.jpg",
            size=20,
            storage_key=keys[0],
            preview_key=keys[1],
            sha256="0" * 64,
            created_at=utcnow(),
        ).save()
    )
    return keys


def with_location_and_note(run_db: RunDb, number: str) -> None:
    request_id = raw_request(run_db, number)["id"]

    async def go() -> None:
        await CitizenRequest.update(
            {
                CitizenRequest.location_lat: 13.75,
                CitizenRequest.location_lng: 100.5,
                CitizenRequest.location_text: "หมู่ 1",
            }
        ).where(CitizenRequest.id == request_id)
        await RequestEvent.update({RequestEvent.public_note: "คุณสมศรี มารับเอกสาร"}).where(
            RequestEvent.request == request_id
        )

    run_db(go)


def purge_now(run_db: RunDb, store: Any, *, dry_run: bool = False) -> Any:
    return run_db(
        lambda: purge(
            office=default_office(), retention_days=RETENTION, store=store, dry_run=dry_run
        )
    )


def test_only_closed_requests_past_retention_are_anonymised(
    run_db: RunDb, store: LocalDiskStore
) -> None:
    old = utcnow() - timedelta(days=RETENTION + 1)
    recent = utcnow() - timedelta(days=RETENTION - 1)
    cases = {
        "completed_old": ("completed", old, True),
        "rejected_old": ("rejected", old, True),
        "cancelled_old": ("cancelled", old, True),
        "received_old": ("received", old, False),
        "in_progress_old": ("in_progress", old, False),
        "completed_recent": ("completed", recent, False),
    }
    numbers = {}
    for n, (name, (status, when, _)) in enumerate(cases.items()):
        numbers[name] = file_direct(run_db, phone(n)[1]).number
        close_and_age(run_db, numbers[name], status, when)
    report = purge_now(run_db, store)
    expected = sorted(numbers[name] for name, case in cases.items() if case[2])
    assert sorted(report.numbers) == expected
    for name, (status, _, gone) in cases.items():
        row = raw_request(run_db, numbers[name])
        assert row["status"] == status  # kept for statistics
        assert (row["anonymised_at"] is not None) is gone, name
        assert (row["phone"] == "") is gone, name


def test_anonymising_removes_everything_personal_and_keeps_the_statistics(
    run_db: RunDb, store: LocalDiskStore
) -> None:
    e164 = phone(10)[1]
    filed = file_direct(run_db, e164)
    keys = attach(run_db, store, filed.number)
    with_location_and_note(run_db, filed.number)
    before = raw_request(run_db, filed.number)
    assert before["citizen_id_encrypted"] and before["citizen_id_hash"]
    close_and_age(run_db, filed.number, "completed", utcnow() - timedelta(days=RETENTION + 5))

    report = purge_now(run_db, store)

    assert report.requests == 1 and report.attachments == 1 and report.sms_blanked == 1
    row = raw_request(run_db, filed.number)
    assert row["phone"] == ""
    answers = json.loads(row["answers"]) if isinstance(row["answers"], str) else row["answers"]
    assert answers == {}
    assert row["citizen_id_encrypted"] == "" and row["citizen_id_hash"] == ""
    assert (row["location_lat"], row["location_lng"], row["location_text"]) == (None, None, "")
    assert row["anonymised_at"] is not None
    # The old tracking link no longer opens it; number, service, status, dates stay.
    assert row["tracking_token"] != before["tracking_token"]
    assert (row["number"], row["service"], row["created_at"]) == (
        before["number"],
        before["service"],
        before["created_at"],
    )
    assert run_db(lambda: Attachment.count().where(Attachment.request == row["id"])) == 0
    for key in keys:
        with pytest.raises(MissingFile):
            store.open(key)
    messages = run_db(lambda: SmsMessage.select().where(SmsMessage.request == row["id"]))
    assert [(m["to_phone"], m["text"]) for m in messages] == [("", "")]
    events = run_db(lambda: RequestEvent.select().where(RequestEvent.request == row["id"]))
    assert [(e["status"], e["public_note"]) for e in events] == [("received", "")]


def test_each_run_is_audited_as_the_system(run_db: RunDb, store: LocalDiskStore) -> None:
    filed = file_direct(run_db, phone(20)[1])
    close_and_age(run_db, filed.number, "rejected", utcnow() - timedelta(days=RETENTION + 1))
    purge_now(run_db, store)
    rows = run_db(lambda: AuditEvent.select().order_by(AuditEvent.id))
    assert [(r["actor"], r["action"]) for r in rows] == [
        (ACTOR, "anonymise_request"),
        (ACTOR, "purge"),
    ]
    assert rows[0]["request"] == raw_request(run_db, filed.number)["id"]
    details = rows[1]["details"]
    details = json.loads(details) if isinstance(details, str) else details
    assert details["requests"] == 1 and details["retention_days"] == RETENTION


def test_a_second_run_changes_nothing(run_db: RunDb, store: LocalDiskStore) -> None:
    filed = file_direct(run_db, phone(30)[1])
    close_and_age(run_db, filed.number, "completed", utcnow() - timedelta(days=RETENTION + 1))
    assert purge_now(run_db, store).requests == 1
    before = snapshot(run_db)
    again = purge_now(run_db, store)
    assert again.requests == 0
    assert changed_rows(before, snapshot(run_db)) == []
    # Only the run itself is recorded.
    assert run_db(lambda: AuditEvent.count().where(AuditEvent.action == "purge")) == 2


def test_a_dry_run_counts_and_changes_nothing(run_db: RunDb, store: LocalDiskStore) -> None:
    filed = file_direct(run_db, phone(40)[1])
    keys = attach(run_db, store, filed.number)
    close_and_age(run_db, filed.number, "completed", utcnow() - timedelta(days=RETENTION + 1))
    before = snapshot(run_db)
    report = purge_now(run_db, store, dry_run=True)
    assert report.numbers == [filed.number] and report.attachments == 1
    after = snapshot(run_db)
    assert changed_rows(before, after) == []
    assert {t: set(rows) for t, rows in after.items()} == {t: set(r) for t, r in before.items()}
    assert store.open(keys[0])


def test_old_codes_sign_in_attempts_and_code_sms_go(run_db: RunDb, store: Any) -> None:
    now = utcnow()
    e164 = phone(50)[1]
    old, fresh = now - OTP_KEEP - timedelta(hours=1), now - timedelta(hours=1)

    async def seed() -> None:
        for when in (old, fresh):
            await OtpChallenge(
                office=DEFAULT_OFFICE_ID,
                phone=e164,
                purpose="submit",
                session_hash="s",
                code_hash="c",
                client_ip="192.0.2.1",
                created_at=when,
                expires_at=when + timedelta(minutes=5),
            ).save()
            message = await enqueue(
                SMS,
                office=default_office(),
                to_phone=e164,
                text="รหัส 123456",
                purpose=SmsPurpose.otp,
                now=when,
            )
            await SmsMessage.update({SmsMessage.state: SmsState.sent}).where(
                SmsMessage.id == message.id
            )
        for when in (now - SIGN_IN_KEEP - timedelta(days=1), now):
            await StaffSignInAttempt(
                office=DEFAULT_OFFICE_ID, username="x", client_ip="192.0.2.1", created_at=when
            ).save()

    run_db(seed)
    report = purge_now(run_db, None)
    assert (report.otp_challenges, report.sms_without_request, report.sign_in_attempts) == (1, 1, 1)
    challenges = run_db(lambda: OtpChallenge.select(OtpChallenge.created_at))
    assert [c["created_at"] for c in challenges] == [fresh]
    messages = run_db(lambda: SmsMessage.select().order_by(SmsMessage.id))
    assert [m["to_phone"] for m in messages] == ["", e164]
    assert run_db(lambda: StaffSignInAttempt.count()) == 1


def test_internal_notes_are_emptied_but_their_record_stays(
    run_db: RunDb, store: Any, settings: Any
) -> None:
    from tests.staff.helpers import make_staff

    staff = make_staff(run_db, settings)
    filed = file_direct(run_db, phone(60)[1])
    request_id = raw_request(run_db, filed.number)["id"]
    run_db(
        lambda: StaffNote(
            office=DEFAULT_OFFICE_ID,
            request=request_id,
            author=staff.id,
            text="โทรหาคุณสมศรีแล้ว",
            created_at=utcnow(),
        ).save()
    )
    close_and_age(run_db, filed.number, "completed", utcnow() - timedelta(days=RETENTION + 1))
    purge_now(run_db, store)
    notes = run_db(lambda: StaffNote.select().where(StaffNote.request == request_id))
    assert [(n["author"], n["text"]) for n in notes] == [(staff.id, "")]


def test_ids_filed_before_sealing_are_sealed_by_the_next_run(
    run_db: RunDb, store: Any, settings: Any
) -> None:
    from portal.privacy.citizen_ids import CitizenIdVault

    filed = file_direct(run_db, phone(70)[1])
    request_id = raw_request(run_db, filed.number)["id"]
    plain = json.dumps({"first_name": "สมศรี", "citizen_id": "1234567890121"}, ensure_ascii=False)
    run_db(  # as an older version stored it
        lambda: CitizenRequest.update(
            {
                CitizenRequest.answers: plain,
                CitizenRequest.citizen_id_encrypted: "",
                CitizenRequest.citizen_id_hash: "",
            }
        ).where(CitizenRequest.id == request_id)
    )
    vault = CitizenIdVault.from_settings(settings)
    dry = run_db(
        lambda: purge(
            office=default_office(),
            retention_days=RETENTION,
            store=store,
            dry_run=True,
            vault=vault,
        )
    )
    assert dry.ids_sealed == 1
    assert raw_request(run_db, filed.number)["citizen_id_encrypted"] == ""
    report = run_db(
        lambda: purge(office=default_office(), retention_days=RETENTION, store=store, vault=vault)
    )
    assert report.ids_sealed == 1 and report.requests == 0
    row = raw_request(run_db, filed.number)
    assert "1234567890121" not in json.dumps(row, default=str, ensure_ascii=False)
    assert vault.open(row["citizen_id_encrypted"]) == {"citizen_id": "1234567890121"}
    assert row["citizen_id_hash"] == vault.digest("1234567890121")
    again = run_db(
        lambda: purge(office=default_office(), retention_days=RETENTION, store=store, vault=vault)
    )
    assert again.ids_sealed == 0


def test_a_request_reopened_and_closed_again_during_the_run_is_left_alone(
    run_db: RunDb, store: LocalDiskStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the run's list and its transaction, staff reopen and close it again: it is
    closed, but changed just now, so it is not due any more."""
    import portal.privacy.retention as retention

    number = file_direct(run_db, phone(30)[1]).number
    close_and_age(run_db, number, "completed", utcnow() - timedelta(days=RETENTION + 1))
    anonymise = retention._anonymise

    async def touched_first(*args: Any) -> Any:
        await CitizenRequest.update({CitizenRequest.updated_at: utcnow()}).where(
            CitizenRequest.number == number
        )
        return await anonymise(*args)

    monkeypatch.setattr(retention, "_anonymise", touched_first)
    report = purge_now(run_db, store)
    assert report.numbers == []
    row = raw_request(run_db, number)
    assert row["anonymised_at"] is None
    assert row["phone"] == phone(30)[1]
