"""``/dev/sms``: the outbox as a page, for developers; never registered in production."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery
from litestar.response import Template

from portal.kernel.offices import OfficeRef
from portal.kernel.phone import PhoneError, parse_thai_mobile
from portal.sms.outbox import list_messages

LOOPBACK = ("127.0.0.1", "::1")


@get("/dev/sms", name="dev_sms")
async def dev_sms(
    request: Request[Any, Any, Any], office: NamedDependency[OfficeRef], to: FromQuery[str] = ""
) -> Template:
    """Every OTP and tracking link is here: only for a developer on the machine itself. Each
    office's page (``/o/<slug>/dev/sms``) shows that office's messages only."""
    if request.client is None or request.client.host not in LOOPBACK:
        raise NotFoundException()
    phone: str | None = None
    if to:
        try:
            phone = parse_thai_mobile(to).e164
        except PhoneError:
            return Template(template_name="dev/sms.html", context={"messages": [], "to": to})
    return Template(
        template_name="dev/sms.html",
        context={"messages": await list_messages(office=office, to_phone=phone), "to": to},
    )
