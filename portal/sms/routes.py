"""``/dev/sms``: the outbox as a page, for developers; never registered in production."""

from __future__ import annotations

from litestar import get
from litestar.params import FromQuery
from litestar.response import Template

from portal.otp.phone import PhoneError, parse_thai_mobile
from portal.sms.outbox import list_messages


@get("/dev/sms", name="dev_sms")
async def dev_sms(to: FromQuery[str] = "") -> Template:
    phone: str | None = None
    if to:
        try:
            phone = parse_thai_mobile(to).e164
        except PhoneError:
            phone = to
    return Template(
        template_name="dev/sms.html",
        context={"messages": await list_messages(to_phone=phone), "to": to},
    )
