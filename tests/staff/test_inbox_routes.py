"""The inbox at /staff and its CSV export: order, filters, search, counts, pages, overdue."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
from bs4 import BeautifulSoup
from litestar import Litestar
from litestar.testing import TestClient

from portal.casework.status import change_status
from portal.kernel.clock import BANGKOK, utcnow
from portal.settings import Settings
from portal.staff.inbox import CSV_HEADER, PAGE_SIZE
from portal.tables.citizen_request import CitizenRequest, RequestStatus
from tests.citizen.helpers import GENERAL_REQUEST_ANSWERS
from tests.conftest import html
from tests.staff.helpers import (
    SMS,
    Clock,
    RunDb,
    Staff,
    audit_rows,
    backdate,
    default_office,
    file_direct,
    file_via_routes,
    make_staff,
    sign_in,
)

PHONES = [f"+668000003{n:02d}" for n in range(20, 60)]


@pytest.fixture
def officer_browser(
    client: TestClient[Litestar], run_db: RunDb, settings: Settings, clock: Clock
) -> TestClient[Litestar]:
    officer: Staff = make_staff(run_db, settings, "somchai")
    return sign_in(client, officer, clock)


def inbox(browser: TestClient[Litestar], query: str = "") -> BeautifulSoup:
    response = browser.get(f"/staff{'?' + query if query else ''}", follow_redirects=False)
    assert response.status_code == 200, response.text
    return html(response)


def numbers(page: BeautifulSoup) -> list[str]:
    return [str(row["data-request-row"]) for row in page.select("tr[data-request-row]")]


def set_status(run_db: RunDb, number: str, status: RequestStatus) -> None:
    run_db(
        lambda: change_status(
            number=number,
            status=status,
            actor="test",
            public_note="",
            office=default_office(),
            sms=SMS,
        )
    )


def bangkok(*args: int) -> datetime:
    return datetime(*args, tzinfo=BANGKOK)


def test_inbox_lists_requests_newest_first_with_their_facts(
    officer_browser: TestClient[Litestar], new_browser: Any, run_db: RunDb
) -> None:
    first = file_via_routes(new_browser(), run_db, "0800000320")
    second = file_direct(run_db, PHONES[1]).number
    third = file_direct(run_db, PHONES[2]).number
    backdate(run_db, first, utcnow() - timedelta(hours=3))
    backdate(run_db, third, utcnow() - timedelta(hours=2))
    page = inbox(officer_browser)
    assert numbers(page) == [second, third, first]
    row = page.select_one(f"tr[data-request-row='{first}']")
    cells = [cell.get_text(" ", strip=True) for cell in row.select("td")]
    assert cells[0] == first
    assert row.select_one("a")["href"] == f"/staff/requests/{first}"
    assert "แจ้งคำร้องทั่วไป" in cells[1]
    assert GENERAL_REQUEST_ANSWERS["subject"] in cells[1]
    assert cells[2] == "สมศรี ทดสอบ"
    assert cells[4] == "ได้รับเรื่องแล้ว"


def test_empty_inbox_says_so(officer_browser: TestClient[Litestar]) -> None:
    page = inbox(officer_browser)
    assert numbers(page) == []
    assert page.select_one("table.inbox tbody").get_text(strip=True) == "ไม่พบคำร้อง"


def test_filter_by_status(officer_browser: TestClient[Litestar], run_db: RunDb) -> None:
    received = file_direct(run_db, PHONES[0]).number
    working = file_direct(run_db, PHONES[1]).number
    done = file_direct(run_db, PHONES[2]).number
    set_status(run_db, working, RequestStatus.in_progress)
    set_status(run_db, done, RequestStatus.completed)
    assert numbers(inbox(officer_browser, "status=in_progress")) == [working]
    assert numbers(inbox(officer_browser, "status=completed")) == [done]
    assert numbers(inbox(officer_browser, "status=received")) == [received]
    assert numbers(inbox(officer_browser, "status=rejected")) == []
    # Nonsense is no filter, not an error.
    assert sorted(numbers(inbox(officer_browser, "status=bogus"))) == sorted(
        [received, working, done]
    )
    page = inbox(officer_browser, "status=in_progress")
    assert page.select_one("select#status option[selected]")["value"] == "in_progress"


def test_filter_by_service(officer_browser: TestClient[Litestar], run_db: RunDb) -> None:
    general = file_direct(run_db, PHONES[0]).number
    complaint = file_direct(
        run_db,
        PHONES[1],
        {"first_name": "มานี", "last_name": "ใจดี", "topic": "เสียงดัง", "place": "ซอย 3"},
        service_slug="complaint",
    ).number
    assert numbers(inbox(officer_browser, "service=complaint")) == [complaint]
    assert numbers(inbox(officer_browser, "service=general-request")) == [general]
    page = inbox(officer_browser, "service=complaint")
    row = page.select_one(f"tr[data-request-row='{complaint}']")
    assert "เสียงดัง" in row.get_text()


def test_filter_by_date_range_uses_thai_calendar_days(
    officer_browser: TestClient[Litestar], run_db: RunDb
) -> None:
    early = file_direct(run_db, PHONES[0]).number
    late_evening = file_direct(run_db, PHONES[1]).number
    after_midnight = file_direct(run_db, PHONES[2]).number
    later = file_direct(run_db, PHONES[3]).number
    backdate(run_db, early, bangkok(2026, 1, 10, 0, 30))
    backdate(run_db, late_evening, bangkok(2026, 1, 10, 23, 30))  # 16:30 UTC, same Thai day
    backdate(run_db, after_midnight, bangkok(2026, 1, 11, 0, 30))  # still the 10th in UTC
    backdate(run_db, later, bangkok(2026, 1, 15, 12, 0))
    one_day = numbers(inbox(officer_browser, "from=2026-01-10&to=2026-01-10"))
    assert one_day == [late_evening, early]
    assert numbers(inbox(officer_browser, "from=2026-01-11")) == [later, after_midnight]
    assert numbers(inbox(officer_browser, "to=2026-01-11")) == [after_midnight, late_evening, early]
    assert numbers(inbox(officer_browser, "from=2026-01-12&to=2026-01-14")) == []
    # A date that is not one is ignored rather than failing.
    assert len(numbers(inbox(officer_browser, "from=2026-02-31"))) == 4


def test_search_by_request_number(officer_browser: TestClient[Litestar], run_db: RunDb) -> None:
    wanted = file_direct(run_db, PHONES[0]).number
    file_direct(run_db, PHONES[1])
    assert numbers(inbox(officer_browser, f"q={wanted}")) == [wanted]
    page = inbox(officer_browser, f"q={wanted}")
    assert page.select_one("input#q")["value"] == wanted


def test_search_by_request_number_typed_without_the_dash(
    officer_browser: TestClient[Litestar], run_db: RunDb
) -> None:
    wanted = file_direct(run_db, PHONES[0]).number
    file_direct(run_db, PHONES[1])
    assert numbers(inbox(officer_browser, f"q={wanted.replace('-', '')}")) == [wanted]


def test_search_by_phone_as_people_type_it(
    officer_browser: TestClient[Litestar], run_db: RunDb
) -> None:
    wanted = file_direct(run_db, "+66800000331").number
    file_direct(run_db, "+66800000332")
    for typed in ("080-000-0331", "0800000331", "+66800000331", "080 000 0331"):
        assert numbers(inbox(officer_browser, f"q={typed.replace('+', '%2B')}")) == [wanted], typed


def test_search_by_name(officer_browser: TestClient[Litestar], run_db: RunDb) -> None:
    somsri = file_direct(run_db, PHONES[0]).number
    manee = file_direct(
        run_db, PHONES[1], {**GENERAL_REQUEST_ANSWERS, "first_name": "มานี", "last_name": "มีนา"}
    ).number
    assert numbers(inbox(officer_browser, "q=มานี")) == [manee]
    assert numbers(inbox(officer_browser, "q=สมศรี")) == [somsri]
    assert numbers(inbox(officer_browser, "q=ไม่มีใครชื่อนี้")) == []


def test_counts_per_status(officer_browser: TestClient[Litestar], run_db: RunDb) -> None:
    filed = [file_direct(run_db, phone).number for phone in PHONES[:5]]
    set_status(run_db, filed[0], RequestStatus.in_progress)
    set_status(run_db, filed[1], RequestStatus.in_progress)
    set_status(run_db, filed[2], RequestStatus.rejected)
    page = inbox(officer_browser)
    counts = {
        link["data-count-status"]: int(link.select_one("strong").get_text())
        for link in page.select("[data-count-status]")
    }
    assert counts == {
        "received": 2,
        "in_progress": 2,
        "completed": 0,
        "rejected": 1,
        "cancelled": 0,
    }
    link = page.select_one("[data-count-status=in_progress]")
    assert link["href"] == "/staff?status=in_progress"


def test_pages_of_page_size(officer_browser: TestClient[Litestar], run_db: RunDb) -> None:
    filed = [file_direct(run_db, PHONES[n % len(PHONES)]).number for n in range(PAGE_SIZE + 2)]
    start = utcnow() - timedelta(days=1)
    for n, number in enumerate(filed):
        backdate(run_db, number, start + timedelta(minutes=n))
    newest_first = list(reversed(filed))
    first = inbox(officer_browser)
    assert numbers(first) == newest_first[:PAGE_SIZE]
    next_link = first.find("a", string="ถัดไป ›")
    assert next_link is not None
    assert first.find("a", string="‹ ก่อนหน้า") is None
    second_response = officer_browser.get(str(next_link["href"]))
    second = html(second_response)
    assert numbers(second) == newest_first[PAGE_SIZE:]
    assert second.find("a", string="ถัดไป ›") is None
    assert second.find("a", string="‹ ก่อนหน้า") is not None
    assert numbers(inbox(officer_browser, "page=3")) == []
    for bad in ("page=0", "page=-1", "page=abc", "page=9999999999"):
        assert numbers(inbox(officer_browser, bad)) == newest_first[:PAGE_SIZE], bad


def test_overdue_requests_are_marked(officer_browser: TestClient[Litestar], run_db: RunDb) -> None:
    # The general request's target is 15 days, the rubbish service's 5.
    fresh = file_direct(run_db, PHONES[0]).number
    late = file_direct(run_db, PHONES[1]).number
    late_but_done = file_direct(run_db, PHONES[2]).number
    rubbish = file_direct(
        run_db,
        PHONES[3],
        {"first_name": "มานี", "place": "ซอย 3", "problem": "ขยะไม่เก็บ"},
        service_slug="rubbish",
    ).number
    backdate(run_db, fresh, utcnow() - timedelta(days=14))
    backdate(run_db, late, utcnow() - timedelta(days=16))
    backdate(run_db, late_but_done, utcnow() - timedelta(days=40))
    backdate(run_db, rubbish, utcnow() - timedelta(days=6))
    set_status(run_db, late_but_done, RequestStatus.completed)
    page = inbox(officer_browser)
    overdue = {str(row["data-request-row"]) for row in page.select("tr[data-request-row].overdue")}
    assert overdue == {late, rubbish}
    flagged = {
        str(flag.find_parent("tr")["data-request-row"]) for flag in page.select(".overdue-flag")
    }
    assert flagged == overdue


def export(browser: TestClient[Litestar], query: str = "", **fields: str) -> Any:
    """The inbox's "download CSV" button: its form posted, with the filters of ``query``."""
    page = inbox(browser, query)
    form = page.select_one("form#csv-export")
    assert form is not None and form["method"] == "post"
    data = {str(field["name"]): str(field["value"]) for field in form.select("input")}
    return browser.post(str(form["action"]), data={**data, **fields})


