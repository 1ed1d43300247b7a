"""The platform pages: every office, a new one, and one office's hosts, details, state, first
admin and adopted forms. Thin handlers over ``portal.platform.offices`` and ``invite``; every
page is behind ``platform_guard`` (404 for anyone but a platform admin on the platform's host).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

from portal.catalogue.library import UnknownForm, library
from portal.platform import offices
from portal.platform.guards import PLATFORM
from portal.platform.invite import Invitation, Keys, invite_admin
from portal.platform.offices import Who
from portal.platform.validation import DETAIL_FIELDS, PlatformError, split_hosts
from portal.settings import Settings
from portal.staff.accounts import AccountError
from portal.staff.acting import acting_staff
from portal.staff.deps import StaffConfig
from portal.staff.session_state import StaffSession
from portal.web.offices import offices_of

FORM_LIMIT = 1000
"""Characters kept of any one field (the checks refuse what is longer than its column)."""


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {key: str(value)[:FORM_LIMIT] for key, value in (await request.form()).items()}


async def who(request: Request[Any, Any, Any], staff: StaffSession) -> Who:
    actor = await acting_staff(request, staff)
    return Who(actor=actor.username, client_ip=actor.client_ip)


async def _list_page(
    *, error: PlatformError | None = None, form: dict[str, str] | None = None
) -> Template:
    return Template(
        template_name="platform/offices.html",
        context={"offices": await offices.list_offices(), "error": error, "form": form or {}},
        status_code=422 if error else 200,
    )


async def render_office_page(
    request: Request[Any, Any, Any],
    office_id: int,
    *,
    error: PlatformError | None = None,
    invite_error: str = "",
    invitation: Invitation | None = None,
    emblem_error: str = "",
    saved: str = "",
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    row = await offices.office_row(office_id)
    if row is None:
        raise NotFoundException()
    directory = offices_of(request.app)
    directory.forget()
    shown = {**{key: str(row[key] or "") for key in DETAIL_FIELDS}, **(form or {})}
    for key in ("sms_daily_budget", "retention_days"):
        shown[key] = "" if shown[key] == "0" else shown[key]
    adopted = await offices.service_slugs(office_id)
    return Template(
        template_name="platform/office.html",
        context={
            "row": row,
            "ref": await directory.by_id(office_id),
            "shown": shown,
            "hosts_text": (form or {}).get("hosts", "\n".join(row["hosts"])),
            "error": error,
            "invite_error": invite_error,
            "invitation": invitation,
            "emblem_error": emblem_error,
            "saved": saved,
            "library": library(),
            "adopted": adopted,
        },
        status_code=422 if (error or invite_error) and status_code == 200 else status_code,
    )


@get("/platform/offices", name="platform_offices", guards=PLATFORM)
async def offices_page() -> Template:
    return await _list_page()


@post("/platform/offices", name="platform_offices_create", guards=PLATFORM)
async def create_office_action(
    request: Request[Any, Any, Any],
    staff: NamedDependency[StaffSession],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    form = await _form(request)
    try:
        office_id = await offices.create_office(
            slug=form.get("slug", ""),
            name=form.get("name", ""),
            name_en=form.get("name_en", ""),
            hosts=split_hosts(form.get("hosts", "")),
            development=settings.is_development,
            who=await who(request, staff),
        )
    except PlatformError as error:
        return await _list_page(error=error, form=form)
    offices_of(request.app).forget()
    return Redirect(
        path=request.app.route_reverse("platform_office", office_id=office_id), status_code=303
    )


@get("/platform/offices/{office_id:int}", name="platform_office", guards=PLATFORM)
async def office_page(request: Request[Any, Any, Any], office_id: FromPath[int]) -> Template:
    return await render_office_page(request, office_id)


@post("/platform/offices/{office_id:int}/hosts", name="platform_office_hosts", guards=PLATFORM)
async def hosts_action(
    request: Request[Any, Any, Any], office_id: FromPath[int], staff: NamedDependency[StaffSession]
) -> Template:
    form = await _form(request)
    await exists(office_id)
    try:
        await offices.set_hosts(
            office_id, split_hosts(form.get("hosts", "")), who=await who(request, staff)
        )
    except PlatformError as error:
        return await render_office_page(request, office_id, error=error, form=form)
    return await render_office_page(request, office_id, saved="hosts")


@post("/platform/offices/{office_id:int}/details", name="platform_office_details", guards=PLATFORM)
async def details_action(
    request: Request[Any, Any, Any],
    office_id: FromPath[int],
    staff: NamedDependency[StaffSession],
    settings: NamedDependency[Settings],
) -> Template:
    form = await _form(request)
    await exists(office_id)
    try:
        await offices.update_details(
            office_id, form, development=settings.is_development, who=await who(request, staff)
        )
    except PlatformError as error:
        return await render_office_page(request, office_id, error=error, form=form)
    return await render_office_page(request, office_id, saved="details")


@post("/platform/offices/{office_id:int}/active", name="platform_office_active", guards=PLATFORM)
async def active_action(
    request: Request[Any, Any, Any], office_id: FromPath[int], staff: NamedDependency[StaffSession]
) -> Template:
    active = (await _form(request)).get("active", "") == "1"
    await exists(office_id)
    try:
        await offices.set_active(office_id, active, who=await who(request, staff))
    except PlatformError as error:
        return await render_office_page(request, office_id, error=error)
    return await render_office_page(request, office_id, saved="active")


@post("/platform/offices/{office_id:int}/admins", name="platform_office_invite", guards=PLATFORM)
async def invite_action(
    request: Request[Any, Any, Any],
    office_id: FromPath[int],
    staff: NamedDependency[StaffSession],
    staff_config: NamedDependency[StaffConfig],
) -> Template:
    """The link is on this response only (``no-store`` like every staff page), never stored."""
    form = await _form(request)
    await exists(office_id)
    directory = offices_of(request.app)
    directory.forget()
    office = await directory.by_id(office_id)
    if office is None:
        raise NotFoundException()
    try:
        invitation = await invite_admin(
            office=office,
            username=form.get("username", "")[:64],
            display_name=form.get("display_name", ""),
            keys=Keys(staff_config.enrolment_key, staff_config.totp_key),
            who=await who(request, staff),
        )
    except AccountError as error:
        return await render_office_page(request, office_id, invite_error=error.code)
    return await render_office_page(request, office_id, invitation=invitation)


@post("/platform/offices/{office_id:int}/services", name="platform_office_adopt", guards=PLATFORM)
async def adopt_action(
    request: Request[Any, Any, Any], office_id: FromPath[int], staff: NamedDependency[StaffSession]
) -> Template:
    """More forms from the shared library, copied for the office to edit as its own."""
    form = await request.form()
    slugs = [str(slug)[:64] for slug in form.getall("slug")] if "slug" in form else []
    await exists(office_id)
    try:
        await offices.adopt_forms(office_id, slugs, who=await who(request, staff))
    except UnknownForm:
        return await render_office_page(
            request, office_id, error=PlatformError("unknown_form", "slug")
        )
    return await render_office_page(request, office_id, saved="services")


async def exists(office_id: int) -> None:
    if await offices.office_row(office_id) is None:
        raise NotFoundException()
