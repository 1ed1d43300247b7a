"""Staff's photos of the finished work ("after" photos), shown beside the citizen's "before"
ones: at most ``MAX_AFTER_PHOTOS`` per request, never once the request is anonymised.

The request is found and refused the casework way (``open_case``) twice: first before the
photo is decoded, so an unknown or anonymised request is refused at once (not after seconds of
image work, and whatever the file is), then again under the request's lock (``request_lock``,
the one purge and every other staff change take), where it counts. Only the database part runs
under that lock: decoding and storing the files happen before it, so a slow photo never holds
up the request's other work (a status change, purge) or another photo.

Only a request of the staff member's own office is found (``open_case(office=...)``): another
office's number is an unknown request, a 404.
"""

from __future__ import annotations

from portal.attachments.intake import forget_files, processed_upload, store_processed
from portal.attachments.outcome import Processed
from portal.attachments.processing import UploadRejected
from portal.attachments.records import AttachmentInfo, row_info, stored_row
from portal.attachments.storage import AttachmentStore
from portal.casework.activity import record_work
from portal.casework.case import Case, CaseError, open_case, request_lock
from portal.kernel import audit
from portal.kernel.offices import OfficeRef
from portal.tables.attachment import Attachment, AttachmentStage

MAX_AFTER_PHOTOS = 5


async def _open(number: str, office: OfficeRef) -> Case:
    """The request; ``LookupError`` when there is none (a 404), ``UploadRejected("anonymised")``
    once purge has anonymised it (purge never looks at a request again: a photo added now
    would stay forever), the refusal the request page shows like any refused photo."""
    try:
        return await open_case(number, office=office)
    except CaseError as error:
        if error.code == "unknown_request":
            raise LookupError(number) from error
        raise UploadRejected(error.code) from error


async def add_after_photo(
    store: AttachmentStore,
    *,
    office: OfficeRef,
    number: str,
    staff_id: int,
    actor: str,
    client_ip: str,
    data: bytes,
    original_name: str,
    max_bytes: int,
) -> AttachmentInfo:
    """Staff's photo of the finished work, audited in the same transaction as its row."""
    await _open(number, office)
    processed = await processed_upload(data, max_bytes)
    if not processed.content_type.startswith("image/"):
        raise UploadRejected("wrong_type")
    key, preview_key = await store_processed(store, processed)
    try:
        async with request_lock(number):
            request_id, row = await _save(
                office, number, processed, key, preview_key, original_name, staff_id
            )
            await audit.record(
                office_id=office.id,
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


async def _save(
    office: OfficeRef,
    number: str,
    processed: Processed,
    key: str,
    preview_key: str,
    original_name: str,
    staff_id: int,
) -> tuple[int, Attachment]:
    """The request's id and the photo's row, inside the caller's ``request_lock(number)``:
    the count of "after" photos is checked and the row written with no other photo between."""
    case = await _open(number, office)
    # Work on the case: the retention clock starts again (False only if purge got in
    # without the lock, which it never does; refused like the notes do).
    if not await record_work(case.id):
        raise UploadRejected("anonymised")
    count = await Attachment.count().where(
        Attachment.office == office.id,
        Attachment.request == case.id,
        Attachment.stage == AttachmentStage.after,
    )
    if count >= MAX_AFTER_PHOTOS:
        raise UploadRejected("too_many")
    row = stored_row(
        processed,
        key,
        preview_key,
        original_name,
        office=office.id,
        request=case.id,
        upload_group="",
        phone="",
        stage=AttachmentStage.after,
        uploaded_by=staff_id,
    )
    await row.save()
    return case.id, row