def read_csv(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_csv_export_is_utf8_with_bom_and_thai_header(
    officer_browser: TestClient[Litestar], run_db: RunDb
) -> None:
    filed = file_direct(run_db, "+66800000340").number
    response = export(officer_browser)
    assert response.status_code == 200
    # The charset once: Litestar adds it to text/ types, the handler must not add it again.
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="requests-')
    assert response.headers["cache-control"] == "no-store"
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = read_csv(response)
    assert tuple(rows[0]) == CSV_HEADER
    assert rows[0][0] == "เลขที่คำร้อง"
    (row,) = rows[1:]
    record = dict(zip(rows[0], row, strict=True))
    assert record["เลขที่คำร้อง"] == filed
    assert record["บริการ"] == "แจ้งคำร้องทั่วไป"
    assert record["สถานะ"] == "received"
    assert record["ชื่อ"] == "สมศรี ทดสอบ"
    assert record["เรื่อง"] == GENERAL_REQUEST_ANSWERS["subject"]
    assert record["เบอร์โทรศัพท์"] == "+66800000340"
    assert record["เกินกำหนด"] == ""


def test_csv_export_has_one_row_per_matching_request_not_one_page(
    officer_browser: TestClient[Litestar], run_db: RunDb
) -> None:
    filed = [file_direct(run_db, PHONES[n % len(PHONES)]).number for n in range(PAGE_SIZE + 3)]
    working = filed[:2]
    for number in working:
        set_status(run_db, number, RequestStatus.in_progress)
    everything = read_csv(export(officer_browser))[1:]
    assert sorted(row[0] for row in everything) == sorted(filed)
    only_working = read_csv(export(officer_browser, "status=in_progress"))[1:]
    assert sorted(row[0] for row in only_working) == sorted(working)
    assert {row[2] for row in only_working} == {"in_progress"}


def test_csv_export_is_audited(officer_browser: TestClient[Litestar], run_db: RunDb) -> None:
    file_direct(run_db, "+66800000343")
    before = audit_rows(run_db)
    assert export(officer_browser, "status=received").status_code == 200
    new = audit_rows(run_db)[len(before) :]
    assert [row["actor"] for row in new] == ["somchai"]


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("1-2345-67890-12-1", "x-xxxx-xxxxx-12-1"),
        ("1234567890121", "x-xxxx-xxxxx-12-1"),
        ("081-234-5678", "08x-xxx-5678"),
        ("สมศรี", "สมศรี"),
    ],
)
def test_csv_export_audit_keeps_ids_and_phones_searched_for_masked(
    officer_browser: TestClient[Litestar], run_db: RunDb, typed: str, kept: str
) -> None:
    file_direct(run_db, "+66800000344")
    response = export(officer_browser, "status=received", q=typed)
    assert response.status_code == 200
    (row,) = audit_rows(run_db, "export_csv")
    assert parse_qs(row["details"]["filters"]) == {"q": [kept], "status": ["received"]}
    digits = "".join(ch for ch in typed if ch.isdigit())
    if kept != typed:
        assert digits not in json.dumps(row["details"])


