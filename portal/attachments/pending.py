"""A citizen's uploads while the form is open: taken one by one against the form's and the
phone's limits, listed and removed by the uploader, linked to the request when it is filed,
cleaned away a day after a form that was never sent.

A pending upload belongs to its form's key and the verified phone together, at one office:
every query here filters by all three, so another browser's key, the same key with another
phone, or the same phone at another office, finds nothing. The per-phone quota counts per
office too (the same phone at two offices has two quotas, as it has two verifications).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from portal.attachments.intake import forget_files, processed_upload, store_processed
from portal.attachments.processing import UploadRejected
from portal.attachments.records import COLUMNS, AttachmentInfo, row_info, stored_row
from portal.attachments.storage import AttachmentStore
from portal.db import write_transaction
from portal.db_engines import office_scope
from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.tables.attachment import Attachment, AttachmentStage
from portal.tables.citizen_request import CitizenRequest
from portal.tables.office import Office
from portal.tables.upload_refusal import UploadRefusal

PENDING_MAX_AGE = timedelta(days=1)
PENDING_PER_PHONE = 15
"""Files one phone may hold on forms not yet sent (three full forms), refused uploads of the
last ``REFUSAL_WINDOW`` included. Each opened form has its own key and its own five, so
without this one verified phone could fill the disk by reloading the form, or keep the
server decoding bad files; ``portal attachments clean`` frees pending files after a day."""
REFUSAL_WINDOW = timedelta(days=1)
IN_PROGRESS = "processing"
"""The reason on a slot taken for a file still being checked (a crash leaves it counted,
as a refusal, until it ages out)."""


async def add_pending(
    store: AttachmentStore,
    *,
    office: OfficeRef,
    upload_group: str,
    phone: str,
    data: bytes,
    original_name: str,
    max_bytes: int,
    max_files: int,
) -> AttachmentInfo:
    """One file picked on an open form: checked, re-encoded, stored, and a pending row.
    ``UploadRejected("already_sent")`` when the form was filed already: nothing would ever
    link or show the file.

    The phone's quota (``PENDING_PER_PHONE``) is taken before any work, in a transaction
    serialised per phone: a placeholder refusal row holds the slot while the file is
    processed, and becomes the pending row (or stays, with the reason, if the file is
    refused). So thirty uploads at once keep exactly the quota, and a refused file, which
    cost the server its work as much as a kept one, counts too."""
    office_id = office.id
    slot = await _take_slot(office_id, upload_group, phone, max_files)
    try:
        processed = await processed_upload(data, max_bytes)
    except UploadRejected as error:
        await UploadRefusal.update({UploadRefusal.reason: error.code}).where(
            UploadRefusal.id == slot
        )
        raise
    except BaseException:
        await UploadRefusal.delete().where(UploadRefusal.id == slot)
        raise
    key, preview_key = await store_processed(store, processed)
    try:
        async with write_transaction(serialize=_phone_lock(office_id, phone)):
            await UploadRefusal.delete().where(UploadRefusal.id == slot)
            await _refuse_if_filed(office_id, upload_group)  # filed while it was processed
            row = stored_row(
                processed,
                key,
                preview_key,
                original_name,
                office=office_id,
                request=None,
                upload_group=upload_group,
                phone=phone,
                stage=AttachmentStage.before,
            )
            await row.save()
    except BaseException:
        forget_files(store, key, preview_key)
        await UploadRefusal.delete().where(UploadRefusal.id == slot)
        raise
    return row_info(row.to_dict())


def _phone_lock(office_id: int, phone: str) -> str:
    return f"uploads-phone:{office_id}:{phone}"


async def _take_slot(office_id: int, upload_group: str, phone: str, max_files: int) -> int:
    """Check the form's and the phone's limits and hold one slot, atomically (SQLite: the
    write lock; PostgreSQL: an advisory lock per office and phone)."""
    async with write_transaction(serialize=_phone_lock(office_id, phone)):
        await _refuse_if_filed(office_id, upload_group)
        in_form = await _pending_count(office_id, upload_group, phone) + await _refusals(
            office_id, phone, upload_group=upload_group, reason=IN_PROGRESS
        )
        if in_form >= max_files:
            raise UploadRejected("too_many")
        held = await _pending_for_phone(office_id, phone) + await _refusals(office_id, phone)
        if held >= PENDING_PER_PHONE:
            raise UploadRejected("too_many_pending")
        rows = await UploadRefusal.insert(
            UploadRefusal(
                office=office_id,
                phone=phone,
                upload_group=upload_group,
                reason=IN_PROGRESS,
                created_at=utcnow(),
            )
        ).returning(UploadRefusal.id)
    return int(rows[0]["id"])


async def _refusals(
    office_id: int, phone: str, *, upload_group: str | None = None, reason: str = ""
) -> int:
    """Refused uploads of this phone here within ``REFUSAL_WINDOW`` (and slots in progress)."""
    query = UploadRefusal.count().where(
        UploadRefusal.office == office_id,
        UploadRefusal.phone == phone,
        UploadRefusal.created_at > utcnow() - REFUSAL_WINDOW,
    )
    if upload_group is not None:
        query = query.where(UploadRefusal.upload_group == upload_group)
    if reason:
        query = query.where(UploadRefusal.reason == reason)
    return int(await query)


async def _refuse_if_filed(office_id: int, upload_group: str) -> None:
    if await CitizenRequest.exists().where(
        CitizenRequest.submission_key == upload_group, CitizenRequest.office == office_id
    ):
        raise UploadRejected("already_sent")


async def _pending_for_phone(office_id: int, phone: str) -> int:
    return int(
        await Attachment.count().where(
            Attachment.office == office_id, Attachment.phone == phone, Attachment.request.is_null()
        )
    )


async def _pending_count(office_id: int, upload_group: str, phone: str) -> int:
    return int(
        await Attachment.count().where(
            Attachment.office == office_id,
            Attachment.upload_group == upload_group,
            Attachment.phone == phone,
            Attachment.request.is_null(),
        )
    )


async def pending_for(upload_group: str, phone: str, *, office: OfficeRef) -> list[AttachmentInfo]:
    rows = (
        await Attachment.select(*COLUMNS)
        .where(
            Attachment.office == office.id,
            Attachment.upload_group == upload_group,
            Attachment.phone == phone,
            Attachment.request.is_null(),
        )
        .order_by(Attachment.id)
    )
    return [row_info(row) for row in rows]


async def remove_pending(
    store: AttachmentStore,
    *,
    office: OfficeRef,
    upload_group: str,
    phone: str,
    attachment_id: int,
) -> bool:
    # One statement: the files that go are those of the row this delete removed, never of a
    # row that filing linked to its request a moment before.
    deleted = (
        await Attachment.delete()
        .where(
            Attachment.id == attachment_id,
            Attachment.office == office.id,
            Attachment.upload_group == upload_group,
            Attachment.phone == phone,
            Attachment.request.is_null(),
        )
        .returning(Attachment.storage_key, Attachment.preview_key)
    )
    for row in deleted:
        forget_files(store, row["storage_key"], row["preview_key"])
    return bool(deleted)


async def move_pending(*, office: OfficeRef, from_key: str, to_key: str, phone: str) -> None:
    """A renewed form key keeps the form's files: the pending uploads the old key's form holds
    for this same verified phone move to the new key (another phone's files stay put)."""
    if from_key == to_key:
        return
    await Attachment.update({Attachment.upload_group: to_key}).where(
        Attachment.office == office.id,
        Attachment.upload_group == from_key,
        Attachment.phone == phone,
        Attachment.request.is_null(),
    )


async def link_pending(
    *,
    office: OfficeRef,
    request_id: int,
    upload_group: str,
    phone: str,
    attachment_ids: Sequence[int],
) -> None:
    """Inside the filing transaction: every referenced upload becomes the request's, or
    ``UploadRejected("missing")`` rolls the whole filing back (never a half-uploaded request)."""
    wanted = sorted(set(attachment_ids))
    if not wanted:
        return
    found = await Attachment.select(Attachment.id).where(
        Attachment.id.is_in(wanted),
        Attachment.office == office.id,
        Attachment.upload_group == upload_group,
        Attachment.phone == phone,
        Attachment.request.is_null(),
    )
    if len(found) != len(wanted):
        raise UploadRejected("missing")
    await Attachment.update({Attachment.request: request_id}).where(
        Attachment.id.is_in(wanted), Attachment.office == office.id, Attachment.request.is_null()
    )


async def clean_stale_pending(
    store: AttachmentStore, *, now: datetime | None = None, max_age: timedelta = PENDING_MAX_AGE
) -> int:
    """Uploads of forms never sent, older than ``max_age``: rows and files go, and refusals
    past ``REFUSAL_WINDOW``, office by office (each query scoped like every other). Returns
    how many uploads. For ``portal attachments clean`` (cron), which cleans the citizen's
    unsent drafts in the same run."""
    now = now or utcnow()
    removed = 0
    for row in await Office.select(Office.id).order_by(Office.id):
        with office_scope(int(row["id"])):
            removed += await _clean_office(
                store, int(row["id"]), now - max_age, now - REFUSAL_WINDOW
            )
    return removed


async def _clean_office(
    store: AttachmentStore, office_id: int, cutoff: datetime, refusal_cutoff: datetime
) -> int:
    # The rows this delete removed name the files to remove: an upload filed meanwhile keeps
    # its row and its files.
    rows = (
        await Attachment.delete()
        .where(
            Attachment.office == office_id,
            Attachment.request.is_null(),
            Attachment.created_at < cutoff,
        )
        .returning(Attachment.storage_key, Attachment.preview_key)
    )
    for row in rows:
        forget_files(store, row["storage_key"], row["preview_key"])
    # Refusals count toward the quota for a day, then hold a phone number for nothing.
    await UploadRefusal.delete().where(
        UploadRefusal.office == office_id, UploadRefusal.created_at < refusal_cutoff
    )
    return len(rows)
