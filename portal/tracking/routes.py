"""Way 1 of the manual's step 6: the link in the SMS."""

from __future__ import annotations

from litestar import get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from portal.otp.phone import ThaiMobile
from portal.tracking.service import find_by_token


@get("/t/{token:str}", name="track_link")
async def track_link(token: FromPath[str]) -> Template:
    """Every bad token, malformed or unknown, gets the same 404."""
    tracked = await find_by_token(token)
    if tracked is None:
        raise NotFoundException()
    return Template(
        template_name="tracking/status.html",
        context={"tracked": tracked, "masked_phone": ThaiMobile(tracked.phone).masked},
    )
