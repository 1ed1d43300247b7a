"""One request in the back office: the page, status changes with the citizen's SMS, internal
notes kept from citizens, assignment, and fixing the citizen's phone number."""

from __future__ import annotations

from typing import Any

import pytest
from bs4 import BeautifulSoup
from litestar import Litestar
from litestar.testing import TestClient

from portal.settings import Settings
from portal.tables.citizen_request import CitizenRequest
from portal.tables.request_event import RequestEvent
from portal.tables.sms_message import SmsMessage
from portal.tables.staff_note import StaffNote
from tests.citizen.helpers import GENERAL_REQUEST_ANSWERS
from tests.conftest import csrf_token, html
from tests.staff.helpers import (
    BASE_URL,
    Clock,
    RunDb,
    Staff,
    audit_rows,
    error_text,
    file_via_routes,
    make_staff,
    sign_in,
    track_verify,
    tracking_token,
)

CITIZEN = ("0800000360", "+66800000360")
NEW_PHONE = ("0800000361", "+66800000361")
Browser = TestClient[Litestar]
PUBLIC_NOTE = "เจ้าหน้าที่จะลงพื้นที่ตรวจสอบวันจันทร์"
INTERNAL_NOTE = "โทรคุยแล้ว ผู้ร้องขอให้เงียบไว้ก่อน ห้ามบอกประชาชน"
REASON = "ผู้ร้องมาที่เคาน์เตอร์ ตรวจบัตรประชาชนแล้ว"


@pytest.fixture
def officer(run_db: RunDb, settings: Settings) -> Staff:
    return make_staff(run_db, settings, "somchai", display_name="สมชาย ใจดี")


@pytest.fixture
def staff_browser(client: Browser, officer: Staff, clock: Clock) -> Browser:
    return sign_in(client, officer, clock)


@pytest.fixture
def citizen(new_browser: Any) -> Browser:
    browser: Browser = new_browser()
    return browser


@pytest.fixture
def number(citizen: Browser, run_db: RunDb) -> str:
    return file_via_routes(citizen, run_db, CITIZEN[0])


def act(browser: Browser, number: str, action: str, data: dict[str, str]) -> Any:
    token = csrf_token(browser, f"/staff/requests/{number}")
    return browser.post(
        f"/staff/requests/{number}/{action}",
        data={**data, "_csrf_token": token},
        follow_redirects=False,
    )


def request_row(run_db: RunDb, number: str) -> dict[str, Any]:
    row: dict[str, Any] = run_db(
        lambda: CitizenRequest.select().where(CitizenRequest.number == number).first()
    )
    return row


def events(run_db: RunDb, number: str) -> list[tuple[str, str, str]]:
    rows = run_db(
        lambda: (
            RequestEvent.select(RequestEvent.status, RequestEvent.actor, RequestEvent.public_note)
            .where(RequestEvent.request.number == number)
            .order_by(RequestEvent.id)
        )
    )
    return [(r["status"], r["actor"], r["public_note"]) for r in rows]


