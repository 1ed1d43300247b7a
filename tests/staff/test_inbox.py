"""The inbox service itself: rows, due dates, counts, and the filters' edges."""

from __future__ import annotations

from datetime import timedelta

from portal.casework.status import change_status
from portal.kernel.clock import BANGKOK, utcnow
from portal.staff.inbox import InboxFilter, InboxPage, export_csv, inbox_page
from portal.tables.citizen_request import RequestStatus
from tests.conftest import fresh
from tests.staff.helpers import SMS, backdate, default_office, file_direct, filing_vault


def page(**filters: object) -> InboxPage:
    return fresh(inbox_page(InboxFilter(**filters), filing_vault(), office=default_office()))  # type: ignore[arg-type]


def test_row_carries_name_subject_due_date_and_no_assignee() -> None:
    filed = file_direct(None, "+66800000350")
    (row,) = page().rows
    assert row.number == filed.number
    assert row.service_name == "แจ้งคำร้องทั่วไป"
    assert row.name == "สมศรี ทดสอบ"
    assert row.subject == "ขอให้ซ่อมท่อระบายน้ำ"
    assert row.phone == "+66800000350"
    assert row.assigned_to == ""
    assert row.overdue is False
    assert row.due_on == (filed.created_at + timedelta(days=15)).astimezone(BANGKOK).date()


def test_overdue_is_for_open_requests_past_their_target_only() -> None:
    late = file_direct(None, "+66800000351").number
    backdate(fresh, late, utcnow() - timedelta(days=15, minutes=1))
    just_in_time = file_direct(None, "+66800000352").number
    backdate(fresh, just_in_time, utcnow() - timedelta(days=14, hours=23))
    by_number = {row.number: row for row in page().rows}
    assert by_number[late].overdue is True
    assert by_number[just_in_time].overdue is False
    fresh(
        change_status(
            number=late,
            status=RequestStatus.in_progress,
            actor="test",
            public_note="",
            office=default_office(),
            sms=SMS,
        )
    )
    assert {row.number: row for row in page().rows}[late].overdue is True
    fresh(
        change_status(
            number=late,
            status=RequestStatus.cancelled,
            actor="test",
            public_note="",
            office=default_office(),
            sms=SMS,
        )
    )
    assert {row.number: row for row in page().rows}[late].overdue is False


def test_counts_are_for_the_whole_inbox_whatever_the_filter() -> None:
    file_direct(None, "+66800000353")
    file_direct(None, "+66800000354")
    filtered = page(status="in_progress")
    assert filtered.rows == []
    assert filtered.counts == {"received": 2}


def test_a_nul_byte_or_an_overlong_query_is_harmless() -> None:
    filed = file_direct(None, "+66800000355").number
    assert [row.number for row in page(query="\x00สมศรี").rows] == [filed]
    assert page(query="x" * 10_000).rows == []


def test_export_without_requests_is_the_bom_and_header_only() -> None:
    text, rows = fresh(export_csv(InboxFilter(), filing_vault(), office=default_office()))
    assert rows == 0
    assert text.startswith("\ufeff")
    assert text.count("\n") == 1


def test_official_information_requests_get_their_summary_too() -> None:
    file_direct(
        None,
        "+66800000356",
        {
            "first_name": "มานี",
            "last_name": "ใจดี",
            "citizen_id": "1234567890121",
            "information": "ขอสำเนางบประมาณปี 2568",
            "purpose": "ศึกษา",
        },
        service_slug="official-information",
    )
    (row,) = page().rows
    assert row.subject == "ขอสำเนางบประมาณปี 2568"
