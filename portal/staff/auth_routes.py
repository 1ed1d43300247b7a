"""Signing in and out of the back office, and the first sign-in's authenticator enrolment."""

from __future__ import annotations

from typing import Any

import segno
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Response, Template

from portal.staff.accounts import enrolment_uri
from portal.staff.deps import StaffConfig
from portal.staff.session_state import current, end, enrolling, start, start_enrolment
from portal.staff.sign_in import Outcome, confirm_enrolment, end_all_sessions, sign_in
from portal.timeutil import utcnow
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
    request: Request[Any, Any, Any], staff_config: NamedDependency[StaffConfig]
) -> Response[Any]:
    form = await request.form()
    username = str(form.get("username", ""))[:64]
    result = await sign_in(
        username=username,
        password=str(form.get("password", ""))[:256],
        code=str(form.get("code", ""))[:16],
        client_ip=client_ip(request),
        totp_key=staff_config.totp_key,
    )
    if result.outcome is Outcome.throttled:
        return _sign_in_page(
            username=username, error="throttled", retry_after=result.retry_after, status_code=429
        )
    if result.outcome is Outcome.refused or result.staff_id is None or result.role is None:
        return _sign_in_page(username=username, error="refused", status_code=422)
    if result.outcome is Outcome.needs_enrolment:
        start_enrolment(request.session, result.staff_id, utcnow())
        return Redirect(path=request.app.route_reverse("staff_enrol"), status_code=303)
    start(request.session, result.staff_id, result.role, result.session_version, utcnow())
    return Redirect(path=request.app.route_reverse("staff_inbox"), status_code=303)


def _qr_svg(uri: str) -> str:
    """Inline SVG: no image request, nothing cached, the secret never leaves this page."""
    svg: str = segno.make(uri, error="m").svg_inline(scale=5, border=4, dark="#000", light="#fff")
    return svg


@get("/staff/enrol", name="staff_enrol")
async def enrol_form(
    request: Request[Any, Any, Any], staff_config: NamedDependency[StaffConfig]
) -> Response[Any]:
    staff_id = enrolling(request.session, utcnow())
    uri = await enrolment_uri(staff_id, staff_config.totp_key) if staff_id else None
    if uri is None:
        return Redirect(path=request.app.route_reverse("staff_sign_in"), status_code=303)
    return Template(
        template_name="staff/enrol.html",
        context={"qr_svg": _qr_svg(uri), "otpauth_uri": uri, "error": None},
    )


@post("/staff/enrol", name="staff_enrol_submit")
async def enrol_submit(
    request: Request[Any, Any, Any], staff_config: NamedDependency[StaffConfig]
) -> Response[Any]:
    staff_id = enrolling(request.session, utcnow())
    if staff_id is None:
        return Redirect(path=request.app.route_reverse("staff_sign_in"), status_code=303)
    form = await request.form()
    result = await confirm_enrolment(
        staff_id=staff_id,
        code=str(form.get("code", ""))[:16],
        client_ip=client_ip(request),
        totp_key=staff_config.totp_key,
    )
    if result.outcome is not Outcome.signed_in or result.role is None:
        uri = await enrolment_uri(staff_id, staff_config.totp_key) or ""
        throttled = result.outcome is Outcome.throttled
        return Template(
            template_name="staff/enrol.html",
            context={
                "qr_svg": _qr_svg(uri),
                "otpauth_uri": uri,
                "error": "throttled" if throttled else "refused",
                "retry_after": result.retry_after,
            },
            status_code=429 if throttled else 422,
            headers={"Retry-After": str(result.retry_after)} if throttled else {},
        )
    start(request.session, staff_id, result.role, result.session_version, utcnow())
    return Redirect(path=request.app.route_reverse("staff_inbox"), status_code=303)


@post("/staff/sign-out", name="staff_sign_out")
async def sign_out(request: Request[Any, Any, Any]) -> Response[Any]:
    staff = current(request.session, utcnow())
    if staff is not None:
        await end_all_sessions(staff.staff_id)
    end(request.session)
    return Redirect(path=request.app.route_reverse("staff_sign_in"), status_code=303)
