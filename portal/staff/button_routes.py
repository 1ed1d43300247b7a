"""Admin: the office's copy-paste website button (``portal.staff.website_button``)."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.response import Template

from portal.kernel.offices import OfficeRef
from portal.staff.guards import ADMIN
from portal.staff.website_button import button_snippet, button_url


@get("/staff/admin/website-button", name="staff_website_button", guards=ADMIN)
async def website_button(office: NamedDependency[OfficeRef]) -> Template:
    return Template(
        template_name="staff/website_button.html",
        context={"snippet": button_snippet(office), "url": button_url(office)},
    )


handlers = [website_button]
