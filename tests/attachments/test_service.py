"""Removing pending uploads never takes the files of an upload that filing linked meanwhile."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.attachments.config import AttachmentConfig
from portal.attachments.pending import clean_stale_pending, remove_pending
from portal.kernel.clock import utcnow
from portal.settings import Settings
from portal.tables.attachment import Attachment
from portal.tables.citizen_request import CitizenRequest
from tests.attachments.helpers import (
    file_complaint,
    jpeg_with_gps,
    open_form,
    pending_ids,
    phone,
    upload,
)

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
            store, upload_group=row["upload_group"], phone=phone(300)[1], attachment_id=row["id"]
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
