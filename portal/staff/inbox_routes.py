"""The inbox and its CSV export."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, get
from litestar.response import Response, Template

from portal.catalogue.service import list_active_services
from portal.staff.guards import staff_guard
from portal.staff.inbox import InboxFilter, export_csv, inbox_page
from portal.tables.citizen_request import RequestStatus
from portal.timeutil import BANGKOK, utcnow


def _date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _filters(request: Request[Any, Any, Any]) -> InboxFilter:
    params = request.query_params
    page = params.get("page", "1")
    return InboxFilter(
        status=str(params.get("status", ""))[:16],
        service_slug=str(params.get("service", ""))[:64],
        date_from=_date(str(params.get("from", ""))[:10]),
        date_to=_date(str(params.get("to", ""))[:10]),
        query=str(params.get("q", ""))[:100],
        page=int(page) if page.isdigit() and len(page) < 6 else 1,
    )


@get("/staff", name="staff_inbox", guards=[staff_guard])
async def inbox(request: Request[Any, Any, Any]) -> Template:
    filters = _filters(request)
    page = await inbox_page(filters)
    return Template(
        template_name="staff/inbox.html",
        context={
            "filters": filters,
            "page": page,
            "services": await list_active_services(),
            "statuses": [status.value for status in RequestStatus],
            "query_string": request.url.query,
        },
    )


@get("/staff/export.csv", name="staff_export", guards=[staff_guard])
async def export(request: Request[Any, Any, Any]) -> Response[str]:
    stamp = utcnow().astimezone(BANGKOK).strftime("%Y%m%d-%H%M")
    return Response(
        content=await export_csv(_filters(request)),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="requests-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )
