"""``/platform/offices/{id}/emblem``: an office's emblem, shown on the platform page (the
office's own ``/office/emblem`` answers on its own host only) and replaced from it."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Response, Template

from portal.attachments.config import AttachmentConfig
from portal.attachments.intake import read_upload
from portal.attachments.outcome import UploadRejected
from portal.attachments.storage import MissingFile
from portal.platform import offices, routes
from portal.platform.emblem import EMBLEM_MAX_BYTES, set_emblem
from portal.platform.guards import PLATFORM
from portal.staff.session_state import StaffSession

EmblemForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


@post("/platform/offices/{office_id:int}/emblem", name="platform_office_emblem", guards=PLATFORM)
async def emblem_action(
    request: Request[Any, Any, Any],
    office_id: FromPath[int],
    staff: NamedDependency[StaffSession],
    attachments: NamedDependency[AttachmentConfig],
    data: EmblemForm,
) -> Template:
    await routes.exists(office_id)
    upload = data.get("emblem")
    try:
        if not isinstance(upload, UploadFile):
            raise UploadRejected("empty")
        raw = await read_upload(upload, EMBLEM_MAX_BYTES)
        await set_emblem(
            office_id, raw, store=attachments.store, who=await routes.who(request, staff)
        )
    except UploadRejected as error:
        return await routes.render_office_page(
            request, office_id, emblem_error=error.code, status_code=error.http_status
        )
    except LookupError as error:
        raise NotFoundException() from error
    return await routes.render_office_page(request, office_id, saved="emblem")


@get(
    "/platform/offices/{office_id:int}/emblem",
    name="platform_office_emblem_image",
    guards=PLATFORM,
)
async def emblem_image(
    office_id: FromPath[int], attachments: NamedDependency[AttachmentConfig]
) -> Response[bytes]:
    row = await offices.office_row(office_id)
    if row is None or not row["emblem_key"]:
        raise NotFoundException()
    try:
        data = attachments.store.open(row["emblem_key"])
    except MissingFile as error:
        raise NotFoundException() from error
    return Response(content=data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})
