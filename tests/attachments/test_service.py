"""Removing pending uploads never takes the files of an upload that filing linked meanwhile;
staff's "after" photos are decoded outside the request's lock and stop at five."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.attachments import after_photos
from portal.attachments.config import AttachmentConfig
from portal.attachments.pending import clean_stale_pending, remove_pending
from portal.attachments.processing import UploadRejected
from portal.kernel.clock import utcnow
from portal.settings import Settings
from portal.tables.attachment import Attachment
from portal.tables.citizen_request import CitizenRequest
from tests.attachments.helpers import (
    attach_after_photo,
    file_complaint,
    jpeg_with_gps,
    open_form,
    pending_ids,
    phone,
    upload,
)
from tests.staff.helpers import default_office, make_staff

Browser = TestClient[Litestar]


class _FiledJustBefore:
    """A delete of attachments that, when it runs, finds the upload already linked: as if
    filing committed between the moment the rows were chosen and the delete."""

    def __init__(self, query: Any, link: Callable[[], Awaitable[Any]]) -> None:
        self.query, self.link = query, link

    def where(self, *args: Any) -> _FiledJustBefore:
        self.query = self.query.where(*args)
        return self

    def returning(self, *args: Any) -> _FiledJustBefore:
        self.query = self.query.returning(*args)
        return self

    def __await__(self) -> Generator[Any, None, Any]:
        return self._run().__await__()

    async def _run(self) -> Any:
        await self.link()
        return await self.query


def _upload_filed_meanwhile(
    client: Browser, run_db: Any, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    key = open_form(client, run_db, 300)
    (attachment_id,) = pending_ids(upload(client, key, jpeg_with_gps()))
    assert file_complaint(client, key).status_code == 303  # filed without the photo
    request_id = run_db(lambda: CitizenRequest.select(CitizenRequest.id).first())["id"]

    def link() -> Any:
        return Attachment.update({Attachment.request: request_id}).where(
            Attachment.id == attachment_id
        )

    original = Attachment.delete
    monkeypatch.setattr(
        Attachment, "delete", lambda *a, **k: _FiledJustBefore(original(*a, **k), link)
    )
    row: dict[str, Any] = run_db(lambda: Attachment.select().first())
    row["upload_group"] = key
    return row


def test_removing_a_pending_upload_keeps_the_files_of_one_filed_meanwhile(
    client: Browser, run_db: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = _upload_filed_meanwhile(client, run_db, monkeypatch)
    store = AttachmentConfig.from_settings(settings).store
    removed = run_db(
        lambda: remove_pending(
            store,
            office=default_office(),
            upload_group=row["upload_group"],
            phone=phone(300)[1],
            attachment_id=row["id"],
        )
    )
    assert removed is False
    assert run_db(lambda: Attachment.select(Attachment.request).first())["request"] is not None
    assert store.open(row["storage_key"]) and store.open(row["preview_key"])


def test_cleaning_stale_uploads_keeps_the_files_of_one_filed_meanwhile(
    client: Browser, run_db: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = _upload_filed_meanwhile(client, run_db, monkeypatch)
    store = AttachmentConfig.from_settings(settings).store
    later = utcnow() + timedelta(days=1, minutes=1)
    assert run_db(lambda: clean_stale_pending(store, now=later)) == 0
    assert store.open(row["storage_key"]) and store.open(row["preview_key"])


def test_after_photos_are_decoded_outside_the_request_lock_and_stop_at_five(
    client: Browser, run_db: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert file_complaint(client, open_form(client, run_db, 301)).status_code == 303
    number = run_db(lambda: CitizenRequest.select(CitizenRequest.number).first())["number"]
    staff = make_staff(run_db, settings)
    held: list[str] = []
    shared_lock, decode = after_photos.request_lock, after_photos.processed_upload

    @asynccontextmanager
    async def watched_lock(locked: str) -> AsyncIterator[Any]:
        async with shared_lock(locked) as txn:
            held.append(locked)
            try:
                yield txn
            finally:
                held.remove(locked)

    async def watched_decode(data: bytes, max_bytes: int) -> Any:
        assert not held, "a photo is decoded while the request is locked"
        return await decode(data, max_bytes)

    monkeypatch.setattr(after_photos, "request_lock", watched_lock)
    monkeypatch.setattr(after_photos, "processed_upload", watched_decode)
    for _ in range(after_photos.MAX_AFTER_PHOTOS):
        run_db(lambda: attach_after_photo(settings, number, staff.id))
    with pytest.raises(UploadRejected) as refused:
        run_db(lambda: attach_after_photo(settings, number, staff.id))
    assert refused.value.code == "too_many"
    with pytest.raises(LookupError):
        run_db(lambda: attach_after_photo(settings, "99-999999", staff.id))
    kept = run_db(lambda: Attachment.select().where(Attachment.stage == "after"))
    assert len(kept) == after_photos.MAX_AFTER_PHOTOS
    files = [p for p in (settings.data_dir / "uploads").rglob("*") if p.is_file()]
    assert len(files) == 2 * len(kept)  # the refused sixth's copy and preview are gone
