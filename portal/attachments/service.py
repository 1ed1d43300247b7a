"""Attachment rows and their files: pending uploads, filing, reading with access checks.

Every read that returns a file takes the proof of who is asking and filters by it in the query
itself: staff (any linked file), a verified phone (files of that phone's requests), or the
uploader of an open form (its pending files by form key and phone). A file that exists but is
not theirs looks exactly like a file that does not exist.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread
from litestar.datastructures import UploadFile

from portal.attachments.processing import Processed, UploadRejected, process_upload
from portal.attachments.storage import AttachmentStore, MissingFile, new_key
from portal.casework.activity import record_work
from portal.catalogue.location import Place
from portal.citizen.drafts import clean_stale_drafts
from portal.db import write_transaction
from portal.kernel import audit
from portal.kernel.clock import utcnow
from portal.tables.attachment import Attachment, AttachmentStage
from portal.tables.citizen_request import CitizenRequest
from portal.tables.upload_refusal import UploadRefusal

PENDING_MAX_AGE = timedelta(days=1)
MAX_AFTER_PHOTOS = 5
NAME_MAX = 200
VARIANTS = ("full", "preview")


@dataclass(frozen=True)
class AttachmentInfo:
    id: int
    stage: str
    content_type: str
    original_name: str
    size: int
    has_preview: bool
    created_at: datetime

    @property
    def is_photo(self) -> bool:
        return self.content_type.startswith("image/")


@dataclass(frozen=True)
class StoredFile:
    info: AttachmentInfo
    data: bytes


_COLUMNS = (
    Attachment.id,
    Attachment.stage,
    Attachment.content_type,
    Attachment.original_name,
    Attachment.size,
    Attachment.preview_key,
    Attachment.storage_key,
    Attachment.created_at,
)


def _info(row: dict[str, Any]) -> AttachmentInfo:
    return AttachmentInfo(
        id=int(row["id"]),
        stage=row["stage"],
        content_type=row["content_type"],
        original_name=row["original_name"],
        size=int(row["size"]),
        has_preview=bool(row["preview_key"]),
        created_at=row["created_at"],
    )


def display_name(raw: str) -> str:
    """The picked file's name, for people only (never a path or a storage key): its last
    part, without control characters, at most ``NAME_MAX`` characters."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf"))
    return name.strip()[:NAME_MAX]


UPLOAD_WORK_SLOTS = 2
"""Files checked and re-encoded at once in one process (the rest wait their turn without
holding a thread): each may hold up to ``processing.DECODE_BUDGET`` while it is decoded, so a
burst of uploads costs at most two files' worth of memory per worker process."""
_upload_work = anyio.CapacityLimiter(UPLOAD_WORK_SLOTS)


async def processed_upload(data: bytes, max_bytes: int) -> Processed:
    """Decoding and re-encoding take CPU time and memory: off the event loop, so other
    citizens wait for nothing, and a few at a time (``UPLOAD_WORK_SLOTS``)."""
    return await anyio.to_thread.run_sync(
        lambda: process_upload(data, max_bytes=max_bytes), limiter=_upload_work
    )


async def read_upload(upload: UploadFile, max_bytes: int) -> bytes:
    """The picked file's bytes, at most one more than ``max_bytes``: Litestar has spooled the
    part to a temporary file as it arrived, and a file over the limit is refused
    (``too_large``) without being read into memory whole."""
    return await upload.read(max_bytes + 1)


def _store(store: AttachmentStore, processed: Processed) -> tuple[str, str]:
    key = new_key(processed.extension)
    store.put(key, processed.data)
    preview_key = ""
    if processed.preview is not None:
        preview_key = new_key("jpg")
        store.put(preview_key, processed.preview)
    return key, preview_key


def _forget(store: AttachmentStore, *keys: str) -> None:
    for key in keys:
        if key:
            store.delete(key)


