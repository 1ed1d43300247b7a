"""Route guards for the back office: a signed-in staff session, and the admin role.

A citizen's session has no staff part, so it can never pass ``staff_guard``. A staff session
counts only at its account's office: the account is looked up within the request's office, so
the cookie of office A's officer sent to office B's pages (one cookie for every ``/o/<slug>/``
on 127.0.0.1) is signed out there like any stale session.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from portal.kernel.clock import utcnow
from portal.sms import budget as sms_budget
from portal.sms.health import sms_health
from portal.staff.session_state import StaffSession, current
from portal.tables.staff_user import StaffRole, StaffUser
from portal.web.offices import office_of


async def staff_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """The cookie names the staff member; the database decides: an account deactivated, or
    signed out elsewhere since (a bumped session_version), is refused at once. The role comes
    from the database too, so a changed role applies on the next request."""
    staff = current(connection.session, utcnow()) if "session" in connection.scope else None
    if staff is None:
        raise NotAuthorizedException()
    office = office_of(connection)
    row = (
        await StaffUser.select(StaffUser.role, StaffUser.active, StaffUser.session_version)
        .where(StaffUser.office == office.id, StaffUser.id == staff.staff_id)
        .first()
    )
    if row is None or not row["active"] or row["session_version"] != staff.version:
        connection.session.pop("staff", None)
        raise NotAuthorizedException()
    connection.state.staff = StaffSession(staff.staff_id, row["role"], staff.version)
    # For the back office's red banner (staff/_layout.html) when the office's SMS budget is
    # full.
    connection.state.sms_budget = await sms_budget.status(office=office)
    # Admins also see SMS trouble (a stuck queue, a failing gateway, the budget at 80 %, the
    # fallback gateway in use): one more query, reusing the budget count just taken.
    connection.state.sms_health = (
        await sms_health(office=office, budget_status=connection.state.sms_budget)
        if row["role"] == StaffRole.admin
        else None
    )


def admin_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    staff: StaffSession | None = getattr(connection.state, "staff", None)
    if staff is None or staff.role != StaffRole.admin:
        raise PermissionDeniedException()


ADMIN = [staff_guard, admin_guard]
"""The guards of every admin-only page."""


def signed_in_staff(request: Request[Any, Any, Any]) -> StaffSession:
    """Dependency for handlers behind ``staff_guard``."""
    staff: StaffSession = request.state.staff
    return staff
