"""Uploads on the open form, filing with them, and who may see the files (issue 9)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from PIL import Image

from portal.settings import Settings
from portal.tables.attachment import Attachment
from portal.tables.citizen_request import CitizenRequest
from portal.tables.service import Service
from tests.attachments.helpers import (
    COMPLAINT,
    SERVICE,
    file_complaint,
    jpeg_with_gps,
    open_form,
    pdf,
    pending_ids,
    phone,
    png_bomb,
    upload,
)
from tests.conftest import csrf_token, html

Browser = TestClient[Litestar]


def _error(response: Any) -> str:
    found = html(response).select_one("[data-upload-error]")
    assert found is not None, response.text
    return str(found["data-upload-error"])


def _rows(run_db: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = run_db(lambda: Attachment.select().order_by(Attachment.id))
    return rows


def test_the_complaint_form_offers_photos_and_a_place(client: Browser, run_db: Any) -> None:
    open_form(client, run_db, 0)
    page = html(client.get(f"/e-service/{SERVICE}/form"))
    form = page.select_one("form[action='/e-service/complaint/form']")
    assert form is not None and form["enctype"] == "multipart/form-data"
    picker = page.select_one("input[type=file][name=photos]")
    assert picker is not None
    assert picker["accept"] == "image/*,application/pdf"
    assert not picker.has_attr("capture")  # the gallery stays available
    assert picker.has_attr("multiple")
    box = page.select_one("[data-uploads]")
    assert box["data-upload-url"] == "/e-service/complaint/form/attachments"
    assert page.select_one("button[data-locate]").get_text(strip=True) == "ใช้ตำแหน่งปัจจุบัน"
    assert page.select_one("[data-locate-box]").has_attr("hidden")  # shown by script only
    for part in ("village", "subdistrict", "district", "province", "lat", "lng"):
        assert page.select_one(f"input[name=location_{part}]") is not None
    # The first submit button is filing, so Enter in a text box never removes a file.
    assert page.select("form button[type=submit]")[0].get("name") is None


def test_an_upload_becomes_a_pending_file_of_this_form(client: Browser, run_db: Any) -> None:
    key = open_form(client, run_db, 1)
    response = upload(client, key, jpeg_with_gps(), name="ไฟดับ.jpg")
    assert response.status_code == 200
    (row,) = _rows(run_db)
    assert row["request"] is None
    assert row["upload_group"] == key
    assert row["phone"] == phone(1)[1]
    assert row["content_type"] == "image/jpeg"
    assert row["original_name"] == "ไฟดับ.jpg"
    assert "ไฟดับ" not in row["storage_key"] and row["storage_key"].endswith(".jpg")
    assert pending_ids(response) == [row["id"]]
    thumb = html(response).select_one("img.upload__thumb")
    preview = client.get(str(thumb["src"]))
    assert preview.status_code == 200
    assert preview.headers["content-type"] == "image/jpeg"
    assert preview.headers["cache-control"] == "private, no-store"
    assert preview.headers["x-content-type-options"] == "nosniff"
    assert preview.headers["content-disposition"].startswith("inline; filename=")


def test_type_comes_from_the_content_never_the_name_or_claimed_type(
    client: Browser, run_db: Any
) -> None:
    key = open_form(client, run_db, 2)
    # A PDF named like a photo and claimed as one is stored as the PDF it is.
    assert upload(client, key, pdf(), name="photo.jpg", mime="image/jpeg").status_code == 200
    # Text named like a photo is refused.
    refused = upload(client, key, b"just text", name="photo.jpg", mime="image/jpeg")
    assert refused.status_code == 422
    assert _error(refused) == "wrong_type"
    assert "แนบได้เฉพาะรูปภาพ" in refused.text
    # A photo named like a PDF is a photo.
    assert (
        upload(client, key, jpeg_with_gps(), name="doc.pdf", mime="application/pdf").status_code
        == 200
    )
    assert [row["content_type"] for row in _rows(run_db)] == ["application/pdf", "image/jpeg"]


def test_bad_uploads_get_a_thai_message_and_a_4xx(
    client: Browser, run_db: Any, settings: Settings
) -> None:
    key = open_form(client, run_db, 3)
    bomb = upload(client, key, png_bomb(), name="big.png", mime="image/png")
    assert bomb.status_code == 422 and _error(bomb) == "too_many_pixels"
    assert "รูปภาพมีขนาดใหญ่ผิดปกติ" in bomb.text
    corrupt = upload(client, key, jpeg_with_gps()[:2000])
    assert corrupt.status_code == 422 and _error(corrupt) == "corrupt"
    big = jpeg_with_gps() + b"\x00" * (settings.attachment_max_bytes + 1)
    oversized = upload(client, key, big)
    assert oversized.status_code == 413 and _error(oversized) == "too_large"
    assert "10 MB" in oversized.text
    assert _rows(run_db) == []


def test_at_most_five_files_per_form(client: Browser, run_db: Any) -> None:
    key = open_form(client, run_db, 4)
    for _ in range(5):
        assert upload(client, key, jpeg_with_gps()).status_code == 200
    sixth = upload(client, key, jpeg_with_gps())
    assert sixth.status_code == 422
    assert _error(sixth) == "too_many"
    assert "ไม่เกิน 5 ไฟล์" in sixth.text
    assert len(_rows(run_db)) == 5


def test_one_phone_cannot_fill_the_disk_by_reopening_the_form(client: Browser, run_db: Any) -> None:
    """Each opened form has its own five; a phone's files on forms not sent stop at 15."""
    keys = [open_form(client, run_db, 4)]
    for _ in range(3):
        page = html(client.get(f"/e-service/{SERVICE}/form"))
        keys.append(str(page.select_one("input[name=submission_key]")["value"]))
    assert len(set(keys)) == 4
    for key in keys[:3]:
        for _ in range(5):
            assert upload(client, key, jpeg_with_gps((64, 48))).status_code == 200
    fourth_form = keys[3]
    refused = upload(client, fourth_form, jpeg_with_gps((64, 48)))
    assert refused.status_code == 422
    assert _error(refused) == "too_many_pending"
    assert "แนบค้างไว้" in refused.text
    assert len(_rows(run_db)) == 15