async def add_pending(
    store: AttachmentStore,
    *,
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
    slot = await _take_slot(upload_group, phone, max_files)
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
    key, preview_key = await anyio.to_thread.run_sync(lambda: _store(store, processed))
    try:
        async with write_transaction(serialize=_phone_lock(phone)):
            await UploadRefusal.delete().where(UploadRefusal.id == slot)
            await _refuse_if_filed(upload_group)  # filed while this file was processed
            row = _stored_row(
                processed,
                key,
                preview_key,
                original_name,
                request=None,
                upload_group=upload_group,
                phone=phone,
                stage=AttachmentStage.before,
            )
            await row.save()
    except BaseException:
        _forget(store, key, preview_key)
        await UploadRefusal.delete().where(UploadRefusal.id == slot)
        raise
    return _info(row.to_dict())


IN_PROGRESS = "processing"
"""The reason on a slot taken for a file still being checked (a crash leaves it counted,
as a refusal, until it ages out)."""


def _phone_lock(phone: str) -> str:
    return f"uploads-phone:{phone}"


async def _take_slot(upload_group: str, phone: str, max_files: int) -> int:
    """Check the form's and the phone's limits and hold one slot, atomically (SQLite: the
    write lock; PostgreSQL: an advisory lock per phone)."""
    async with write_transaction(serialize=_phone_lock(phone)):
        await _refuse_if_filed(upload_group)
        in_form = await _pending_count(upload_group, phone) + await _refusals(
            phone, upload_group=upload_group, reason=IN_PROGRESS
        )
        if in_form >= max_files:
            raise UploadRejected("too_many")
        if await _pending_for_phone(phone) + await _refusals(phone) >= PENDING_PER_PHONE:
            raise UploadRejected("too_many_pending")
        rows = await UploadRefusal.insert(
            UploadRefusal(
                phone=phone, upload_group=upload_group, reason=IN_PROGRESS, created_at=utcnow()
            )
        ).returning(UploadRefusal.id)
    return int(rows[0]["id"])


async def _refusals(phone: str, *, upload_group: str | None = None, reason: str = "") -> int:
    """Refused uploads of this phone within ``REFUSAL_WINDOW`` (and slots in progress)."""
    query = UploadRefusal.count().where(
        UploadRefusal.phone == phone, UploadRefusal.created_at > utcnow() - REFUSAL_WINDOW
    )
    if upload_group is not None:
        query = query.where(UploadRefusal.upload_group == upload_group)
    if reason:
        query = query.where(UploadRefusal.reason == reason)
    return int(await query)


def _stored_row(
    processed: Processed, key: str, preview_key: str, original_name: str, **owner: Any
) -> Attachment:
    """The row for a file just stored: what it is, from ``processed``; whose, from ``owner``
    (a citizen's pending upload or staff's "after" photo)."""
    return Attachment(
        content_type=processed.content_type,
        original_name=display_name(original_name),
        size=len(processed.data),
        storage_key=key,
        preview_key=preview_key,
        sha256=hashlib.sha256(processed.data).hexdigest(),
        created_at=utcnow(),
        **owner,
    )


async def _refuse_if_filed(upload_group: str) -> None:
    if await CitizenRequest.exists().where(CitizenRequest.submission_key == upload_group):
        raise UploadRejected("already_sent")


PENDING_PER_PHONE = 15
"""Files one phone may hold on forms not yet sent (three full forms), refused uploads of the
last ``REFUSAL_WINDOW`` included. Each opened form has its own key and its own five, so
without this one verified phone could fill the disk by reloading the form, or keep the
server decoding bad files; ``portal attachments clean`` frees pending files after a day."""
REFUSAL_WINDOW = timedelta(days=1)


async def _pending_for_phone(phone: str) -> int:
    return int(
        await Attachment.count().where(Attachment.phone == phone, Attachment.request.is_null())
    )


async def _pending_count(upload_group: str, phone: str) -> int:
    return int(
        await Attachment.count().where(
            Attachment.upload_group == upload_group,
            Attachment.phone == phone,
            Attachment.request.is_null(),
        )
    )


async def pending_for(upload_group: str, phone: str) -> list[AttachmentInfo]:
    rows = (
        await Attachment.select(*_COLUMNS)
        .where(
            Attachment.upload_group == upload_group,
            Attachment.phone == phone,
            Attachment.request.is_null(),
        )
        .order_by(Attachment.id)
    )
    return [_info(row) for row in rows]


async def remove_pending(
    store: AttachmentStore, *, upload_group: str, phone: str, attachment_id: int
) -> bool:
    # One statement: the files that go are those of the row this delete removed, never of a
    # row that filing linked to its request a moment before.
    deleted = (
        await Attachment.delete()
        .where(
            Attachment.id == attachment_id,
            Attachment.upload_group == upload_group,
            Attachment.phone == phone,
            Attachment.request.is_null(),
        )
        .returning(Attachment.storage_key, Attachment.preview_key)
    )
    for row in deleted:
        _forget(store, row["storage_key"], row["preview_key"])
    return bool(deleted)


async def link_pending(
    *, request_id: int, upload_group: str, phone: str, attachment_ids: Sequence[int]
) -> None:
    """Inside the filing transaction: every referenced upload becomes the request's, or
    ``UploadRejected("missing")`` rolls the whole filing back (never a half-uploaded request)."""
    wanted = sorted(set(attachment_ids))
    if not wanted:
        return
    found = await Attachment.select(Attachment.id).where(
        Attachment.id.is_in(wanted),
        Attachment.upload_group == upload_group,
        Attachment.phone == phone,
        Attachment.request.is_null(),
    )
    if len(found) != len(wanted):
        raise UploadRejected("missing")
    await Attachment.update({Attachment.request: request_id}).where(
        Attachment.id.is_in(wanted), Attachment.request.is_null()
    )


async def media_for_request(request_id: int) -> list[AttachmentInfo]:
    """Before photos first, then staff's after photos, each in upload order."""
    rows = (
        await Attachment.select(*_COLUMNS)
        .where(Attachment.request == request_id)
        .order_by(Attachment.id)
    )
    infos = [_info(row) for row in rows]
    return sorted(infos, key=lambda info: (info.stage != AttachmentStage.before, info.id))


async def place_for_request(request_id: int) -> Place | None:
    row = (
        await CitizenRequest.select(
            CitizenRequest.location_lat, CitizenRequest.location_lng, CitizenRequest.location_text
        )
        .where(CitizenRequest.id == request_id)
        .first()
    )
    return _place(row) if row else None


def _place(row: dict[str, Any]) -> Place | None:
    lat, lng, text = row["location_lat"], row["location_lng"], row["location_text"] or ""
    if lat is None and lng is None and not text:
        return None
    return Place(lat, lng, text)


@dataclass(frozen=True)
class RequestMedia:
    attachments: list[AttachmentInfo]
    place: Place | None

    @property
    def before(self) -> list[AttachmentInfo]:
        return [a for a in self.attachments if a.stage == AttachmentStage.before]

    @property
    def after(self) -> list[AttachmentInfo]:
        return [a for a in self.attachments if a.stage == AttachmentStage.after]


async def media_for_staff(request_id: int) -> RequestMedia:
    return RequestMedia(await media_for_request(request_id), await place_for_request(request_id))


async def media_for_phone(number: str, phone: str) -> RequestMedia | None:
    """Way 2: only when the request was filed with ``phone``."""
    row = (
        await CitizenRequest.select(
            CitizenRequest.id,
            CitizenRequest.location_lat,
            CitizenRequest.location_lng,
            CitizenRequest.location_text,
        )
        .where(CitizenRequest.number == number, CitizenRequest.phone == phone)
        .first()
    )
    if row is None:
        return None
    return RequestMedia(await media_for_request(int(row["id"])), _place(row))


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
    return StoredFile(_info(row), data)


async def file_for_staff(
    store: AttachmentStore, attachment_id: int, variant: str
) -> StoredFile | None:
    row = (
        await Attachment.select(*_COLUMNS)
        .where(Attachment.id == attachment_id, Attachment.request.is_not_null())
        .first()
    )
    return await _read(store, row, variant)


async def file_for_phone(
    store: AttachmentStore, attachment_id: int, variant: str, phone: str
) -> StoredFile | None:
    row = (
        await Attachment.select(*_COLUMNS)
        .where(Attachment.id == attachment_id, Attachment.request.phone == phone)
        .first()
    )
    return await _read(store, row, variant)


async def file_for_uploader(
    store: AttachmentStore, attachment_id: int, variant: str, *, upload_group: str, phone: str
) -> StoredFile | None:
    row = (
        await Attachment.select(*_COLUMNS)
        .where(
            Attachment.id == attachment_id,
            Attachment.upload_group == upload_group,
            Attachment.phone == phone,
            Attachment.request.is_null(),
        )
        .first()
    )
    return await _read(store, row, variant)


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
    request_id = int(found["id"])
    processed = await processed_upload(data, max_bytes)
    if not processed.content_type.startswith("image/"):
        raise UploadRejected("wrong_type")
    key, preview_key = await anyio.to_thread.run_sync(lambda: _store(store, processed))
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
            row = _stored_row(
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
        _forget(store, key, preview_key)
        raise
    return _info(row.to_dict())


async def clean_stale_pending(
    store: AttachmentStore, *, now: datetime | None = None, max_age: timedelta = PENDING_MAX_AGE
) -> int:
    """Uploads of forms never sent, older than ``max_age``: rows and files go. Returns how many.
    For ``portal attachments clean`` (cron) and the retention purge."""
    cutoff = (now or utcnow()) - max_age
    # The rows this delete removed name the files to remove: an upload filed meanwhile keeps
    # its row and its files.
    rows = (
        await Attachment.delete()
        .where(Attachment.request.is_null(), Attachment.created_at < cutoff)
        .returning(Attachment.storage_key, Attachment.preview_key)
    )
    for row in rows:
        _forget(store, row["storage_key"], row["preview_key"])
    # Refusals count toward the quota for a day, then hold a phone number for nothing.
    await UploadRefusal.delete().where(
        UploadRefusal.created_at < (now or utcnow()) - REFUSAL_WINDOW
    )
    # Drafts of forms never sent (typed answers) go after the same day.
    await clean_stale_drafts(now or utcnow())
    return len(rows)


async def delete_request_files(store: AttachmentStore, request_id: int) -> int:
    """Every attachment of one request, rows and files (the retention purge, PDPA erasure).
    Call inside the purge's transaction: files are deleted after their rows, so a rollback
    leaves at worst rows whose file is gone, served as missing (404), never a file without
    a row that nobody would ever delete."""
    rows = await Attachment.select(
        Attachment.id, Attachment.storage_key, Attachment.preview_key
    ).where(Attachment.request == request_id)
    await Attachment.delete().where(Attachment.request == request_id)
    for row in rows:
        _forget(store, row["storage_key"], row["preview_key"])
    return len(rows)