def messages(run_db: RunDb, purpose: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = run_db(
        lambda: SmsMessage.select().where(SmsMessage.purpose == purpose).order_by(SmsMessage.id)
    )
    return rows


def staff_page(browser: Browser, number: str) -> BeautifulSoup:
    response = browser.get(f"/staff/requests/{number}", follow_redirects=False)
    assert response.status_code == 200, response.text
    return html(response)


def test_request_page_shows_everything_the_citizen_entered(
    staff_browser: Browser, number: str
) -> None:
    page = staff_page(staff_browser, number)
    assert page.select_one("[data-request-number]").get_text(strip=True) == number
    assert page.select_one("[data-phone]").get_text(strip=True) == CITIZEN[0]
    assert page.select_one("[data-status]")["data-status"] == "received"
    answers = {
        div.select_one("dt").get_text(strip=True): div.select_one("dd").get_text(strip=True)
        for div in page.select(".answers div")
    }
    for name, value in GENERAL_REQUEST_ANSWERS.items():
        if name != "citizen_id":
            assert value in answers.values(), value
    assert answers["ชื่อ"] == "สมศรี"
    # The citizen ID is masked; the full number is one audited click away (portal/privacy).
    assert answers["เลขประจำตัวประชาชน"] == "x-xxxx-xxxxx-12-1"
    assert page.select_one("form[data-action=reveal-citizen-id]") is not None
    timeline = [li["data-timeline-status"] for li in page.select("[data-timeline-status]")]
    assert timeline == ["received"]
    # Only moves the lifecycle allows are offered.
    offered = [o["value"] for o in page.select("form[data-action=status] select#status option")]
    assert offered == ["in_progress", "completed", "rejected", "cancelled"]


def test_viewing_a_request_is_audited(staff_browser: Browser, run_db: RunDb, number: str) -> None:
    staff_page(staff_browser, number)
    staff_page(staff_browser, number)
    rows = audit_rows(run_db, "view_request")
    assert [(r["actor"], r["number"], r["client_ip"]) for r in rows] == [
        ("somchai", number, "testclient")
    ] * 2


@pytest.mark.parametrize("bad", ["69-999999", "not-a-number", "12"])
def test_unknown_or_malformed_numbers_are_404(staff_browser: Browser, bad: str) -> None:
    assert staff_browser.get(f"/staff/requests/{bad}").status_code == 404


def test_status_change_writes_status_event_sms_and_audit_together(
    staff_browser: Browser, run_db: RunDb, number: str
) -> None:
    response = act(staff_browser, number, "status", {"status": "in_progress", "note": PUBLIC_NOTE})
    assert response.status_code == 303
    assert response.headers["location"] == f"/staff/requests/{number}?done=status"
    assert request_row(run_db, number)["status"] == "in_progress"
    assert events(run_db, number) == [
        ("received", "citizen", ""),
        ("in_progress", "somchai", PUBLIC_NOTE),
    ]
    (sms,) = messages(run_db, "status")
    assert sms["to_phone"] == CITIZEN[1]
    assert number in sms["text"]
    assert "กำลังดำเนินการ" in sms["text"]
    assert f"{BASE_URL}/t/{tracking_token(run_db, number)}" in sms["text"]
    assert PUBLIC_NOTE not in sms["text"]
    assert "ลงพื้นที่" not in sms["text"]
    assert "สมศรี" not in sms["text"]
    (audit,) = audit_rows(run_db, "change_status")
    assert audit["actor"] == "somchai"
    assert audit["number"] == number
    assert audit["details"] == {
        "from": "received",
        "to": "in_progress",
        "note_length": len(PUBLIC_NOTE),
    }
    page = html(staff_browser.get(response.headers["location"]))
    assert page.select_one("[data-done=status]") is not None
    assert page.select_one("[data-status]")["data-status"] == "in_progress"
    notes = [p.get_text(strip=True) for p in page.select(".timeline__note")]
    assert notes == [PUBLIC_NOTE]


def test_a_request_worked_from_received_to_completed_informs_the_citizen_each_time(
    staff_browser: Browser, run_db: RunDb, number: str
) -> None:
    for status in ("in_progress", "completed"):
        assert act(staff_browser, number, "status", {"status": status}).status_code == 303
    # "<number> <short status word> <link>": one Thai SMS part (portal/templates/sms/status.txt).
    assert [m["text"].split()[1] for m in messages(run_db, "status")] == [
        "กำลังดำเนินการ",
        "เสร็จสิ้น",
    ]
    assert [r["details"]["to"] for r in audit_rows(run_db, "change_status")] == [
        "in_progress",
        "completed",
    ]


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        (["completed"], "received"),
        (["in_progress"], "received"),
        (["completed"], "completed"),
        (["rejected"], "cancelled"),
        ([], "received"),
        ([], "finished"),
        ([], ""),
    ],
)
def test_refused_transitions_answer_422_and_change_nothing(
    staff_browser: Browser, run_db: RunDb, number: str, path: list[str], refused: str
) -> None:
    for status in path:
        assert act(staff_browser, number, "status", {"status": status}).status_code == 303
    before = (
        request_row(run_db, number)["status"],
        events(run_db, number),
        len(messages(run_db, "status")),
        len(audit_rows(run_db, "change_status")),
    )
    response = act(staff_browser, number, "status", {"status": refused, "note": "ลองย้อนกลับ"})
    assert response.status_code == 422
    assert error_text(response) == "เปลี่ยนสถานะนี้ไม่ได้จากสถานะปัจจุบัน"
    assert html(response).title.get_text(strip=True).startswith("ผิดพลาด: ")
    after = (
        request_row(run_db, number)["status"],
        events(run_db, number),
        len(messages(run_db, "status")),
        len(audit_rows(run_db, "change_status")),
    )
    assert after == before


