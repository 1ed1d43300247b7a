"""The files of any filed request of the office for its signed-in staff, and staff's "after"
photo of the finished work. A file not linked to a request (a citizen's pending upload), or of
another office, is a 404 here."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response

from portal.attachments.after_photos import add_after_photo
from portal.attachments.config import ONE_FILE_MAX_BODY, AttachmentConfig
from portal.attachments.downloads import file_for_staff, file_response
from portal.attachments.intake import read_upload
from portal.attachments.processing import UploadRejected
from portal.kernel.offices import OfficeRef
from portal.kernel.request_numbers import parse_request_number
from portal.staff.acting import acting_staff
from portal.staff.guards import staff_guard
from portal.staff.request_routes import render_request_page
from portal.staff.session_state import StaffSession


@get(
    "/staff/attachments/{attachment_id:int}/{variant:str}",
    name="staff_attachment",
    guards=[staff_guard],
)
async def staff_file(
    attachment_id: FromPath[int],
    variant: FromPath[str],
    attachments: NamedDependency[AttachmentConfig],
    office: NamedDependency[OfficeRef],
) -> Response[bytes]:
    found = await file_for_staff(attachments.store, attachment_id, variant, office=office)
    return file_response(found, variant)


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
    office: NamedDependency[OfficeRef],
) -> Response[Any]:
    """Staff's "after" photo when the work is done; refused photos come back to the request
    page as its error, like every other staff action."""
    canonical = parse_request_number(number)
    if canonical is None:
        raise NotFoundException()
    form = await request.form()
    picked = form.get("photo")
    actor = await acting_staff(request, staff)
    try:
        if not isinstance(picked, UploadFile):
            raise UploadRejected("empty")
        await add_after_photo(
            attachments.store,
            number=canonical,
            staff_id=actor.staff_id,
            actor=actor.username,
            client_ip=actor.client_ip,
            data=await read_upload(picked, attachments.max_bytes),
            original_name=picked.filename or "",
            max_bytes=attachments.max_bytes,
            office=office,
        )
    except LookupError as error:
        raise NotFoundException() from error
    except UploadRejected as error:
        return await render_request_page(
            request, canonical, staff, error=f"photo_{error.code}", status_code=error.http_status
        )
    path = request.app.route_reverse("staff_request", number=canonical)
    return Redirect(path=f"{path}?done=photo", status_code=303)
