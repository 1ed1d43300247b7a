"""The inbox and its CSV export.

The export is a POST with the CSRF token (the inbox's "download CSV" button submits a form):
every matching citizen's name and phone leave the system in the officer's name, so another
site must not be able to start it with a link or an image, as it could a GET.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.response import Response, Template

from portal.catalogue.service import list_active_services
from portal.kernel.clock import BANGKOK, utcnow
from portal.kernel.offices import OfficeRef
from portal.privacy.citizen_ids import CitizenIdVault
from portal.settings import Settings
from portal.staff.acting import acting_staff
from portal.staff.guards import staff_guard
from portal.staff.inbox import (
    BUDGET_WARNING_SHARE,
    InboxFilter,
    audited_export,
    inbox_page,
)
from portal.staff.session_state import StaffSession
from portal.tables.citizen_request import RequestStatus
from portal.web.hardening import query_text, whole_number


def _date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _filters(params: Mapping[str, Any]) -> InboxFilter:
    """The inbox's filters from its query string, or from the export form's fields."""
    return InboxFilter(
        status=query_text(params.get("status", ""), 16),
        service_slug=query_text(params.get("service", ""), 64),
        date_from=_date(str(params.get("from", ""))[:10]),
        date_to=_date(str(params.get("to", ""))[:10]),
        query=query_text(params.get("q", ""), 100),
        page=whole_number(str(params.get("page", "1")), max_digits=5) or 1,
    )


@get("/staff", name="staff_inbox", guards=[staff_guard])
async def inbox(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    office: NamedDependency[OfficeRef],
) -> Template:
    filters = _filters(request.query_params)
    page = await inbox_page(filters, CitizenIdVault.from_settings(settings), office=office)
    limit = office.sms_daily_budget
    # Counted once per request, by the staff guard, for the layout's banner as well.
    sms_sent = request.state.sms_budget.used
    return Template(
        template_name="staff/inbox.html",
        context={
            "filters": filters,
            "page": page,
            "services": await list_active_services(office=office),
            "statuses": [status.value for status in RequestStatus],
            "sms_sent": sms_sent,
            "sms_limit": limit,
            "sms_warning": sms_sent >= BUDGET_WARNING_SHARE * limit,
        },
    )


@post("/staff/export.csv", name="staff_export", guards=[staff_guard], status_code=200)
async def export(
    request: Request[Any, Any, Any],
    staff: NamedDependency[StaffSession],
    settings: NamedDependency[Settings],
    office: NamedDependency[OfficeRef],
) -> Response[str]:
    """Every matching citizen's name and phone leave the system here: audited like a view."""
    form = await request.form()
    filters = _filters(form)
    stamp = utcnow().astimezone(BANGKOK).strftime("%Y%m%d-%H%M")
    actor = await acting_staff(request, staff)
    vault = CitizenIdVault.from_settings(settings)
    content = await audited_export(filters, vault, actor, form.multi_items(), office=office)
    return Response(
        content=content,
        # Litestar adds "; charset=utf-8" to every text/ type itself: naming it here too
        # sent the parameter twice, which some spreadsheet importers refuse.
        media_type="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="requests-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )
