"""The files of a request, for the browser that proved by OTP the phone it was filed with
(tracking way 2). The SMS link alone (way 1) never shows files; without the proof, or for
another phone's file, the answer is the same 404 as a file that never existed."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Response

from portal.attachments.config import AttachmentConfig
from portal.attachments.downloads import file_for_phone, file_response
from portal.kernel.offices import OfficeRef
from portal.otp.purposes import TRACK
from portal.otp.verified import verified_phone


@get(
    "/track/attachments/{attachment_id:int}/{variant:str}",
    name="track_attachment",
    dependencies={"verified_phone": verified_phone(TRACK, required=True)},
)
async def tracked_file(
    attachment_id: FromPath[int],
    variant: FromPath[str],
    verified_phone: NamedDependency[str],
    attachments: NamedDependency[AttachmentConfig],
    office: NamedDependency[OfficeRef],
) -> Response[bytes]:
    found = await file_for_phone(
        attachments.store, attachment_id, variant, verified_phone, office=office
    )
    return file_response(found, variant)
