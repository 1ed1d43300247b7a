"""The citizen's files while the form is open (with JavaScript): one file at a time, and the
files back for the uploader only.

A file is the uploader's while its form's key was issued to this very browser for the phone
it verified (``vouched_filing``): a key copied into another browser uploads nothing and reads
nothing, and anything else is the same 404 as a file that never existed. Filed files are read
through tracking (the phone that filed) and staff, each from its own routes.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Response, Template

from portal.attachments.config import ONE_FILE_MAX_BODY, AttachmentConfig
from portal.attachments.downloads import file_for_uploader, file_response
from portal.attachments.form_uploads import attachments_field
from portal.attachments.intake import read_upload
from portal.attachments.pending import add_pending, pending_for
from portal.attachments.processing import UploadRejected
from portal.catalogue.service import get_active_service
from portal.citizen.deps import CitizenConfig
from portal.citizen.vouching import vouched_filing
from portal.kernel.offices import OfficeRef


def _uploader_phone(
    request: Request[Any, Any, Any], citizen: CitizenConfig, key: str, office: OfficeRef
) -> str | None:
    """The phone this browser proved, and only if the form's key was issued to this very
    browser for it."""
    vouched = vouched_filing(request, citizen, key, office=office)
    return vouched[0] if vouched is not None else None


def _upload_answer(code: str, *, status_code: int, limit: int) -> Template:
    return Template(
        template_name="attachments/_upload_error.html",
        context={"code": code, "limit": limit},
        status_code=status_code,
    )


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
    office: NamedDependency[OfficeRef],
) -> Response[Any]:
    """One file, picked on the open form (JavaScript): answers the list of the form's files,
    or the reason this one was refused; the rest of the form never leaves the phone. The file
    is the office's (its service's)."""
    service = await get_active_service(slug, office=office)
    form_field = attachments_field(service.fields) if service else None
    if form_field is None:
        raise NotFoundException()
    form = await request.form()
    key = str(form.get("submission_key", ""))
    phone = _uploader_phone(request, citizen, key, office)
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
            office=office,
        )
    except UploadRejected as error:
        return _upload_answer(
            error.code, status_code=error.http_status, limit=form_field.file_limit
        )
    return Template(
        template_name="attachments/_pending.html",
        context={"pending": await pending_for(key, phone, office=office), "upload_key": key},
    )


@get("/e-service/uploads/{attachment_id:int}/{variant:str}", name="upload_file")
async def uploaded_file(
    request: Request[Any, Any, Any],
    attachment_id: FromPath[int],
    variant: FromPath[str],
    citizen: NamedDependency[CitizenConfig],
    attachments: NamedDependency[AttachmentConfig],
    office: NamedDependency[OfficeRef],
) -> Response[bytes]:
    """A pending file (or its preview) for the uploader, while the form is open, at the
    office it was uploaded to (another office's is the same 404 as a missing one)."""
    key = str(request.query_params.get("key", ""))
    phone = _uploader_phone(request, citizen, key, office)
    if phone is None:
        raise NotFoundException()
    found = await file_for_uploader(
        attachments.store, attachment_id, variant, upload_group=key, phone=phone, office=office
    )
    return file_response(found, variant)
