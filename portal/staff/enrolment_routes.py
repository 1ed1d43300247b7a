"""The one-time enrolment link's page: ``/staff/enrol/<token>``, opened by the colleague
whose account it is, without signing in.

Every link that does not work (used, expired, revoked, made up, another office's, or the
account switched off) answers the same 404 page. The path is kept out of the access log
(``portal.web.access_log``), pages are ``no-store`` and ``Referrer-Policy: no-referrer``
(``portal.web.security_headers``), and the form posts with the CSRF token like every other
form.
"""

from __future__ import annotations

from typing import Any

import segno
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.staff.deps import StaffConfig
from portal.staff.enrolment import EnrolmentError, LinkPage, complete, link_page
from portal.staff.passwords import WeakPassword
from portal.staff.session_state import start
from portal.web.rendering import client_ip


def _qr_svg(uri: str) -> str:
    """Inline SVG: no image request, nothing cached, the secret never leaves this page."""
    svg: str = segno.make(uri, error="m").svg_inline(scale=5, border=4, dark="#000", light="#fff")
    return svg


def _page(
    token: str, page: LinkPage, *, error: str | None = None, status_code: int = 200
) -> Template:
    return Template(
        template_name="staff/enrol.html",
        context={
            "token": token,
            "page": page,
            "qr_svg": _qr_svg(page.otpauth_uri),
            "error": error,
        },
        status_code=status_code,
    )


async def _working_link(token: str, staff_config: StaffConfig, office: OfficeRef) -> LinkPage:
    page = await link_page(
        token=token,
        key=staff_config.enrolment_key,
        totp_key=staff_config.totp_key,
        office=office,
    )
    if page is None:
        raise NotFoundException()
    return page


@get("/staff/enrol/{token:str}", name="staff_enrol")
async def enrol_form(
    token: FromPath[str],
    staff_config: NamedDependency[StaffConfig],
    office: NamedDependency[OfficeRef],
) -> Template:
    return _page(token, await _working_link(token, staff_config, office))


@post("/staff/enrol/{token:str}", name="staff_enrol_submit")
async def enrol_submit(
    request: Request[Any, Any, Any],
    token: FromPath[str],
    staff_config: NamedDependency[StaffConfig],
    office: NamedDependency[OfficeRef],
) -> Response[Any]:
    page = await _working_link(token, staff_config, office)
    form = await request.form()
    try:
        enrolled = await complete(
            token=token,
            password=str(form.get("password", ""))[:257],
            password_again=str(form.get("password_again", ""))[:257],
            code=str(form.get("code", ""))[:16],
            client_ip=client_ip(request),
            key=staff_config.enrolment_key,
            totp_key=staff_config.totp_key,
            office=office,
        )
    except EnrolmentError as error:
        if error.code == "not_found":
            raise NotFoundException() from error
        return _page(token, page, error=error.code, status_code=422)
    except WeakPassword as error:
        return _page(token, page, error=error.code, status_code=422)
    # Password and a code from the app just proved: this is a sign-in, in a fresh session.
    start(request.session, enrolled.staff_id, enrolled.role, enrolled.session_version, utcnow())
    return Redirect(path=request.app.route_reverse("staff_inbox"), status_code=303)
