"""Staff's photos of the finished work ("after" photos), shown beside the citizen's "before"
ones: at most ``MAX_AFTER_PHOTOS`` per request, never once the request is anonymised."""

from __future__ import annotations

from portal.attachments.intake import forget_files, processed_upload, store_processed
from portal.attachments.processing import UploadRejected
from portal.attachments.records import AttachmentInfo, row_info, stored_row
from portal.attachments.storage import AttachmentStore
from portal.casework.activity import record_work
from portal.db import write_transaction
from portal.kernel import audit
from portal.tables.attachment import Attachment, AttachmentStage
from portal.tables.citizen_request import CitizenRequest

MAX_AFTER_PHOTOS = 5


async def _request_id(number: str) -> int:
    """The request's id; ``LookupError`` when there is none, refused once anonymised."""
    found = (
        await CitizenRequest.select(CitizenRequest.id, CitizenRequest.anonymised_at)
        .where(CitizenRequest.number == number)
        .first()
    )
    if found is None:
        raise LookupError(number)
    if found["anonymised_at"] is not None:
        # Purge never looks at a request again: a photo added now would stay forever.
        raise UploadRejected("anonymised")
    return int(found["id"])


async def add_after_photo(
    store: AttachmentStore,
    *,
    number: str,
    staff_id: int,
    actor: str,
    client_ip: str,
    data: bytes,
    original_name: str,
    max_bytes: int,
) -> AttachmentInfo:
    """Staff's photo of the finished work, audited in the same transaction as its row."""
    request_id = await _request_id(number)
    processed = await processed_upload(data, max_bytes)
    if not processed.content_type.startswith("image/"):
        raise UploadRejected("wrong_type")
    key, preview_key = await store_processed(store, processed)
    try:
        async with write_transaction(serialize=f"after-photos:{request_id}"):
            # Work on the case: the retention clock starts again; refused once anonymised.
            if not await record_work(request_id):
                raise UploadRejected("anonymised")
            count = await Attachment.count().where(
                Attachment.request == request_id, Attachment.stage == AttachmentStage.after
            )
            if count >= MAX_AFTER_PHOTOS:
                raise UploadRejected("too_many")
            row = stored_row(
                processed,
                key,
                preview_key,
                original_name,
                request=request_id,
                upload_group="",
                phone="",
                stage=AttachmentStage.after,
                uploaded_by=staff_id,
            )
            await row.save()
            await audit.record(
                actor=actor,
                action="add_after_photo",
                client_ip=client_ip,
                request_id=request_id,
                details={"attachment_id": int(row.id)},
            )
    except BaseException:
        forget_files(store, key, preview_key)
        raise
    return row_info(row.to_dict())