def test_an_overlong_note_to_the_citizen_is_refused_and_kept_for_editing(
    staff_browser: Browser, run_db: RunDb, number: str
) -> None:
    note = "ก" * 1001
    response = act(staff_browser, number, "status", {"status": "in_progress", "note": note})
    assert response.status_code == 422
    assert error_text(response) == "ข้อความยาวเกินไป"
    assert html(response).select_one("textarea#status-note").get_text() == note
    assert request_row(run_db, number)["status"] == "received"
    assert messages(run_db, "status") == []


def test_a_closed_request_can_be_reopened_to_in_progress(
    staff_browser: Browser, run_db: RunDb, number: str
) -> None:
    act(staff_browser, number, "status", {"status": "completed"})
    page = staff_page(staff_browser, number)
    offered = [o["value"] for o in page.select("form[data-action=status] select#status option")]
    assert offered == ["in_progress"]
    assert act(staff_browser, number, "status", {"status": "in_progress"}).status_code == 303
    assert request_row(run_db, number)["status"] == "in_progress"


def test_internal_note_is_shown_to_staff_and_never_to_the_citizen(
    staff_browser: Browser,
    citizen: Browser,
    new_browser: Any,
    run_db: RunDb,
    number: str,
) -> None:
    act(staff_browser, number, "status", {"status": "in_progress", "note": PUBLIC_NOTE})
    response = act(staff_browser, number, "notes", {"text": INTERNAL_NOTE})
    assert response.status_code == 303
    assert response.headers["location"] == f"/staff/requests/{number}?done=note"
    page = staff_page(staff_browser, number)
    (note,) = page.select(".internal-notes li")
    assert note.select_one(".internal-note__text").get_text(strip=True) == INTERNAL_NOTE
    assert "สมชาย ใจดี" in note.get_text()
    (audit,) = audit_rows(run_db, "add_note")
    assert (audit["actor"], audit["number"]) == ("somchai", number)
    assert INTERNAL_NOTE not in str(audit["details"])

    link_page = new_browser().get(f"/t/{tracking_token(run_db, number)}")
    assert link_page.status_code == 200
    tracker = new_browser()
    assert track_verify(tracker, run_db, CITIZEN[0]).status_code == 303
    detail = tracker.get(f"/track/requests/{number}")
    assert detail.status_code == 200
    listing = tracker.get("/track/requests")
    for response in (link_page, detail, listing):
        text = html(response).get_text()
        assert INTERNAL_NOTE not in text
        assert "ห้ามบอกประชาชน" not in text
    # The note to the citizen is there: these are the pages that would show it.
    for response in (link_page, detail):
        notes = [p.get_text(strip=True) for p in html(response).select(".timeline__note")]
        assert notes == [PUBLIC_NOTE]
    assert all(INTERNAL_NOTE not in m["text"] for m in run_db(lambda: SmsMessage.select()))


def test_an_empty_internal_note_is_refused(
    staff_browser: Browser, run_db: RunDb, number: str
) -> None:
    response = act(staff_browser, number, "notes", {"text": "   "})
    assert response.status_code == 422
    assert error_text(response) == "กรุณาพิมพ์บันทึก"
    assert run_db(lambda: StaffNote.count()) == 0
    assert audit_rows(run_db, "add_note") == []


def test_assign_records_the_assignee_and_an_audit_row(
    staff_browser: Browser, run_db: RunDb, settings: Settings, number: str
) -> None:
    colleague = make_staff(run_db, settings, "malee", display_name="มาลี ขยัน")
    response = act(staff_browser, number, "assign", {"staff_id": str(colleague.id)})
    assert response.status_code == 303
    assert response.headers["location"] == f"/staff/requests/{number}?done=assign"
    assert request_row(run_db, number)["assigned_to"] == colleague.id
    (audit,) = audit_rows(run_db, "assign")
    assert (audit["actor"], audit["number"]) == ("somchai", number)
    assert audit["details"] == {"staff_id": colleague.id}
    page = staff_page(staff_browser, number)
    assert page.select_one("select#staff_id option[selected]")["value"] == str(colleague.id)
    inbox = html(staff_browser.get("/staff"))
    row = inbox.select_one(f"tr[data-request-row='{number}']")
    assert row.select("td")[5].get_text(strip=True) == "มาลี ขยัน"
    # And back to nobody.
    assert act(staff_browser, number, "assign", {"staff_id": ""}).status_code == 303
    assert request_row(run_db, number)["assigned_to"] is None
    assert [r["details"] for r in audit_rows(run_db, "assign")][-1] == {"staff_id": None}


