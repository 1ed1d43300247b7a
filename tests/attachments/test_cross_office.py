"""Files belong to one office (issue 16): every row an upload leaves (the pending file, its
refusal, the request's file, staff's after photo) carries the office; another office's file,
pending upload or request is as missing as one that never existed; a phone's upload quota
counts per office.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.attachments.after_photos import add_after_photo
from portal.attachments.config import AttachmentConfig
from portal.attachments.downloads import file_for_phone, file_for_staff, file_for_uploader
from portal.attachments.media import media_for_phone, media_for_staff
from portal.attachments.pending import (
    IN_PROGRESS,
    PENDING_PER_PHONE,
    add_pending,
    clean_stale_pending,
    link_pending,
    pending_for,
    remove_pending,
)
from portal.attachments.processing import UploadRejected
from portal.attachments.storage import AttachmentStore
from portal.catalogue.service import get_active_service
from portal.citizen.service import FiledRequest, file_request
from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.settings import Settings
from portal.sms.outbox import SmsConfig
from portal.tables.attachment import Attachment
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.tables.upload_refusal import UploadRefusal
from tests.attachments.helpers import jpeg_with_gps, phone
from tests.citizen.helpers import new_submission_key
from tests.conftest import RunDb, fresh, without_reference
from tests.offices import create_office
from tests.security.cross_office import A_HOST, browser_at, make_office_staff, make_offices
from tests.staff.helpers import Clock, sign_in
from tests.tracking.helpers import HERE, office_ref

SMS = SmsConfig("OSS-LOCAL", "outbox")
CITIZEN = phone(500)[1]
COMPLAINT = {
    "first_name": "สมศรี",
    "last_name": "ทดสอบ",
    "topic": "เหตุเดือดร้อนรำคาญ",
    "place": "หน้าตลาดสด",
    "details": "ไฟถนนดับทั้งซอย",
}


def _store(settings: Settings) -> AttachmentStore:
    return AttachmentConfig.from_settings(settings).store


async def _pending(store: AttachmentStore, office: OfficeRef, key: str, who: str = CITIZEN) -> int:
    info = await add_pending(
        store,
        office=office,
        upload_group=key,
        phone=who,
        data=jpeg_with_gps((320, 240)),
        original_name="photo.jpg",
        max_bytes=10 * 1024 * 1024,
        max_files=5,
    )
    return info.id


async def _file_with_photo(store: AttachmentStore, office: OfficeRef) -> tuple[FiledRequest, int]:
    """A complaint of ``office`` filed by ``CITIZEN`` with one photo: (request, photo id)."""
    key = new_submission_key()
    photo = await _pending(store, office, key)
    service = await get_active_service("complaint", office=office)
    assert service is not None
    filed = await file_request(
        service=service,
        phone=CITIZEN,
        answers=COMPLAINT,
        submission_key=key,
        sms=SMS,
        office=office,
        attachment_ids=[photo],
    )
    return filed, photo


@pytest.fixture
def there() -> OfficeRef:
    return office_ref(fresh(create_office("nongbua")), "nongbua")


@pytest.mark.usefixtures("database")
def test_every_row_of_an_upload_carries_its_office(settings: Settings, there: OfficeRef) -> None:
    store = _store(settings)
    filed, photo = fresh(_file_with_photo(store, there))
    fresh(
        UploadRefusal.insert(
            UploadRefusal(
                office=there.id,
                phone=CITIZEN,
                upload_group="k",
                reason="wrong_type",
                created_at=utcnow(),
            )
        )
    )

    async def after() -> int:
        info = await add_after_photo(
            store,
            office=there,
            number=filed.number,
            staff_id=None,  # type: ignore[arg-type]
            actor="test",
            client_ip="",
            data=jpeg_with_gps((320, 240)),
            original_name="after.jpg",
            max_bytes=10 * 1024 * 1024,
        )
        return info.id

    after_id = fresh(after())
    rows = fresh(Attachment.select(Attachment.id, Attachment.office))
    assert {row["id"]: row["office"] for row in rows} == {photo: there.id, after_id: there.id}
    # A placeholder slot held while a file is checked is the office's too.
    slots = fresh(UploadRefusal.select(UploadRefusal.office, UploadRefusal.reason))
    assert all(slot["office"] == there.id for slot in slots)
    assert IN_PROGRESS not in {slot["reason"] for slot in slots}


@pytest.mark.usefixtures("database")
def test_another_offices_file_is_missing_for_staff_phone_and_uploader(
    settings: Settings, there: OfficeRef
) -> None:
    store = _store(settings)
    filed, photo = fresh(_file_with_photo(store, there))
    for variant in ("full", "preview"):
        assert fresh(file_for_staff(store, photo, variant, office=HERE)) is None
        assert fresh(file_for_phone(store, photo, variant, CITIZEN, office=HERE)) is None
        assert fresh(file_for_staff(store, photo, variant, office=there)) is not None
        assert fresh(file_for_phone(store, photo, variant, CITIZEN, office=there)) is not None
    assert fresh(media_for_phone(filed.number, CITIZEN, office=HERE)) is None
    nothing = fresh(media_for_staff(filed.id, office=HERE))
    assert nothing.attachments == [] and nothing.place is None
    assert [a.id for a in fresh(media_for_staff(filed.id, office=there)).attachments] == [photo]


@pytest.mark.usefixtures("database")
def test_another_offices_pending_upload_cannot_be_read_removed_or_filed(
    settings: Settings, there: OfficeRef
) -> None:
    store = _store(settings)
    key = new_submission_key()
    theirs = fresh(_pending(store, there, key))
    assert fresh(pending_for(key, CITIZEN, office=HERE)) == []
    found = fresh(
        file_for_uploader(store, theirs, "full", office=HERE, upload_group=key, phone=CITIZEN)
    )
    assert found is None
    removed = fresh(
        remove_pending(store, office=HERE, upload_group=key, phone=CITIZEN, attachment_id=theirs)
    )
    assert removed is False
    with pytest.raises(UploadRejected) as refused:
        fresh(
            link_pending(
                office=HERE, request_id=1, upload_group=key, phone=CITIZEN, attachment_ids=[theirs]
            )
        )
    assert refused.value.code == "missing"
    # Still there, at its own office.
    assert [a.id for a in fresh(pending_for(key, CITIZEN, office=there))] == [theirs]


@pytest.mark.usefixtures("database")
def test_the_per_phone_upload_quota_counts_per_office(settings: Settings, there: OfficeRef) -> None:
    store = _store(settings)

    async def fill_quota_there() -> None:
        for n in range(PENDING_PER_PHONE):
            await UploadRefusal(
                office=there.id,
                phone=CITIZEN,
                upload_group=f"form-{n}",
                reason="wrong_type",
                created_at=utcnow(),
            ).save()

    fresh(fill_quota_there())
    with pytest.raises(UploadRejected) as refused:
        fresh(_pending(store, there, new_submission_key()))
    assert refused.value.code == "too_many_pending"
    # The same phone at this office has its own quota.
    assert fresh(_pending(store, HERE, new_submission_key())) > 0


@pytest.mark.usefixtures("database")
def test_an_after_photo_for_another_offices_number_is_an_unknown_request(
    settings: Settings, there: OfficeRef
) -> None:
    store = _store(settings)
    filed, _ = fresh(_file_with_photo(store, there))
    with pytest.raises(LookupError):
        fresh(
            add_after_photo(
                store,
                office=HERE,
                number=filed.number,
                staff_id=None,  # type: ignore[arg-type]
                actor="test",
                client_ip="",
                data=jpeg_with_gps((320, 240)),
                original_name="after.jpg",
                max_bytes=10 * 1024 * 1024,
            )
        )
    assert fresh(Attachment.count().where(Attachment.office == DEFAULT_OFFICE_ID)) == 0


def test_a_s_staff_get_the_same_404_for_b_s_file_as_for_a_missing_one(
    client: TestClient[Litestar], run_db: RunDb, settings: Settings, clock: Clock
) -> None:
    a, b = make_offices(client.app, run_db)
    _, photo = run_db(lambda: _file_with_photo(_store(settings), b))
    officer = make_office_staff(run_db, settings, a, "a-officer")
    browser = sign_in(browser_at(client.app, client, A_HOST), officer, clock)
    missing: Any = browser.get(f"/staff/attachments/{photo + 100_000}/full")
    theirs: Any = browser.get(f"/staff/attachments/{photo}/full")
    assert missing.status_code == theirs.status_code == 404
    # The same page, but for the id in its own links (the language switch).
    same_missing = without_reference(missing.text).replace(f"/{photo + 100_000}/", "/ID/")
    assert same_missing == without_reference(theirs.text).replace(f"/{photo}/", "/ID/")


@pytest.mark.usefixtures("database")
def test_cleaning_unsent_uploads_goes_through_every_office(
    settings: Settings, there: OfficeRef
) -> None:
    store = _store(settings)
    mine = fresh(_pending(store, HERE, new_submission_key()))
    theirs = fresh(_pending(store, there, new_submission_key()))
    assert {mine, theirs} == {row["id"] for row in fresh(Attachment.select(Attachment.id))}
    later = utcnow() + timedelta(days=2)
    assert fresh(clean_stale_pending(store, now=later)) == 2
    assert fresh(Attachment.count()) == 0
