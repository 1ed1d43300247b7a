"""Home page and the e-Service menu (manual steps 1 and 2)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Response, Template

from portal.catalogue.service import get_active_service, list_active_services
from portal.kernel.offices import OfficeRef
from portal.office.contact import OfficeContact
from portal.otp.purposes import SUBMIT
from portal.otp.verified import code_on_its_way, verified_phone
from portal.web.rendering import go_to, render, step_target


@get("/", name="home")
async def home(office: NamedDependency[OfficeRef]) -> Template:
    """The office's own home page (manual step 1): its name, emblem and contact, and the
    "งานบริการออนไลน์ (Highlights)" that lead to e-Service."""
    return Template(
        template_name="citizen/home.html", context={"contact": OfficeContact.of(office)}
    )


@get("/e-service", name="menu")
async def menu(request: Request[Any, Any, Any], office: NamedDependency[OfficeRef]) -> Template:
    services = await list_active_services(office=office)
    return render(
        request,
        page="citizen/menu.html",
        partial="citizen/_menu.html",
        context={"services": services},
    )


@get(
    "/e-service/{slug:str}",
    name="service_start",
    dependencies={"verified_phone": verified_phone(SUBMIT)},
)
async def service_start(
    request: Request[Any, Any, Any],
    slug: FromPath[str],
    verified_phone: NamedDependency[str | None],
    office: NamedDependency[OfficeRef],
) -> Response[Any]:
    """A card's link: straight to the form when this browser's phone is verified."""
    if await get_active_service(slug, office=office) is None:
        raise NotFoundException()
    if verified_phone:
        return go_to(request, "service_form", slug=slug)
    if code_on_its_way(request.session, SUBMIT, slug, office=office):
        # A code is on its way for this service: back to it, not to a new send.
        return go_to(request, "code_form", slug=slug, target=step_target(request))
    return go_to(request, "phone_form", slug=slug, target=step_target(request))