def test_assigning_to_an_unknown_or_inactive_account_is_refused(
    staff_browser: Browser, run_db: RunDb, settings: Settings, number: str
) -> None:
    from portal.tables.staff_user import StaffUser

    gone = make_staff(run_db, settings, "gone")
    run_db(lambda: StaffUser.update({StaffUser.active: False}).where(StaffUser.id == gone.id))
    for staff_id in (str(gone.id), "999999"):
        assert act(staff_browser, number, "assign", {"staff_id": staff_id}).status_code == 404
    assert request_row(run_db, number)["assigned_to"] is None
    assert audit_rows(run_db, "assign") == []


@pytest.mark.parametrize("reason", ["", "   ", "ok"])
def test_phone_fix_needs_a_reason(
    staff_browser: Browser, run_db: RunDb, number: str, reason: str
) -> None:
    response = act(staff_browser, number, "phone", {"new_phone": NEW_PHONE[0], "reason": reason})
    assert response.status_code == 422
    assert error_text(response) == "กรุณาระบุเหตุผลและวิธีที่ตรวจสอบตัวตน (อย่างน้อย 5 ตัวอักษร)"
    assert request_row(run_db, number)["phone"] == CITIZEN[1]
    assert messages(run_db, "phone_changed") == []
    assert audit_rows(run_db, "change_phone") == []


@pytest.mark.parametrize(
    ("new_phone", "message"),
    [
        ("021234567", "เบอร์ใหม่ต้องเป็นเบอร์มือถือที่รับ SMS ได้"),
        ("+14155550123", "รับเฉพาะเบอร์มือถือในประเทศไทย"),
        ("hello", "เบอร์โทรศัพท์ใหม่ไม่ถูกต้อง"),
        ("", "เบอร์โทรศัพท์ใหม่ไม่ถูกต้อง"),
        (CITIZEN[0], "เบอร์ใหม่ตรงกับเบอร์เดิม"),
    ],
)
def test_phone_fix_refuses_numbers_that_cannot_get_sms(
    staff_browser: Browser, run_db: RunDb, number: str, new_phone: str, message: str
) -> None:
    response = act(staff_browser, number, "phone", {"new_phone": new_phone, "reason": REASON})
    assert response.status_code == 422
    assert error_text(response) == message
    page = html(response)
    assert page.select_one("details[data-action=phone]").has_attr("open") == bool(new_phone)
    assert request_row(run_db, number)["phone"] == CITIZEN[1]
    assert messages(run_db, "phone_changed") == []
    assert audit_rows(run_db, "change_phone") == []


def test_phone_fix_moves_the_request_to_the_new_number_with_sms_and_audit(
    staff_browser: Browser, run_db: RunDb, new_browser: Any, number: str
) -> None:
    old_tracker = new_browser()
    assert track_verify(old_tracker, run_db, CITIZEN[0]).status_code == 303
    assert old_tracker.get(f"/track/requests/{number}").status_code == 200

    typed = "080-000-0361"
    response = act(staff_browser, number, "phone", {"new_phone": typed, "reason": REASON})
    assert response.status_code == 303
    assert response.headers["location"] == f"/staff/requests/{number}?done=phone"
    assert request_row(run_db, number)["phone"] == NEW_PHONE[1]
    (sms,) = messages(run_db, "phone_changed")
    assert sms["to_phone"] == NEW_PHONE[1]
    assert number in sms["text"]
    assert f"{BASE_URL}/t/{tracking_token(run_db, number)}" in sms["text"]
    (audit,) = audit_rows(run_db, "change_phone")
    assert (audit["actor"], audit["number"]) == ("somchai", number)
    # Masked: the audit log outlives purge, which cannot take numbers out of it.
    assert audit["details"] == {"old": "08x-xxx-0360", "new": "08x-xxx-0361", "reason": REASON}
    assert staff_page(staff_browser, number).select_one("[data-phone]").get_text() == NEW_PHONE[0]

    # The new phone tracks it ...
    tracker = new_browser()
    assert track_verify(tracker, run_db, NEW_PHONE[0]).status_code == 303
    listing = html(tracker.get("/track/requests"))
    assert [n.get_text(strip=True) for n in listing.select("[data-request-number]")] == [number]
    assert tracker.get(f"/track/requests/{number}").status_code == 200
    # ... the old phone's open session no longer reaches it ...
    assert old_tracker.get(f"/track/requests/{number}").status_code == 404

    # ... and the old phone's own list, like any phone's without requests, says so honestly.
    old_list = html(old_tracker.get("/track/requests"))
    assert old_list.select("[data-request-number]") == []
    assert old_list.select_one("[data-no-requests]") is not None


