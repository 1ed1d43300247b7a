"""The form's files: what one POST of the service form brings, removes and refers to.

With JavaScript each file was already uploaded on its own (``citizen.upload_routes``) and
the form carries only the ids of those pending uploads. Without it the form itself is
multipart and brings the files; they become pending uploads first, so a mistake elsewhere in
the form re-renders it with the files kept and nothing picked twice.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from litestar.datastructures import FormMultiDict, UploadFile

from portal.attachments.config import AttachmentConfig
from portal.attachments.intake import read_upload
from portal.attachments.pending import add_pending, pending_for, remove_pending
from portal.attachments.processing import UploadRejected
from portal.attachments.records import AttachmentInfo
from portal.catalogue.fields import FieldError, FormField
from portal.kernel.offices import OfficeRef
from portal.web.hardening import whole_number

REMOVE = "remove_attachment"
REFERENCE = "attachment"


@dataclass
class UploadState:
    field: FormField | None
    key: str
    pending: list[AttachmentInfo] = dataclasses.field(default_factory=list)
    error: FieldError | None = None
    removed: bool = False
    """The citizen pressed a file's "remove" button: show the form again, file nothing."""
    referenced: list[int] = dataclasses.field(default_factory=list)


def attachments_field(fields: list[FormField]) -> FormField | None:
    return next((f for f in fields if f.kind == "attachments"), None)


async def current_uploads(
    fields: list[FormField], key: str, phone: str, *, office: OfficeRef
) -> UploadState:
    form_field = attachments_field(fields)
    pending = await pending_for(key, phone, office=office) if form_field else []
    return UploadState(form_field, key, pending, referenced=[a.id for a in pending])


async def receive_form_uploads(
    config: AttachmentConfig,
    fields: list[FormField],
    form: FormMultiDict,
    *,
    office: OfficeRef,
    key: str,
    phone: str,
) -> UploadState:
    form_field = attachments_field(fields)
    state = UploadState(form_field, key)
    if form_field is None:
        return state
    referenced = {
        number
        for raw in form.getall(REFERENCE, [])
        if (number := whole_number(str(raw), max_digits=12)) is not None
    }
    remove = whole_number(str(form.get(REMOVE, "")), max_digits=12)
    if remove is not None:
        state.removed = True
        await remove_pending(
            config.store, office=office, upload_group=key, phone=phone, attachment_id=remove
        )
        referenced.discard(remove)
    referenced |= await _take_files(config, form_field, form, state, office, key, phone)
    state.pending = await pending_for(key, phone, office=office)
    pending_ids = {a.id for a in state.pending}
    if referenced - pending_ids and state.error is None:
        # An upload the form names is gone (cleaned away, or another tab removed it): say
        # so and show what is left, rather than file the request without it.
        state.error = FieldError(form_field, "missing")
    state.referenced = sorted(referenced & pending_ids)
    if len(state.referenced) > form_field.file_limit and state.error is None:
        # Uploaded through another service's form (keys are not tied to one service): this
        # service's own limit decides what is filed.
        state.error = FieldError(form_field, "too_many")
    if form_field.required and not state.referenced and state.error is None and not state.removed:
        state.error = FieldError(form_field, "required")
    return state


async def _take_files(
    config: AttachmentConfig,
    form_field: FormField,
    form: FormMultiDict,
    state: UploadState,
    office: OfficeRef,
    key: str,
    phone: str,
) -> set[int]:
    """The files the form itself brings (no JavaScript), as pending uploads: their ids; the
    first refusal goes on ``state``."""
    added_ids: set[int] = set()
    for upload in form.getall(form_field.name, []):
        if not isinstance(upload, UploadFile):
            continue
        data = await read_upload(upload, config.max_bytes)
        if not data and not upload.filename:
            continue  # the picker left empty
        try:
            added = await add_pending(
                config.store,
                office=office,
                upload_group=key,
                phone=phone,
                data=data,
                original_name=upload.filename or "",
                max_bytes=config.max_bytes,
                max_files=form_field.file_limit,
            )
        except UploadRejected as error:
            if error.code != "already_sent":
                # Already sent: a second press of "send"; filing answers with that request.
                state.error = state.error or FieldError(form_field, error.code)
            continue
        added_ids.add(added.id)
    return added_ids
