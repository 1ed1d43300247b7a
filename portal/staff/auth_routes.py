"""Signing in and out of the back office, and changing one's own password.

Accounts are enrolled through one-time links (``portal.staff.enrolment_routes``): there is no
first sign-in with a password someone else chose.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Response, Template

from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.staff.deps import StaffConfig
from portal.staff.guards import staff_guard
from portal.staff.own_password import PasswordChangeError, change_password
from portal.staff.passwords import WeakPassword
from portal.staff.session_state import StaffSession, current, end, start
from portal.staff.sign_in import Outcome, end_all_sessions, sign_in
from portal.web.rendering import client_ip


def _sign_in_page(
    *, username: str = "", error: str | None = None, retry_after: int = 0, status_code: int = 200
) -> Template:
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    return Template(
        template_name="staff/sign_in.html",
        context={"username": username, "error": error, "retry_after": retry_after},
        status_code=status_code,
        headers=headers,
    )


@get("/staff/sign-in", name="staff_sign_in")
async def sign_in_form(request: Request[Any, Any, Any]) -> Response[Any]:
    if current(request.session, utcnow()) is not None:
        return Redirect(path=request.app.route_reverse("staff_inbox"), status_code=303)
    return _sign_in_page()


@post("/staff/sign-in", name="staff_sign_in_submit")
async def sign_in_submit(
    request: Request[Any, Any, Any],
    staff_config: NamedDependency[StaffConfig],
    office: NamedDependency[OfficeRef],
) -> Response[Any]:
    form = await request.form()
    username = str(form.get("username", ""))[:64]
    result = await sign_in(
        office=office,
        username=username,
        password=str(form.get("password", ""))[:256],
        code=str(form.get("code", ""))[:16],
        client_ip=client_ip(request),
        totp_key=staff_config.totp_key,
        ipv6_prefix=staff_config.ipv6_prefix,
    )
    if result.outcome is Outcome.throttled:
        return _sign_in_page(
            username=username, error="throttled", retry_after=result.retry_after, status_code=429
        )
    if result.outcome is not Outcome.signed_in or result.staff_id is None or result.role is None:
        return _sign_in_page(username=username, error="refused", status_code=422)
    start(request.session, result.staff_id, result.role, result.session_version, utcnow())
    return Redirect(path=request.app.route_reverse("staff_inbox"), status_code=303)


@post("/staff/sign-out", name="staff_sign_out")
async def sign_out(
    request: Request[Any, Any, Any], office: NamedDependency[OfficeRef]
) -> Response[Any]:
    staff = current(request.session, utcnow())
    if staff is not None:
        await end_all_sessions(staff.staff_id, office=office)
    end(request.session)
    return Redirect(path=request.app.route_reverse("staff_sign_in"), status_code=303)


def _password_page(
    *, error: str | None = None, retry_after: int = 0, done: bool = False, status_code: int = 200
) -> Template:
    return Template(
        template_name="staff/password.html",
        context={"error": error, "retry_after": retry_after, "done": done},
        status_code=status_code,
        headers={"Retry-After": str(retry_after)} if retry_after else {},
    )


@get("/staff/password", name="staff_password", guards=[staff_guard])
async def password_form(request: Request[Any, Any, Any]) -> Template:
    return _password_page(done=request.query_params.get("done") == "1")


@post("/staff/password", name="staff_password_submit", guards=[staff_guard])
async def password_submit(
    request: Request[Any, Any, Any],
    staff: NamedDependency[StaffSession],
    staff_config: NamedDependency[StaffConfig],
    office: NamedDependency[OfficeRef],
) -> Response[Any]:
    form = await request.form()
    try:
        changed = await change_password(
            office=office,
            staff_id=staff.staff_id,
            current=str(form.get("current_password", ""))[:256],
            new=str(form.get("new_password", ""))[:257],
            new_again=str(form.get("new_password_again", ""))[:257],
            client_ip=client_ip(request),
            ipv6_prefix=staff_config.ipv6_prefix,
        )
    except PasswordChangeError as error:
        throttled = error.code == "throttled"
        return _password_page(
            error=error.code,
            retry_after=error.retry_after,
            status_code=429 if throttled else 422,
        )
    except WeakPassword as error:
        return _password_page(error=error.code, status_code=422)
    # Every other session of this account has ended; this one carries on at the new version.
    start(request.session, staff.staff_id, staff.role, changed.session_version, utcnow())
    path = request.app.route_reverse("staff_password") + "?done=1"
    return Redirect(path=path, status_code=303)
