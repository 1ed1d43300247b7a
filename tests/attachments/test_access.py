"""Who may see a filed request's files (issue 9): staff, the phone that filed it after OTP;
never the SMS link alone, another phone, or nobody. Plus staff's "after" photo."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from portal.attachments.config import AttachmentConfig
from portal.attachments.pending import clean_stale_pending
from portal.kernel.clock import utcnow
from portal.settings import Settings
from portal.tables.attachment import Attachment
from tests.attachments.helpers import (
    SERVICE,
    file_complaint,
    jpeg_with_gps,
    open_form,
    pdf,
    pending_ids,
    phone,
    upload,
)
from tests.conftest import csrf_token, html
from tests.staff.helpers import (
    Clock,
    audit_rows,
    make_staff,
    sign_in,
    track_verify,
    tracking_token,
)

Browser = TestClient[Litestar]


def _file_with_photo_and_pdf(browser: Browser, run_db: Any, n: int) -> tuple[str, list[int]]:
    key = open_form(browser, run_db, n)
    upload(browser, key, jpeg_with_gps())
    ids = pending_ids(upload(browser, key, pdf(), name="หลักฐาน.pdf"))
    response = file_complaint(
        browser, key, attachment_ids=ids, location_lat="16.432100", location_lng="102.823600"
    )
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[1], ids


def _get(browser: Browser, path: str) -> Any:
    return browser.get(path, follow_redirects=False)


def test_staff_see_thumbnails_the_place_and_open_full_size(
    client: Browser, new_browser: Any, run_db: Any, settings: Settings, clock: Clock
) -> None:
    number, (photo, document) = _file_with_photo_and_pdf(new_browser(), run_db, 100)
    staff = sign_in(new_browser(), make_staff(run_db, settings), clock)
    page = html(staff.get(f"/staff/requests/{number}"))
    thumbs = page.select(".media-list img")
    assert [img["src"] for img in thumbs] == [f"/staff/attachments/{photo}/preview"]
    assert thumbs[0]["alt"].startswith("รูปที่ 1")
    assert (
        page.select_one(".media-list a.media__pdf")["href"] == f"/staff/attachments/{document}/full"
    )
    assert page.select_one("[data-map-link]")["href"] == (
        "https://www.google.com/maps/search/?api=1&query=16.432100,102.823600"
    )
    assert page.select_one("[data-geo-link]")["href"].startswith("geo:16.432100,102.823600")
    full = _get(staff, f"/staff/attachments/{photo}/full")
    assert full.status_code == 200 and full.headers["content-type"] == "image/jpeg"
    assert full.headers["cache-control"] == "private, no-store"
    pdf_answer = _get(staff, f"/staff/attachments/{document}/full")
    assert pdf_answer.headers["content-type"] == "application/pdf"
    assert (
        pdf_answer.headers["content-disposition"]
        == f'attachment; filename="document-{document}.pdf"'
    )
    assert _get(staff, f"/staff/attachments/{document}/preview").status_code == 404
    assert _get(staff, f"/staff/attachments/{photo}/original").status_code == 404


def test_the_verified_phone_sees_its_files_in_way_2(
    client: Browser, new_browser: Any, run_db: Any
) -> None:
    number, (photo, _) = _file_with_photo_and_pdf(new_browser(), run_db, 101)
    citizen = new_browser()
    assert track_verify(citizen, run_db, phone(101)[0]).status_code == 303
    page = html(citizen.get(f"/track/requests/{number}"))
    assert page.select_one(".media-list img")["src"] == f"/track/attachments/{photo}/preview"
    assert page.select_one("[data-place-point]").get_text() == "16.432100,102.823600"
    assert _get(citizen, f"/track/attachments/{photo}/full").status_code == 200
    assert _get(citizen, f"/track/attachments/{photo}/preview").status_code == 200


def test_the_sms_link_alone_shows_no_files(client: Browser, new_browser: Any, run_db: Any) -> None:
    number, (photo, document) = _file_with_photo_and_pdf(new_browser(), run_db, 102)
    holder = new_browser()  # has the SMS, never proved the phone on this browser
    page = holder.get(f"/t/{tracking_token(run_db, number)}")
    assert page.status_code == 200
    assert html(page).select(".media-list, img[src*=attachments], [data-place]") == []
    for path in (
        f"/track/attachments/{photo}/preview",
        f"/track/attachments/{photo}/full",
        f"/track/attachments/{document}/full",
        f"/e-service/uploads/{photo}/full",
        f"/staff/attachments/{photo}/full",
    ):
        answer = _get(holder, path)
        assert answer.status_code in (303, 404), path
        assert not answer.headers.get("content-type", "").startswith(("image/", "application/pdf"))


def test_another_phone_gets_the_same_404_as_a_missing_file(
    client: Browser, new_browser: Any, run_db: Any
) -> None:
    _, (photo, _) = _file_with_photo_and_pdf(new_browser(), run_db, 103)
    other = new_browser()
    _file_with_photo_and_pdf(other, run_db, 104)
    assert track_verify(other, run_db, phone(104)[0]).status_code == 303
    theirs = _get(other, f"/track/attachments/{photo}/full")
    missing = _get(other, "/track/attachments/999999999/full")
    assert theirs.status_code == missing.status_code == 404
    assert html(theirs).select_one("h1").get_text() == html(missing).select_one("h1").get_text()


def test_nobody_reads_a_pending_upload_but_its_uploader(
    client: Browser, new_browser: Any, run_db: Any, settings: Settings, clock: Clock
) -> None:
    key = open_form(client, run_db, 105)
    (pending,) = pending_ids(upload(client, key, jpeg_with_gps()))
    own = f"/e-service/uploads/{pending}/preview?key={key}"
    assert _get(client, own).status_code == 200
    assert _get(client, f"/e-service/uploads/{pending}/preview").status_code == 404
    stranger = new_browser()
    open_form(stranger, run_db, 106)
    assert _get(stranger, own).status_code == 404
    staff = sign_in(new_browser(), make_staff(run_db, settings), clock)
    assert _get(staff, f"/staff/attachments/{pending}/full").status_code == 404
    assert _get(new_browser(), own).status_code == 404


def test_staff_add_an_after_photo_audited_and_the_citizen_sees_it(
    client: Browser, new_browser: Any, run_db: Any, settings: Settings, clock: Clock
) -> None:
    number, _ = _file_with_photo_and_pdf(new_browser(), run_db, 107)
    staff = sign_in(new_browser(), make_staff(run_db, settings), clock)
    token = csrf_token(staff, f"/staff/requests/{number}")
    path = f"/staff/requests/{number}/photos"
    refused = staff.post(
        path, data={"_csrf_token": token}, files={"photo": ("a.pdf", pdf(), "application/pdf")}
    )
    assert refused.status_code == 422
    assert "แนบได้เฉพาะรูปภาพ" in html(refused).select_one(".error-summary").get_text()
    done = staff.post(
        path,
        data={"_csrf_token": token},
        files={"photo": ("after.jpg", jpeg_with_gps(), "image/jpeg")},
        follow_redirects=False,
    )
    assert done.status_code == 303
    after = run_db(lambda: Attachment.select().where(Attachment.stage == "after").first())
    assert after["uploaded_by"] is not None
    (event,) = audit_rows(run_db, "add_after_photo")
    assert event["number"] == number and event["details"] == {"attachment_id": after["id"]}
    citizen = new_browser()
    track_verify(citizen, run_db, phone(107)[0])
    page = html(citizen.get(f"/track/requests/{number}"))
    headings = [h.get_text() for h in page.select("h2")]
    assert "รูปถ่ายและเอกสารที่แนบ" in headings and "รูปหลังดำเนินการ" in headings
    assert page.select(".media-list")[-1].select_one("img")["src"] == (
        f"/track/attachments/{after['id']}/preview"
    )


def test_stale_pending_uploads_are_cleaned_with_their_files(
    client: Browser, run_db: Any, settings: Settings
) -> None:
    key = open_form(client, run_db, 108)
    upload(client, key, jpeg_with_gps())
    upload(client, key, pdf())
    store = AttachmentConfig.from_settings(settings).store
    assert run_db(lambda: clean_stale_pending(store)) == 0
    rows = run_db(lambda: Attachment.select())
    later = utcnow() + timedelta(days=1, minutes=1)
    assert run_db(lambda: clean_stale_pending(store, now=later)) == 2
    assert run_db(lambda: Attachment.count()) == 0
    uploads = settings.data_dir / "uploads"
    assert not [p for p in uploads.rglob("*") if p.is_file()], rows
    assert SERVICE
