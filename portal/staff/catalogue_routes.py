"""Admin: the service catalogue and the reply templates, of the request's office (another
office's service or template id is a 404 like a missing one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

from portal.catalogue.admin import ICONS, CatalogueError, ServiceDraft, draft_for, list_all_services
from portal.kernel.offices import OfficeRef
from portal.staff import reply_templates
from portal.staff.acting import acting_staff
from portal.staff.catalogue_work import save_service_as
from portal.staff.guards import ADMIN
from portal.staff.session_state import StaffSession
from portal.tables.citizen_request import RequestStatus

STARTER_FIELDS = Path(__file__).resolve().parent.parent / "catalogue" / "new_service_fields.json"
"""What a new service's form starts with: name and details, for the admin to extend."""


def _draft(form: dict[str, str]) -> ServiceDraft:
    return ServiceDraft(
        slug=form.get("slug", "").strip()[:64],
        name=form.get("name", "")[:300],
        summary=form.get("summary", "")[:2000],
        icon=form.get("icon", "document"),
        target_days=form.get("target_days", "")[:4],
        sort_order=form.get("sort_order", "0")[:5],
        active=form.get("active") == "1",
        form_fields=form.get("form_fields", "")[:50_000],
        name_en=form.get("name_en", "")[:300],
        summary_en=form.get("summary_en", "")[:2000],
    )


def _edit_page(
    draft: ServiceDraft, service_id: int | None, *, error: CatalogueError | None = None
) -> Template:
    return Template(
        template_name="staff/service_edit.html",
        context={"draft": draft, "service_id": service_id, "icons": ICONS, "error": error},
        status_code=422 if error else 200,
    )


@get("/staff/catalogue", name="staff_catalogue", guards=ADMIN)
async def catalogue(office: NamedDependency[OfficeRef]) -> Template:
    return Template(
        template_name="staff/catalogue.html",
        context={
            "services": await list_all_services(office=office),
            "templates": await reply_templates.all_templates(office=office),
            "statuses": [status.value for status in RequestStatus],
        },
    )


@get("/staff/catalogue/new", name="staff_service_new", guards=ADMIN)
async def new_service() -> Template:
    starter = STARTER_FIELDS.read_text(encoding="utf-8")
    draft = ServiceDraft("", "", "", "document", "15", "100", True, starter)
    return _edit_page(draft, None)


@get("/staff/catalogue/{service_id:int}", name="staff_service_edit", guards=ADMIN)
async def edit_service(service_id: FromPath[int], office: NamedDependency[OfficeRef]) -> Template:
    draft = await draft_for(service_id, office=office)
    if draft is None:
        raise NotFoundException()
    return _edit_page(draft, service_id)


async def _save(
    request: Request[Any, Any, Any], staff: StaffSession, service_id: int | None, office: OfficeRef
) -> Response[Any]:
    form = {key: str(value) for key, value in (await request.form()).items()}
    draft = _draft(form)
    try:
        actor = await acting_staff(request, staff)
        await save_service_as(draft, service_id, actor, office=office)
    except CatalogueError as error:
        return _edit_page(draft, service_id, error=error)
    return Redirect(path=request.app.route_reverse("staff_catalogue"), status_code=303)


@post("/staff/catalogue/new", name="staff_service_create", guards=ADMIN)
async def create_service(
    request: Request[Any, Any, Any],
    staff: NamedDependency[StaffSession],
    office: NamedDependency[OfficeRef],
) -> Response[Any]:
    return await _save(request, staff, None, office)


@post("/staff/catalogue/{service_id:int}", name="staff_service_update", guards=ADMIN)
async def update_service(
    request: Request[Any, Any, Any],
    service_id: FromPath[int],
    staff: NamedDependency[StaffSession],
    office: NamedDependency[OfficeRef],
) -> Response[Any]:
    if await draft_for(service_id, office=office) is None:
        raise NotFoundException()
    return await _save(request, staff, service_id, office)


@post("/staff/catalogue/templates", name="staff_template_create", guards=ADMIN)
async def create_template(
    request: Request[Any, Any, Any],
    staff: NamedDependency[StaffSession],
    office: NamedDependency[OfficeRef],
) -> Response[Any]:
    form = {key: str(value) for key, value in (await request.form()).items()}
    await reply_templates.add_template(
        form.get("status", ""),
        form.get("title", ""),
        form.get("text", ""),
        await acting_staff(request, staff),
        office=office,
    )
    return Redirect(path=request.app.route_reverse("staff_catalogue"), status_code=303)


@post(
    "/staff/catalogue/templates/{template_id:int}/retire",
    name="staff_template_retire",
    guards=ADMIN,
)
async def retire_template(
    request: Request[Any, Any, Any],
    template_id: FromPath[int],
    staff: NamedDependency[StaffSession],
    office: NamedDependency[OfficeRef],
) -> Response[Any]:
    actor = await acting_staff(request, staff)
    if not await reply_templates.retire_template(template_id, actor, office=office):
        raise NotFoundException()
    return Redirect(path=request.app.route_reverse("staff_catalogue"), status_code=303)
