"""Admin pages: staff accounts and the audit log, each of the request's office only."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

from portal.kernel.audit import list_events
from portal.kernel.offices import OfficeRef
from portal.kernel.request_numbers import parse_request_number
from portal.staff.accounts import (
    OFFICE_ROLES,
    AccountError,
    create_account,
    list_accounts,
    set_active,
)
from portal.staff.acting import acting_staff
from portal.staff.deps import StaffConfig
from portal.staff.enrolment import EnrolmentError, IssuedLink, issue_reset_link
from portal.staff.guards import ADMIN
from portal.staff.session_state import StaffSession
from portal.web.hardening import query_text, whole_number


@get("/staff/audit", name="staff_audit", guards=ADMIN)
async def audit_log(
    request: Request[Any, Any, Any], office: NamedDependency[OfficeRef]
) -> Template:
    params = request.query_params
    page = whole_number(str(params.get("page", "1")), max_digits=5) or 1
    filters = {
        "actor": query_text(params.get("actor", ""), 64),
        "action": query_text(params.get("action", ""), 48),
        "number": query_text(params.get("number", ""), 16),
    }
    entries, has_next = await list_events(
        office_id=office.id,
        actor=filters["actor"],
        action=filters["action"],
        request_number=parse_request_number(filters["number"]) or filters["number"],
        page=page,
    )
    return Template(
        template_name="staff/audit.html",
        context={"entries": entries, "has_next": has_next, "filters": filters, "page": page},
    )


def _accounts_page(
    accounts: list[Any],
    *,
    error: str | None = None,
    link: IssuedLink | None = None,
    base_url: str = "",
    created: bool = False,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    """``link``: shown once, right after it is issued, for the admin to hand over; the page is
    ``no-store`` like every page here, and the link is never put in a redirect's URL."""
    return Template(
        template_name="staff/accounts.html",
        context={
            "accounts": accounts,
            "roles": list(OFFICE_ROLES),
            "error": error,
            "link": link,
            "link_url": link.url(base_url) if link else "",
            "created": created,
            "form": form or {},
        },
        status_code=status_code,
    )


@get("/staff/accounts", name="staff_accounts", guards=ADMIN)
async def accounts_page(office: NamedDependency[OfficeRef]) -> Template:
    return _accounts_page(await list_accounts(office=office))


@post("/staff/accounts", name="staff_accounts_create", guards=ADMIN)
async def create_account_action(
    request: Request[Any, Any, Any],
    staff: NamedDependency[StaffSession],
    staff_config: NamedDependency[StaffConfig],
    office: NamedDependency[OfficeRef],
) -> Response[Any]:
    form = {key: str(value)[:200] for key, value in (await request.form()).items()}
    form.pop("password", None)  # no field for it any more: the colleague chooses their own
    actor = await acting_staff(request, staff)
    try:
        created = await create_account(
            username=form.get("username", "")[:64],
            role=form.get("role", ""),
            display_name=form.get("display_name", ""),
            actor=actor.username,
            client_ip=actor.client_ip,
            enrolment_key=staff_config.enrolment_key,
            totp_key=staff_config.totp_key,
            office=office,
        )
    except AccountError as error:
        accounts = await list_accounts(office=office)
        return _accounts_page(accounts, error=error.code, form=form, status_code=422)
    return _accounts_page(
        await list_accounts(office=office),
        link=created.link,
        base_url=office.base_url,
        created=True,
    )


@post("/staff/accounts/{staff_id:int}/enrolment", name="staff_accounts_enrolment", guards=ADMIN)
async def reset_enrolment_action(
    request: Request[Any, Any, Any],
    staff_id: FromPath[int],
    staff: NamedDependency[StaffSession],
    staff_config: NamedDependency[StaffConfig],
    office: NamedDependency[OfficeRef],
) -> Response[Any]:
    """A colleague who forgot their password or lost their phone: a new link, and their old
    password and authenticator stop working now (audited)."""
    if staff_id == staff.staff_id:
        accounts = await list_accounts(office=office)
        return _accounts_page(accounts, error="not_yourself_reset", status_code=422)
    actor = await acting_staff(request, staff)
    try:
        link = await issue_reset_link(
            staff_id=staff_id,
            actor=actor.username,
            client_ip=actor.client_ip,
            key=staff_config.enrolment_key,
            totp_key=staff_config.totp_key,
            office=office,
        )
    except EnrolmentError as error:
        if error.code == "unknown_account":
            raise NotFoundException() from error
        accounts = await list_accounts(office=office)
        return _accounts_page(accounts, error=error.code, status_code=422)
    accounts = await list_accounts(office=office)
    return _accounts_page(accounts, link=link, base_url=office.base_url)


@post("/staff/accounts/{staff_id:int}/active", name="staff_accounts_active", guards=ADMIN)
async def set_active_action(
    request: Request[Any, Any, Any],
    staff_id: FromPath[int],
    staff: NamedDependency[StaffSession],
    office: NamedDependency[OfficeRef],
) -> Response[Any]:
    if staff_id == staff.staff_id:
        accounts = await list_accounts(office=office)
        return _accounts_page(accounts, error="not_yourself", status_code=422)
    active = str((await request.form()).get("active", "")) == "1"
    actor = await acting_staff(request, staff)
    try:
        await set_active(
            staff_id, active, office=office, actor=actor.username, client_ip=actor.client_ip
        )
    except AccountError as error:
        if error.code == "unknown_account":
            raise NotFoundException() from error
        # last_admin: another admin switched this one's last colleague off a moment ago.
        accounts = await list_accounts(office=office)
        return _accounts_page(accounts, error=error.code, status_code=409)
    return Redirect(path=request.app.route_reverse("staff_accounts"), status_code=303)
