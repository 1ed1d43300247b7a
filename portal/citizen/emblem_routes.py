"""``/office/emblem``: the office's emblem (ตราสัญลักษณ์) for its home page.

The image is kept in the attachment store under the office's ``emblem_key`` (set on the
platform page). It is public (every visitor of the home page sees it), so unlike citizens'
files it may be cached; the home page links it with the key in the query, so a new emblem is a
new address. An office without one, or a key the store lost, answers 404.
"""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.response import Response

from portal.attachments.config import AttachmentConfig
from portal.attachments.storage import MissingFile
from portal.kernel.offices import OfficeRef

EMBLEM_TYPES = {"jpg": "image/jpeg", "png": "image/png"}
EMBLEM_MAX_AGE_S = 86_400


@get("/office/emblem", name="office_emblem")
async def office_emblem(
    office: NamedDependency[OfficeRef], attachments: NamedDependency[AttachmentConfig]
) -> Response[bytes]:
    """The emblem of the office this request reached; never another office's."""
    media_type = EMBLEM_TYPES.get(office.emblem_key.rsplit(".", 1)[-1])
    if not office.emblem_key or media_type is None:
        raise NotFoundException()
    try:
        data = attachments.store.open(office.emblem_key)
    except MissingFile as error:
        raise NotFoundException() from error
    return Response(
        content=data,
        media_type=media_type,
        headers={
            "Cache-Control": f"public, max-age={EMBLEM_MAX_AGE_S}",
            "Content-Disposition": 'inline; filename="emblem"',
            "Cross-Origin-Resource-Policy": "same-origin",
        },
    )