def test_what_citizens_typed_is_shown_as_text_not_markup(
    staff_browser: Browser, run_db: RunDb
) -> None:
    from tests.staff.helpers import file_direct

    script = "<script>alert('x')</script>"
    number = file_direct(
        run_db,
        "+66800000362",
        {**GENERAL_REQUEST_ANSWERS, "first_name": script, "subject": f"<b>{script}</b>"},
    ).number
    for path in (f"/staff/requests/{number}?done=%22%3E%3Cscript%3E1%3C/script%3E", "/staff"):
        response = staff_browser.get(path)
        assert response.status_code == 200
        page = html(response)
        scripts = [tag.get_text() for tag in page.select("script")]
        assert all("alert" not in text and text.strip() != "1" for text in scripts), path
        assert page.select("b") == [], path
        assert script in page.get_text(), path


ANONYMISED = (
    "คำร้องนี้ลบข้อมูลส่วนบุคคลแล้วเมื่อครบระยะเวลาเก็บรักษา จึงเปลี่ยนสถานะ แก้ไขเบอร์โทรศัพท์"
    " เพิ่มบันทึก หรือเพิ่มรูปไม่ได้อีก หากประชาชนยังต้องการให้ดำเนินการ กรุณาให้ยื่นคำร้องใหม่"
)


def test_an_anonymised_request_takes_no_new_work_and_offers_none(
    staff_browser: Browser, run_db: RunDb, number: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    import portal.privacy.retention as retention
    from portal.kernel.clock import utcnow
    from portal.privacy.retention import purge
    from portal.tables.attachment import Attachment
    from tests.staff.helpers import default_office

    assert act(staff_browser, number, "status", {"status": "completed"}).status_code == 303
    # Purge runs an hour later: the audit log's clock is the fixed test clock, which may be
    # a few seconds ahead, and work audited after the cutoff keeps a request (point 9).
    monkeypatch.setattr(retention, "utcnow", lambda: utcnow() + timedelta(hours=1))
    report = run_db(lambda: purge(office=default_office(), retention_days=0, store=None))
    assert report.numbers == [number]
    before = (
        request_row(run_db, number),
        events(run_db, number),
        run_db(lambda: SmsMessage.count()),
        run_db(lambda: StaffNote.count()),
        run_db(lambda: Attachment.count()),
    )

    page = staff_page(staff_browser, number)
    for action in ("status", "note", "phone", "photo"):
        assert page.select_one(f"[data-action={action}]") is None, action
    assert page.select_one("[data-anonymised-actions]").get_text(" ", strip=True) == ANONYMISED

    token = csrf_token(staff_browser, f"/staff/requests/{number}")
    attempts = [
        act(staff_browser, number, "status", {"status": "in_progress"}),
        act(staff_browser, number, "notes", {"text": INTERNAL_NOTE}),
        act(staff_browser, number, "phone", {"new_phone": NEW_PHONE[0], "reason": REASON}),
        staff_browser.post(
            f"/staff/requests/{number}/photos",
            data={"_csrf_token": token},
            files={"photo": ("after.jpg", b"not even an image", "image/jpeg")},
            follow_redirects=False,
        ),
    ]
    for response in attempts:
        assert response.status_code == 422, response.request.url
        assert error_text(response) == ANONYMISED
    after = (
        request_row(run_db, number),
        events(run_db, number),
        run_db(lambda: SmsMessage.count()),
        run_db(lambda: StaffNote.count()),
        run_db(lambda: Attachment.count()),
    )
    assert after == before
    # Nothing but page views was audited after the purge: no action went through.
    assert [r["action"] for r in audit_rows(run_db) if r["action"] != "view_request"][-1] == "purge"
