"""An office's emblem (ตราสัญลักษณ์) for its home page, uploaded on the platform page.

The picture goes through the same checks and re-encoding as citizens' photos
(``portal.attachments.processing``: the real type from its bytes, decompression bombs refused,
metadata dropped, a JPEG written fresh), so what the home page serves to every visitor is never
the uploaded file itself. It is kept in the attachment store; the office row names its key, and
the old picture is deleted once the new one is recorded.
"""

from __future__ import annotations

from portal.attachments.intake import forget_files, processed_upload, store_processed
from portal.attachments.outcome import UploadRejected
from portal.attachments.storage import AttachmentStore
from portal.db import write_transaction
from portal.db_engines import office_scope
from portal.kernel import audit
from portal.kernel.offices import touch
from portal.platform.offices import Who
from portal.tables.office import Office

EMBLEM_MAX_BYTES = 900_000
"""Below the portal's 1 MB body limit for ordinary forms: an emblem is a small picture."""


async def set_emblem(office_id: int, data: bytes, *, store: AttachmentStore, who: Who) -> None:
    """Check, re-encode and keep ``data`` as the office's emblem; ``UploadRejected`` (with the
    photo codes: ``empty``, ``too_large``, ``wrong_type``, ...) when it is not a picture."""
    if not data:
        raise UploadRejected("empty")
    processed = await processed_upload(data, EMBLEM_MAX_BYTES)
    if processed.extension != "jpg":
        raise UploadRejected("wrong_type")  # a PDF is a document, not an emblem
    key, preview_key = await store_processed(store, processed)
    forget_files(store, preview_key)
    with office_scope(office_id):
        async with write_transaction():
            row = await Office.select(Office.emblem_key).where(Office.id == office_id).first()
            if row is None:
                forget_files(store, key)
                raise LookupError(office_id)
            await Office.update({Office.emblem_key: key}).where(Office.id == office_id)
            await audit.record(
                office_id=office_id,
                actor=who.actor,
                action="office_emblem_changed",
                client_ip=who.client_ip,
            )
    forget_files(store, row["emblem_key"])
    await touch(office_id)
