"""Reads for tracking: a phone sees only its own requests, and the SMS link never shows answers.

Requests are filed with ``file_request`` and moved with ``change_status``, as in real use.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.casework.status import change_status
from portal.catalogue.service import get_active_service
from portal.citizen.service import FiledRequest, file_request
from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.kernel.tracking_links import token_digest
from portal.sms.outbox import SmsConfig
from portal.tables.citizen_request import CitizenRequest, RequestStatus
from portal.tables.moved_token import MovedToken
from portal.tracking.service import (
    find_by_token,
    link_moved,
    request_by_number,
    request_for_phone,
    requests_for_phone,
)
from tests.citizen.helpers import new_submission_key
from tests.conftest import filing_vault, fresh
from tests.offices import create_office
from tests.tracking.helpers import HERE, office_ref, phone_has_requests

SMS = SmsConfig("OSS-LOCAL", "outbox")
PHONE = "+66800000032"
OTHER_PHONE = "+66800000033"
NO_REQUESTS_PHONE = "+66800000034"
STAFF = "staff:somchai"
# Deliberately not in form order, with one optional field left empty.
ANSWERS = {
    "details": "ท่อระบายน้ำหน้าบ้านอุดตัน",
    "subject": "ขอให้ซ่อมท่อระบายน้ำ",
    "citizen_id": "",
    "address": "99 หมู่ 1 ตำบลตัวอย่าง",
    "last_name": "ทดสอบ",
    "first_name": "สมศรี",
    "title": "นาง",
}
# Labels and order of the general-request form in the catalogue.
LABELLED_ANSWERS = [
    ("คำนำหน้า", "นาง"),
    ("ชื่อ", "สมศรี"),
    ("นามสกุล", "ทดสอบ"),
    ("ที่อยู่", "99 หมู่ 1 ตำบลตัวอย่าง"),
    ("เรื่อง", "ขอให้ซ่อมท่อระบายน้ำ"),
    ("รายละเอียด", "ท่อระบายน้ำหน้าบ้านอุดตัน"),
]
SERVICE_NAME = "แจ้งคำร้องทั่วไป"

pytestmark = pytest.mark.usefixtures("database")


def file(
    phone: str = PHONE, answers: dict[str, str] | None = None, office: OfficeRef = HERE
) -> FiledRequest:
    async def go() -> FiledRequest:
        service = await get_active_service("general-request", office=office)
        assert service is not None
        return await file_request(
            service=service,
            phone=phone,
            answers=ANSWERS if answers is None else answers,
            submission_key=new_submission_key(),
            office=office,
            sms=SMS,
            vault=filing_vault(),
        )

    return fresh(go())


def change(number: str, status: RequestStatus, note: str = "") -> None:
    fresh(
        change_status(
            number=number,
            status=status,
            actor=STAFF,
            public_note=note,
            office=HERE,
            sms=SMS,
        )
    )


def token_of(filed: FiledRequest) -> str:
    row = fresh(
        CitizenRequest.select(CitizenRequest.tracking_token)
        .where(CitizenRequest.id == filed.id)
        .first()
    )
    assert row is not None
    return str(row["tracking_token"])


def filed_days_ago(filed: FiledRequest, days: int) -> None:
    when = utcnow() - timedelta(days=days)
    fresh(
        CitizenRequest.update(
            {CitizenRequest.created_at: when, CitizenRequest.updated_at: when}
        ).where(CitizenRequest.id == filed.id)
    )


# The phone's list


def test_requests_for_phone_lists_only_that_phones_requests() -> None:
    mine = [file(), file()]
    theirs = file(OTHER_PHONE)
    numbers = {summary.number for summary in fresh(requests_for_phone(PHONE, office=HERE))}
    assert numbers == {filed.number for filed in mine}
    assert [s.number for s in fresh(requests_for_phone(OTHER_PHONE, office=HERE))] == [
        theirs.number
    ]


def test_requests_for_phone_are_newest_first_by_filing_time() -> None:
    oldest, newest, middle = file(), file(), file()
    # Filing times that disagree with insertion order, so ids alone would sort them wrongly.
    filed_days_ago(oldest, 3)
    filed_days_ago(newest, 1)
    filed_days_ago(middle, 2)
    summaries = fresh(requests_for_phone(PHONE, office=HERE))
    assert [s.number for s in summaries] == [newest.number, middle.number, oldest.number]


def test_requests_filed_one_after_another_list_the_latest_first() -> None:
    first, second, third = file(), file(), file()
    summaries = fresh(requests_for_phone(PHONE, office=HERE))
    assert [s.number for s in summaries] == [third.number, second.number, first.number]


def test_request_summary_carries_service_name_and_current_status() -> None:
    filed = file()
    change(filed.number, RequestStatus.in_progress)
    (summary,) = fresh(requests_for_phone(PHONE, office=HERE))
    assert summary.number == filed.number
    assert summary.service_name == SERVICE_NAME
    assert summary.status == "in_progress"
    assert summary.updated_at >= summary.created_at


def test_requests_for_a_phone_with_none_is_empty() -> None:
    file()
    assert fresh(requests_for_phone(NO_REQUESTS_PHONE, office=HERE)) == []


def test_phone_has_requests_only_once_it_has_filed_one() -> None:
    assert fresh(phone_has_requests(PHONE)) is False
    file()
    assert fresh(phone_has_requests(PHONE)) is True
    assert fresh(phone_has_requests(NO_REQUESTS_PHONE)) is False


# One request in full, for its own phone


def test_request_for_another_phone_is_as_if_unknown() -> None:
    theirs = file(OTHER_PHONE)
    file()
    assert fresh(request_for_phone(theirs.number, PHONE, office=HERE)) is None


def test_request_for_an_unknown_number_is_none() -> None:
    filed = file()
    unknown = "69-000000" if filed.number != "69-000000" else "69-000001"
    assert fresh(request_for_phone(unknown, PHONE, office=HERE)) is None


def test_request_for_its_own_phone_has_labelled_answers_in_form_order() -> None:
    filed = file()
    tracked = fresh(request_for_phone(filed.number, PHONE, office=HERE))
    assert tracked is not None
    assert tracked.number == filed.number
    assert tracked.phone == PHONE
    assert tracked.service_name == SERVICE_NAME
    assert tracked.status == "received"
    assert tracked.answers == LABELLED_ANSWERS


def test_empty_answers_are_left_out() -> None:
    filed = file(answers={**ANSWERS, "details": "", "citizen_id": ""})
    tracked = fresh(request_for_phone(filed.number, PHONE, office=HERE))
    assert tracked is not None
    labels = [label for label, _ in tracked.answers]
    assert "เลขประจำตัวประชาชน" not in labels
    assert "รายละเอียด" not in labels
    assert all(value for _, value in tracked.answers)


def test_answers_keep_thai_text_exactly() -> None:
    answers = {**ANSWERS, "details": "น้ำท่วมขัง ๓ วัน\nถนนซอย ๕"}
    filed = file(answers=answers)
    tracked = fresh(request_for_phone(filed.number, PHONE, office=HERE))
    assert tracked is not None
    assert dict(tracked.answers)["รายละเอียด"] == "น้ำท่วมขัง ๓ วัน\nถนนซอย ๕"


# The SMS link


def test_find_by_token_shows_status_but_no_answers() -> None:
    filed = file()
    tracked = fresh(find_by_token(token_of(filed), office=HERE))
    assert tracked is not None
    assert tracked.number == filed.number
    assert tracked.status == "received"
    assert tracked.answers == []
    assert [entry.status for entry in tracked.timeline] == ["received"]


def test_find_by_token_with_a_wrong_token_is_none() -> None:
    filed = file()
    token = token_of(filed)
    other = ("A" if token[0] != "A" else "B") + token[1:]
    assert fresh(find_by_token(other, office=HERE)) is None
    assert fresh(find_by_token("short", office=HERE)) is None


# The timeline


def test_timeline_lists_status_changes_in_order_with_public_notes() -> None:
    filed = file()
    change(filed.number, RequestStatus.in_progress, "เจ้าหน้าที่ออกตรวจพื้นที่แล้ว")
    change(filed.number, RequestStatus.completed, "ซ่อมท่อเรียบร้อย")
    for tracked in (
        fresh(request_for_phone(filed.number, PHONE, office=HERE)),
        fresh(find_by_token(token_of(filed), office=HERE)),
    ):
        assert tracked is not None
        assert tracked.status == "completed"
        assert [(e.status, e.public_note) for e in tracked.timeline] == [
            ("received", ""),
            ("in_progress", "เจ้าหน้าที่ออกตรวจพื้นที่แล้ว"),
            ("completed", "ซ่อมท่อเรียบร้อย"),
        ]
        times = [entry.created_at for entry in tracked.timeline]
        assert times == sorted(times)


def test_timeline_shows_a_reopened_request_in_order() -> None:
    filed = file()
    change(filed.number, RequestStatus.completed, "ปิดเรื่อง")
    change(filed.number, RequestStatus.in_progress, "เปิดเรื่องอีกครั้ง")
    tracked = fresh(request_for_phone(filed.number, PHONE, office=HERE))
    assert tracked is not None
    assert [e.status for e in tracked.timeline] == ["received", "completed", "in_progress"]


def test_timeline_holds_only_this_requests_events() -> None:
    filed = file()
    other = file(OTHER_PHONE)
    change(other.number, RequestStatus.rejected, "ส่งต่อหน่วยงานอื่น")
    tracked = fresh(request_for_phone(filed.number, PHONE, office=HERE))
    assert tracked is not None
    assert [e.status for e in tracked.timeline] == ["received"]


# Another office on the same platform


def other_office() -> OfficeRef:
    return office_ref(fresh(create_office("nongbua")), "nongbua")


def test_another_offices_request_is_unknown_here_by_token_number_and_phone() -> None:
    there = other_office()
    theirs = file(office=there)
    token = token_of(theirs)
    assert fresh(find_by_token(token, office=HERE)) is None
    assert fresh(request_for_phone(theirs.number, PHONE, office=HERE)) is None
    assert fresh(request_by_number(theirs.number, office=HERE)) is None
    assert fresh(requests_for_phone(PHONE, office=HERE)) == []
    # ... and all of it is there at its own office.
    found = fresh(find_by_token(token, office=there))
    assert found is not None and found.number == theirs.number
    assert fresh(request_for_phone(theirs.number, PHONE, office=there)) is not None
    assert [s.number for s in fresh(requests_for_phone(PHONE, office=there))] == [theirs.number]


def test_the_same_phone_lists_only_each_offices_own_requests() -> None:
    there = other_office()
    here, theirs = file(), file(office=there)
    assert [s.number for s in fresh(requests_for_phone(PHONE, office=HERE))] == [here.number]
    assert [s.number for s in fresh(requests_for_phone(PHONE, office=there))] == [theirs.number]
    found = fresh(request_by_number(here.number, office=HERE))
    assert found is not None and found[0] == here.id


def test_a_moved_link_is_moved_only_at_its_own_office() -> None:
    there = other_office()
    theirs = file(office=there)
    token = token_of(theirs)
    fresh(
        MovedToken.insert(
            MovedToken(
                office=there.id,
                token_hash=token_digest(token),
                request=theirs.id,
                moved_at=utcnow(),
            )
        )
    )
    assert fresh(link_moved(token, office=there)) is True
    assert fresh(link_moved(token, office=HERE)) is False
