"""A stored file for whoever may see it, and the response that serves it.

Every read takes the proof of who is asking and filters by it in the query itself: staff
(any file linked to a request), a verified phone (files of that phone's requests), or the
uploader of an open form (its pending files by form key and phone). A file that exists but
is not theirs looks exactly like a file that does not exist: ``None``, served as 404. The
office the request came in on is part of every query too: another office's file id is as
missing here as an id never used.
The routes that call these live with their audience (citizen, tracking, staff).
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar.exceptions import NotFoundException
from litestar.response import Response

from portal.attachments.records import COLUMNS, StoredFile, row_info
from portal.attachments.storage import AttachmentStore, MissingFile
from portal.kernel.offices import OfficeRef
from portal.tables.attachment import Attachment

VARIANTS = ("full", "preview")


async def _read(
    store: AttachmentStore, row: dict[str, Any] | None, variant: str
) -> StoredFile | None:
    if row is None or variant not in VARIANTS:
        return None
    key = row["storage_key"] if variant == "full" else row["preview_key"]
    if not key:
        return None
    try:
        data = await anyio.to_thread.run_sync(lambda: store.open(key))
    except MissingFile:
        return None
    return StoredFile(row_info(row), data)


async def file_for_staff(
    store: AttachmentStore, attachment_id: int, variant: str, *, office: OfficeRef
) -> StoredFile | None:
    row = (
        await Attachment.select(*COLUMNS)
        .where(
            Attachment.id == attachment_id,
            Attachment.office == office.id,
            Attachment.request.is_not_null(),
        )
        .first()
    )
    return await _read(store, row, variant)


async def file_for_phone(
    store: AttachmentStore, attachment_id: int, variant: str, phone: str, *, office: OfficeRef
) -> StoredFile | None:
    row = (
        await Attachment.select(*COLUMNS)
        .where(
            Attachment.id == attachment_id,
            Attachment.office == office.id,
            Attachment.request.phone == phone,
            Attachment.request.office == office.id,
        )
        .first()
    )
    return await _read(store, row, variant)


async def file_for_uploader(
    store: AttachmentStore,
    attachment_id: int,
    variant: str,
    *,
    office: OfficeRef,
    upload_group: str,
    phone: str,
) -> StoredFile | None:
    row = (
        await Attachment.select(*COLUMNS)
        .where(
            Attachment.id == attachment_id,
            Attachment.office == office.id,
            Attachment.upload_group == upload_group,
            Attachment.phone == phone,
            Attachment.request.is_null(),
        )
        .first()
    )
    return await _read(store, row, variant)


def file_response(found: StoredFile | None, variant: str) -> Response[bytes]:
    """The file as every audience gets it: photos inline, PDFs only as a download, never
    cached or embedded elsewhere; ``None`` (not found, or not theirs) is a 404."""
    if found is None:
        raise NotFoundException()
    info = found.info
    if info.is_photo:
        disposition = (
            f'inline; filename="photo-{info.id}{"-preview" if variant == "preview" else ""}.jpg"'
        )
    else:
        # Downloaded, never shown inside the portal's origin.
        disposition = f'attachment; filename="document-{info.id}.pdf"'
    return Response(
        content=found.data,
        media_type=info.content_type if variant == "full" else "image/jpeg",
        headers={
            "Content-Disposition": disposition,
            "Cache-Control": "private, no-store",
            "Cross-Origin-Resource-Policy": "same-origin",
        },
    )
