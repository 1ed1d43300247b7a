"""Back-office PDPA actions: reveal a request's citizen ID, export one person's data (the
work itself is ``portal.privacy.access``).

Both are POSTs (CSRF-checked, never prefetched or cached) because both are audited reads of
protected data; their answers say ``Cache-Control: no-store``.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Response, Template

from portal.kernel.clock import BANGKOK, utcnow
from portal.kernel.offices import OfficeRef
from portal.kernel.phone import PhoneError, parse_thai_mobile
from portal.kernel.request_numbers import parse_request_number
from portal.privacy.access import export_personal_data, reveal_citizen_ids
from portal.privacy.citizen_ids import CitizenIdVault
from portal.settings import Settings
from portal.staff.acting import acting_staff
from portal.staff.guards import ADMIN, staff_guard
from portal.staff.session_state import StaffSession

NO_STORE = {"Cache-Control": "no-store"}
MAX_PHONE_INPUT = 32


@post(
    "/staff/requests/{number:str}/citizen-id",
    name="staff_reveal_citizen_id",
    guards=[staff_guard],
)
async def reveal_citizen_id(
    request: Request[Any, Any, Any],
    number: FromPath[str],
    staff: NamedDependency[StaffSession],
    settings: NamedDependency[Settings],
    office: NamedDependency[OfficeRef],
) -> Template:
    parsed = parse_request_number(number)
    if parsed is None:
        raise NotFoundException()
    actor = await acting_staff(request, staff)
    revealed = await reveal_citizen_ids(
        parsed,
        CitizenIdVault.from_settings(settings),
        actor=actor.username,
        client_ip=actor.client_ip,
        office=office,
    )
    if revealed is None:
        raise NotFoundException()
    return Template(
        template_name="privacy/citizen_id.html",
        context={"revealed": revealed},
        headers=NO_STORE,
    )


def _export_form(phone: str = "", error: str | None = None, status_code: int = 200) -> Template:
    return Template(
        template_name="privacy/export.html",
        context={"phone": phone, "error": error},
        status_code=status_code,
        headers=NO_STORE,
    )


@get("/staff/privacy/export", name="staff_privacy_export", guards=ADMIN)
async def export_form() -> Template:
    return _export_form()


@post("/staff/privacy/export", name="staff_privacy_export_submit", guards=ADMIN)
async def export_submit(
    request: Request[Any, Any, Any],
    staff: NamedDependency[StaffSession],
    settings: NamedDependency[Settings],
    office: NamedDependency[OfficeRef],
) -> Response[Any]:
    """A data-subject access request (PDPA section 30), after identity was checked in person."""
    raw = str((await request.form()).get("phone", ""))[:MAX_PHONE_INPUT]
    try:
        phone = parse_thai_mobile(raw).e164
    except PhoneError as error:
        return _export_form(raw, error.code, status_code=422)
    actor = await acting_staff(request, staff)
    content, _ = await export_personal_data(
        phone,
        CitizenIdVault.from_settings(settings),
        office=office,
        actor=actor.username,
        client_ip=actor.client_ip,
    )
    stamp = utcnow().astimezone(BANGKOK).strftime("%Y%m%d-%H%M")
    return Response(
        status_code=200,
        content=content.encode(),
        media_type="application/json; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="personal-data-{stamp}.json"',
            **NO_STORE,
        },
    )
