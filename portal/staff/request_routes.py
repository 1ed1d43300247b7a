"""One request in the back office: read it all, and act on it."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

from portal.attachments.service import media_for_staff
from portal.casework.notes import NoteError
from portal.casework.phone_change import PhoneChangeError
from portal.casework.status import StatusChangeError
from portal.kernel.phone import PhoneError, ThaiMobile, parse_thai_mobile
from portal.kernel.request_numbers import parse_request_number
from portal.staff.accounts import active_officers
from portal.staff.deps import StaffConfig
from portal.staff.guards import staff_guard
from portal.staff.request_work import (
    Actor,
    staff_add_note,
    staff_assign,
    staff_change_status,
    staff_fix_phone,
    view_request,
)
from portal.staff.session_state import StaffSession
from portal.tables.citizen_request import RequestStatus
from portal.tables.staff_user import StaffUser
from portal.web.hardening import same_site_navigation, whole_number
from portal.web.rendering import client_ip


async def _actor(request: Request[Any, Any, Any], staff: StaffSession) -> Actor:
    row = await StaffUser.select(StaffUser.username).where(StaffUser.id == staff.staff_id).first()
    if row is None:
        raise NotFoundException()
    return Actor(staff_id=staff.staff_id, username=row["username"], client_ip=client_ip(request))


def _number(raw: str) -> str:
    number = parse_request_number(raw)
    if number is None:
        raise NotFoundException()
    return number


async def _page(
    request: Request[Any, Any, Any],
    number: str,
    staff: StaffSession,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    view = await view_request(number, await _actor(request, staff))
    if view is None:
        raise NotFoundException()
    return Template(
        template_name="staff/request.html",
        context={
            "view": view,
            "tracked": view.tracked,
            # Empty once retention ended (``portal purge``).
            "phone": ThaiMobile(view.tracked.phone).national if view.tracked.phone else "",
            "officers": await active_officers(),
            "error": error,
            "form": form or {},
            "done": request.query_params.get("done", ""),
            "media": await media_for_staff(view.request_id),
        },
        status_code=status_code,
    )


render_request_page = _page
"""For the attachment routes' "after" photo, which answers with this page on a mistake."""


def _back(request: Request[Any, Any, Any], number: str, done: str) -> Redirect:
    path = request.app.route_reverse("staff_request", number=number)
    return Redirect(path=f"{path}?done={done}", status_code=303)


@get(
    "/staff/requests/{number:str}",
    name="staff_request",
    guards=[staff_guard, same_site_navigation],
)
async def request_page(
    request: Request[Any, Any, Any], number: FromPath[str], staff: NamedDependency[StaffSession]
) -> Template:
    return await _page(request, _number(number), staff)


@post("/staff/requests/{number:str}/status", name="staff_request_status", guards=[staff_guard])
async def change_status_action(
    request: Request[Any, Any, Any],
    number: FromPath[str],
    staff: NamedDependency[StaffSession],
    staff_config: NamedDependency[StaffConfig],
) -> Response[Any]:
    number = _number(number)
    form = {key: str(value) for key, value in (await request.form()).items()}
    try:
        status = RequestStatus(form.get("status", ""))
        await staff_change_status(
            number,
            status,
            form.get("note", ""),
            await _actor(request, staff),
            base_url=staff_config.base_url,
            sms=staff_config.sms,
        )
    except ValueError as error:
        code = error.code if isinstance(error, StatusChangeError) else "not_allowed"
        if code == "unknown_request":
            raise NotFoundException() from error
        return await _page(request, number, staff, error=code, form=form, status_code=422)
    return _back(request, number, "status")


@post("/staff/requests/{number:str}/notes", name="staff_request_note", guards=[staff_guard])
async def add_note_action(
    request: Request[Any, Any, Any], number: FromPath[str], staff: NamedDependency[StaffSession]
) -> Response[Any]:
    number = _number(number)
    form = {key: str(value) for key, value in (await request.form()).items()}
    try:
        await staff_add_note(number, form.get("text", ""), await _actor(request, staff))
    except NoteError as error:
        return await _page(request, number, staff, error=error.code, form=form, status_code=422)
    except LookupError as error:
        raise NotFoundException() from error
    return _back(request, number, "note")


@post("/staff/requests/{number:str}/assign", name="staff_request_assign", guards=[staff_guard])
async def assign_action(
    request: Request[Any, Any, Any], number: FromPath[str], staff: NamedDependency[StaffSession]
) -> Response[Any]:
    number = _number(number)
    raw = str((await request.form()).get("staff_id", ""))
    staff_id = whole_number(raw, max_digits=9)
    try:
        await staff_assign(number, staff_id, await _actor(request, staff))
    except LookupError as error:
        raise NotFoundException() from error
    return _back(request, number, "assign")


@post("/staff/requests/{number:str}/phone", name="staff_request_phone", guards=[staff_guard])
async def fix_phone_action(
    request: Request[Any, Any, Any],
    number: FromPath[str],
    staff: NamedDependency[StaffSession],
    staff_config: NamedDependency[StaffConfig],
) -> Response[Any]:
    number = _number(number)
    form = {key: str(value) for key, value in (await request.form()).items()}
    try:
        new_phone = parse_thai_mobile(form.get("new_phone", "")).e164
        await staff_fix_phone(
            number,
            new_phone,
            form.get("reason", "")[:500],
            await _actor(request, staff),
            base_url=staff_config.base_url,
            sms=staff_config.sms,
        )
    except (PhoneError, PhoneChangeError) as error:
        if error.code == "unknown_request":
            raise NotFoundException() from error
        return await _page(request, number, staff, error=error.code, form=form, status_code=422)
    return _back(request, number, "phone")
