"""What staff do to a request, as a service: each change and its audit row commit together or
not at all."""

from __future__ import annotations

import json
from typing import Any

import pytest

from portal.casework.case import CaseError
from portal.casework.status import StatusChangeError
from portal.kernel import audit
from portal.settings import Settings
from portal.staff.request_work import (
    Actor,
    staff_add_note,
    staff_assign,
    staff_change_status,
    staff_fix_phone,
    view_request,
)
from portal.tables.audit_event import AuditEvent
from portal.tables.citizen_request import CitizenRequest, RequestStatus
from portal.tables.request_event import RequestEvent
from portal.tables.sms_message import SmsMessage
from portal.tables.staff_note import StaffNote
from tests.conftest import fresh
from tests.staff.helpers import SMS, Staff, default_office, file_direct, make_staff

PHONE = "+66800000370"
NEW_PHONE = "+66800000371"


@pytest.fixture
def actor(settings: Settings) -> Actor:
    staff: Staff = make_staff(fresh, settings, "somchai")
    return Actor(staff_id=staff.id, username="somchai", client_ip="192.0.2.1")


@pytest.fixture
def number() -> str:
    return file_direct(None, PHONE).number


class AuditDown(RuntimeError):
    pass


@pytest.fixture
def audit_fails(monkeypatch: pytest.MonkeyPatch, actor: Actor, number: str) -> None:
    """From here on (accounts and requests already made) every audit write fails."""

    async def broken(**_: Any) -> None:
        raise AuditDown

    monkeypatch.setattr(audit, "record", broken)


def snapshot(number: str) -> tuple[Any, ...]:
    async def read() -> tuple[Any, ...]:
        request = await CitizenRequest.select(
            CitizenRequest.status, CitizenRequest.phone, CitizenRequest.assigned_to
        ).where(CitizenRequest.number == number)
        return (
            request,
            await RequestEvent.count(),
            await SmsMessage.count(),
            await StaffNote.count(),
            await AuditEvent.count().where(AuditEvent.action != "staff_created"),
        )

    return fresh(read)


def test_status_change_and_audit_row_in_one_transaction(actor: Actor, number: str) -> None:
    fresh(
        lambda: staff_change_status(
            number, RequestStatus.in_progress, " ส่งช่างแล้ว ", actor, office=default_office(), sms=SMS
        )
    )
    row = fresh(lambda: AuditEvent.select().where(AuditEvent.action == "change_status").first())
    assert row["actor"] == "somchai"
    assert row["client_ip"] == "192.0.2.1"
    details = json.loads(row["details"]) if isinstance(row["details"], str) else row["details"]
    assert details == {
        "from": "received",
        "to": "in_progress",
        # The audit log outlives purge, so the note's words (which may name the citizen)
        # are not copied into it.
        "note_length": len("ส่งช่างแล้ว"),
    }


@pytest.mark.usefixtures("audit_fails")
def test_when_the_audit_row_fails_the_status_change_is_undone(actor: Actor, number: str) -> None:
    before = snapshot(number)
    with pytest.raises(AuditDown):
        fresh(
            lambda: staff_change_status(
                number, RequestStatus.in_progress, "x", actor, office=default_office(), sms=SMS
            )
        )
    assert snapshot(number) == before


@pytest.mark.usefixtures("audit_fails")
def test_when_the_audit_row_fails_the_phone_fix_is_undone(actor: Actor, number: str) -> None:
    before = snapshot(number)
    with pytest.raises(AuditDown):
        fresh(
            lambda: staff_fix_phone(
                number, NEW_PHONE, "ตรวจบัตรแล้ว", actor, office=default_office(), sms=SMS
            )
        )
    assert snapshot(number) == before


@pytest.mark.usefixtures("audit_fails")
def test_when_the_audit_row_fails_note_and_assignment_are_undone(actor: Actor, number: str) -> None:
    before = snapshot(number)
    with pytest.raises(AuditDown):
        fresh(lambda: staff_add_note(number, "บันทึก", actor, office=default_office()))
    with pytest.raises(AuditDown):
        fresh(lambda: staff_assign(number, actor.staff_id, actor, office=default_office()))
    assert snapshot(number) == before