def test_upload_needs_the_verified_phone_and_the_forms_key(
    client: Browser, new_browser: Any, run_db: Any
) -> None:
    key = open_form(client, run_db, 5)
    stranger = new_browser()
    open_form(stranger, run_db, 6)
    # The stranger's own session is verified, but this key vouches for another browser.
    refused = upload(stranger, key, jpeg_with_gps())
    assert refused.status_code == 403
    assert upload(client, "not-a-key", jpeg_with_gps()).status_code == 403
    assert _rows(run_db) == []


def test_filing_links_the_pending_uploads_with_the_place(client: Browser, run_db: Any) -> None:
    key = open_form(client, run_db, 7)
    ids = pending_ids(upload(client, key, jpeg_with_gps()))
    ids = pending_ids(upload(client, key, pdf(), name="แผนที่.pdf"))
    assert len(ids) == 2
    response = file_complaint(
        client,
        key,
        attachment_ids=ids,
        location_lat="13.756331",
        location_lng="100.501765",
        location_village="หมู่ 3 บ้านหนองบัว",
        location_province="ขอนแก่น",
    )
    assert response.status_code == 303, response.text
    number = response.headers["location"].rsplit("/", 1)[1]
    request = run_db(
        lambda: CitizenRequest.objects().where(CitizenRequest.number == number).first()
    )
    assert (request.location_lat, request.location_lng) == (13.756331, 100.501765)
    assert request.location_text == "หมู่ 3 บ้านหนองบัว, ขอนแก่น"
    assert "location_lat" not in str(request.answers) and "photos" not in str(request.answers)
    assert [row["request"] for row in _rows(run_db)] == [request.id, request.id]


def test_a_missing_upload_refuses_filing_and_keeps_the_form(client: Browser, run_db: Any) -> None:
    key = open_form(client, run_db, 8)
    (kept,) = pending_ids(upload(client, key, jpeg_with_gps()))
    response = file_complaint(client, key, attachment_ids=[kept, kept + 1000])
    assert response.status_code == 422
    page = html(response)
    assert "ไม่พบไฟล์ที่แนบไว้" in page.select_one(".error-summary").get_text()
    assert page.select_one("#f-first_name")["value"] == COMPLAINT["first_name"]
    assert pending_ids(response) == [kept]
    assert run_db(lambda: CitizenRequest.count()) == 0
    assert _rows(run_db)[0]["request"] is None


def test_another_forms_upload_cannot_be_filed(client: Browser, run_db: Any) -> None:
    key = open_form(client, run_db, 9)
    (theirs,) = pending_ids(upload(client, key, jpeg_with_gps()))
    other_key = str(
        html(client.get(f"/e-service/{SERVICE}/form")).select_one("input[name=submission_key]")[
            "value"
        ]
    )
    response = file_complaint(client, other_key, attachment_ids=[theirs])
    assert response.status_code == 422
    assert run_db(lambda: CitizenRequest.count()) == 0


