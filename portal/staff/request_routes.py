"""One request in the back office: read it all, and act on it.

Every action has one shape (``_act``): the number parsed (404 if it is none), the form read,
the change made by ``portal.staff.request_work`` in the acting staff member's name, then back
to the request page; a refusal shows the page again with its reason (422), and an unknown
request or colleague is a 404. Everything is of the request's office: a number, or a colleague,
of another office is a 404 like a missing one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

from portal.attachments.media import media_for_staff
from portal.casework.case import CaseError
from portal.casework.phone_change import PhoneChangeError
from portal.casework.status import StatusChangeError
from portal.kernel.offices import OfficeRef
from portal.kernel.phone import PhoneError, ThaiMobile, parse_thai_mobile
from portal.kernel.request_numbers import parse_request_number
from portal.staff.accounts import Actor, active_officers
from portal.staff.acting import acting_staff
from portal.staff.deps import StaffConfig
from portal.staff.guards import staff_guard
from portal.staff.request_work import (
    staff_add_note,
    staff_assign,
    staff_change_status,
    staff_fix_phone,
    view_request,
)
from portal.staff.session_state import StaffSession
from portal.tables.citizen_request import RequestStatus
from portal.web.hardening import same_site_navigation, whole_number
from portal.web.offices import office_of

NOT_FOUND = frozenset({"unknown_request", "unknown_staff"})
"""Refusals that mean the thing acted on does not exist: a 404, not the page again."""

Action = Callable[[str, dict[str, str], Actor], Awaitable[None]]
"""One change: the request's number, the submitted form, who acts."""


def _number(raw: str) -> str:
    number = parse_request_number(raw)
    if number is None:
        raise NotFoundException()
    return number


async def render_request_page(
    request: Request[Any, Any, Any],
    number: str,
    staff: StaffSession,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    """The request page (also the answer to a refused action, with ``error``)."""
    office = office_of(request)
    view = await view_request(number, await acting_staff(request, staff), office=office)
    if view is None:
        raise NotFoundException()
    return Template(
        template_name="staff/request.html",
        context={
            "view": view,
            "tracked": view.tracked,
            # Empty once retention ended (``portal purge``).
            "phone": ThaiMobile(view.tracked.phone).national if view.tracked.phone else "",
            "officers": await active_officers(office=office),
            "error": error,
            "form": form or {},
            "done": request.query_params.get("done", ""),
            "media": await media_for_staff(view.request_id, office=office),
        },
        status_code=status_code,
    )


async def _act(
    request: Request[Any, Any, Any], raw_number: str, staff: StaffSession, done: str, action: Action
) -> Response[Any]:
    number = _number(raw_number)
    form = {key: str(value) for key, value in (await request.form()).items()}
    try:
        await action(number, form, await acting_staff(request, staff))
    except CaseError as error:
        if error.code in NOT_FOUND:
            raise NotFoundException() from error
        return await render_request_page(
            request, number, staff, error=error.code, form=form, status_code=422
        )
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
    return await render_request_page(request, _number(number), staff)


@post("/staff/requests/{number:str}/status", name="staff_request_status", guards=[staff_guard])
async def change_status_action(
    request: Request[Any, Any, Any],
    number: FromPath[str],
    staff: NamedDependency[StaffSession],
    staff_config: NamedDependency[StaffConfig],
    office: NamedDependency[OfficeRef],
) -> Response[Any]:
    async def change(number: str, form: dict[str, str], actor: Actor) -> None:
        try:
            status = RequestStatus(form.get("status", ""))
        except ValueError as error:
            raise StatusChangeError("not_allowed") from error
        await staff_change_status(
            number,
            status,
            form.get("note", ""),
            actor,
            office=office,
            sms=staff_config.sms,
        )

    return await _act(request, number, staff, "status", change)


@post("/staff/requests/{number:str}/notes", name="staff_request_note", guards=[staff_guard])
async def add_note_action(
    request: Request[Any, Any, Any],
    number: FromPath[str],
    staff: NamedDependency[StaffSession],
    office: NamedDependency[OfficeRef],
) -> Response[Any]:
    async def note(number: str, form: dict[str, str], actor: Actor) -> None:
        await staff_add_note(number, form.get("text", ""), actor, office=office)

    return await _act(request, number, staff, "note", note)


@post("/staff/requests/{number:str}/assign", name="staff_request_assign", guards=[staff_guard])
async def assign_action(
    request: Request[Any, Any, Any],
    number: FromPath[str],
    staff: NamedDependency[StaffSession],
    office: NamedDependency[OfficeRef],
) -> Response[Any]:
    async def give(number: str, form: dict[str, str], actor: Actor) -> None:
        staff_id = whole_number(form.get("staff_id", ""), max_digits=9)
        await staff_assign(number, staff_id, actor, office=office)

    return await _act(request, number, staff, "assign", give)


@post("/staff/requests/{number:str}/phone", name="staff_request_phone", guards=[staff_guard])
async def fix_phone_action(
    request: Request[Any, Any, Any],
    number: FromPath[str],
    staff: NamedDependency[StaffSession],
    staff_config: NamedDependency[StaffConfig],
    office: NamedDependency[OfficeRef],
) -> Response[Any]:
    async def move(number: str, form: dict[str, str], actor: Actor) -> None:
        try:
            new_phone = parse_thai_mobile(form.get("new_phone", "")).e164
        except PhoneError as error:
            raise PhoneChangeError(error.code) from error
        reason = form.get("reason", "")[:500]
        await staff_fix_phone(number, new_phone, reason, actor, office=office, sms=staff_config.sms)

    return await _act(request, number, staff, "phone", move)