def test_csv_export_neutralises_cells_that_excel_would_run(
    officer_browser: TestClient[Litestar], run_db: RunDb
) -> None:
    formula = '=HYPERLINK("http://evil.example/","คลิก")'
    file_direct(
        run_db,
        "+66800000341",
        {**GENERAL_REQUEST_ANSWERS, "first_name": formula, "last_name": "", "subject": "+1+1"},
    )
    file_direct(run_db, "+66800000342", {**GENERAL_REQUEST_ANSWERS, "subject": "@SUM(A1)"})
    rows = read_csv(export(officer_browser))
    header, body = rows[0], rows[1:]
    by_phone = {row[header.index("เบอร์โทรศัพท์")]: row for row in body}
    evil = by_phone["+66800000341"]
    assert evil[header.index("ชื่อ")] == "'" + formula
    assert evil[header.index("เรื่อง")] == "'+1+1"
    assert by_phone["+66800000342"][header.index("เรื่อง")] == "'@SUM(A1)"
    for row in body:
        for column in ("ชื่อ", "เรื่อง", "ผู้รับผิดชอบ"):
            assert row[header.index(column)][:1] not in ("=", "+", "-", "@"), row


def test_csv_export_marks_overdue_rows(
    officer_browser: TestClient[Litestar], run_db: RunDb
) -> None:
    late = file_direct(run_db, PHONES[0]).number
    backdate(run_db, late, utcnow() - timedelta(days=20))
    rows = read_csv(export(officer_browser, "status=received"))
    header, (row,) = rows[0], rows[1:]
    assert row[header.index("เกินกำหนด")] == "yes"
    created = run_db(
        lambda: (
            CitizenRequest.select(CitizenRequest.created_at)
            .where(CitizenRequest.number == late)
            .first()
        )
    )["created_at"]
    due = (created + timedelta(days=15)).astimezone(BANGKOK).date()
    assert row[header.index("ครบกำหนด")] == due.isoformat()


def test_csv_button_on_the_inbox_posts_the_applied_filters(
    officer_browser: TestClient[Litestar],
) -> None:
    page = inbox(officer_browser, "status=in_progress&service=complaint")
    button = page.find("button", string="ดาวน์โหลด CSV")
    form = page.select_one(f"form#{button['form']}")
    assert (form["method"], form["action"]) == ("post", "/staff/export.csv")
    fields = {str(f["name"]): str(f["value"]) for f in form.select("input")}
    assert fields.pop("_csrf_token")
    assert fields == {"status": "in_progress", "service": "complaint"}


def test_csv_export_is_no_longer_a_get_nor_a_post_without_the_token(
    officer_browser: TestClient[Litestar], run_db: RunDb
) -> None:
    file_direct(run_db, "+66800000345")
    assert officer_browser.get("/staff/export.csv").status_code == 405
    assert officer_browser.post("/staff/export.csv", data={}).status_code == 403
    assert audit_rows(run_db, "export_csv") == []
