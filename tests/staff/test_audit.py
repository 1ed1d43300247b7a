"""The audit log service: insert-only records, newest first, filters and pages."""

from __future__ import annotations

from portal.kernel.audit import PAGE_SIZE, list_events, record
from portal.tables.office import DEFAULT_OFFICE_ID
from tests.conftest import fresh
from tests.staff.helpers import file_direct


def test_records_read_back_newest_first_with_details() -> None:
    filed = file_direct(None, "+66800000385")

    async def write() -> None:
        await record(
            office_id=DEFAULT_OFFICE_ID, actor="somchai", action="sign_in", client_ip="192.0.2.1"
        )
        await record(
            office_id=DEFAULT_OFFICE_ID,
            actor="somchai",
            action="change_phone",
            request_id=filed.id,
            details={"old": "+66800000385", "new": "+66800000386", "reason": "ตรวจบัตรแล้ว"},
        )

    fresh(write)
    entries, has_next = fresh(lambda: list_events(office_id=DEFAULT_OFFICE_ID))
    assert has_next is False
    assert [(e.action, e.request_number) for e in entries] == [
        ("change_phone", filed.number),
        ("sign_in", None),
    ]
    assert entries[0].details == {
        "old": "+66800000385",
        "new": "+66800000386",
        "reason": "ตรวจบัตรแล้ว",
    }
    assert entries[1].client_ip == "192.0.2.1"
    assert entries[1].details == {}


def test_filters_combine() -> None:
    first = file_direct(None, "+66800000387")
    second = file_direct(None, "+66800000388")

    async def write() -> None:
        for actor in ("somchai", "malee"):
            for filed in (first, second):
                await record(
                    office_id=DEFAULT_OFFICE_ID,
                    actor=actor,
                    action="view_request",
                    request_id=filed.id,
                )
            await record(office_id=DEFAULT_OFFICE_ID, actor=actor, action="sign_in")

    fresh(write)
    assert len(fresh(lambda: list_events(office_id=DEFAULT_OFFICE_ID, actor="malee"))[0]) == 3
    assert len(fresh(lambda: list_events(office_id=DEFAULT_OFFICE_ID, action="sign_in"))[0]) == 2
    on_first = fresh(lambda: list_events(office_id=DEFAULT_OFFICE_ID, request_number=first.number))[
        0
    ]
    assert {(e.actor, e.request_number) for e in on_first} == {
        ("somchai", first.number),
        ("malee", first.number),
    }
    both = fresh(
        lambda: list_events(
            office_id=DEFAULT_OFFICE_ID,
            actor="somchai",
            action="view_request",
            request_number=second.number,
        )
    )[0]
    assert [(e.actor, e.request_number) for e in both] == [("somchai", second.number)]
    assert (
        fresh(lambda: list_events(office_id=DEFAULT_OFFICE_ID, request_number="69-999999"))[0] == []
    )


def test_pages() -> None:
    async def write() -> None:
        for n in range(PAGE_SIZE + 1):
            await record(office_id=DEFAULT_OFFICE_ID, actor=f"user{n}", action="sign_in")

    fresh(write)
    first, has_next = fresh(lambda: list_events(office_id=DEFAULT_OFFICE_ID, page=1))
    assert len(first) == PAGE_SIZE and has_next is True
    assert first[0].actor == f"user{PAGE_SIZE}"
    second, has_next = fresh(lambda: list_events(office_id=DEFAULT_OFFICE_ID, page=2))
    assert [e.actor for e in second] == ["user0"] and has_next is False
