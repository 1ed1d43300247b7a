"""Changing a request's status (DESIGN.md section 6): the row, a timeline event and one SMS.

Each test files its own request through ``file_request`` and drives ``change_status`` in a
fresh event loop (``tests.conftest.fresh``), then reads the rows back.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

import portal.casework.status as status_module
from portal.casework.status import (
    MAX_NOTE_LENGTH,
    StatusChanged,
    StatusChangeError,
    change_status,
)
from portal.catalogue.service import get_active_service
from portal.citizen.service import FiledRequest, file_request
from portal.kernel.tracking_links import new_tracking_token
from portal.sms.outbox import SmsConfig
from portal.sms.texts import render_sms, ucs2_parts
from portal.tables.citizen_request import CitizenRequest, RequestStatus
from portal.tables.request_event import RequestEvent
from portal.tables.sms_message import SmsMessage, SmsPurpose
from tests.citizen.helpers import new_submission_key
from tests.conftest import filing_vault, fresh
from tests.staff.helpers import default_office

BASE_URL = "https://eservice.example.go.th"
SMS = SmsConfig("OSS-LOCAL", "outbox")
PHONE = "+66800000030"
STAFF = "staff:somchai"
ANSWERS = {
    "title": "นาง",
    "first_name": "สมศรี",
    "last_name": "ทดสอบ",
    "citizen_id": "1234567890121",
    "address": "99 หมู่ 1 ตำบลตัวอย่าง",
    "subject": "ขอให้ซ่อมท่อระบายน้ำ",
    "details": "ท่อระบายน้ำหน้าบ้านอุดตัน",
}
# A note to the citizen may well carry personal details; it belongs on the timeline only.
PRIVATE_NOTE = "คุณสมศรี ทดสอบ (1234567890121) กรุณานำสำเนาบัตรมาที่สำนักงาน"

SMS_WORDS = {
    # Shorter than the pages' labels: the status SMS is one Thai part (tests/sms/test_parts.py).
    RequestStatus.received: "รับเรื่องแล้ว",
    RequestStatus.in_progress: "กำลังดำเนินการ",
    RequestStatus.completed: "เสร็จสิ้น",
    RequestStatus.rejected: "ไม่รับ/ส่งต่อ",
    RequestStatus.cancelled: "ยกเลิก",
}
CLOSED = {RequestStatus.completed, RequestStatus.rejected, RequestStatus.cancelled}
# Written out here rather than imported, so a change to the table in portal/ shows up.
EXPECTED_ALLOWED = {
    RequestStatus.received: {RequestStatus.in_progress} | CLOSED,
    RequestStatus.in_progress: CLOSED,
    RequestStatus.completed: {RequestStatus.in_progress},
    RequestStatus.rejected: {RequestStatus.in_progress},
    RequestStatus.cancelled: {RequestStatus.in_progress},
}

pytestmark = pytest.mark.usefixtures("database")


def file(phone: str = PHONE) -> FiledRequest:
    async def go() -> FiledRequest:
        service = await get_active_service("general-request", office=default_office())
        assert service is not None
        return await file_request(
            service=service,
            phone=phone,
            answers=ANSWERS,
            submission_key=new_submission_key(),
            office=default_office(),
            sms=SMS,
            vault=filing_vault(),
        )

    return fresh(go())


def change(number: str, status: RequestStatus, note: str = "", actor: str = STAFF) -> StatusChanged:
    return fresh(
        change_status(
            number=number,
            status=status,
            actor=actor,
            public_note=note,
            office=default_office(),
            sms=SMS,
        )
    )


def other_number(number: str) -> str:
    """A well-formed request number that is not ``number``."""
    return "69-000000" if number != "69-000000" else "69-000001"


@dataclass(frozen=True)
class Snapshot:
    status: str
    updated_at: datetime
    tracking_token: str
    events: list[dict[str, Any]]
    status_sms: list[dict[str, Any]]
    all_sms: int


def snapshot(filed: FiledRequest) -> Snapshot:
    async def read() -> Snapshot:
        row = await CitizenRequest.select().where(CitizenRequest.id == filed.id).first()
        assert row is not None
        events = (
            await RequestEvent.select()
            .where(RequestEvent.request == filed.id)
            .order_by(RequestEvent.id)
        )
        status_sms = (
            await SmsMessage.select()
            .where(SmsMessage.purpose == SmsPurpose.status)
            .order_by(SmsMessage.id)
        )
        return Snapshot(
            status=row["status"],
            updated_at=row["updated_at"],
            tracking_token=row["tracking_token"],
            events=list(events),
            status_sms=list(status_sms),
            all_sms=await SmsMessage.count(),
        )

    return fresh(read())


# A change that goes through


def test_received_to_in_progress_updates_the_request_row() -> None:
    filed = file()
    before = snapshot(filed)
    result = change(filed.number, RequestStatus.in_progress, PRIVATE_NOTE)
    assert result == StatusChanged(
        number=filed.number, old=RequestStatus.received, new=RequestStatus.in_progress
    )
    after = snapshot(filed)
    assert after.status == "in_progress"
    assert after.updated_at > before.updated_at


def test_status_change_appends_an_event_with_actor_and_public_note() -> None:
    filed = file()
    change(filed.number, RequestStatus.in_progress, PRIVATE_NOTE)
    events = snapshot(filed).events
    assert [(e["status"], e["actor"], e["public_note"]) for e in events] == [
        ("received", "citizen", ""),
        ("in_progress", STAFF, PRIVATE_NOTE),
    ]
    assert events[1]["created_at"] >= events[0]["created_at"]


def test_status_change_sends_one_sms_with_number_thai_label_and_link() -> None:
    filed = file()
    change(filed.number, RequestStatus.in_progress, PRIVATE_NOTE)
    after = snapshot(filed)
    (sms,) = after.status_sms
    assert sms["to_phone"] == PHONE
    assert sms["purpose"] == "status"
    assert sms["request"] == filed.id
    assert sms["sender"] == "OSS-LOCAL"
    text = sms["text"]
    assert filed.number in text
    assert SMS_WORDS[RequestStatus.in_progress] in text
    assert f"{BASE_URL}/t/{after.tracking_token}" in text.split()


def test_status_sms_leaves_out_the_note() -> None:
    filed = file()
    change(filed.number, RequestStatus.in_progress, PRIVATE_NOTE)
    (sms,) = snapshot(filed).status_sms
    text = sms["text"]
    assert PRIVATE_NOTE not in text
    for private in ("สมศรี", "ทดสอบ", "1234567890121", "สำเนาบัตร"):
        assert private not in text


def test_each_change_sends_its_own_sms_to_the_requests_phone() -> None:
    filed = file()
    other = file("+66800000031")
    change(filed.number, RequestStatus.in_progress)
    change(filed.number, RequestStatus.completed)
    sent = [(sms["to_phone"], sms["request"]) for sms in snapshot(filed).status_sms]
    assert sent == [(PHONE, filed.id), (PHONE, filed.id)]
    assert snapshot(other).status == "received"


def test_note_is_stored_without_surrounding_space() -> None:
    filed = file()
    change(filed.number, RequestStatus.in_progress, "  เจ้าหน้าที่รับเรื่องแล้ว \n")
    assert snapshot(filed).events[-1]["public_note"] == "เจ้าหน้าที่รับเรื่องแล้ว"


def test_note_of_exactly_the_maximum_length_is_accepted() -> None:
    filed = file()
    change(filed.number, RequestStatus.in_progress, "ก" * MAX_NOTE_LENGTH)
    assert snapshot(filed).events[-1]["public_note"] == "ก" * MAX_NOTE_LENGTH


# The transition table


def _move_to(filed: FiledRequest, status: RequestStatus) -> None:
    """Take a freshly filed request to ``status`` the way staff would (received allows all)."""
    if status is not RequestStatus.received:
        change(filed.number, status)


TRANSITIONS = [(old, new) for old in RequestStatus for new in RequestStatus]


@pytest.mark.parametrize(("old", "new"), TRANSITIONS, ids=[f"{o}-{n}" for o, n in TRANSITIONS])
def test_transition_is_allowed_exactly_when_the_lifecycle_allows_it(
    old: RequestStatus, new: RequestStatus
) -> None:
    filed = file()
    _move_to(filed, old)
    before = snapshot(filed)
    assert before.status == old.value
    if new in EXPECTED_ALLOWED[old]:
        assert change(filed.number, new, "หมายเหตุ") == StatusChanged(filed.number, old, new)
        after = snapshot(filed)
        assert after.status == new.value
        assert len(after.events) == len(before.events) + 1
        assert after.events[-1]["status"] == new.value
        assert len(after.status_sms) == len(before.status_sms) + 1
    else:
        with pytest.raises(StatusChangeError) as refused:
            change(filed.number, new, "หมายเหตุ")
        assert refused.value.code == "not_allowed"
        assert snapshot(filed) == before


def test_a_closed_request_can_be_reopened_and_closed_again() -> None:
    filed = file()
    change(filed.number, RequestStatus.completed)
    change(filed.number, RequestStatus.in_progress, "เปิดเรื่องใหม่")
    change(filed.number, RequestStatus.rejected)
    after = snapshot(filed)
    assert after.status == "rejected"
    assert [e["status"] for e in after.events] == [
        "received",
        "completed",
        "in_progress",
        "rejected",
    ]
    assert len(after.status_sms) == 3


def test_in_progress_cannot_go_back_to_received() -> None:
    filed = file()
    change(filed.number, RequestStatus.in_progress)
    before = snapshot(filed)
    with pytest.raises(StatusChangeError) as refused:
        change(filed.number, RequestStatus.received)
    assert refused.value.code == "not_allowed"
    assert snapshot(filed) == before


# Refusals change nothing


def test_unknown_number_is_refused_and_changes_nothing() -> None:
    filed = file()
    before = snapshot(filed)
    with pytest.raises(StatusChangeError) as refused:
        change(other_number(filed.number), RequestStatus.in_progress, "หมายเหตุ")
    assert refused.value.code == "unknown_request"
    assert snapshot(filed) == before
    assert fresh(RequestEvent.count()) == 1


def test_overlong_note_is_refused_and_changes_nothing() -> None:
    filed = file()
    before = snapshot(filed)
    with pytest.raises(StatusChangeError) as refused:
        change(filed.number, RequestStatus.in_progress, "ก" * (MAX_NOTE_LENGTH + 1))
    assert refused.value.code == "note_too_long"
    assert snapshot(filed) == before


def test_overlong_note_is_refused_even_for_an_unknown_number() -> None:
    """The note is checked first: a refusal says nothing about which numbers exist."""
    filed = file()
    with pytest.raises(StatusChangeError) as refused:
        change(other_number(filed.number), RequestStatus.in_progress, "x" * 5000)
    assert refused.value.code == "note_too_long"


def test_status_change_error_is_a_value_error_carrying_its_code() -> None:
    error = StatusChangeError("not_allowed")
    assert isinstance(error, ValueError)
    assert error.code == "not_allowed"


def test_two_simultaneous_changes_from_one_status_let_only_one_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two staff (or one double click) close the same request at the same moment.

    Each change runs in its own thread and event loop; a barrier in the clock call that sits
    between reading the status and writing it holds the first change until the second has
    read too. Where the database serialises the two (SQLite's IMMEDIATE transaction), the
    second never gets that far, the barrier times out and the first goes on alone.
    """
    filed = file()
    barrier = threading.Barrier(2, timeout=2)
    real_utcnow = status_module.utcnow

    def utcnow_once_both_have_read() -> datetime:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return real_utcnow()

    monkeypatch.setattr(status_module, "utcnow", utcnow_once_both_have_read)
    outcomes: list[str] = []

    def attempt(status: RequestStatus) -> None:
        try:
            change(filed.number, status)
        except StatusChangeError as error:
            outcomes.append(error.code)
        else:
            outcomes.append("changed")

    threads = [
        threading.Thread(target=attempt, args=(status,))
        for status in (RequestStatus.completed, RequestStatus.rejected)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["changed", "not_allowed"], outcomes
    after = snapshot(filed)
    assert len(after.events) == 2
    assert len(after.status_sms) == 1


# The SMS text


@pytest.mark.parametrize("status", list(RequestStatus))
def test_status_sms_with_a_real_tracking_link_fits_two_thai_parts(
    status: RequestStatus,
) -> None:
    token = new_tracking_token()
    assert len(token) == 22
    url = f"{BASE_URL}/t/{token}"
    text = render_sms("status.txt", number="69-482913", status=status.value, tracking_url=url)
    assert ucs2_parts(text) <= 2, (len(text), text)
    assert "69-482913" in text
    assert SMS_WORDS[status] in text
    assert url in text.split()
    assert "\n" not in text


@pytest.mark.parametrize("status", list(RequestStatus))
def test_status_sms_shows_the_thai_label_not_the_code(status: RequestStatus) -> None:
    text = render_sms(
        "status.txt", number="69-482913", status=status.value, tracking_url=f"{BASE_URL}/t/x"
    )
    assert status.value not in text