def test_a_refused_status_change_writes_no_audit_row(actor: Actor, number: str) -> None:
    before = snapshot(number)
    with pytest.raises(StatusChangeError) as refused:
        fresh(
            lambda: staff_change_status(
                number, RequestStatus.received, "", actor, office=default_office(), sms=SMS
            )
        )
    assert refused.value.code == "not_allowed"
    assert snapshot(number) == before


def test_unknown_numbers(actor: Actor) -> None:
    assert fresh(lambda: view_request("69-999999", actor, office=default_office())) is None
    with pytest.raises(CaseError) as note:
        fresh(lambda: staff_add_note("69-999999", "x", actor, office=default_office()))
    with pytest.raises(CaseError) as assign:
        fresh(lambda: staff_assign("69-999999", None, actor, office=default_office()))
    assert [e.value.code for e in (note, assign)] == ["unknown_request"] * 2
    setup = ["staff_created", "staff_enrolled"]  # the test account's own making
    assert fresh(lambda: AuditEvent.count().where(AuditEvent.action.not_in(setup))) == 0


def test_view_request_lists_the_allowed_next_statuses_and_notes(actor: Actor, number: str) -> None:
    fresh(lambda: staff_add_note(number, "ภายใน", actor, office=default_office()))
    view = fresh(lambda: view_request(number, actor, office=default_office()))
    assert view is not None
    assert view.tracked.number == number
    assert view.allowed_next == ["in_progress", "completed", "rejected", "cancelled"]
    assert [(n.author, n.text) for n in view.notes] == [("Somchai", "ภายใน")]
    assert view.assigned_to is None


def test_notes_and_phone_fixes_take_the_lock_that_purge_and_status_changes_take(
    actor: Actor, number: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL this advisory lock is what keeps a note from landing on a request that
    purge is anonymising in the same moment (and then staying there for good)."""
    import portal.casework.case as case

    taken: list[str | None] = []
    real = case.write_transaction

    def recording(serialize: str | None = None) -> Any:
        taken.append(serialize)
        return real(serialize=serialize)

    monkeypatch.setattr(case, "write_transaction", recording)
    fresh(lambda: staff_add_note(number, "บันทึก", actor, office=default_office()))
    fresh(
        lambda: staff_fix_phone(
            number, NEW_PHONE, "ตรวจบัตรแล้ว", actor, office=default_office(), sms=SMS
        )
    )
    assert taken == [f"request-status:{number}"] * 2
    # Every staff action takes it exactly once (a status change no longer takes it twice).
    fresh(
        lambda: staff_change_status(
            number, RequestStatus.in_progress, "", actor, office=default_office(), sms=SMS
        )
    )
    fresh(lambda: staff_assign(number, actor.staff_id, actor, office=default_office()))
    assert taken == [f"request-status:{number}"] * 4


def test_an_anonymised_request_takes_no_note_status_or_phone(actor: Actor, number: str) -> None:
    from portal.casework.notes import NoteError
    from portal.casework.phone_change import PhoneChangeError
    from portal.kernel.clock import utcnow

    fresh(
        lambda: CitizenRequest.update(
            {CitizenRequest.status: RequestStatus.completed, CitizenRequest.anonymised_at: utcnow()}
        ).where(CitizenRequest.number == number)
    )
    before = snapshot(number)
    with pytest.raises(NoteError) as note:
        fresh(lambda: staff_add_note(number, "บันทึก", actor, office=default_office()))
    with pytest.raises(StatusChangeError) as status:
        fresh(
            lambda: staff_change_status(
                number, RequestStatus.in_progress, "", actor, office=default_office(), sms=SMS
            )
        )
    with pytest.raises(PhoneChangeError) as phone:
        fresh(
            lambda: staff_fix_phone(
                number, NEW_PHONE, "ตรวจบัตรแล้ว", actor, office=default_office(), sms=SMS
            )
        )
    assert [e.value.code for e in (note, status, phone)] == ["anonymised"] * 3
    assert snapshot(number) == before
