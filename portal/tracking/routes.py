"""Way 1 of the manual's step 6: the link in the SMS."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from portal.kernel.offices import OfficeRef
from portal.kernel.phone import ThaiMobile
from portal.tracking.service import find_by_token, link_moved

MOVED_STATUS = 410
"""Gone: the link did work, and never will again (staff moved the request to a new phone).
Not 404, which says the link was mistyped or never existed: this page tells the holder of the
old number what happened and whom to ask, and a 410 is as permanent to caches and crawlers."""


@get("/t/{token:str}", name="track_link")
async def track_link(token: FromPath[str], office: NamedDependency[OfficeRef]) -> Template:
    """Every bad token, malformed, unknown or another office's, gets the same 404; an old link
    of a request of this office moved to a new phone gets the "moved" page, which shows nothing
    of the request."""
    tracked = await find_by_token(token, office=office)
    if tracked is None:
        if await link_moved(token, office=office):
            return Template(template_name="tracking/moved.html", status_code=MOVED_STATUS)
        raise NotFoundException()
    return Template(
        template_name="tracking/status.html",
        context={"tracked": tracked, "masked_phone": ThaiMobile(tracked.phone).masked},
    )
