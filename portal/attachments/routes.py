"""Attachment routes: one file at a time while the form is open, and the files themselves
for whoever may see them.

Who may read a file (each its own route, so each check is one line):
- ``upload_file``: the uploader while the form is open (its key and the verified phone);
- ``track_attachment``: a browser verified by OTP for the phone the request was filed with
  (tracking way 2); the SMS link alone (way 1) never shows files;
- ``staff_attachment``: signed-in staff.
Anything else, including another phone's file, is the same 404 as a file that never existed.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

from portal.attachments.config import ONE_FILE_MAX_BODY, AttachmentConfig
from portal.attachments.form_uploads import attachments_field
from portal.attachments.processing import UploadRejected
from portal.attachments.service import (
    StoredFile,
    add_after_photo,
    add_pending,
    file_for_phone,
    file_for_staff,
    file_for_uploader,
    pending_for,
    read_upload,
)
from portal.catalogue.service import get_active_service
from portal.citizen.deps import CitizenConfig
from portal.citizen.form_routes import vouched_filing
from portal.kernel.clock import utcnow
from portal.kernel.request_numbers import parse_request_number
from portal.otp.session_state import verified_phone
from portal.staff.guards import staff_guard
from portal.staff.request_routes import render_request_page
from portal.staff.session_state import StaffSession
from portal.tables.otp_challenge import OtpPurpose
from portal.tables.staff_user import StaffUser
from portal.web.rendering import client_ip


def _uploader_phone(
    request: Request[Any, Any, Any], citizen: CitizenConfig, key: str
) -> str | None:
    """The phone this browser proved, and only if the form's key was issued to this very
    browser for it: a key copied into another browser uploads nothing and reads nothing."""
    vouched = vouched_filing(request, citizen, key)
    return vouched[0] if vouched is not None else None


def _status_for(code: str) -> int:
    return {"too_large": 413, "already_sent": 409}.get(code, 422)


@post(
    "/e-service/{slug:str}/form/attachments",
    name="attachment_upload",
    request_max_body_size=ONE_FILE_MAX_BODY,
)
async def upload(
    request: Request[Any, Any, Any],
    slug: FromPath[str],
    citizen: NamedDependency[CitizenConfig],
    attachments: NamedDependency[AttachmentConfig],
) -> Response[Any]:
    """One file, picked on the open form (JavaScript): answers the list of the form's files,
    or the reason this one was refused; the rest of the form never leaves the phone."""
    service = await get_active_service(slug)
    form_field = attachments_field(service.fields) if service else None
    if form_field is None:
        raise NotFoundException()
    form = await request.form()
    key = str(form.get("submission_key", ""))
    phone = _uploader_phone(request, citizen, key)
    if phone is None:
        return _upload_answer("session_lost", status_code=403, limit=form_field.file_limit)
    picked = form.get("file")
    if not isinstance(picked, UploadFile):
        return _upload_answer("empty", status_code=422, limit=form_field.file_limit)
    try:
        await add_pending(
            attachments.store,
            upload_group=key,
            phone=phone,
            data=await read_upload(picked, attachments.max_bytes),
            original_name=picked.filename or "",
            max_bytes=attachments.max_bytes,
            max_files=form_field.file_limit,
        )
    except UploadRejected as error:
        return _upload_answer(
            error.code, status_code=_status_for(error.code), limit=form_field.file_limit
        )
    return Template(
        template_name="attachments/_pending.html",
        context={"pending": await pending_for(key, phone), "upload_key": key},
    )


def _upload_answer(code: str, *, status_code: int, limit: int) -> Template:
    return Template(
        template_name="attachments/_upload_error.html",
        context={"code": code, "limit": limit},
        status_code=status_code,
    )


def _file_response(found: StoredFile | None, variant: str) -> Response[bytes]:
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


@get("/e-service/uploads/{attachment_id:int}/{variant:str}", name="upload_file")
async def uploaded_file(
    request: Request[Any, Any, Any],
    attachment_id: FromPath[int],
    variant: FromPath[str],
    citizen: NamedDependency[CitizenConfig],
    attachments: NamedDependency[AttachmentConfig],
) -> Response[bytes]:
    key = str(request.query_params.get("key", ""))
    phone = _uploader_phone(request, citizen, key)
    if phone is None:
        raise NotFoundException()
    found = await file_for_uploader(
        attachments.store, attachment_id, variant, upload_group=key, phone=phone
    )
    return _file_response(found, variant)


@get("/track/attachments/{attachment_id:int}/{variant:str}", name="track_attachment")
async def tracked_file(
    request: Request[Any, Any, Any],
    attachment_id: FromPath[int],
    variant: FromPath[str],
    citizen: NamedDependency[CitizenConfig],
    attachments: NamedDependency[AttachmentConfig],
) -> Response[bytes]:
    phone = verified_phone(
        request.session, OtpPurpose.track, utcnow(), citizen.otp_policy.tracking_idle
    )
    if phone is None:
        raise NotFoundException()
    found = await file_for_phone(attachments.store, attachment_id, variant, phone)
    return _file_response(found, variant)


@get(
    "/staff/attachments/{attachment_id:int}/{variant:str}",
    name="staff_attachment",
    guards=[staff_guard],
)
async def staff_file(
    attachment_id: FromPath[int],
    variant: FromPath[str],
    attachments: NamedDependency[AttachmentConfig],
) -> Response[bytes]:
    found = await file_for_staff(attachments.store, attachment_id, variant)
    return _file_response(found, variant)


@post(
    "/staff/requests/{number:str}/photos",
    name="staff_request_photo",
    guards=[staff_guard],
    request_max_body_size=ONE_FILE_MAX_BODY,
)
async def add_after_photo_action(
    request: Request[Any, Any, Any],
    number: FromPath[str],
    staff: NamedDependency[StaffSession],
    attachments: NamedDependency[AttachmentConfig],
) -> Response[Any]:
    """Staff's "after" photo when the work is done; refused photos come back to the request
    page as its error, like every other staff action."""
    canonical = parse_request_number(number)
    if canonical is None:
        raise NotFoundException()
    form = await request.form()
    picked = form.get("photo")
    row = await StaffUser.select(StaffUser.username).where(StaffUser.id == staff.staff_id).first()
    if row is None:
        raise NotFoundException()
    try:
        if not isinstance(picked, UploadFile):
            raise UploadRejected("empty")
        await add_after_photo(
            attachments.store,
            number=canonical,
            staff_id=staff.staff_id,
            actor=row["username"],
            client_ip=client_ip(request),
            data=await read_upload(picked, attachments.max_bytes),
            original_name=picked.filename or "",
            max_bytes=attachments.max_bytes,
        )
    except LookupError as error:
        raise NotFoundException() from error
    except UploadRejected as error:
        return await render_request_page(
            request,
            canonical,
            staff,
            error=f"photo_{error.code}",
            status_code=_status_for(error.code),
        )
    path = request.app.route_reverse("staff_request", number=canonical)
    return Redirect(path=f"{path}?done=photo", status_code=303)


handlers = [upload, uploaded_file, tracked_file, staff_file, add_after_photo_action]