def test_without_javascript_the_form_posts_its_files(client: Browser, run_db: Any) -> None:
    key = open_form(client, run_db, 10)
    # A mistake elsewhere: the photo is kept as a pending upload, the words as typed.
    response = file_complaint(
        client, key, files=[("a.jpg", jpeg_with_gps(), "image/jpeg")], first_name=""
    )
    assert response.status_code == 422
    ids = pending_ids(response)
    assert len(ids) == 1
    assert html(response).select_one("#f-details").get_text() == COMPLAINT["details"]
    # Fixed, with a second photo: both are filed.
    response = file_complaint(
        client, key, attachment_ids=ids, files=[("b.png", jpeg_with_gps(), "image/png")]
    )
    assert response.status_code == 303, response.text
    assert len([row for row in _rows(run_db) if row["request"] is not None]) == 2


def test_without_javascript_a_bad_file_keeps_the_rest_of_the_form(
    client: Browser, run_db: Any
) -> None:
    key = open_form(client, run_db, 11)
    response = file_complaint(
        client,
        key,
        files=[("x.jpg", b"not a photo", "image/jpeg"), ("ok.jpg", jpeg_with_gps(), "image/jpeg")],
        location_district="เมือง",
    )
    assert response.status_code == 422
    page = html(response)
    assert page.select_one("#f-photos-error") is not None
    assert page.select_one("#f-photos")["aria-invalid"] == "true"
    assert page.select_one("input[name=location_district]")["value"] == "เมือง"
    assert len(pending_ids(response)) == 1  # the good one is kept
    assert run_db(lambda: CitizenRequest.count()) == 0


def test_removing_a_pending_file_files_nothing(client: Browser, run_db: Any) -> None:
    key = open_form(client, run_db, 12)
    upload(client, key, jpeg_with_gps())
    ids = pending_ids(upload(client, key, jpeg_with_gps()))
    response = file_complaint(client, key, attachment_ids=ids, remove_attachment=str(ids[0]))
    assert response.status_code == 200
    assert pending_ids(response) == [ids[1]]
    assert html(response).select_one("#f-place").get_text() == COMPLAINT["place"]
    assert [row["id"] for row in _rows(run_db)] == [ids[1]]
    assert run_db(lambda: CitizenRequest.count()) == 0


def test_stored_photo_has_no_gps(client: Browser, run_db: Any, settings: Settings) -> None:
    key = open_form(client, run_db, 13)
    upload(client, key, jpeg_with_gps())
    (row,) = _rows(run_db)
    stored = (
        settings.data_dir / "uploads" / row["storage_key"][:2] / row["storage_key"]
    ).read_bytes()
    assert len(Image.open(io.BytesIO(stored)).getexif()) == 0
    assert b"TestPhone" not in stored


@pytest.fixture
def complaint_allows_two(run_db: Any) -> Iterator[None]:
    """The complaint form takes at most two files (other services keep five)."""
    row = run_db(lambda: Service.select(Service.form_fields).where(Service.slug == SERVICE).first())
    original = row["form_fields"]
    fields = json.loads(original) if isinstance(original, str) else original
    for field in fields:
        if field["kind"] == "attachments":
            field["max_files"] = 2
    update = Service.update({Service.form_fields: json.dumps(fields, ensure_ascii=False)})
    run_db(lambda: update.where(Service.slug == SERVICE))
    yield
    restore = Service.update({Service.form_fields: original})
    run_db(lambda: restore.where(Service.slug == SERVICE))


@pytest.mark.usefixtures("complaint_allows_two")
def test_files_uploaded_through_another_service_still_meet_this_services_limit(
    client: Browser, run_db: Any
) -> None:
    key = open_form(client, run_db, 0)
    token = csrf_token(client, f"/e-service/{SERVICE}/form")
    for n in range(3):
        response = client.post(
            "/e-service/street-light/form/attachments",
            data={"submission_key": key},
            files={"file": (f"{n}.jpg", jpeg_with_gps(), "image/jpeg")},
            headers={"x-csrftoken": token},
        )
        assert response.status_code == 200
    ids = [row["id"] for row in _rows(run_db)]
    assert len(ids) == 3
    response = file_complaint(client, key, attachment_ids=ids)
    assert response.status_code == 422
    message = html(response).select_one("#f-photos-error")
    assert message is not None and "ไม่เกิน 2 ไฟล์" in message.get_text()
    assert run_db(lambda: CitizenRequest.count()) == 0
    assert all(row["request"] is None for row in _rows(run_db))


def test_a_form_already_filed_takes_no_more_uploads(client: Browser, run_db: Any) -> None:
    key = open_form(client, run_db, 0)
    assert file_complaint(client, key).status_code == 303
    response = upload(client, key, jpeg_with_gps())
    assert response.status_code == 409
    assert _error(response) == "already_sent"
    assert _rows(run_db) == []
